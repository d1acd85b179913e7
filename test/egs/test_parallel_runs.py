"""Stages 4-6 of ser.sh as job arrays: the (fold, seed) runs in parallel give the sequential results.

ser.sh submits all the runs of a stage as ONE ``JOB=1:N`` array (``utils/run_list.sh``
runs line JOB of ``exp/<tag>/log/<stage>.list``). Here 2 folds x 2 seeds go through
stages 4-6 with run.pl once with ``--max_parallel 1`` (the sequential order) and once with
``--max_parallel 2``: every run's ``results.json`` and posteriors are byte-identical, and
the training runs did overlap in time in the parallel case only. On the local Slurm
(``slurm_cluster``; skips where it is absent) stage 4 is one submission: one ``sbatch
--array=1-4%2`` call, and ``squeue`` shows the runs as tasks of one array job.

Stage 4 reads stage 3's outputs, written here directly (random features whose mean
depends on the class), so no audio is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.features.ark_io import ArkWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
from fault_utils import copy_recipe, env, tail, write_tables  # noqa: E402

EMOS = ["ang", "hap", "neu", "sad"]
D = 20
FOLDS, SEEDS = (1, 2), (0, 1)
TINY = {
    "input_adapter": "identity", "encoder": "conv1d",
    "encoder_conf": {"channels": [32, 32], "kernel_sizes": [5, 3], "strides": [1, 1],
                     "dropout": 0.1},
    "pooling": "stats", "classifier": "mlp",
    "classifier_conf": {"hidden_sizes": [32], "batch_norm": True, "dropout": 0.2},
    "model_conf": {"embedding_size": 32}, "domain_heads": [],
    "optim": "adam", "optim_conf": {"lr": 0.003}, "max_epoch": 2,
    "batch_type": "folded", "fold_length": [800], "batch_size": 8, "shuffle_within_batch": True,
    "num_workers": 0, "grad_clip": 5.0, "best_model_criterion": [["valid", "ua", "max"]],
    "keep_nbest_models": 1, "num_att_plot": 0, "use_matplotlib": False,
}


def _fold(recipe: Path, k: int) -> None:
    """Fold k of protocol 'p': the data dirs and stage 3's outputs (--norm none)."""
    rng = np.random.default_rng(k)
    dump = recipe / "dump" / "fbank_none" / "p" / f"fold{k}"
    for name, n_per_class, spks in (("train", 10, "abc"), ("dev", 3, "d"), ("test", 3, "e")):
        d = dump / name
        d.mkdir(parents=True)
        frames, emo, utt2spk = {}, {}, {}
        with ArkWriter(d / "feats.ark", d / "feats.scp") as w:
            for c, e in enumerate(EMOS):
                for i in range(n_per_class):
                    utt = f"{spks[i % len(spks)]}-{e}{i:03d}"
                    x = rng.normal(size=(int(rng.integers(30, 60)), D)).astype(np.float32) + 0.3 * c
                    w[utt] = x
                    frames[utt], emo[utt], utt2spk[utt] = x.shape[0], e, utt.split("-")[0]
        write_tables(d, {"utt2num_frames": frames,
                         "emotion.int": {u: EMOS.index(e) for u, e in emo.items()}})
        make_shape_file(d)
        spk2utt: dict = {}
        for u in sorted(utt2spk):
            spk2utt.setdefault(utt2spk[u], []).append(u)
        write_tables(recipe / "data" / "folds" / "p" / f"fold{k}" / name,
                     {"wav.scp": {u: "/dev/null" for u in utt2spk}, "utt2spk": utt2spk,
                      "spk2utt": {s: " ".join(us) for s, us in spk2utt.items()}, "utt2emo": emo})
    (dump / "labels").mkdir()
    (dump / "labels" / "emotions.txt").write_text("".join(e + "\n" for e in EMOS))
    (dump / "norm.json").write_text(json.dumps({"mode": "none"}) + "\n")


@pytest.fixture
def recipe(tmp_path):
    recipe = copy_recipe(tmp_path)
    for k in FOLDS:
        _fold(recipe, k)
    (recipe / "conf" / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    return recipe


def _ser(tag: str, max_parallel: int, stop_stage: int = 6) -> list:
    return ["./ser.sh", "--stage", "4", "--stop_stage", str(stop_stage), "--protocol", "p",
            "--folds", " ".join(map(str, FOLDS)), "--seeds", " ".join(map(str, SEEDS)),
            "--norm", "none", "--feats_conf", "conf/feats/fbank.yaml", "--label_names", "emotion",
            "--probe_sets", "test", "--train_config", "conf/tiny.yaml", "--tag", tag,
            "--max_parallel", str(max_parallel)]


def _run(args, cwd: Path, timeout: float = 900, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=env(**extra), timeout=timeout)


def _runs(recipe: Path, tag: str) -> list:
    """Run dirs in the sequential order (fold, then seed)."""
    return [recipe / "exp" / tag / f"seed{s}" / f"fold{k}" for k in FOLDS for s in SEEDS]


def _span(log: Path) -> tuple:
    """(start, end) in seconds of a run from run.pl's '# Started at' / '# Ended' markers."""
    lines = log.read_text().splitlines()
    start = [ln for ln in lines if ln.startswith("# Started at ")][0][len("# Started at "):]
    end = [ln for ln in lines if ln.startswith("# Ended (code 0) at ")][-1][len("# Ended (code 0) at "):]
    fmt = "%a %b %d %H:%M:%S %Y"
    return time.mktime(time.strptime(start, fmt)), time.mktime(time.strptime(end, fmt))


@pytest.mark.slow
def test_parallel_runs_give_the_sequential_results(recipe):
    for tag, m in (("seq", 1), ("par", 2)):
        res = _run(_ser(tag, m), recipe)
        assert res.returncode == 0, tail(res)
        # One array per stage, one line per run in the sequential order.
        listed = [ln.split()[0] for ln in (recipe / "exp" / tag / "log" / "train.list").read_text().splitlines()]
        assert listed == [f"exp/{tag}/seed{s}/fold{k}/train.log" for k in FOLDS for s in SEEDS]
        assert f"4 run(s) of exp/{tag}/log/train.list as one job array (run.pl --gpu 1 --gpu 0 " \
               f"--num-threads 1, {m} at once)" in res.stdout, tail(res)
        assert f"4 run(s) of exp/{tag}/log/score.list as one job array (run.pl, {m} at once)" \
            in res.stdout, tail(res)
        assert res.stdout.count("scored 12 utterances") == 4, tail(res)
        spans = sorted(_span(d / "train.log") for d in _runs(recipe, tag))
        overlaps = any(b[0] < a[1] for a, b in zip(spans, spans[1:]))
        assert overlaps == (m > 1), (tag, spans)
    for seq, par in zip(_runs(recipe, "seq"), _runs(recipe, "par")):
        for name in ("decode_test/results.json", "decode_test/posteriors", "decode_test/per_utt"):
            assert (seq / name).read_bytes() == (par / name).read_bytes(), (seq, name)
        assert "threads=1" in (par / "train.log").read_text()
    # Different seeds and folds did give different models (the comparison can fail).
    posts = {(seq / "decode_test" / "posteriors").read_bytes() for seq in _runs(recipe, "seq")}
    assert len(posts) == 4


def test_bad_max_parallel_is_one_line(recipe):
    res = _run([*_ser("t", 1)[:-1], "0"], recipe, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == \
        './ser.sh: --max_parallel 0: must be a positive integer (or "": the default)', tail(res)
    res = _run([*_ser("t", 1), "--train_threads", "x"], recipe, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == \
        "./ser.sh: --train_threads x: must be a positive integer", tail(res)
    res = _run([*_ser("t", 1), "--fusion_weights", "best"], recipe, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == \
        "./ser.sh: --fusion_weights best: must be equal (plain average) or dev (chosen per fold on dev UA)", tail(res)


@pytest.mark.slow
@pytest.mark.cluster
def test_stage4_is_one_slurm_array(recipe, slurm_cluster, cluster_confs, tmp_path):
    (recipe / "conf" / "cluster.conf").write_text(cluster_confs["slurm.pl"])
    (recipe / "cmd.sh").write_text("".join(f'export {c}="slurm.pl --config conf/cluster.conf"\n'
                                           for c in ("train_cmd", "cuda_cmd", "decode_cmd")))
    # Every sbatch call is recorded, then made.
    wrap = tmp_path / "wrap"
    wrap.mkdir()
    calls = tmp_path / "sbatch_calls"
    (wrap / "sbatch").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {shutil.which("sbatch")} "$@"\n')
    (wrap / "sbatch").chmod(0o755)
    path = os.pathsep.join([str(wrap), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    seen, done = set(), threading.Event()

    def watch():   # the tasks squeue shows: (array job id, array task id) of job "train" here
        while not done.is_set():
            out = subprocess.run(["squeue", "-h", "-r", "-n", "train", "-o", "%F|%K|%Z"],
                                 capture_output=True, text=True).stdout
            seen.update(tuple(ln.split("|")[:2]) for ln in out.splitlines()
                        if ln.endswith(f"|{recipe}"))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        res = _run(_ser("slurm", 2, stop_stage=4), recipe, PATH=path)
    finally:
        done.set()
        watcher.join(timeout=10)
    assert res.returncode == 0, tail(res)
    submitted = [ln for ln in calls.read_text().splitlines() if "--job-name=train" in ln]
    assert len(submitted) == 1 and "--array=1-4%2" in submitted[0].split(), calls.read_text()
    assert len({job for job, _ in seen}) == 1, seen          # one array job ...
    assert len({task for _, task in seen}) >= 2, seen         # ... whose tasks squeue listed
    assert {task for _, task in seen} <= {"1", "2", "3", "4"}, seen
    for d in _runs(recipe, "slurm"):
        assert (d / "valid.ua.best.pth").exists(), d
        assert "# Ended (code 0)" in (d / "train.log").read_text()
