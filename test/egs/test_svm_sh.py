"""svm.sh stage 5: the folds run as one JOB=1:N array through ${train_cmd}, one log per
fold, the time per fold printed; --folds picks the folds; a bad --job is one line.

Runs on hand-written folds and synthetic (1, D) functionals (no audio, seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from espnet_ser.features.ark_io import ArkWriter

REPO = Path(__file__).resolve().parents[2]
EMOS = ["ang", "hap", "neu", "sad"]


def _table(path: Path, table: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {table[k]}\n" for k in sorted(table)))


@pytest.fixture
def recipe(tmp_path):
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "downloads", "RESULTS.md")
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", tmp_path / "egs" / "TEMPLATE" / "ser1",
                    symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "utils", tmp_path / "utils", symlinks=True)
    recipe = tmp_path / "egs" / "emodb" / "sier"
    shutil.copytree(REPO / "egs" / "emodb" / "sier", recipe, symlinks=True, ignore=ignore)
    rng = np.random.default_rng(0)
    means = rng.normal(size=(len(EMOS), 16))
    spks = [f"s{i}" for i in range(6)]
    utt2spk, utt2emo = {}, {}
    with ArkWriter(recipe / "dump/compare_2016/all/feats.ark", recipe / "dump/compare_2016/all/feats.scp") as w:
        for s in spks:
            off = rng.normal(0, 3, 16)
            for c, e in enumerate(EMOS):
                for k in range(4):
                    utt = f"{s}-{e}{k}"
                    w[utt] = (off + means[c] + rng.normal(0, 0.3, 16))[None].astype(np.float32)
                    utt2spk[utt], utt2emo[utt] = s, e
    root = recipe / "data" / "folds" / "p"
    for k, (dev, test) in enumerate([("s4", "s5"), ("s0", "s1")], 1):
        for name, keep in (("train", set(spks) - {dev, test}), ("dev", {dev}), ("test", {test})):
            sub = {u: s for u, s in utt2spk.items() if s in keep}
            _table(root / f"fold{k}" / name / "utt2spk", sub)
            _table(root / f"fold{k}" / name / "utt2emo", {u: utt2emo[u] for u in sub})
    (root / "protocol.json").write_text(json.dumps({"protocol": "p", "n_folds": 2}))
    return recipe


def _run(recipe, *args):
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    return subprocess.run(["./svm.sh", "--protocol", "p", *args], cwd=recipe, capture_output=True,
                          text=True, env=env, timeout=300)


def test_folds_are_one_job_array(recipe):
    res = _run(recipe, "--stage", "5", "--stop_stage", "6")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    exp = recipe / "exp" / "svm_compare_2016_speaker"
    assert sorted(p.name for p in (exp / "log").glob("svm.*.log")) == ["svm.1.log", "svm.2.log"]
    assert "2 folds of data/folds/p as jobs" in res.stdout
    line = [ln for ln in res.stdout.splitlines() if "seconds per fold:" in ln]
    assert line and line[0].split("seconds per fold: ")[1].split()[::2] == ["fold1", "fold2"]
    for k in (1, 2):
        svm = json.loads((exp / f"fold{k}" / "decode_test" / "svm.json").read_text())
        assert svm["solver"] == "linearsvc" and svm["seconds"] > 0
        assert (exp / f"fold{k}" / "decode_test" / "results.json").is_file()
        # Softmax posteriors of dev too (late fusion, espnet_ser.bin.fuse, chooses weights on them).
        dev = (exp / f"fold{k}" / "decode_dev" / "posteriors").read_text().splitlines()
        assert len(dev) == 16 and 0 < float(dev[0].split()[1]) < 1
        assert "fold" + str(k) in (exp / "log" / f"svm.{k}.log").read_text()


def test_folds_option_and_bad_job(recipe):
    res = _run(recipe, "--stage", "5", "--stop_stage", "5", "--folds", "2", "--solver", "sgd")
    assert res.returncode == 0, res.stderr[-2000:]
    exp = recipe / "exp" / "svm_compare_2016_speaker"
    assert (exp / "fold2" / "decode_test" / "posteriors").is_file() and not (exp / "fold1").exists()
    assert json.loads((exp / "fold2" / "decode_test" / "svm.json").read_text())["solver"] == "sgd"
    res = _run(recipe, "--stage", "5", "--stop_stage", "5", "--job", "3")
    assert res.returncode == 1
    assert res.stderr.strip() == "./svm.sh: --job 3: must be in 1..2 (the folds: fold1 fold2 )"
    res = _run(recipe, "--stage", "6", "--stop_stage", "5")
    assert res.returncode == 1 and "--stage 6 is after --stop_stage 5" in res.stderr
