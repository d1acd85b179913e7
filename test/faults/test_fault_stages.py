"""Fault matrix, stage rows run through ``ser.sh`` in a copy of the demo recipe.

* ``kill -9`` of stage 2 mid-extraction, then a rerun of the stage: completes, and the
  archive holds the same matrices as an uninterrupted run;
* ``kill -9`` of stage 4 mid-epoch, then the stage again (``--resume true``, its default):
  the same final checkpoint statistics and weights as an uninterrupted run (same seed);
* a NaN loss, and a training config key that does not exist: stage 4 (one job array) stops,
  naming the run's ``train.log``, whose last line is the one-line error;
* a full disk while stage 2 writes an ark (a 64 KiB tmpfs where ``mount`` works, as
  root, and everywhere ``OSError(ENOSPC)`` injected into the writer): one line naming
  the file and ``--dumpdir``.

Stage 4 reads stage 3's outputs, written here directly (random features whose mean
depends on the class), so these rows need no audio.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.eval.plots import parse_train_log
from espnet_ser.features.ark_io import ArkWriter, load_scp

from fault_utils import copy_recipe, data_dir, env, run, tail, write_wav

EMOS = ["ang", "hap", "neu", "sad"]
D = 20
TINY = {
    "input_adapter": "identity", "encoder": "conv1d",
    "encoder_conf": {"channels": [48, 48], "kernel_sizes": [5, 3], "strides": [1, 1],
                     "dropout": 0.1},
    "pooling": "stats", "classifier": "mlp",
    "classifier_conf": {"hidden_sizes": [32], "batch_norm": True, "dropout": 0.2},
    "model_conf": {"embedding_size": 32}, "domain_heads": [],
    "optim": "adam", "optim_conf": {"lr": 0.003}, "max_epoch": 3,
    "batch_type": "folded", "fold_length": [800], "batch_size": 8, "shuffle_within_batch": True,
    "num_workers": 0, "grad_clip": 5.0, "best_model_criterion": [["valid", "ua", "max"]],
    "keep_nbest_models": 1, "num_att_plot": 0, "use_matplotlib": False,
}


def _stage3_set(d: Path, n_per_class: int, seed: int, nan_utt=None) -> None:
    rng = np.random.default_rng(seed)
    frames, emo = {}, {}
    with ArkWriter(d / "feats.ark", d / "feats.scp") as w:
        for c in range(len(EMOS)):
            for i in range(n_per_class):
                utt = f"s{i % 3}-{EMOS[c]}{i:03d}"
                x = rng.normal(size=(int(rng.integers(40, 80)), D)).astype(np.float32) + 0.3 * c
                if utt == nan_utt:
                    x[3, 2] = np.nan
                w[utt] = x
                frames[utt], emo[utt] = x.shape[0], c
    for name, table in (("utt2num_frames", frames), ("emotion.int", emo)):
        (d / name).write_text("".join(f"{k} {table[k]}\n" for k in sorted(table)))
    make_shape_file(d)


@pytest.fixture
def recipe(tmp_path):
    """The demo recipe with stage 3's outputs of protocol 'p', fold 1, --norm none."""
    recipe = copy_recipe(tmp_path)
    dump = recipe / "dump" / "fbank_none" / "p" / "fold1"
    for name, n, seed in (("train", 60, 0), ("dev", 10, 1)):
        _stage3_set(dump / name, n, seed)
    (dump / "labels").mkdir()
    (dump / "labels" / "emotions.txt").write_text("".join(e + "\n" for e in EMOS))
    (dump / "norm.json").write_text(json.dumps({"mode": "none"}) + "\n")
    (recipe / "conf" / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    return recipe


def _stage4(tag: str, config: str = "conf/tiny.yaml") -> list:
    return ["./ser.sh", "--stage", "4", "--stop_stage", "4", "--protocol", "p", "--folds", "1",
            "--seeds", "0", "--norm", "none", "--feats_conf", "conf/feats/fbank.yaml",
            "--label_names", "emotion", "--train_config", config, "--tag", tag]


def _kill_when(cmd, cwd: Path, ready, timeout: float = 240) -> None:
    """Start ``cmd`` in its own process group; SIGKILL the whole group once ``ready()``."""
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + timeout
        while not ready():
            assert proc.poll() is None, f"{cmd} finished before it could be killed"
            assert time.time() < end, f"{cmd}: not ready within {timeout} s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _epoch_stats(ckpt: Path) -> dict:
    """Per epoch: train/valid loss, acc, wa, ua of the reporter in ESPnet's checkpoint."""
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["reporter"]
    keys = ("loss", "acc", "wa", "ua")
    return {ep: {mode: {k: round(float(v), 6) for k, v in stats[mode].items() if k in keys}
                 for mode in ("train", "valid")}
            for ep, stats in state["stats"].items()}


@pytest.mark.slow
def test_kill_stage4_mid_epoch_then_resume(recipe):
    ok = run(_stage4("straight"), recipe, timeout=600)
    assert ok.returncode == 0, tail(ok)
    d = recipe / "exp" / "killed" / "seed0" / "fold1"
    log = d / "train.log"
    _kill_when(_stage4("killed"), recipe,
               lambda: log.is_file() and "2/3epoch started" in log.read_text(errors="replace"))
    assert (d / "1epoch.pth").is_file() and not (d / "2epoch.pth").exists()  # killed in epoch 2
    res = run(_stage4("killed"), recipe, timeout=600)
    assert res.returncode == 0, tail(res)
    assert "2/3epoch started" in log.read_text()                  # resumed at epoch 2 ...
    assert "1/3epoch started" not in log.read_text()              # ... not from scratch
    assert "1/3epoch started" in (d / "train.log.1").read_text()   # the killed part's log is kept
    assert [e["epoch"]["epoch"] for e in parse_train_log(log)] == [1.0, 2.0, 3.0]  # curves whole
    a = _epoch_stats(recipe / "exp" / "straight" / "seed0" / "fold1" / "checkpoint.pth")
    b = _epoch_stats(d / "checkpoint.pth")
    assert sorted(a) == [1, 2, 3] and a == b
    wa = torch.load(recipe / "exp" / "straight" / "seed0" / "fold1" / "valid.ua.best.pth",
                    map_location="cpu", weights_only=True)
    wb = torch.load(d / "valid.ua.best.pth", map_location="cpu", weights_only=True)
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=1e-6)


def _last_line(path: Path) -> str:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")][-1]


@pytest.mark.parametrize("row", ["nan loss", "config key that does not exist"])
def test_stage4_stops_naming_the_log(row, recipe):
    config = "conf/tiny.yaml"
    if row == "nan loss":
        _stage3_set(recipe / "dump" / "fbank_none" / "p" / "fold1" / "train", 60, 0,
                    nan_utt="s0-hap003")
    else:
        (recipe / "conf" / "bad.yaml").write_text(yaml.safe_dump(dict(TINY, max_epochs=3)))
        config = "conf/bad.yaml"
    res = run(_stage4("t", config), recipe, timeout=600)
    assert res.returncode == 1, tail(res)
    log = recipe / "exp" / "t" / "seed0" / "fold1" / "train.log"
    # Stage 4 is one job array (exp/t/log/train.JOB.log, one task per run): the runner names
    # the task's log, then ser.sh the run's own log, which ends with the error.
    err = res.stderr.strip().splitlines()
    assert err[-2].startswith("run.pl: 1 / 1 failed, log is in exp/t/log/train.1.log"), tail(res)
    assert err[-1] == (f"./ser.sh: Stage 4: training: 1 / 1 run(s) failed, log is in "
                       f"{log.relative_to(recipe)}"), tail(res)
    assert f"run.pl: 1 / 1 failed, log is in {log.relative_to(recipe)}" in \
        (recipe / "exp" / "t" / "log" / "train.1.log").read_text()
    last = _last_line(log)
    if row == "nan loss":
        assert last.startswith("ser_train: error: non-finite training loss nan at step "), last
        assert "s0-hap003" in last or "first utterances" in last
        assert last.endswith("(check those utterances' features, lower the learning rate or set "
                             "--grad_clip, then rerun with --resume true)"), last
        assert not (log.parent / "valid.ua.best.pth").exists()
    else:
        assert last == ("ser_train: error: conf/bad.yaml: unknown key 'max_epochs' (did you mean "
                        "'max_epoch'? python -m espnet_ser.bin.ser_train --print_config lists every "
                        "key)"), last


def _stage2_recipe(tmp_path: Path, n: int):
    recipe = copy_recipe(tmp_path)
    wavs = {f"s{i % 2}-u{i:03d}": str(write_wav(tmp_path / "wav" / f"{i}.wav", seconds=1.0, seed=i))
            for i in range(n)}
    data_dir(recipe / "data" / "all", wavs)
    return recipe


def _stage2(dumpdir: str, nj: int = 1) -> list:
    return ["./ser.sh", "--stage", "2", "--stop_stage", "2", "--protocol", "p", "--nj", str(nj),
            "--feats_conf", "conf/feats/fbank.yaml", "--dumpdir", dumpdir]


@pytest.mark.slow
def test_kill_stage2_mid_extraction_then_rerun(tmp_path, monkeypatch):
    recipe = _stage2_recipe(tmp_path, 150)
    ok = run(_stage2("dump_straight"), recipe, timeout=600)
    assert ok.returncode == 0, tail(ok)
    out = recipe / "dump_killed" / "fbank" / "all"
    tmp_ark = out / "feats.1.ark.tmp"
    # Killed once the job has written some utterances, before it finished.
    _kill_when(_stage2("dump_killed"), recipe,
               lambda: tmp_ark.is_file() and tmp_ark.stat().st_size > 200_000)
    assert not (out / "extract.1.json").exists() and not (out / "feats.scp").exists()
    res = run(_stage2("dump_killed"), recipe, timeout=600)
    assert res.returncode == 0, tail(res)
    assert "merge: 150 in, 150 written, 0 skipped" in res.stderr, tail(res)
    monkeypatch.chdir(recipe)   # scp lines name the arks relative to the recipe
    a = load_scp("dump_straight/fbank/all/feats.scp")
    b = load_scp("dump_killed/fbank/all/feats.scp")
    assert sorted(a) == sorted(b) and len(b) == 150
    for utt in a:
        np.testing.assert_array_equal(a[utt], b[utt])


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("disk", ["tmpfs", "injected ENOSPC"])
def test_full_disk_while_writing_an_ark(disk, tmp_path, monkeypatch, capsys):
    recipe = _stage2_recipe(tmp_path, 12)
    full = recipe / "full"
    if disk == "tmpfs":
        if not _mount_tmpfs(full, "64k"):
            pytest.skip("mounting a 64 KiB tmpfs needs root (the 'injected ENOSPC' row runs instead)")
        try:
            res = run(_stage2("full", nj=1), recipe, timeout=300)
            assert res.returncode == 1, tail(res)
            log = recipe / "full" / "fbank" / "all" / "log" / "extract.1.log"
            assert res.stderr.strip().splitlines()[-1].startswith(
                f"run.pl: 1 / 1 failed, log is in {log.relative_to(recipe)}"), tail(res)
            last = _last_line(log)
        finally:
            subprocess.run(["umount", "-l", str(full)], check=False)
    else:
        # The same write failing with ENOSPC, wherever no tmpfs can be mounted.
        from espnet_ser.bin import extract_feats
        from espnet_ser.features import ark_io

        real_write = ark_io.kaldiio.matio.write_array
        calls = {"n": 0}

        def write_array(f, array, *a, **kw):
            calls["n"] += 1
            if calls["n"] > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(f, array, *a, **kw)

        monkeypatch.setattr(ark_io.kaldiio.matio, "write_array", write_array)
        assert extract_feats.main(["--feats-conf", str(recipe / "conf/feats/fbank.yaml"),
                                   "--data-dir", str(recipe / "data" / "all"), "--out-dir",
                                   str(full / "fbank" / "all"), "--no-progress"]) == 1
        last = capsys.readouterr().err.strip().splitlines()[-1]
        log = None
    ark = "full/fbank/all/feats.1.ark.tmp" if log else f"{full}/fbank/all/feats.1.ark.tmp"
    assert last.startswith(f"extract_feats: error: [Errno 28] No space left on device while "
                           f"writing {ark} (utterance "), last
    assert last.endswith("): free space there or write the features to a larger disk "
                         "(ser.sh --dumpdir)"), last
