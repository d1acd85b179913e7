"""Log-mel filterbank features.

Kaldi-like defaults: 16 kHz, 25 ms Hamming window (400 samples) in a 512-point
FFT, 10 ms shift (160 samples), 80 mel bands, natural log of the power with a
floor of 1e-10 (so digital silence gives -23.03 instead of -inf).

Output: ``(T, n_mels)`` float32 with ``T = 1 + N // hop_length`` (centred frames).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from espnet_ser.features.abs_extractor import AbsExtractor

__all__ = ["FbankExtractor"]


class FbankExtractor(AbsExtractor):
    """librosa log-mel filterbank.

    Args:
        fs: Sample rate in Hz.
        n_mels: Number of mel bands (``D``).
        n_fft: FFT size in samples.
        win_length: Window length in samples.
        hop_length: Frame shift in samples.
        window: Window name.
        fmin: Lowest frequency in Hz.
        fmax: Highest frequency in Hz (``None``: ``fs / 2``).
        log_floor: Power floor before the log.
    """

    def __init__(
        self,
        fs: int = 16000,
        n_mels: int = 80,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        window: str = "hamming",
        fmin: float = 20.0,
        fmax: Optional[float] = None,
        log_floor: float = 1e-10,
    ):
        if win_length > n_fft:
            raise ValueError(f"fbank: win_length={win_length} > n_fft={n_fft}")
        if log_floor <= 0:
            raise ValueError(f"fbank: log_floor={log_floor} must be > 0")
        self.fs = int(fs)
        self.n_mels = int(n_mels)
        self.n_fft = int(n_fft)
        self.win_length = int(win_length)
        self.hop_length = int(hop_length)
        self.window = window
        self.fmin = float(fmin)
        self.fmax = fmax
        self.log_floor = float(log_floor)

    @property
    def sample_rate(self) -> int:
        return self.fs

    @property
    def output_dim(self) -> int:
        return self.n_mels

    @property
    def frame_shift(self) -> float:
        return self.hop_length / self.fs

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """(N,) float32 at ``fs`` -> (T, n_mels) float32."""
        import librosa

        self._check_sr(sr)
        self._check_window(wav, sr, self.win_length, "fbank")
        mel = librosa.feature.melspectrogram(
            y=wav,
            sr=self.fs,
            n_fft=self.n_fft,
            win_length=self.win_length,
            hop_length=self.hop_length,
            window=self.window,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            power=2.0,
        )
        return self._finish(np.log(np.maximum(mel, self.log_floor)).T, "fbank")
