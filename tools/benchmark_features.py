#!/usr/bin/env python3
"""Benchmark the feature extractors: real-time factor at nj = 1 and nj = 2 (prints figures).

Runs the real stage-2 path (``python -m espnet_ser.bin.extract_feats`` jobs
through ``utils/run.pl`` when it and perl exist, else parallel subprocesses,
then ``--merge``) on a folder of audio files or on a generated corpus, and
prints, per extractor and nj, the wall time, the audio duration and the
real-time factor RTF = wall time / audio duration (lower is faster; it includes
the start-up of each job, i.e. imports and model loading, as a recipe pays it).

Usage:
    tools/venv/bin/python tools/benchmark_features.py --corpus-dir ../shared/corpora/emodb/wav
    tools/venv/bin/python tools/benchmark_features.py --synth-layout emodb --max-utts 40 \\
        --extractors mfcc fbank logspec --nj 1 2

Text extractors (``sentence_embedding``, ``bpe_ids``) need transcripts and are
not benchmarked here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Sequence

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "egs" / "TEMPLATE" / "ser1" / "conf" / "feats"
AUDIO_EXT = (".wav", ".flac")
DEFAULT_EXTRACTORS = ["mfcc", "fbank", "logspec", "multiwin_logspec", "egemaps_v02", "compare_2016"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus-dir", help="folder searched recursively for .wav/.flac files")
    src.add_argument("--synth-layout", help="generate a corpus with espnet_ser.corpora.synth (e.g. emodb)")
    p.add_argument("--max-utts", type=int, default=60, help="use at most this many files (sorted)")
    p.add_argument("--extractors", nargs="+", default=DEFAULT_EXTRACTORS,
                   help=f"names of conf/feats/<name>.yaml (default: {' '.join(DEFAULT_EXTRACTORS)})")
    p.add_argument("--nj", nargs="+", type=int, default=[1, 2], help="job counts to compare")
    p.add_argument("--work-dir", default=None, help="scratch dir (default: a temporary one, removed)")
    p.add_argument("--no-run-pl", action="store_true", help="use subprocesses even if utils/run.pl exists")
    return p


def _fail(msg: str) -> None:
    print(f"benchmark_features: error: {msg}", file=sys.stderr)
    sys.exit(1)


def _make_data_dir(files: Sequence[Path], d: Path) -> float:
    """Write wav.scp/utt2spk/spk2utt for ``files``; return their total duration in seconds."""
    import soundfile as sf

    d.mkdir(parents=True, exist_ok=True)
    utts = {f"bench-{i:05d}": p for i, p in enumerate(files)}
    total = 0.0
    with open(d / "wav.scp", "w") as w, open(d / "utt2spk", "w") as u:
        for utt in sorted(utts):
            w.write(f"{utt} {utts[utt]}\n")
            u.write(f"{utt} bench\n")
            total += sf.info(str(utts[utt])).duration
    (d / "spk2utt").write_text("bench " + " ".join(sorted(utts)) + "\n")
    return total


def _run_jobs(conf: Path, data: Path, out: Path, nj: int, use_run_pl: bool) -> None:
    base = [sys.executable, "-m", "espnet_ser.bin.extract_feats", "--feats-conf", str(conf),
            "--data-dir", str(data), "--out-dir", str(out), "--nj", str(nj), "--no-progress"]
    (out / "log").mkdir(parents=True, exist_ok=True)
    if use_run_pl:
        cmd = ["perl", str(REPO / "utils" / "run.pl"), f"JOB=1:{nj}", str(out / "log" / "extract.JOB.log"),
               *base, "--job", "JOB"]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{conf.stem} nj={nj}: run.pl failed: {proc.stdout.strip().splitlines()[-1:]} "
                               f"(logs in {out}/log)")
    else:
        procs = []
        for j in range(1, nj + 1):
            log = open(out / "log" / f"extract.{j}.log", "w")
            procs.append((subprocess.Popen([*base, "--job", str(j)], stdout=log, stderr=subprocess.STDOUT), log))
        for j, (proc, log) in enumerate(procs, 1):
            rc = proc.wait()
            log.close()
            if rc != 0:
                raise RuntimeError(f"{conf.stem} nj={nj}: job {j} failed (see {out}/log/extract.{j}.log)")
    merge = [sys.executable, "-m", "espnet_ser.bin.extract_feats", "--merge", "--nj", str(nj),
             "--feats-conf", str(conf), "--data-dir", str(data), "--out-dir", str(out), "--max-skip-frac", "1"]
    proc = subprocess.run(merge, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{conf.stem} nj={nj}: merge failed: {proc.stdout.strip()}")


def prepare_data(work: Path, corpus_dir: str | None, synth_layout: str | None, max_utts: int):
    """The benchmark's data dir: (root, files, data dir, seconds of audio); a one-line error if none."""
    if corpus_dir:
        root = Path(corpus_dir)
        if not root.is_dir():
            _fail(f"--corpus-dir {root}: no such directory")
    else:
        from espnet_ser.corpora.synth import generate_corpus

        root = work / "corpus"
        if not root.exists():
            t0 = time.time()
            generate_corpus(synth_layout, root, seed=0)
            print(f"generated {synth_layout} corpus in {root} ({time.time() - t0:.1f} s)")
    files: List[Path] = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXT)[:max_utts]
    if not files:
        _fail(f"{root}: no {'/'.join(AUDIO_EXT)} files")
    data = work / "data"
    if data.exists():
        shutil.rmtree(data)
    return root, files, data, _make_data_dir(files, data)


def use_run_pl(disabled: bool = False) -> bool:
    """Jobs through utils/run.pl (the recipes' way) when it and perl exist."""
    return not disabled and (REPO / "utils" / "run.pl").is_file() and shutil.which("perl") is not None


def time_extractor(conf: Path, data: Path, work: Path, nj: int, n_files: int, run_pl: bool):
    """Stage 2 of ``conf`` with ``nj`` jobs: (wall seconds, slowest job's loop seconds).

    Raises:
        RuntimeError: a job or the merge failed (the message names the log).
    """
    out = work / "dump" / f"{conf.stem}_nj{nj}"
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    _run_jobs(conf, data, out, min(nj, n_files), run_pl)
    wall = time.perf_counter() - t0
    loop = max(json.loads(p.read_text())["extract_seconds"] for p in out.glob("extract.*.json"))
    return wall, loop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # One thread per job, as path.sh sets for recipes: nj is then the parallelism.
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench_feats_"))
    try:
        root, files, data, audio_s = prepare_data(work, args.corpus_dir, args.synth_layout, args.max_utts)
        run_pl = use_run_pl(args.no_run_pl)
        confs = []
        for name in args.extractors:
            conf = CONF_DIR / f"{name}.yaml"
            if not conf.is_file():
                _fail(f"--extractors {name}: no {conf}")
            confs.append(conf)
        print(f"{len(files)} files, {audio_s:.1f} s of audio from {root}; jobs via "
              f"{'utils/run.pl' if run_pl else 'subprocesses'}; {os.cpu_count()} CPUs")
        print("RTF = wall / audio (whole stage 2: job start-up, model loading, merge); "
              "loop_RTF = slowest job's extraction loop / its share of the audio")
        print(f"{'extractor':<18} {'nj':>3} {'wall_s':>8} {'RTF':>8} {'speedup':>8} {'loop_RTF':>9}")
        for conf in confs:
            base_wall = None
            for nj in args.nj:
                try:
                    wall, loop = time_extractor(conf, data, work, nj, len(files), run_pl)
                except RuntimeError as e:
                    _fail(str(e))
                base_wall = base_wall or wall
                print(f"{conf.stem:<18} {nj:>3} {wall:>8.2f} {wall / audio_s:>8.4f} "
                      f"{base_wall / wall:>8.2f} {loop / (audio_s / nj):>9.4f}", flush=True)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
