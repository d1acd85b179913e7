"""MFCC features (Leow et al.: 2D CNN-biGRU speaker-adversarial SER).

Paper settings, which are librosa's defaults at 22.05 kHz: 20 coefficients,
``n_fft = 2048`` (93 ms), ``hop_length = 512`` (23 ms), Hann window. The paper
trims silence before extracting; here ``trim_top_db = 30`` applies
``librosa.effects.trim(top_db=30)`` (leading/trailing parts more than 30 dB below
the utterance's peak are cut; ``null`` switches trimming off). The paper's
zero-padding of every recording to the longest one is NOT done here: the model
masks padded frames instead.

Output: ``(T, n_mfcc)`` float32, ``T = 1 + N // hop_length`` (centred frames,
librosa's convention) for ``N`` samples after trimming.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from espnet_ser.features.abs_extractor import AbsExtractor

__all__ = ["MFCCExtractor"]


class MFCCExtractor(AbsExtractor):
    """librosa MFCC.

    Args:
        fs: Sample rate in Hz (audio is resampled to it).
        n_mfcc: Number of cepstral coefficients (``D``).
        n_fft: FFT size in samples.
        hop_length: Frame shift in samples.
        win_length: Window length in samples (``None``: ``n_fft``).
        window: Window name for ``scipy.signal.get_window``.
        n_mels: Mel bands before the DCT.
        fmin: Lowest mel frequency in Hz.
        fmax: Highest mel frequency in Hz (``None``: ``fs / 2``).
        trim_top_db: Silence-trimming threshold in dB below peak; ``None``: no trimming.
    """

    def __init__(
        self,
        fs: int = 22050,
        n_mfcc: int = 20,
        n_fft: int = 2048,
        hop_length: int = 512,
        win_length: Optional[int] = None,
        window: str = "hann",
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: Optional[float] = None,
        trim_top_db: Optional[float] = 30.0,
    ):
        if n_mfcc < 1 or n_mfcc > n_mels:
            raise ValueError(f"mfcc: n_mfcc={n_mfcc} must be in [1, n_mels={n_mels}]")
        if hop_length < 1 or n_fft < 1:
            raise ValueError(f"mfcc: n_fft={n_fft} and hop_length={hop_length} must be >= 1")
        self.fs = int(fs)
        self.n_mfcc = int(n_mfcc)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.win_length = win_length
        self.window = window
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = fmax
        self.trim_top_db = trim_top_db

    @property
    def sample_rate(self) -> int:
        return self.fs

    @property
    def output_dim(self) -> int:
        return self.n_mfcc

    @property
    def frame_shift(self) -> float:
        return self.hop_length / self.fs

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """(N,) float32 at ``fs`` -> (T, n_mfcc) float32."""
        import librosa  # local: librosa's import (numba) is slow

        self._check_sr(sr)
        self._check_window(wav, sr, self.win_length or self.n_fft, "mfcc")
        if self.trim_top_db is not None:
            trimmed, _ = librosa.effects.trim(
                wav, top_db=self.trim_top_db, frame_length=self.n_fft, hop_length=self.hop_length
            )
            # An all-silent or constant clip trims to nothing: keep it untrimmed
            # rather than invent a reason to drop it.
            if trimmed.size > 0:
                wav = trimmed
        feats = librosa.feature.mfcc(
            y=wav,
            sr=self.fs,
            n_mfcc=self.n_mfcc,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
        )
        return self._finish(feats.T, "mfcc")
