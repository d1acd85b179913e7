"""Log power spectrograms: single-window (Gao et al.) and multi-window (ADARL, Fan et al.).

``logspec`` (Gao et al., after Satt et al. 2017): 16 kHz,
256-point window and FFT, hop 128 (8 ms), no centring, so 32 frames span
31 * 128 + 256 = 4224 samples = 264 ms, the paper's "265-ms segments" of
32 x 129. The FULL utterance ``(T, 129)`` is stored; cutting it into 32-frame
segments is the job of the model's input adapter.

``multiwin_logspec`` (Fan et al., ADARL): STFTs of the same signal
with three Hamming window lengths (the paper's text lists 20 ms and 40 ms; its
third value is unreadable in our copy, so the default is 20/30/40 ms; set
``win_lengths_ms``), a common 10 ms shift, log power, and only the 0-4 kHz band
kept as 400 bins. 400 bins over 4 kHz means a 10 Hz bin spacing, i.e. an FFT of
``fs / 10`` points (1600 at 16 kHz) with each window zero-padded to it; frames
are centred, so frame ``t`` of every window length is centred on the same
sample ``t * hop``. Stored layout is CHANNEL-MAJOR:
``feats[t, c * n_bins + f]`` = log power of window ``c`` at bin ``f``; a model
recovers ``(C, F, T)`` with ``feats.reshape(T, C, F).transpose(1, 2, 0)``. The
paper's z-score is stage 3 (``bin/apply_norm``); its 3 s sub-segments and
zero padding to 300 frames belong to the model's input adapter.

Both use ``log(max(|X|^2, log_floor))``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from espnet_ser.features.abs_extractor import AbsExtractor, ExtractionError

__all__ = ["LogSpecExtractor", "MultiWinLogSpecExtractor"]


def _log_power_stft(
    wav: np.ndarray, n_fft: int, win_length: int, hop_length: int, window: str, center: bool,
    log_floor: float,
) -> np.ndarray:
    """(N,) -> (T, n_fft // 2 + 1) log power."""
    import librosa

    spec = librosa.stft(
        wav, n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window,
        center=center,
    )
    return np.log(np.maximum(np.abs(spec) ** 2, log_floor)).T


class LogSpecExtractor(AbsExtractor):
    """Single-window log power spectrogram (Gao et al.).

    Args:
        fs: Sample rate in Hz.
        n_fft: FFT size; ``D = n_fft // 2 + 1``.
        win_length: Window length in samples (<= n_fft).
        hop_length: Frame shift in samples.
        window: Window name.
        center: Pad so frames are centred (librosa) instead of starting at sample 0.
        log_floor: Power floor before the log.
    """

    def __init__(
        self,
        fs: int = 16000,
        n_fft: int = 256,
        win_length: int = 256,
        hop_length: int = 128,
        window: str = "hann",
        center: bool = False,
        log_floor: float = 1e-10,
    ):
        if win_length > n_fft:
            raise ValueError(f"logspec: win_length={win_length} > n_fft={n_fft}")
        if log_floor <= 0:
            raise ValueError(f"logspec: log_floor={log_floor} must be > 0")
        self.fs = int(fs)
        self.n_fft = int(n_fft)
        self.win_length = int(win_length)
        self.hop_length = int(hop_length)
        self.window = window
        self.center = bool(center)
        self.log_floor = float(log_floor)

    @property
    def sample_rate(self) -> int:
        return self.fs

    @property
    def output_dim(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frame_shift(self) -> float:
        return self.hop_length / self.fs

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """(N,) float32 at ``fs`` -> (T, n_fft // 2 + 1) float32."""
        self._check_sr(sr)
        if not self.center and wav.shape[0] < self.n_fft:
            return self._finish(np.zeros((0, self.output_dim)), "logspec")
        feats = _log_power_stft(
            wav, self.n_fft, self.win_length, self.hop_length, self.window, self.center,
            self.log_floor,
        )
        return self._finish(feats, "logspec")


class MultiWinLogSpecExtractor(AbsExtractor):
    """Multi-window log power spectrogram (ADARL), channel-major ``(T, C * n_bins)``.

    Args:
        fs: Sample rate in Hz.
        win_lengths_ms: Window lengths in ms, one channel each.
        hop_ms: Frame shift in ms.
        freq_resolution: Bin spacing in Hz; the FFT has ``fs / freq_resolution`` points.
        max_freq: Highest frequency kept; ``n_bins = max_freq / freq_resolution``.
        window: Window name.
        log_floor: Power floor before the log.
    """

    def __init__(
        self,
        fs: int = 16000,
        win_lengths_ms: Sequence[float] = (20.0, 30.0, 40.0),
        hop_ms: float = 10.0,
        freq_resolution: float = 10.0,
        max_freq: float = 4000.0,
        window: str = "hamming",
        log_floor: float = 1e-10,
    ):
        self.fs = int(fs)
        self.win_lengths_ms = tuple(float(w) for w in win_lengths_ms)
        self.hop_ms = float(hop_ms)
        self.freq_resolution = float(freq_resolution)
        self.max_freq = float(max_freq)
        self.window = window
        self.log_floor = float(log_floor)
        n_fft = self.fs / self.freq_resolution
        if abs(n_fft - round(n_fft)) > 1e-6:
            raise ValueError(
                f"multiwin_logspec: fs={fs} / freq_resolution={freq_resolution} must be an integer FFT size"
            )
        self._n_fft = int(round(n_fft))
        self._n_bins = int(round(self.max_freq / self.freq_resolution))
        if not 0 < self._n_bins <= self._n_fft // 2 + 1:
            raise ValueError(
                f"multiwin_logspec: max_freq={max_freq} must be in (0, fs/2={self.fs / 2}]"
            )
        self._wins = [int(round(w * self.fs / 1000)) for w in self.win_lengths_ms]
        if not self._wins or any(w < 1 or w > self._n_fft for w in self._wins):
            raise ValueError(
                f"multiwin_logspec: win_lengths_ms={list(self.win_lengths_ms)} must be non-empty "
                f"and each window <= the FFT size ({self._n_fft} samples)"
            )
        self._hop = int(round(self.hop_ms * self.fs / 1000))
        if self._hop < 1:
            raise ValueError(f"multiwin_logspec: hop_ms={hop_ms} gives a hop of 0 samples")

    @property
    def sample_rate(self) -> int:
        return self.fs

    @property
    def min_source_rate(self) -> int:
        """The 0-``max_freq`` band needs a native rate of at least ``2 * max_freq``."""
        return int(round(2 * self.max_freq))

    @property
    def n_channels(self) -> int:
        """Number of window lengths ``C``."""
        return len(self._wins)

    @property
    def n_bins(self) -> int:
        """Frequency bins per channel ``F``."""
        return self._n_bins

    @property
    def output_dim(self) -> int:
        return self.n_channels * self._n_bins

    @property
    def frame_shift(self) -> float:
        return self._hop / self.fs

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """(N,) float32 at ``fs`` -> (T, C * n_bins) float32, channel-major."""
        self._check_sr(sr)
        if wav.shape[0] < max(self._wins):
            raise ExtractionError(
                f"multiwin_logspec: {wav.shape[0]} samples ({1000 * wav.shape[0] / self.fs:.1f} ms) "
                f"is shorter than the longest window ({max(self.win_lengths_ms)} ms)",
                kind="too short",
            )
        chans = [
            _log_power_stft(wav, self._n_fft, w, self._hop, self.window, True, self.log_floor)[
                :, : self._n_bins
            ]
            for w in self._wins
        ]
        return self._finish(np.concatenate(chans, axis=1), "multiwin_logspec")
