"""Silence ESPnet's "Failed to import Flash Attention" line at import time.

``espnet.nets.pytorch_backend.transformer.attention`` tries ``import flash_attn``
and, when it is missing (always on CPU machines, and on most GPU boxes), *prints*
``Failed to import Flash Attention, using ESPnet default: ...`` to stdout.  Every
``ser_train``/``ser_inference`` log and every recipe run starts with that line,
although no SER model here uses ESPnet's attention.  It is a ``print``, not a
log record, so a ``logging.Filter`` cannot reach it.  Instead, a meta-path hook
wraps the loading of that one module, captures what it prints and writes back
every line except that one (so any other output of the module still appears).
The hook is installed by ``import espnet_ser`` and costs nothing until ESPnet's
attention module is imported.  Set ``ESPNET_SER_SHOW_FLASH_ATTN=1`` to see it.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import os
import sys

#: The module that prints the line.
NOISY_MODULE = "espnet.nets.pytorch_backend.transformer.attention"
#: The start of the line that is dropped.
NOISE_PREFIX = "Failed to import Flash Attention"


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                self._loader.exec_module(module)
        finally:
            kept = [line for line in buf.getvalue().splitlines(keepends=True)
                    if not line.startswith(NOISE_PREFIX)]
            sys.stdout.write("".join(kept))


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != NOISY_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Install the hook once (idempotent); a no-op when the variable asks for the line."""
    if os.environ.get("ESPNET_SER_SHOW_FLASH_ATTN") == "1":
        return
    if NOISY_MODULE in sys.modules or any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietFinder())
