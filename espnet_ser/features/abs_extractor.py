"""The feature extractor interface.

An extractor turns one utterance into a ``(T, D)`` float32 matrix: ``T`` frames
for frame-level features (``frame_shift`` seconds apart), ``T = 1`` for
utterance-level functionals and embeddings (``frame_shift is None``).

Two input kinds exist:

* ``input_kind == "audio"``: ``extractor(wav, sr)`` with ``wav`` a ``(N,)``
  float32 mono signal at ``sr == extractor.sample_rate`` (``bin/extract_feats``
  loads and resamples it with :func:`espnet_ser.features.audio.load_audio`;
  ``sample_rate is None`` means the file's own rate is used).
* ``input_kind == "text"``: ``extractor(text)`` with the utterance's ``text``
  entry of the data directory (lexical features).

A per-utterance failure that is a property of the data (audio too short for one
frame, openSMILE returning NaN on a 20 ms clip, empty transcript) raises
:class:`ExtractionError`; ``bin/extract_feats`` records it in ``skipped`` with
the message. Any other exception is a bug or a configuration error and stops the
job.

Every constructor argument is stored as an attribute of the same name, so
:meth:`AbsExtractor.get_config` returns the resolved configuration (written to
``feats_conf.yaml``).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, Dict, Optional

import numpy as np

__all__ = ["AbsExtractor", "ExtractionError"]


class ExtractionError(ValueError):
    """The utterance cannot give a valid feature matrix; it is skipped, with this reason.

    Args:
        message: Full reason (written to ``skipped``).
        kind: Short category counted in the job's accounting line (e.g. "too short").
    """

    def __init__(self, message: str, kind: str = "extraction failed"):
        super().__init__(message)
        self.kind = kind


class AbsExtractor(ABC):
    """Base class of all registered extractors (see the module docstring)."""

    #: "audio" or "text": what ``__call__`` takes.
    input_kind: str = "audio"
    #: Lowest NATIVE sample rate (Hz) of an audio file the features are valid for
    #: (e.g. a 0-4 kHz band needs >= 8 kHz: resampling cannot add what the file lacks);
    #: None: any.  ``bin/extract_feats`` skips (and counts) files below it.
    min_source_rate: Optional[int] = None

    @property
    @abstractmethod
    def sample_rate(self) -> Optional[int]:
        """Rate in Hz the extractor expects; ``None``: any (native) rate."""

    @property
    @abstractmethod
    def output_dim(self) -> int:
        """Feature dimension ``D``."""

    @property
    @abstractmethod
    def frame_shift(self) -> Optional[float]:
        """Seconds between frames; ``None`` for utterance-level features (T = 1)."""

    @abstractmethod
    def __call__(self, *args, **kwargs) -> np.ndarray:
        """Extract features.

        Audio extractors: ``(wav (N,) float32, sr int) -> (T, D) float32``.
        Text extractors: ``(text str) -> (T, D) float32``.
        """

    def get_config(self) -> Dict[str, Any]:
        """The constructor arguments as plain data (for ``feats_conf.yaml``)."""
        params = inspect.signature(type(self).__init__).parameters
        conf = {}
        for key in params:
            if key in ("self", "args", "kwargs"):
                continue
            value = getattr(self, key)
            if isinstance(value, tuple):
                value = list(value)
            conf[key] = value
        return conf

    def check_source_rate(self, sr: int) -> None:
        """Raise :class:`ExtractionError` when the file's native rate ``sr`` is below
        :attr:`min_source_rate`."""
        if self.min_source_rate is not None and sr < self.min_source_rate:
            raise ExtractionError(
                f"{type(self).__name__}: audio at {sr} Hz is below the {self.min_source_rate} Hz "
                "these features need (their band reaches half of that)",
                kind="sample rate too low",
            )

    def _check_sr(self, sr: int) -> None:
        if self.sample_rate is not None and sr != self.sample_rate:
            raise ValueError(
                f"{type(self).__name__}: got audio at {sr} Hz, expected "
                f"{self.sample_rate} Hz (load it with load_audio(..., sample_rate="
                f"{self.sample_rate}))"
            )

    @staticmethod
    def _check_window(wav: np.ndarray, sr: int, win_length: int, what: str) -> None:
        """Raise :class:`ExtractionError` ("too short") when ``wav`` is shorter than one
        analysis window: librosa would pad it and return frames of padding (Kaldi gives none)."""
        if wav.shape[0] < win_length:
            raise ExtractionError(
                f"{what}: {wav.shape[0] / sr:.3f} s of audio is shorter than one "
                f"{win_length / sr:.3f} s analysis window", kind="too short"
            )

    @staticmethod
    def _finish(feats: np.ndarray, what: str) -> np.ndarray:
        """Return ``feats`` as (T, D) float32, raising ExtractionError when empty."""
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[0] == 0:
            raise ExtractionError(
                f"{what}: too short, gave {feats.shape[0] if feats.ndim else 0} frames", kind="too short"
            )
        return feats
