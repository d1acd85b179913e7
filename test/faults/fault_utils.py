"""Helpers of the fault matrix (test/faults): audio, data dirs, CLI and recipe runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "egs" / "TEMPLATE" / "ser1"
FEATS_CONF = TEMPLATE / "conf" / "feats"


def tone(sr: int, seconds: float, seed: int = 0, channels: int = 1) -> np.ndarray:
    """A noisy harmonic tone, (N,) or (N, C) float32 (channel c scaled by c + 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(sr * seconds))) / sr
    x = sum(np.sin(2 * np.pi * (150 + 20 * seed) * k * t) / k for k in range(1, 4)) * 0.2
    x = (x + 0.01 * rng.standard_normal(t.shape)).astype(np.float32)
    if channels > 1:
        x = np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)
    return x


def write_wav(path: Path, sr: int = 16000, seconds: float = 0.3, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(sr, seconds, **kw), sr, subtype="PCM_16")
    return path


def write_tables(d: Path, tables: dict) -> Path:
    """Write ``{name: {key: value}}`` tables into data dir ``d`` (sorted, C locale)."""
    d.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        with open(d / name, "w", encoding="utf-8") as f:
            for k in sorted(table, key=lambda s: s.encode()):
                f.write(f"{k} {table[k]}\n")
    return d


def data_dir(d: Path, wavs: dict, emo: dict | None = None) -> Path:
    """A data dir from ``{utt: wav.scp value}``; speaker = the id before '-'."""
    utt2spk = {u: u.split("-")[0] for u in wavs}
    spk2utt: dict = {}
    for u in sorted(utt2spk):
        spk2utt.setdefault(utt2spk[u], []).append(u)
    tables = {"wav.scp": wavs, "utt2spk": utt2spk,
              "spk2utt": {s: " ".join(us) for s, us in spk2utt.items()}}
    if emo is not None:
        tables["utt2emo"] = emo
    return write_tables(d, tables)


def env(**extra) -> dict:
    out = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    # Copied recipes have no tools/venv: path.sh then uses python3 from PATH.
    out["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), out.get("PATH", "")])
    out["OMP_NUM_THREADS"] = "1"
    out.update(extra)
    return out


def run(args, cwd=None, timeout=300, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=env(**extra), timeout=timeout)


def cli(module: str, *args, cwd=None, timeout=300, **extra) -> subprocess.CompletedProcess:
    """``python -m espnet_ser.bin.<module> args...`` as a subprocess."""
    return run([sys.executable, "-m", f"espnet_ser.bin.{module}", *args], cwd=cwd,
               timeout=timeout, **extra)


def tail(res: subprocess.CompletedProcess, n: int = 3000) -> str:
    return res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:]


def error_lines(text: str) -> list:
    """Lines that are not ser.sh's timestamped progress lines nor Python warnings."""
    return [ln for ln in text.splitlines()
            if ln.strip() and not ln[:4].isdigit() and "Warning" not in ln and not ln.startswith("  ")]


def copy_recipe(root: Path, recipe: str = "mini_ser/ser1") -> Path:
    """The template, utils/ and a recipe (links kept, no outputs) under ``root``."""
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "db.opts", "RESULTS.md", "downloads")
    shutil.copytree(TEMPLATE, root / "egs" / "TEMPLATE" / "ser1", symlinks=True, ignore=ignore,
                    dirs_exist_ok=True)
    if not (root / "utils").exists():
        shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    venv = REPO / "tools" / "venv"
    if (venv / "bin" / "python").exists() and not (root / "tools" / "venv").exists():
        # path.sh activates it, here and in cluster jobs (whose login shells reset PATH).
        (root / "tools").mkdir(parents=True, exist_ok=True)
        (root / "tools" / "venv").symlink_to(venv)
    dst = root / "egs" / recipe
    shutil.copytree(REPO / "egs" / recipe, dst, symlinks=True, ignore=ignore)
    return dst
