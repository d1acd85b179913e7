"""Helpers for the feature tests: synthetic audio and hand-written data dirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def sine_noise(sr: int, seconds: float, freq: float = 220.0, seed: int = 0, channels: int = 1) -> np.ndarray:
    """A harmonic tone with noise and an amplitude envelope, (N,) or (N, C) float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(sr * seconds))) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    x = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 5)) * 0.2 * env
    x = x + 0.01 * rng.standard_normal(t.shape)
    if channels > 1:
        x = np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)
    return x.astype(np.float32)


def write_wav(path: Path, sr: int, seconds: float, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, sine_noise(sr, seconds, **kw), sr, subtype="PCM_16")
    return path


def write_table(path: Path, table: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for k in sorted(table):
            f.write(f"{k} {table[k]}\n")


def make_data_dir(root: Path, utts: dict, text: dict | None = None) -> Path:
    """Write ``wav.scp``/``utt2spk``/``spk2utt`` (and ``text``) for ``utt -> (spk, wav path)``."""
    d = root
    write_table(d / "wav.scp", {u: str(p) for u, (_, p) in utts.items()})
    write_table(d / "utt2spk", {u: s for u, (s, _) in utts.items()})
    spk2utt: dict = {}
    for u in sorted(utts):
        spk2utt.setdefault(utts[u][0], []).append(u)
    write_table(d / "spk2utt", {s: " ".join(us) for s, us in spk2utt.items()})
    if text is not None:
        write_table(d / "text", text)
    return d
