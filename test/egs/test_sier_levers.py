"""Levers of egs/emodb/sier on a GENERATED Emo-DB (one fold, tiny model, 1-3 epochs):

* ``./grid.sh --search optuna``: a 2-trial search (stages 1-3 run by the search itself; the trials
  train with the warm-up + decay LR config), its SQLite storage resumed by a 3rd trial, the best
  values written and scored once under ``optuna_best``; no test decode during the search; an empty
  range is one line;
* n-best checkpoint averaging on dev UA (``conf/tuning/train_cnn1_gamma3.33_ave5.yaml``) through
  ``--inference_model valid.ua.ave.pth``: stage 5 decodes, stage 8 packs and the Python API loads
  the averaged file.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_sier_recipes import TINY, _copy_repo, _run, _tail

SPACE = {"base_config": "conf/tuning/train_cnn1_gamma3.33_warmup.yaml",
         "params": {"optim_conf.lr": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
                    "encoder_conf.dropout": {"low": 0.0, "high": 0.5}}}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A recipe copy on a generated Emo-DB after a 2-trial Optuna search of fold 1."""
    from espnet_ser.corpora.synth import generate_corpus

    tree = generate_corpus("emodb", tmp_path_factory.mktemp("corpus") / "emodb", seed=0, n_speakers=10,
                           utts_per_speaker=14, duration=1.0)
    recipe = _copy_repo(tmp_path_factory.mktemp("levers"), "emodb")
    (recipe / "conf" / "search_tiny.yaml").write_text(yaml.safe_dump(SPACE))
    res = _run(["./grid.sh", "--search", "optuna", "--trials", "2", "--space", "conf/search_tiny.yaml",
                "--folds", "1", "--seeds", "0", "--nj", "1", "--train_args", TINY],
               recipe, timeout=900, EMODB=str(tree))
    return recipe, res, tree


@pytest.mark.slow
def test_optuna_search_per_fold_on_dev_resumes_and_scores_the_best(searched):
    recipe, res, tree = searched
    assert res.returncode == 0, _tail(res)
    root = recipe / "exp" / "optuna"
    best = json.loads((root / "best_params.json").read_text())
    fold = best["folds"]["fold1"]
    assert fold["n_trials"] == 2 and 0.0 <= fold["dev_ua"] <= 1.0
    assert set(fold["best_params"]) == {"optim_conf.lr", "encoder_conf.dropout"}
    assert "search: fold1: best dev UA" in res.stdout
    cfg = yaml.safe_load((root / "best_fold1.yaml").read_text())
    assert cfg["optim_conf"]["lr"] == pytest.approx(fold["best_params"]["optim_conf.lr"])
    assert cfg["scheduler"] == "warmuplr"
    # The trials never decoded a test set; the best values were scored once, on test.
    trials = sorted(p.name for p in (root / "trials").iterdir() if p.is_dir())
    assert trials == ["fold1_t0", "fold1_t1"]
    assert not list((root / "trials").glob("*/seed0/fold1/decode_*"))
    assert (recipe / "exp" / "optuna_best" / "seed0" / "fold1" / "decode_test" / "results.json").is_file()
    assert json.loads((recipe / "exp" / "optuna_best" / "results.json").read_text())["n_runs"] == 1
    # Warm-up: the first epoch's learning rate is below the configured peak (1/100 of the way up).
    log = (root / "trials" / "fold1_t0" / "seed0" / "fold1" / "train.log").read_text()
    lr = float(log.split("optim0_lr0=")[1].split(",")[0])
    peak = yaml.safe_load((root / "trials" / "fold1_t0.yaml").read_text())["optim_conf"]["lr"]
    assert 0 < lr < 0.2 * peak, (lr, peak)
    # The study is stored in SQLite: --trials 3 runs one more trial, not three (grid.sh passes
    # --fold_jobs on; test/bin/test_search.py checks that folds run at once with the same result).
    res2 = _run(["./grid.sh", "--search", "optuna", "--trials", "3", "--space", "conf/search_tiny.yaml",
                 "--fold_jobs", "2", "--stage", "4", "--folds", "1", "--seeds", "0", "--train_args", TINY],
                recipe, timeout=600, EMODB=str(tree))
    assert res2.returncode == 0, _tail(res2)
    resumed = json.loads((root / "best_params.json").read_text())
    assert resumed["folds"]["fold1"]["n_trials"] == 3 and resumed["fold_jobs"] == 2
    assert sorted(p.name for p in (root / "trials").iterdir() if p.is_dir()) == ["fold1_t0", "fold1_t1", "fold1_t2"]


@pytest.mark.parametrize("space,message", [
    ({"params": {"optim_conf.lr": {"low": 1.0e-3, "high": 1.0e-3}}}, "params.optim_conf.lr: empty range"),
    ({"params": {"encoder_conf.channels": {"choices": []}}}, "params.encoder_conf.channels: empty range"),
    ({"params": {}}, "needs 'params:'"),
    ({"params": {"encoder_cnf.dropout": {"low": 0.0, "high": 0.5}}}, "encoder_cnf is not in the base config"),
])
def test_bad_search_space_is_one_line(tmp_path, space, message):
    recipe = _copy_repo(tmp_path, "emodb")
    (recipe / "conf" / "bad.yaml").write_text(yaml.safe_dump(space))
    res = _run(["./grid.sh", "--search", "optuna", "--trials", "2", "--space", "conf/bad.yaml"], recipe, timeout=120)
    assert res.returncode == 1, _tail(res)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("search: conf/bad.yaml: ") and message in err, err
    assert not (recipe / "exp").exists()   # nothing ran


@pytest.mark.slow
def test_checkpoint_averaging_is_decoded_packed_and_loaded(searched):
    from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer

    recipe, res, _ = searched
    assert res.returncode == 0, _tail(res)
    res = _run(["./run.sh", "--stage", "4", "--folds", "1", "--seeds", "0", "--baseline_config", "", "--fusions", "",
                "--extra_configs", "", "--svm", "false",
                "--train_config", "conf/tuning/train_cnn1_gamma3.33_ave5.yaml", "--tag", "ave",
                "--inference_model", "valid.ua.ave.pth",
                "--train_args", TINY + " --max_epoch 3 --keep_nbest_models 2"], recipe, timeout=900)
    assert res.returncode == 0, _tail(res)
    run = recipe / "exp" / "ave" / "seed0" / "fold1"
    # ESPnet's n-best averaging on dev UA: the 2 best epochs averaged, valid.ua.ave.pth links to it.
    assert (run / "valid.ua.ave.pth").is_symlink()
    assert Path((run / "valid.ua.ave.pth").readlink()).name == "valid.ua.ave_2best.pth"
    assert "--model_file exp/ave/seed0/fold1/valid.ua.ave.pth" in (run / "decode_test" / "log" / "inference.log").read_text()
    zpath = run / "packed_model.zip"
    with zipfile.ZipFile(zpath) as zf:
        assert json.loads(zf.read("model.json"))["checkpoint"] == "valid.ua.ave.pth"
        assert zf.read("valid.ua.ave.pth") == (run / "valid.ua.ave_2best.pth").read_bytes()
    # The Python API loads the averaged model from the zip and gives stage 5's posteriors for a
    # test speaker's files (per-speaker normalisation: the speaker's files together).
    stage5 = {line.split()[0]: np.array(line.split()[1:], float)
              for line in (run / "decode_test" / "posteriors").read_text().splitlines()}
    wavs = dict(line.split(None, 1) for line in (recipe / "data" / "all" / "wav.scp").read_text().splitlines())
    test_dir = recipe / "data" / "folds" / "emodb_l2so" / "fold1" / "test"
    utt2spk = dict(line.split() for line in (test_dir / "utt2spk").read_text().splitlines())
    spk = sorted(set(utt2spk.values()))[0]
    utts = sorted(u for u, s in utt2spk.items() if s == spk)
    rec = SpeechEmotionRecognizer.from_packed(zpath)
    labels = (run / "emotions.txt").read_text().split()
    outs = rec.recognize_speaker([wavs[u] for u in utts])
    for u, out in zip(utts, outs):
        np.testing.assert_allclose([out["posteriors"][lab] for lab in labels], stage5[u], atol=1e-4, err_msg=u)
    # Real stage-5/6 layouts fuse: the averaged model with the searched one (weights on dev), and
    # its one-seed "ensemble"; compare lists both.
    fold_root = "data/folds/emodb_l2so"
    res = _run(["python3", "-m", "espnet_ser.bin.fuse", "exp/ave", "exp/optuna_best", "--fold-root", fold_root],
               recipe, timeout=300)
    assert res.returncode == 0, _tail(res)
    info = json.loads((recipe / "exp" / "ave+optuna_best" / "seed0" / "fold1" / "fusion.json").read_text())
    assert sum(info["weights"]) == pytest.approx(1.0) and 0 <= info["dev_ua"] <= 1
    res = _run(["python3", "-m", "espnet_ser.bin.fuse", "--ensemble", "exp/ave", "--fold-root", fold_root],
               recipe, timeout=300)
    assert res.returncode == 0, _tail(res)
    res = _run(["python3", "-m", "espnet_ser.bin.compare", "exp/ave", "exp/ave_ens", "exp/ave+optuna_best"],
               recipe, timeout=300)
    assert res.returncode == 0 and "ave+optuna_best" in res.stdout, _tail(res)


def test_committed_search_space_fits_its_base_config(monkeypatch):
    from espnet_ser.bin.search import load_space, trial_config

    recipe = Path(__file__).resolve().parents[2] / "egs" / "emodb" / "sier"
    monkeypatch.chdir(recipe)
    space = load_space(Path("conf/search.yaml"))
    base = yaml.safe_load(space["base_config"].read_text())
    cfg = trial_config(base, {k: 7 for k in space["params"]}, "conf/search.yaml: ")
    assert cfg["encoder_conf"]["num_blocks"] == 7 and cfg["domain_heads"][0]["schedule_conf"]["gamma"] == 7
    assert base["encoder_conf"]["num_blocks"] == 1   # the base is left as it was
    # The utterance-level path's space (the MLP on ComParE functionals).
    space = load_space(Path("conf/search_func_mlp.yaml"))
    base = yaml.safe_load(space["base_config"].read_text())
    cfg = trial_config(base, {k: 7 for k in space["params"]}, "conf/search_func_mlp.yaml: ")
    assert cfg["encoder_conf"]["hidden_sizes"] == [7, 7] and cfg["max_epoch"] == 7 and cfg["optim_conf"]["lr"] == 7
    assert base["encoder_conf"]["hidden_sizes"] == [512, 256]
