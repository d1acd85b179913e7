"""Audio loading for feature extraction: one wav.scp entry -> float32 mono.

A Kaldi ``wav.scp`` value is either a file path (any format libsndfile reads:
wav, flac, ogg, ...) or a command pipe ending in ``|`` whose stdout is a sound
file (``sox in.sph -t wav - |``). A ``segments`` line ``<utt> <rec> <start> <end>``
selects the span [start, end) seconds of a recording; ``end`` of ``-1`` (or any
negative value) means "to the end", as in Kaldi.

Multi-channel audio is downmixed by the channel mean (RAVDESS has a few stereo
files); resampling uses soxr (high quality), so every extractor sees audio at
its own ``sample_rate``.
"""

from __future__ import annotations

import io
import os
import subprocess
from typing import Optional, Tuple

import numpy as np
import soundfile as sf

__all__ = ["AudioError", "load_audio", "resample", "to_mono"]


class AudioError(ValueError):
    """An utterance's audio could not be read; extraction records it as skipped.

    Args:
        message: Full reason, naming the utterance and path.
        kind: Short category for the accounting line ("file not found", ...).
    """

    def __init__(self, message: str, kind: str = "unreadable audio"):
        super().__init__(message)
        self.kind = kind


def to_mono(wav: np.ndarray) -> np.ndarray:
    """Downmix ``(N, C)`` to ``(N,)`` by the channel mean; ``(N,)`` passes through."""
    if wav.ndim == 1:
        return wav
    if wav.ndim != 2:
        raise ValueError(f"to_mono: expected (N,) or (N, C) audio, got shape {wav.shape}")
    return wav.mean(axis=1)


def resample(wav: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``(N,)`` or ``(N, C)`` float audio from ``sr_in`` to ``sr_out`` Hz with soxr."""
    if sr_in == sr_out:
        return wav
    import soxr  # local: only needed when rates differ

    return soxr.resample(wav, sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def _read_pipe(command: str, name: str) -> Tuple[np.ndarray, int]:
    proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(
            f"{name}: command '{command}' exited with {proc.returncode}"
            + (f": {err[-1]}" if err else ""),
            kind="pipe failed",
        )
    try:
        data, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises its own LibsndfileError/RuntimeError
        raise AudioError(f"{name}: output of '{command}' is not readable audio: {exc}") from exc
    return data, sr


def load_audio(
    wav_scp_value: str,
    *,
    sample_rate: Optional[int] = None,
    segment: Optional[Tuple[float, float]] = None,
    utt_id: Optional[str] = None,
    info: Optional[dict] = None,
    mono: bool = True,
) -> Tuple[np.ndarray, int]:
    """Load one wav.scp entry as float32 mono (or with its channels: ``mono=False``).

    Args:
        wav_scp_value: A path, or a shell command ending in ``|``.
        sample_rate: Target rate in Hz; ``None`` keeps the file's rate.
        segment: ``(start, end)`` in seconds; ``end < 0`` means to the end.
        utt_id: Utterance id used in error messages.
        info: If given, filled with the source's ``channels`` and native
            ``sample_rate`` (so a caller can count downmixed and resampled files).
        mono: Downmix to ``(N,)``; ``False`` keeps ``(N,)`` or ``(N, C)`` as read.

    Returns:
        ``(wav (N,) float32, sr)`` (``(N, C)`` when ``mono=False`` and the source has
        channels) with ``sr == sample_rate`` when it is given.

    Raises:
        AudioError: If the file is missing/unreadable, the pipe fails, the
            segment lies outside the audio, or the audio is empty. The message
            names the utterance and the path.
    """
    spec = wav_scp_value.strip()
    name = f"utterance {utt_id} ({spec})" if utt_id else spec
    if spec.endswith("|"):
        data, sr = _read_pipe(spec[:-1].strip(), name)
        if segment is not None:
            start, end = segment
            first = int(round(start * sr))
            last = data.shape[0] if end < 0 else int(round(end * sr))
            if first >= data.shape[0] or last <= first:
                raise AudioError(
                    f"{name}: segment [{start}, {end}] s is outside the "
                    f"{data.shape[0] / sr:.3f} s of audio",
                    kind="segment outside audio",
                )
            data = data[first:last]
    else:
        if not os.path.isfile(spec):
            raise AudioError(f"{name}: file not found", kind="file not found")
        if os.path.getsize(spec) == 0:
            raise AudioError(f"{name}: empty file (0 bytes)", kind="empty file")
        if not os.access(spec, os.R_OK):
            raise AudioError(f"{name}: permission denied (not readable by this user)",
                             kind="permission denied")
        try:
            if segment is None:
                data, sr = sf.read(spec, dtype="float32", always_2d=False)
            else:
                start, end = segment
                header = sf.info(spec)
                sr, frames = header.samplerate, header.frames
                first = int(round(start * sr))
                last = frames if end < 0 else min(int(round(end * sr)), frames)
                if first >= frames or last <= first:
                    raise AudioError(
                        f"{name}: segment [{start}, {end}] s is outside the "
                        f"{frames / sr:.3f} s of audio",
                        kind="segment outside audio",
                    )
                data, sr = sf.read(spec, start=first, stop=last, dtype="float32", always_2d=False)
        except AudioError:
            raise
        except Exception as exc:  # LibsndfileError (corrupt header, unknown format)
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AudioError(f"{name}: unreadable audio: {msg}") from exc
    data = np.asarray(data, dtype=np.float32)
    if info is not None:
        info.update(channels=1 if data.ndim == 1 else int(data.shape[1]), sample_rate=int(sr))
    if mono:
        data = to_mono(data)
    if data.size == 0:
        raise AudioError(f"{name}: empty audio (0 samples)", kind="empty audio")
    if sample_rate is not None and sr != sample_rate:
        data = resample(data, sr, int(sample_rate))
        sr = int(sample_rate)
    return data.astype(np.float32, copy=False), int(sr)
