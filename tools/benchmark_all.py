#!/usr/bin/env python3
"""One benchmark table: feature extraction, training throughput, Emo-DB stage 4 sequential vs parallel.

Three parts (``--parts``), printed as ONE markdown table (``part | item | setting |
wall_s | figure | notes``) after a header naming the machine (CPUs, CPU model),
the commit, the command and the load average (``uptime``) before each part:

* ``features``: stage 2 as a recipe runs it (``espnet_ser.bin.extract_feats``
  jobs through ``utils/run.pl``, then ``--merge``; tools/benchmark_features.py)
  per extractor at each ``--nj``: real-time factor RTF = wall / audio seconds
  and the speed-up over the first ``--nj``.  The audio: ``--corpus-dir``, else
  real Emo-DB where ``egs/emodb/sier/db.sh`` finds it, else a generated corpus
  in the Emo-DB layout (said so in the notes).  openSMILE extractors
  (``compare_2016``, ``egemaps_v02``) are skipped with a row saying so when the
  ``opensmile`` package is missing.
* ``train``: optimizer steps per second of each recipe's default model
  (tools/benchmark_train.py: the model built as ser_train builds it, random
  batches of the config's batch size, utterances of the corpus's typical length
  at the recipe's feature frame shift; recipes and configs: tools/gpu_check.py
  RECIPES): utterances/s (segments/s, turns/s) on CPU, and on CUDA when present.
* ``recipe``: wall time of ``egs/emodb/sier`` stage 4 (training of every
  (config, fold, seed) run) with ``--max_parallel 1`` (one run after the other)
  and ``--max_parallel 2``.  Reduced, and labelled so: ``--recipe-folds``,
  ``--recipe-seeds``, ``--max_epoch --recipe-max-epoch`` (the recipe's default
  is 5 folds x 3 seeds x 2 configs x 30 epochs: about 70 min of CPU).  Stages
  1-3 run first into the work dir (not timed); exp/ of the recipe is untouched.

Usage::

    tools/venv/bin/python tools/benchmark_all.py                     # everything (~15 min on 2 CPUs)
    tools/venv/bin/python tools/benchmark_all.py --parts features --extractors mfcc fbank --max-utts 20
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import benchmark_features  # noqa: E402  (tools/ is not a package)
import gpu_check  # noqa: E402

PARTS = ("features", "train", "recipe")
OPENSMILE_EXTRACTORS = ("compare_2016", "egemaps_v02")
RECIPE = REPO / "egs" / "emodb" / "sier"


def _fail(msg: str) -> None:
    print(f"benchmark_all: error: {msg}", file=sys.stderr)
    sys.exit(2)


def _positive(name: str):
    def conv(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {v}: not an integer") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"{name} {v}: must be >= 1")
        return n
    return conv


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--corpus-dir", default=None,
                   help="audio for the features part (default: Emo-DB from egs/emodb/sier/db.sh, else generated)")
    p.add_argument("--max-utts", type=_positive("--max-utts"), default=60, help="files for the features part")
    p.add_argument("--extractors", nargs="+", default=benchmark_features.DEFAULT_EXTRACTORS)
    p.add_argument("--nj", nargs="+", type=_positive("--nj"), default=[1, 2])
    p.add_argument("--models", nargs="+", default=list(gpu_check.RECIPES), metavar="RECIPE",
                   help="recipes of the train part (tools/gpu_check.py RECIPES)")
    p.add_argument("--train-steps", type=_positive("--train-steps"), default=3)
    p.add_argument("--train-warmup", type=int, default=1)
    p.add_argument("--recipe-folds", default="1 2 3 4 5")
    p.add_argument("--recipe-seeds", default="0")
    p.add_argument("--recipe-max-epoch", type=_positive("--recipe-max-epoch"), default=2)
    p.add_argument("--work-dir", default=None, help="scratch dir (default: a temporary one, removed)")
    return p


def _check(args) -> None:
    """One-line errors for bad arguments, before anything runs."""
    unknown = [m for m in args.models if m not in gpu_check.RECIPES]
    if unknown:
        _fail(f"--models {' '.join(unknown)}: unknown recipe; choose from {' '.join(gpu_check.RECIPES)}")
    for name in args.extractors:
        if not (benchmark_features.CONF_DIR / f"{name}.yaml").is_file():
            have = sorted(c.stem for c in benchmark_features.CONF_DIR.glob("*.yaml"))
            _fail(f"--extractors {name}: no {benchmark_features.CONF_DIR / (name + '.yaml')} (have: {' '.join(have)})")
    if args.corpus_dir and not Path(args.corpus_dir).is_dir():
        _fail(f"--corpus-dir {args.corpus_dir}: no such directory")
    for opt, val in (("--recipe-folds", args.recipe_folds), ("--recipe-seeds", args.recipe_seeds)):
        if not val.split() or not all(v.isdigit() for v in val.split()):
            _fail(f"{opt} '{val}': give space-separated numbers, e.g. \"1 2 3\"")
    if args.train_warmup < 0:
        _fail(f"--train-warmup {args.train_warmup}: must be >= 0")


def _sh(cmd: str, cwd: Path = REPO) -> str:
    return subprocess.run(["bash", "-c", cmd], cwd=str(cwd), capture_output=True, text=True).stdout.strip()


def _load() -> str:
    return _sh("uptime").split("load average:")[-1].strip()


def _emodb() -> str:
    """Emo-DB as the recipe finds it (its db.sh), '' if absent."""
    return _sh('. ./db.sh >/dev/null 2>&1; [ -d "${EMODB:-}" ] && echo "${EMODB}"', cwd=RECIPE)


class Table:
    """Rows of the one table, printed as they come (a long run shows progress)."""

    def __init__(self) -> None:
        print("| part | item | setting | wall_s | figure | notes |\n|---|---|---|---|---|---|", flush=True)

    def row(self, part, item, setting, wall, figure, notes="") -> None:
        w = f"{wall:.1f}" if isinstance(wall, float) else wall
        print(f"| {part} | {item} | {setting} | {w} | {figure} | {notes} |", flush=True)


def part_features(args, work: Path, table: Table) -> None:
    corpus = args.corpus_dir or _emodb()
    label = f"{corpus}" if corpus else "generated Emo-DB layout (no Emo-DB found by egs/emodb/sier/db.sh)"
    root, files, data, audio_s = benchmark_features.prepare_data(
        work / "features", corpus or None, None if corpus else "emodb", args.max_utts)
    run_pl = benchmark_features.use_run_pl()
    try:
        import opensmile  # noqa: F401
        have_smile = True
    except ImportError:
        have_smile = False
    table.row("features", "(audio)", "-", "-", f"{len(files)} files, {audio_s:.0f} s",
              f"{label}; jobs via {'utils/run.pl' if run_pl else 'subprocesses'}; RTF = stage-2 wall / audio "
              "(job start-up, model loading, merge included); loop RTF = slowest job's extraction loop / its audio")
    for name in args.extractors:
        if name in OPENSMILE_EXTRACTORS and not have_smile:
            table.row("features", name, "-", "-", "skipped", "the opensmile package is not installed")
            continue
        base = None
        for nj in args.nj:
            conf = benchmark_features.CONF_DIR / f"{name}.yaml"
            try:
                wall, loop = benchmark_features.time_extractor(conf, data, work / "features", nj, len(files), run_pl)
            except RuntimeError as e:
                table.row("features", name, f"nj={nj}", "-", "FAILED", str(e))
                break
            base = base or wall
            table.row("features", name, f"nj={nj}", wall, f"RTF {wall / audio_s:.4f}",
                      f"speed-up {base / wall:.2f}; loop RTF {loop / (audio_s / nj):.4f}")


def part_train(args, table: Table) -> None:
    import torch
    import yaml

    import benchmark_train

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for recipe in args.models:
        spec = gpu_check._input_spec(recipe)
        conf = yaml.safe_load(Path(spec["conf_path"]).read_text())
        lo, hi = spec["seconds"]
        mid = (lo + hi) / 2
        frames = int(mid) if spec.get("dialogue") else max(1, int(mid / spec["shift"]))
        batch = int(conf.get("batch_size", 32))
        for dev in devices:
            setting = f"{dev}, batch {batch} x {frames} {'turns' if spec.get('dialogue') else 'frames'} x {spec['dim']}"
            try:
                ups, sec, units = benchmark_train.benchmark(spec["conf_path"], dev, batch, frames, args.train_steps,
                                                            args.train_warmup, spec["dim"])
            except Exception as e:  # a model that fails is a row, not the end of the table
                table.row("train", recipe, setting, "-", "FAILED", f"{type(e).__name__}: {e}")
                continue
            if spec.get("dialogue"):
                fig, notes = f"{ups * units:.1f} utt/s", f"{ups:.2f} dialogues/s"
            elif spec["segment"]:
                fig, notes = f"{ups:.1f} utt/s", f"{ups * units:.1f} segments/s ({units} per utterance)"
            else:
                fig, notes = f"{ups:.1f} utt/s", ""
            threads = f"{torch.get_num_threads()} thread(s)" if dev == "cpu" else torch.cuda.get_device_name()
            table.row("train", recipe, setting, sec, fig,
                      "; ".join(filter(None, [notes, f"{args.train_steps} steps after {args.train_warmup} warm-up; "
                                              f"{threads}; {Path(spec['conf_path']).relative_to(REPO)}"])))


def _has_max_parallel() -> bool:
    ser = REPO / "egs" / "TEMPLATE" / "ser1" / "ser.sh"
    return any(line.startswith("max_parallel=") for line in ser.read_text().splitlines())


def part_recipe(args, work: Path, table: Table) -> None:
    reduced = (f"reduced: folds {args.recipe_folds}, seeds {args.recipe_seeds}, --max_epoch {args.recipe_max_epoch}, "
               "both configs (baseline + main)")
    item = "emodb/sier stage 4"
    if not _has_max_parallel():
        table.row("recipe", item, "sequential vs --max_parallel 2", "-", "needs ser.sh --max_parallel", reduced)
        return
    corpus = _emodb()
    w = work / "recipe"
    w.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    what = "real Emo-DB"
    if not corpus:
        from espnet_ser.corpora.synth import generate_corpus

        corpus = str(w / "emodb_generated")
        generate_corpus("emodb", Path(corpus), seed=0)
        what = "generated Emo-DB layout (no Emo-DB found by db.sh)"
    env["EMODB"] = corpus
    common = ["./run.sh", "--datadir", str(w / "data"), "--dumpdir", str(w / "dump"),
              "--folds", args.recipe_folds, "--seeds", args.recipe_seeds]
    log = w / "stages1-3.log"
    with open(log, "w") as fh:
        rc = subprocess.call(common + ["--expdir", str(w / "exp_prep"), "--stage", "1", "--stop_stage", "3"],
                             cwd=str(RECIPE), env=env, stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        table.row("recipe", item, "stages 1-3 (preparation)", "-", "FAILED", f"see {log}")
        return
    base = None
    for mp in (1, 2):
        exp = w / f"exp_mp{mp}"
        cmd = common + ["--expdir", str(exp), "--stage", "4", "--stop_stage", "4", "--max_parallel", str(mp),
                        "--train_args", f"--max_epoch {args.recipe_max_epoch}"]
        log = w / f"stage4_mp{mp}.log"
        load = _load()
        t0 = time.perf_counter()
        with open(log, "w") as fh:
            rc = subprocess.call(cmd, cwd=str(RECIPE), env=env, stdout=fh, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        runs = len(list(exp.glob("*/seed*/fold*/train.log")))
        if rc != 0:
            table.row("recipe", item, f"--max_parallel {mp}", wall, "FAILED", f"see {log}")
            continue
        base = base or (wall if mp == 1 else None)   # speed-up over the sequential run, if it ran
        speed = f", speed-up {base / wall:.2f}" if base else ""
        table.row("recipe", item, f"--max_parallel {mp}", wall, f"{runs} runs{speed}",
                  f"{what}; {reduced}; load before {load}; `cd egs/emodb/sier && {shlex.join(cmd)}`")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    _check(args)
    os.environ["OMP_NUM_THREADS"] = "1"   # as path.sh: one thread per job, nj / --max_parallel = parallelism
    os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
               platform.processor() or "unknown")
    dirty = " (+ uncommitted changes in the working tree)" if _sh("git status --porcelain -uno") else ""
    commit = _sh("git rev-parse --short HEAD") + dirty
    print(f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; "
          f"CUDA: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")
    cmd = ["tools/benchmark_all.py", *(sys.argv[1:] if argv is None else argv)]
    print(f"commit {commit}; command: {shlex.join(cmd)}")
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench_all_"))
    work.mkdir(parents=True, exist_ok=True)
    table = None
    try:
        for part in PARTS:
            if part not in args.parts:
                continue
            if table is None:
                table = Table()
            table.row(part, "(load average)", "-", "-", _load(), f"before the {part} part; {time.strftime('%H:%M:%S')}")
            if part == "features":
                part_features(args, work, table)
            elif part == "train":
                part_train(args, table)
            else:
                part_recipe(args, work, table)
        table.row("end", "(load average)", "-", "-", _load(), time.strftime("%H:%M:%S"))
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
