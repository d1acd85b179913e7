#!/usr/bin/env python3
"""One training epoch of each recipe's model on generated data: throughput, memory, loader wait.

Run through ``tools/gpu_check.sh`` (same options).  Per recipe it takes the
recipe's default training config (``run.sh --train_config``, else ser.sh's
``conf/train.yaml``) and the feature dimension of the recipe's ``--feats_conf``
(the extractor's ``output_dim``; dialogue models: the config's
``encoder_conf.modality_dims``), writes random features of that shape
(utterance lengths drawn from the corpus's typical durations at the extractor's
frame shift), label files and a ``global_mvn`` statistics file where the recipe
normalises globally, and trains ONE epoch with the real trainer
(``python -m espnet_ser.bin.ser_train``: ESPnet's ``Trainer``, ``--max_epoch 1``)
with ESPnet's ``--use_amp`` off and, on CUDA, on.

Printed per model and AMP setting (one line each):

* ``utt/s``: training utterances per second of the epoch's training loop
  (dialogue models: turns); ``seg/s``: segments per second for segment models
  (``input_adapter: segment``, e.g. ADARL's 3-s segments, Gao et al.'s 32-frame ones);
* ``peak_mem``: ``torch.cuda.max_memory_allocated()`` over the epoch on CUDA,
  the process's peak RSS on CPU (``ru_maxrss``: includes Python, torch and the data);
* ``wait``: data-loader wait fraction = sum of ESPnet's ``iter_time`` (time spent
  waiting for the next batch) / sum of its ``train_time`` (whole step time);
* ``epoch_s`` and ``steps``: the training loop's wall time and its batches.

Without CUDA it runs the CPU part (AMP off; ``--quick`` by default: few
utterances) and prints what it skipped.  Each (model, AMP) run is its own
process (peak RSS is per process); logs under ``--work-dir``.

Usage::

    tools/gpu_check.sh                       # every recipe; GPU: full sizes, AMP off and on
    tools/gpu_check.sh --models emodb/sier emodb/adarl --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]

#: recipe -> the run.sh defaults that fix the model and its input: ``config``
#: (the recipe's --train_config), ``feats`` (its --feats_conf), ``norm`` (its
#: --norm; global -> global_mvn in the model), ``seconds`` (typical utterance
#: durations of the corpus; dialogue models: turns per dialogue) and
#: ``dialogue`` (one example = one dialogue of utterance vectors).
RECIPES: Dict[str, Dict] = {
    "mini_ser/ser1": dict(config="conf/train_adv_speaker.yaml", feats="conf/feats/fbank.yaml",
                          norm="global", seconds=(1.5, 4.0)),
    "emodb/sier": dict(config="conf/train.yaml", feats="conf/feats/mfcc.yaml",
                       norm="speaker", seconds=(1.2, 6.0)),
    "ravdess/sier": dict(config="conf/train.yaml", feats="conf/feats/mfcc.yaml",
                         norm="speaker", seconds=(2.0, 4.0)),
    "cross_corpus/dann": dict(config="conf/tuning/train_cnn_blstm_center.yaml",
                              feats="conf/feats/logspec.yaml", norm="global", seconds=(1.5, 4.0)),
    "iemocap/dann": dict(config="conf/train.yaml", feats="conf/feats/compare_2016.yaml",
                         norm="global", seconds=(20, 80), dialogue=True),
    "iemocap/adarl": dict(config="conf/train.yaml", feats="conf/feats/multiwin_logspec.yaml",
                          norm="global", seconds=(1.0, 12.0)),
    "emodb/adarl": dict(config="conf/tuning/train_adarl_cpu.yaml",
                        feats="conf/feats/multiwin_logspec.yaml", norm="global", seconds=(1.2, 6.0)),
}
#: Utterances (dialogues) in the generated train / dev sets.
SIZES = {"full": (512, 64), "quick": (12, 4)}
#: --quick also caps utterance durations (s): a smoke run, not the corpus's shapes.
QUICK_MAX_SECONDS = 4.0
DIALOGUE_SIZES = {"full": (96, 16), "quick": (4, 2)}
#: Classes per label stream (the emotion target and the domain heads' streams).
N_CLASSES = {"emotion": 4, "speaker": 10, "gender": 2, "corpus": 3, "lang": 3, "session": 5,
             "arousal": 2, "valence": 2, "dialog": 8}
RESULT_TAG = "GPU_CHECK_RESULT "


def _fail(msg: str) -> None:
    print(f"gpu_check: error: {msg}", file=sys.stderr)
    sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpu_check.sh", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(RECIPES), metavar="RECIPE",
                   help=f"recipes (default: all): {' '.join(RECIPES)}")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="size", action="store_const", const="quick",
                      help=f"{SIZES['quick'][0]} training utterances of at most {QUICK_MAX_SECONDS:g} s "
                      f"({DIALOGUE_SIZES['quick'][0]} dialogues) per model (default without CUDA)")
    size.add_argument("--full", dest="size", action="store_const", const="full",
                      help=f"{SIZES['full'][0]} training utterances ({DIALOGUE_SIZES['full'][0]} dialogues) "
                      "per model (default with CUDA)")
    p.add_argument("--amp", nargs="+", choices=["off", "on"], default=None,
                   help="AMP settings to run (default: off on with CUDA, off without)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto: cuda when torch sees one, else cpu")
    p.add_argument("--work-dir", default=None, help="generated data and logs (default: a temporary dir, removed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    return p


# --------------------------------------------------------------------------- data


def _input_spec(recipe: str) -> Dict:
    """Feature dimension, frame shift and label streams of a recipe's model."""
    import yaml

    from espnet_ser.features import build_extractor, load_feats_conf

    spec = dict(RECIPES[recipe])
    rdir = REPO / "egs" / recipe
    conf_path = rdir / spec["config"]
    if not conf_path.is_file():
        _fail(f"{conf_path}: not found (gpu_check.py RECIPES names it as {recipe}'s training config)")
    conf = yaml.safe_load(conf_path.read_text(encoding="utf-8")) or {}
    if spec.get("dialogue"):
        dims = (conf.get("encoder_conf") or {}).get("modality_dims")
        if not dims:
            _fail(f"{conf_path}: a dialogue model needs encoder_conf.modality_dims")
        dim, shift = int(sum(dims)), None
    else:
        name, fconf = load_feats_conf(rdir / spec["feats"])
        ext = build_extractor(name, fconf)
        dim, shift = int(ext.output_dim), ext.frame_shift
        if conf.get("input_size") and int(conf["input_size"]) != dim:
            _fail(f"{conf_path}: input_size {conf['input_size']} != {spec['feats']} output_dim {dim}")
    names = ["emotion"]
    for head in conf.get("domain_heads") or []:
        n = head.get("data_name") or head["name"]
        if n not in names:
            names.append(n)
    adapter = conf.get("input_adapter")
    spec.update(conf_path=str(conf_path), dim=dim, shift=shift, names=names,
                segment=adapter == "segment", adapter_conf=conf.get("input_adapter_conf") or {})
    return spec


def _write_set(out: Path, spec: Dict, n: int, rng, utt_prefix: str) -> Dict:
    """Random features + shape + label files of one set; returns counts."""
    import numpy as np

    from espnet_ser.features.ark_io import ArkWriter

    out.mkdir(parents=True, exist_ok=True)
    lo, hi = spec["seconds"]
    if spec.get("quick") and not spec.get("dialogue"):
        hi = min(hi, QUICK_MAX_SECONDS)
    lengths = {}
    labels: Dict[str, Dict[str, str]] = {name: {} for name in spec["names"]}
    with ArkWriter(out / "feats.ark", out / "feats.scp") as w:
        for i in range(n):
            utt = f"{utt_prefix}{i:05d}"
            if spec["shift"] is None and spec.get("dialogue"):
                T = int(rng.integers(lo, hi + 1))            # turns of the dialogue
            elif spec["shift"] is None:
                T = 1                                        # functionals
            else:
                T = max(1, int(rng.uniform(lo, hi) / spec["shift"]))
            w[utt] = rng.standard_normal((T, spec["dim"])).astype(np.float32)
            lengths[utt] = T
            k = T if spec.get("dialogue") else 1
            for name in spec["names"]:
                labels[name][utt] = " ".join(str(int(v)) for v in rng.integers(0, N_CLASSES.get(name, 4), k))
    (out / "speech_shape").write_text("".join(f"{u} {t},{spec['dim']}\n" for u, t in lengths.items()))
    for name, table in labels.items():
        (out / f"{name}.int").write_text("".join(f"{u} {v}\n" for u, v in table.items()))
    return lengths


def _make_data(work: Path, recipe: str, size: str, seed: int) -> Dict:
    """Generate train/dev sets, inventories and global_mvn stats; return the run description."""
    import numpy as np

    spec = _input_spec(recipe)
    spec["quick"] = size == "quick"
    rng = np.random.default_rng(seed)
    n_train, n_dev = (DIALOGUE_SIZES if spec.get("dialogue") else SIZES)[size]
    d = work / recipe.replace("/", "_")
    if d.exists():
        shutil.rmtree(d)
    train = _write_set(d / "train", spec, n_train, rng, "tr")
    _write_set(d / "dev", spec, n_dev, rng, "dv")
    for name in spec["names"]:
        from espnet_ser.labels import inventory_name

        (d / inventory_name(name)).write_text("".join(f"{name}{i}\n" for i in range(N_CLASSES.get(name, 4))))
    frames = sum(train.values())
    if spec["norm"] == "global":
        # ESPnet's global_mvn statistics of standard-normal data.
        np.savez(d / "stats.npz", count=np.array(frames), sum=np.zeros(spec["dim"]),
                 sum_square=np.full(spec["dim"], float(frames)))
    units = n_train
    if spec["segment"]:
        from espnet_ser.adapters.segment_adapter import SegmentAdapter

        ad = SegmentAdapter(**spec["adapter_conf"])
        units = sum(len(ad.segment_bounds(t)) for t in train.values())
    utts = frames if spec.get("dialogue") else n_train
    return dict(recipe=recipe, dir=str(d), conf=spec["conf_path"], names=spec["names"], norm=spec["norm"],
                n_train=n_train, utts=utts, units=units, segment=spec["segment"],
                dialogue=bool(spec.get("dialogue")), dim=spec["dim"])


# --------------------------------------------------------------------------- one run (child)


def _train_args(run: Dict, out: Path, ngpu: int, amp: bool, seed: int) -> List[str]:
    d = Path(run["dir"])
    args = ["--config", run["conf"], "--emotion_list", str(d / "emotions.txt"), "--output_dir", str(out),
            "--max_epoch", "1", "--ngpu", str(ngpu), "--use_amp", str(amp).lower(), "--seed", str(seed),
            "--keep_nbest_models", "1", "--use_matplotlib", "false", "--num_att_plot", "0"]
    if run["norm"] == "global":
        args += ["--normalize", "global_mvn", "--normalize_conf", f"stats_file={d / 'stats.npz'}"]
    for mode, s in (("train", d / "train"), ("valid", d / "dev")):
        args += [f"--{mode}_data_path_and_name_and_type", f"{s}/feats.scp,speech,kaldi_ark",
                 f"--{mode}_shape_file", f"{s}/speech_shape"]
        for name in run["names"]:
            args += [f"--{mode}_data_path_and_name_and_type", f"{s}/{name}.int,{name},text_int"]
    return args


def _run_one(spec_path: str) -> int:
    """Child: train one epoch, measure, write the result JSON next to the spec."""
    import torch

    from espnet_ser.bin import ser_train
    from espnet_ser.tasks.ser_trainer import SERTrainer

    job = json.loads(Path(spec_path).read_text())
    run, cuda, amp = job["run"], job["device"] == "cuda", job["amp"]
    rec: Dict = {}
    orig = SERTrainer.train_one_epoch.__func__

    def timed(cls, model, iterator, optimizers, schedulers, scaler, reporter, *a, **k):
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        ret = orig(cls, model, iterator, optimizers, schedulers, scaler, reporter, *a, **k)
        if cuda:
            torch.cuda.synchronize()
        rec["seconds"] = time.perf_counter() - t0

        def total(key):
            vals = [float(getattr(v, "value", v)) for v in reporter.stats.get(key, [])]
            vals = [v for v in vals if not math.isnan(v)]   # the epoch-metrics step: NaN
            return sum(vals), len(vals)

        rec["iter_time"], rec["steps"] = total("iter_time")
        rec["train_time"], _ = total("train_time")
        if cuda:
            rec["peak_mem_mib"] = torch.cuda.max_memory_allocated() / 2**20
        return ret

    SERTrainer.train_one_epoch = classmethod(timed)
    ser_train.main(_train_args(run, Path(job["out"]), 1 if cuda else 0, amp, job["seed"]))
    if not cuda:
        rec["peak_mem_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cuda:
        rec["gpu"] = torch.cuda.get_device_name()
    Path(job["result"]).write_text(json.dumps(rec))
    return 0


# --------------------------------------------------------------------------- driver


def _fmt_row(cols) -> str:
    widths = (18, 6, 4, 9, 9, 18, 6, 8, 6)
    return " ".join(f"{str(c):<{w}}" if i < 3 else f"{str(c):>{w}}" for i, (c, w) in enumerate(zip(cols, widths)))


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.run_one:
        return _run_one(args.run_one)
    unknown = [m for m in args.models if m not in RECIPES]
    if unknown:
        _fail(f"--models {' '.join(unknown)}: unknown recipe; choose from {' '.join(RECIPES)}")
    import torch

    has_cuda = torch.cuda.is_available()
    device = ("cuda" if has_cuda else "cpu") if args.device == "auto" else args.device
    if device == "cuda" and not has_cuda:
        _fail("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False)")
    size = args.size or ("full" if device == "cuda" else "quick")
    amps = args.amp or (["off", "on"] if device == "cuda" else ["off"])
    skipped = []
    if device == "cpu" and "on" in amps:
        amps = [a for a in amps if a != "on"]
        skipped.append("AMP on (ESPnet's --use_amp is CUDA autocast; no CUDA here)")
    if device == "cpu" and not amps:
        _fail("--amp on: nothing to run on CPU (AMP needs CUDA)")
    if device == "cpu":
        skipped.append("every GPU run (" + ("torch sees no CUDA device" if not has_cuda else "--device cpu")
                       + "): peak GPU memory and AMP on are not measured")
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")   # what path.sh sets for recipes
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    name = torch.cuda.get_device_name() if device == "cuda" else \
        f"CPU, {os.cpu_count()} cores, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}"
    print(f"gpu_check: device {device} ({name}); size {size}; AMP {' '.join(amps)}; one epoch per run; "
          f"work dir {work}")
    mem_col = "peak_GPU_MiB" if device == "cuda" else "peak_RSS_MiB"
    print(_fmt_row(["model", "device", "amp", "utt/s", "seg/s", mem_col, "wait", "epoch_s", "steps"]))
    failed = 0
    try:
        for recipe in args.models:
            run = _make_data(work, recipe, size, args.seed)
            for amp in amps:
                tag = f"{recipe.replace('/', '_')}_{device}_amp{amp}"
                job = dict(run=run, device=device, amp=amp == "on", seed=args.seed,
                           out=str(work / "exp" / tag), result=str(work / f"{tag}.json"))
                job_path = work / f"{tag}.job.json"
                job_path.write_text(json.dumps(job))
                log = work / f"{tag}.log"
                with open(log, "w") as fh:
                    rc = subprocess.call([sys.executable, str(Path(__file__).resolve()), "--run-one", str(job_path)],
                                         stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
                res = Path(job["result"])
                if rc != 0 or not res.is_file():
                    failed += 1
                    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(empty log)"]
                    print(f"{recipe:<18} {device:<6} {amp:<4} FAILED (rc {rc}): {tail[0]} (log: {log})", flush=True)
                    continue
                r = json.loads(res.read_text())
                s = r["seconds"]
                seg = f"{run['units'] / s:.1f}" if run["segment"] else "-"
                wait = r["iter_time"] / r["train_time"] if r["train_time"] > 0 else float("nan")
                print(_fmt_row([recipe, device, amp, f"{run['utts'] / s:.1f}", seg, f"{r['peak_mem_mib']:.0f}",
                                f"{wait:.3f}", f"{s:.2f}", r["steps"]]), flush=True)
        print("utt/s: training utterances (dialogue models: turns) per second of the epoch's training loop; "
              "wait = data-loader wait / step time (ESPnet's iter_time / train_time)")
        print("skipped: " + ("; ".join(skipped) if skipped else "nothing"))
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"gpu_check: {failed} run(s) FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
