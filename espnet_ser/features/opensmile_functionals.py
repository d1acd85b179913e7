"""openSMILE utterance-level functionals: ComParE_2016 (6373-d) and eGeMAPSv02 (88-d).

Lian et al. use the ComParE_2016 functionals as the acoustic
utterance vector. Output is ``(1, D)`` float32 per utterance
(``frame_shift is None``).

openSMILE returns NaN for some functionals when a clip is shorter than a few
analysis frames (~20 ms clips do this); such an utterance raises
:class:`ExtractionError` naming the count of non-finite values and the clip
length, and ``bin/extract_feats`` records it in ``skipped``.

Audio is resampled to ``fs`` (16 kHz by default, so the same corpus at different
native rates gives comparable functionals; ``null`` keeps the native rate).
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from espnet_ser.features.abs_extractor import AbsExtractor, ExtractionError

__all__ = ["OpenSmileFunctionals", "ComParE2016Extractor", "EGeMAPSv02Extractor"]


class OpenSmileFunctionals(AbsExtractor):
    """openSMILE ``FeatureLevel.Functionals`` of a named feature set.

    Args:
        feature_set: Name in ``opensmile.FeatureSet`` (``ComParE_2016``, ``eGeMAPSv02``, ...).
        fs: Sample rate in Hz the audio is resampled to (``None``: native).
    """

    def __init__(self, feature_set: str = "ComParE_2016", fs: Optional[int] = 16000):
        import opensmile  # local: its import loads the SMILEapi shared library

        if not hasattr(opensmile.FeatureSet, feature_set):
            choices = [m.name for m in opensmile.FeatureSet]
            raise ValueError(f"opensmile: unknown feature_set '{feature_set}' (choices: {choices})")
        self.feature_set = feature_set
        self.fs = None if fs is None else int(fs)
        self._smile = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, feature_set),
            feature_level=opensmile.FeatureLevel.Functionals,
        )
        self._dim = len(self._smile.feature_names)

    @property
    def sample_rate(self) -> Optional[int]:
        return self.fs

    @property
    def output_dim(self) -> int:
        return self._dim

    @property
    def frame_shift(self) -> None:
        return None

    @property
    def feature_names(self):
        """openSMILE's names of the ``D`` functionals, in column order."""
        return list(self._smile.feature_names)

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """(N,) float32 -> (1, D) float32; non-finite output raises ExtractionError."""
        self._check_sr(sr)
        try:
            # openSMILE warns "Segment too short, filling with NaN"; the NaN check
            # below turns that into a per-utterance skip reason instead.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Segment too short")
                df = self._smile.process_signal(np.asarray(wav, dtype=np.float32), sr)
        except Exception as exc:  # SMILEapi errors on degenerate input
            raise ExtractionError(
                f"{self.feature_set}: openSMILE failed on a {wav.shape[0] / sr:.3f} s clip: {exc}",
                kind="openSMILE failed",
            ) from exc
        feats = df.to_numpy(dtype=np.float64)
        if feats.shape != (1, self._dim):
            raise ExtractionError(
                f"{self.feature_set}: openSMILE gave shape {feats.shape}, expected (1, {self._dim}) "
                f"for a {wav.shape[0] / sr:.3f} s clip",
                kind="openSMILE failed",
            )
        bad = int((~np.isfinite(feats)).sum())
        if bad:
            raise ExtractionError(
                f"{self.feature_set}: openSMILE returned {bad} non-finite values for a "
                f"{wav.shape[0] / sr:.3f} s clip (too short?)",
                kind="non-finite output",
            )
        return self._finish(feats, self.feature_set)


class ComParE2016Extractor(OpenSmileFunctionals):
    """ComParE_2016 functionals, ``(1, 6373)``. Args as :class:`OpenSmileFunctionals`."""

    def __init__(self, feature_set: str = "ComParE_2016", fs: Optional[int] = 16000):
        super().__init__(feature_set=feature_set, fs=fs)


class EGeMAPSv02Extractor(OpenSmileFunctionals):
    """eGeMAPSv02 functionals, ``(1, 88)``. Args as :class:`OpenSmileFunctionals`."""

    def __init__(self, feature_set: str = "eGeMAPSv02", fs: Optional[int] = 16000):
        super().__init__(feature_set=feature_set, fs=fs)
