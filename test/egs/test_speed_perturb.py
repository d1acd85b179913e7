"""ser.sh --speed_perturb_factors on the embedded demo egs/mini_ser/ser1 (generated corpus).

One fold, stages 1-4 (1 epoch), factors "0.9 1.0 1.1", per-speaker normalisation: each fold's
training set is 3 x its utterances (the originals and two perturbed copies, every one of them
with features), dev and test are unchanged, a perturbed speaker has statistics of its own, and
training reads the perturbed set. Bad input is one line naming the option and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from test_mini_ser import _copy_recipe, _run, _table, _tail

FACTORS = "0.9 1.0 1.1"
SP = "_sp0.9_1.0_1.1"


@pytest.fixture(scope="module")
def sp_run(tmp_path_factory):
    recipe = _copy_recipe(tmp_path_factory.mktemp("sp"))
    res = _run(["./run.sh", "--stop_stage", "4", "--folds", "1", "--seeds", "0", "--nj", "1",
                "--baseline_config", "", "--extra_configs", "", "--norm", "speaker",
                "--local_data_opts", "--utts_per_speaker 4 --duration 0.5",
                "--speed_perturb_factors", FACTORS, "--train_args", "--max_epoch 1"], recipe, timeout=600)
    return recipe, res


@pytest.mark.slow
def test_train_is_three_times_the_utterances_dev_test_unchanged(sp_run):
    recipe, res = sp_run
    assert res.returncode == 0, _tail(res)
    fold = recipe / "data" / "folds" / "emodb_l2so" / "fold1"
    train = _table(fold / "train" / "utt2spk")
    sp_dir = fold / f"train{SP}"
    assert _table(sp_dir / "utt2spk") == {
        **train, **{f"sp{f}-{u}": f"sp{f}-{s}" for f in ("0.9", "1.1") for u, s in train.items()}}
    for name in ("utt2emo", "utt2gender"):   # labels carried over with the new ids
        labels = _table(fold / "train" / name)
        assert _table(sp_dir / name) == {**labels, **{f"sp{f}-{u}": v for f in ("0.9", "1.1") for u, v in labels.items()}}
    assert _run(["utils/validate_data_dir.sh", "--no-feats", "--no-text", sp_dir], recipe, timeout=60).returncode == 0
    dump = recipe / "dump" / f"fbank{SP}_speaker" / "emodb_l2so" / "fold1"
    feats = _table(dump / f"train{SP}" / "feats.scp")
    assert set(feats) == set(_table(sp_dir / "utt2spk")) and len(feats) == 3 * len(train)
    assert (dump / f"train{SP}" / "skipped").read_text() == ""   # nothing lost on the way
    for s in ("dev", "test"):   # never perturbed
        held_out = _table(dump / s / "feats.scp")
        assert set(held_out) == set(_table(fold / s / "utt2spk")) and not any(u.startswith("sp") for u in held_out)
    # A perturbed copy is 1/factor as long (frames), and a speaker of its own (Kaldi's semantics).
    frames = {u: int(n) for u, n in _table(dump / f"train{SP}" / "utt2num_frames").items()}
    u = sorted(train)[0]
    assert frames[f"sp1.1-{u}"] < frames[u] < frames[f"sp0.9-{u}"]
    stats = np.load(dump / "stats.npz")
    spks = set(train.values())
    assert set(stats["speakers"]) == spks | {f"sp{f}-{s}" for f in ("0.9", "1.1") for s in spks} | set(
        _table(fold / "dev" / "utt2spk").values()) | set(_table(fold / "test" / "utt2spk").values())
    # Training read the perturbed set; its speaker inventory has the perturbed speakers.
    run = recipe / "exp" / "adversarial" / "seed0" / "fold1"
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["train_data_path_and_name_and_type"][0][0].endswith(f"fold1/train{SP}/feats.scp")
    assert len((run / "speakers.txt").read_text().split()) >= 3 * len(spks)
    assert "1epoch results" in (run / "train.log").read_text()
    assert f"fold1/train{SP}: {3 * len(train)} utterances (fold1/train: {len(train)}" in res.stdout


@pytest.mark.parametrize("args,needle", [
    (["--speed_perturb_factors", "0.9 -1.1"], "--speed_perturb_factors: '-1.1' is not a positive number"),
    (["--speed_perturb_factors", "0.9 fast"], "--speed_perturb_factors: 'fast' is not a positive number"),
    (["--speed_perturb_factors", "0.9 0.90"], "a factor is given twice"),
    (["--speed_perturb_factors", FACTORS, "--feats_conf", "conf/feats/compare_2016.yaml"],
     "--speed_perturb_factors cannot apply to --feats_conf conf/feats/compare_2016.yaml (compare_2016: "
     "utterance-level functionals"),
    (["--speed_perturb_factors", FACTORS, "--example_unit", "dialogue"],
     "--speed_perturb_factors does not go with --example_unit dialogue"),
])
def test_bad_input_is_one_line(tmp_path, args, needle):
    recipe = _copy_recipe(tmp_path)
    res = _run(["./run.sh", *args], recipe, timeout=120)
    assert res.returncode == 1, _tail(res)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and needle in err and '--speed_perturb_factors ' in err, err
    assert not (Path(recipe) / "data").exists()   # nothing ran
