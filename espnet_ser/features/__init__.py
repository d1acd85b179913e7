"""Feature extraction: registered extractors, audio loading, ark/scp I/O, normalisation.

Every extractor is built from a YAML file of the form::

    name: mfcc          # a key of EXTRACTORS
    conf:               # constructor arguments of that class
      n_mfcc: 20

``build_extractor(name, conf)`` builds one; ``load_feats_conf(path)`` reads such a
YAML file and returns ``(name, conf)``. Unknown names and unknown conf keys are
errors (nothing is silently ignored). Heavy libraries (librosa, opensmile,
sentence-transformers) are imported only when an extractor is built or called.

Registered extractors and their outputs:

=====================  ====================================  ============
name                   what                                  shape
=====================  ====================================  ============
``mfcc``               librosa MFCC (Leow et al.)            (T, 20)
``fbank``              log-mel filterbank                    (T, 80)
``logspec``            log power spectrogram (Gao et al.)    (T, 129)
``multiwin_logspec``   3-window log spectrogram (ADARL)      (T, 3 * 400)
``compare_2016``       openSMILE ComParE_2016 functionals    (1, 6373)
``egemaps_v02``        openSMILE eGeMAPSv02 functionals      (1, 88)
``sentence_embedding`` sentence-transformers on ``text``     (1, 384)
``bpe_ids``            sentencepiece BPE ids of ``text``     (T, 1)
=====================  ====================================  ============
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Type, Union

from espnet_ser.features.abs_extractor import AbsExtractor, ExtractionError
from espnet_ser.features.fbank import FbankExtractor
from espnet_ser.features.lexical import BPEIdsExtractor, SentenceEmbeddingExtractor
from espnet_ser.features.logspec import LogSpecExtractor, MultiWinLogSpecExtractor
from espnet_ser.features.mfcc import MFCCExtractor
from espnet_ser.features.opensmile_functionals import ComParE2016Extractor, EGeMAPSv02Extractor

__all__ = [
    "AbsExtractor",
    "EXTRACTORS",
    "ExtractionError",
    "build_extractor",
    "load_feats_conf",
]

EXTRACTORS: Dict[str, Type[AbsExtractor]] = {
    "mfcc": MFCCExtractor,
    "fbank": FbankExtractor,
    "logspec": LogSpecExtractor,
    "multiwin_logspec": MultiWinLogSpecExtractor,
    "compare_2016": ComParE2016Extractor,
    "egemaps_v02": EGeMAPSv02Extractor,
    "sentence_embedding": SentenceEmbeddingExtractor,
    "bpe_ids": BPEIdsExtractor,
}


def build_extractor(name: str, conf: Optional[Mapping[str, Any]] = None) -> AbsExtractor:
    """Build a registered extractor.

    Args:
        name: Key of :data:`EXTRACTORS`.
        conf: Constructor arguments (``None``: all defaults).

    Raises:
        ValueError: Unknown ``name`` or an unknown key in ``conf`` (both list the choices).
    """
    if name not in EXTRACTORS:
        raise ValueError(f"unknown feature extractor '{name}' (choices: {sorted(EXTRACTORS)})")
    cls = EXTRACTORS[name]
    conf = dict(conf or {})
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(conf) - set(allowed))
    if unknown:
        raise ValueError(
            f"feature extractor '{name}': unknown conf option(s) {unknown} (allowed: {allowed})"
        )
    return cls(**conf)


def load_feats_conf(path: Union[str, Path]) -> Tuple[str, Dict[str, Any]]:
    """Read a feature YAML (``name:`` + ``conf:``) and return ``(name, conf)``.

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: If it is not a mapping with ``name`` (and optional ``conf``) only.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature config {path} not found")
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict) or "name" not in data:
        raise ValueError(f"{path}: expected a mapping with 'name:' and 'conf:' keys")
    extra = sorted(set(data) - {"name", "conf"})
    if extra:
        raise ValueError(f"{path}: unknown top-level key(s) {extra} (only 'name' and 'conf')")
    conf = data.get("conf") or {}
    if not isinstance(conf, dict):
        raise ValueError(f"{path}: 'conf' must be a mapping, got {type(conf).__name__}")
    return str(data["name"]), conf
