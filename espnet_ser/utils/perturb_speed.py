"""Speed perturbation of a Kaldi data directory (Kaldi's ``utils/perturb_data_dir_speed.sh``).

``utils/perturb_data_dir_speed.sh <factor> <srcdir> <destdir>`` execs
``python3 -m espnet_ser.utils.perturb_speed dir <factor> <srcdir> <destdir>``.
Kaldi's semantics (Ko et al., "Audio augmentation for speech recognition", 2015):

* every utterance id AND speaker id gets the prefix ``sp<factor>-`` (the factor as
  written, e.g. ``sp0.9-``), so a perturbed copy is a new utterance of a new speaker:
  per-speaker statistics (``--norm speaker``) and speaker inventories treat
  ``sp0.9-<spk>`` as its own speaker; with ``segments`` the recording ids get it too;
* every utterance table (``utt2spk``, ``text``, ``utt2emo``, ``utt2gender`` and any
  other ``utt2*``) is carried over with the new ids, ``spk2*`` with the new speakers,
  ``reco2*`` with the new recordings; ``utt2dur``/``reco2dur`` and the ``segments``
  times are divided by the factor; ``utt2uniq`` maps each new id to the original
  utterance (the source's ``utt2uniq`` value if it has one);
* ``feats.scp``, ``utt2num_frames`` and ``cmvn.scp`` are dropped (they describe the
  unperturbed audio) and so is ``skipped``; the result passes ``validate_data_dir``.

The audio: sox's ``speed F`` effect, i.e. tempo and pitch change together, the
duration becomes ``1/F`` of the original. Kaldi writes a pipe
``sox -t wav <in> -t wav - speed F |`` into ``wav.scp``. sox is not a dependency
of this project (a fresh machine has no sox and ``tools/install.sh`` installs no
Debian package), and the only other pipe would start a Python interpreter per
recording at every feature extraction (~1 s each with numpy and soxr loaded). So
by DEFAULT THE PERTURBED AUDIO IS MATERIALISED, once, in one process:
``<destdir>/audio/<id>.flac``, the source read with soundfile (channels and rate
kept), resampled with soxr (already the project's resampler) as if recorded at
``F * rate``, i.e. ``soxr.resample(x, F * rate, rate)`` (``round(N / F)``
samples: sox ``speed F`` followed by its automatic ``rate``), written as
lossless FLAC (16 bit, 24 bit when the source has more), and ``wav.scp`` points
to those files. ``--pipe`` writes Kaldi's form instead, with this module as the
command (``python3 -m espnet_ser.utils.perturb_speed pipe F '<source>' |``: no
audio stored, one interpreter start-up per recording at extraction). A recording
that cannot be read gets that pipe too, so the failure (and its reason) shows up
where Kaldi's would: as an accounted skip of feature extraction (stage 2's
``skipped``), never as a silently missing utterance.

A factor of 1 keeps the audio as it is (``wav.scp`` values unchanged, ids still
prefixed). A finished ``<destdir>`` whose inputs (factor, mode, source tables,
audio sizes and times) are unchanged is not redone (``<destdir>/.perturb_speed.json``).

Example:
    $ utils/perturb_data_dir_speed.sh 0.9 data/train data/train_sp0.9
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

PROG = "utils/perturb_data_dir_speed.sh"
#: Version of what ``dir`` writes (part of the up-to-date hash).
OUTPUT_FORMAT = 1
MARKER = ".perturb_speed.json"
_FACTOR = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")
# Tables describing the unperturbed audio's features: not carried over (Kaldi drops them too).
_DROPPED = frozenset({"feats.scp", "utt2num_frames", "cmvn.scp"})
# Duration tables: values divided by the factor.
_DURATIONS = frozenset({"utt2dur", "reco2dur"})


class PerturbError(ValueError):
    """Bad input; the message is one line naming the argument and the fix."""


def parse_factor(factor: str) -> float:
    """The speed factor as a float; ``factor`` must be a positive decimal number.

    Raises:
        PerturbError: not a positive decimal number (e.g. ``-1``, ``0``, ``fast``, ``1e-1``).
    """
    value = float(factor) if _FACTOR.match(str(factor)) else float("nan")
    if not (math.isfinite(value) and value > 0):
        raise PerturbError(f"factor '{factor}': not a positive number (give e.g. 0.9 or 1.1)")
    return value


def speed(wav: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """sox's ``speed factor``: tempo and pitch times ``factor``, ``round(N / factor)`` samples.

    Args:
        wav: ``(N,)`` or ``(N, C)`` float audio at ``sr`` Hz.
        sr: sample rate of ``wav`` (and of the result).
        factor: speed factor (> 0); 1 returns ``wav`` unchanged.

    Returns:
        float32 audio at ``sr`` Hz, same channels.
    """
    from espnet_ser.features.audio import resample

    # Read the samples as if recorded at factor * sr and resample them to sr (1: unchanged).
    return resample(np.ascontiguousarray(wav, dtype=np.float32), factor * sr, sr)


def _read(spec: str) -> Tuple[np.ndarray, int, str]:
    """``(audio (N, C) float32, rate, subtype)`` of one wav.scp value (path or ``cmd |``)."""
    import soundfile as sf
    from espnet_ser.features.audio import load_audio

    data, sr = load_audio(spec, mono=False)   # its checks and one-line AudioError messages
    spec = spec.strip()
    subtype = "PCM_16" if spec.endswith("|") else sf.info(spec).subtype
    return (data[:, None] if data.ndim == 1 else data), sr, subtype


def pipe_command(factor: str, spec: str) -> str:
    """The wav.scp value that perturbs ``spec`` when read (Kaldi's pipe form, without sox)."""
    return f"python3 -m espnet_ser.utils.perturb_speed pipe {factor} {shlex.quote(spec.strip())} |"


def _hash(factor: str, pipe: bool, src: Path, tables: Dict[str, Dict[str, str]]) -> str:
    from espnet_ser.utils.data_dir import _table_files

    h = hashlib.sha256(json.dumps([OUTPUT_FORMAT, factor, pipe]).encode())
    for name in _table_files(src):
        h.update(name.encode() + b"\0" + (src / name).read_bytes() + b"\0")
    for spec in tables["wav.scp"].values():
        try:  # a changed audio file (same path) is redone
            st = os.stat(spec.strip())
            h.update(f"{st.st_size} {st.st_mtime_ns}".encode())
        except OSError:
            h.update(b"-")
    return h.hexdigest()[:16]


def perturb_data_dir_speed(factor: str, src, dst, *, pipe: bool = False) -> dict:
    """Write the speed-perturbed copy of data directory ``src`` to ``dst`` (module docstring).

    Args:
        factor: speed factor as written, e.g. ``"0.9"``; it becomes the id prefix ``sp0.9-``.
        src: validated source data directory.
        dst: output directory (replaced); the audio goes to ``dst/audio/``.
        pipe: write pipes into ``wav.scp`` instead of audio files.

    Returns:
        Summary: ``utterances``, ``recordings``, ``written`` (audio files), ``pipes``
        (of which ``unreadable`` recordings, with ``first_error``), ``hash``.

    Raises:
        PerturbError: bad factor, ``src`` = ``dst``, an id that cannot be a file name.
        DataDirError: ``src`` breaks the data-directory contract.
    """
    import soundfile as sf

    from espnet_ser.features.audio import AudioError
    from espnet_ser.utils.data_dir import (
        _SPK_TABLE, _table_files, read_table, validate_data_dir, write_data_dir, write_table)

    f = parse_factor(factor)
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise PerturbError(f"{src}: no such data directory")
    if src.resolve() == dst.resolve():
        raise PerturbError(f"{dst}: destination is the source directory (write to a new one, e.g. {src}_sp{factor})")
    validate_data_dir(src)
    tables = {name: read_table(src / name) for name in _table_files(src)}
    digest = _hash(factor, pipe, src, tables)
    marker = dst / MARKER
    if marker.is_file():
        try:
            done = json.loads(marker.read_text())
        except json.JSONDecodeError:
            done = {}
        if done.get("hash") == digest and (dst / "wav.scp").is_file() and all(
                os.path.isfile(v) for v in read_table(dst / "wav.scp").values() if not v.endswith("|")):
            print(f"{PROG}: {dst}: up to date (hash {digest}), not redone", file=sys.stderr)
            return done

    prefix = f"sp{factor}-"
    segments = tables.get("segments")
    # Kaldi's per-utterance unique id: the original utterance (or its own utt2uniq value).
    uniq = tables.get("utt2uniq", {u: u for u in tables["utt2spk"]})
    out: Dict[str, Dict[str, str]] = {}
    for name, table in tables.items():
        if name in _DROPPED or name in ("spk2utt", "wav.scp", "utt2uniq"):
            continue
        if name == "segments":
            out[name] = {}
            for u, v in table.items():
                reco, start, end = v.split()
                s, e = float(start) / f, float(end)
                out[name][prefix + u] = f"{prefix}{reco} {s:.4f} {e / f if e >= 0 else e:.4f}"
        elif name in _DURATIONS:
            out[name] = {prefix + k: f"{float(v) / f:.4f}" for k, v in table.items()}
        elif name == "utt2spk" or _SPK_TABLE.match(name):
            out[name] = {prefix + k: (prefix + v if name == "utt2spk" else v) for k, v in table.items()}
        else:  # utt2*, text, reco2* (keyed by recording, or by utterance without segments)
            out[name] = {prefix + k: v for k, v in table.items()}
    out["utt2uniq"] = {prefix + u: uniq[u] for u in tables["utt2spk"]}

    wav_in = tables["wav.scp"]
    audio_dir = dst / "audio"
    wav_out: Dict[str, str] = {}
    jobs = []   # (new key, source spec, output file)
    for key, spec in wav_in.items():
        new = prefix + key
        if f == 1:
            wav_out[new] = spec
        elif pipe:
            wav_out[new] = pipe_command(factor, spec)
        else:
            if "/" in new or new.startswith("."):
                raise PerturbError(f"{src}/wav.scp: id {key!r} cannot be a file name under {audio_dir} (use --pipe)")
            path = (audio_dir / f"{new}.flac").absolute()
            wav_out[new] = str(path)
            jobs.append((new, spec, path))
    out["wav.scp"] = wav_out
    write_data_dir(dst, out)   # replaces dst (and any audio of an earlier run)

    unreadable = []
    if jobs:
        audio_dir.mkdir(parents=True, exist_ok=True)
    for new, spec, path in jobs:
        try:
            data, sr, subtype = _read(spec)
        except AudioError as exc:
            unreadable.append((new, str(exc)))
            wav_out[new] = pipe_command(factor, spec)
            continue
        y = np.clip(speed(data, sr, f), -1.0, 1.0)
        deep = subtype in ("PCM_24", "PCM_32", "FLOAT", "DOUBLE")
        sf.write(str(path), y, sr, format="FLAC", subtype="PCM_24" if deep else "PCM_16")
    if unreadable:   # same keys, pipes instead of their files
        write_table(dst / "wav.scp", wav_out)
        validate_data_dir(dst)
    summary = {
        "hash": digest, "factor": factor, "src": str(src), "utterances": len(out["utt2spk"]),
        "recordings": len(wav_out), "written": len(jobs) - len(unreadable),
        "pipes": len(wav_out) if pipe and f != 1 else len(unreadable),
        "unreadable": len(unreadable), "first_error": unreadable[0][1] if unreadable else None,
    }
    marker.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    what = (f"{summary['written']} written to {audio_dir}" if jobs else
            "pipes (--pipe)" if pipe and f != 1 else "audio unchanged (factor 1)")
    msg = (f"{PROG}: sp{factor}: {summary['utterances']} utterances, {len(wav_out)} recordings: {what}"
           f" -> {dst}")
    if unreadable:
        msg += (f"; {len(unreadable)} unreadable, left as pipes (feature extraction will skip them with "
                f"the reason, e.g. {unreadable[0][1]})")
    print(msg, file=sys.stderr)
    return summary


def write_pipe(factor: str, spec: str, stream=None) -> None:
    """Read ``spec``, perturb it, write a float WAV to ``stream`` (stdout): the pipe form."""
    import soundfile as sf

    f = parse_factor(factor)
    data, sr, _ = _read(spec)
    buf = io.BytesIO()
    sf.write(buf, speed(data, sr, f), sr, format="WAV", subtype="FLOAT")
    (stream or sys.stdout.buffer).write(buf.getvalue())


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        usage = " ".join(self.format_usage().split())
        self.exit(1, f"{self.prog}: {message} ({usage})\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m espnet_ser.utils.perturb_speed",
                            description="Speed perturbation of a data directory (Kaldi's perturb_data_dir_speed.sh).")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_OneLineParser)
    p = sub.add_parser("dir", prog=PROG, help="perturb a data directory",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description="""\
Write the speed-perturbed copy of <srcdir> to <destdir> (Kaldi's semantics:
utterance AND speaker ids prefixed sp<factor>-, every table carried over,
utt2dur/reco2dur/segments divided by the factor, utt2uniq added).
Differences from Kaldi: the audio is materialised once as FLAC under
<destdir>/audio (resampled with soxr like sox's 'speed', tempo and pitch
together) instead of a 'sox ... speed F |' pipe, since sox is not a dependency;
--pipe writes a pipe through this module instead.""")
    p.add_argument("--pipe", action="store_true",
                   help="write 'python3 -m espnet_ser.utils.perturb_speed pipe F <source> |' pipes, no audio files")
    p.add_argument("factor", help="speed factor, e.g. 0.9 (ids get the prefix sp0.9-)")
    p.add_argument("srcdir")
    p.add_argument("destdir")
    p = sub.add_parser("pipe", prog="python -m espnet_ser.utils.perturb_speed pipe",
                       help="write the perturbed audio of one wav.scp value to stdout (WAV)")
    p.add_argument("factor")
    p.add_argument("spec", help="a wav.scp value: a path or a command ending in '|'")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry; errors are one line on stderr with exit 1."""
    from espnet_ser.features.audio import AudioError
    from espnet_ser.utils.data_dir import DataDirError

    args = _build_parser().parse_args(argv)
    try:
        if args.verb == "dir":
            perturb_data_dir_speed(args.factor, args.srcdir, args.destdir, pipe=args.pipe)
        else:
            write_pipe(args.factor, args.spec)
    except (PerturbError, DataDirError, AudioError, FileNotFoundError) as e:
        print(f"{PROG if args.verb == 'dir' else 'perturb_speed pipe'}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
