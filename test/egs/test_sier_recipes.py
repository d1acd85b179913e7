"""Recipes egs/emodb/sier, egs/ravdess/sier and egs/emovo/sier (Leow et al.).

* the committed grid (conf/tuning, conf/train.yaml) is what ``python -m
  espnet_ser.bin.make_grid`` writes from conf/grid.yaml (more in test/bin/test_make_grid.py);
* every config of both recipes builds a model that trains on one batch;
* the paper tables load;
* bad input reaches the user as a failing run.sh with a one-line reason (too few
  speakers, a gender-breaking speaker list, a model that cannot be built);
* CI smoke: every stage (1-8), one fold, one epoch, tiny model, of each recipe on
  GENERATED corpora (espnet_ser.corpora.synth), in a copy of the repository so the
  committed RESULTS.md files are not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPES = {"emodb": REPO / "egs" / "emodb" / "sier", "ravdess": REPO / "egs" / "ravdess" / "sier"}
# EMOVO: no paper numbers; its configs are links to Emo-DB's (not in RECIPES: nothing of its own to check twice).
EMOVO = REPO / "egs" / "emovo" / "sier"
# Tiny model and one epoch for the smoke runs (ESPnet merges --encoder_conf key=value).
TINY = ("--max_epoch 1 --batch_size 8 --encoder_conf channels=4 --encoder_conf gru_units=8 "
        "--classifier_conf hidden_sizes=[8,8]")


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EMODB", "RAVDESS", "EMOVO", "IEMOCAP", "VIRTUAL_ENV")}
    # The copied repository has no tools/venv: path.sh then uses python3 from PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def _run(args, cwd, timeout=600, **env):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=_env(**env), timeout=timeout)


def _tail(res, n=3000) -> str:
    return (res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:])


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize("corpus", sorted(RECIPES))
def test_committed_grid_matches_generator(corpus):
    # As the README says to run it: from the recipe, settings from conf/grid.yaml.
    res = _run([sys.executable, "-m", "espnet_ser.bin.make_grid", "--check"], RECIPES[corpus])
    assert res.returncode == 0, _tail(res)
    assert "up to date" in res.stdout


@pytest.mark.parametrize("corpus", sorted(RECIPES))
def test_no_recipe_copy_of_the_shared_scripts(corpus):
    # The generator lives in the package, the SVM reference and grid runner in the template.
    recipe = RECIPES[corpus]
    assert sorted(p.name for p in (recipe / "local").iterdir()) == ["data.sh"]
    for name in ("svm.sh", "grid.sh"):
        link = recipe / name
        assert link.is_symlink() and os.readlink(link) == f"../../TEMPLATE/ser1/{name}", link


@pytest.mark.parametrize("corpus,gamma", [("emodb", 3.33), ("ravdess", 2.5)])
def test_train_yaml_is_the_papers_best(corpus, gamma):
    cfg = yaml.safe_load((RECIPES[corpus] / "conf" / "train.yaml").read_text())
    assert cfg["encoder"] == "cnn_bigru" and cfg["encoder_conf"]["num_blocks"] == 1
    (head,) = cfg["domain_heads"]
    assert head["name"] == "speaker" and head["reverse"] is True
    assert head["schedule"] == "dann" and head["schedule_conf"]["gamma"] == gamma
    # Both heads on the statistics-pooling output, 2 x [FC, BN, dropout, ReLU] + linear.
    assert head["attach"] == "pooled" and not cfg["model_conf"]["embedding_size"]
    for conf in (cfg["classifier_conf"], head["classifier_conf"]):
        assert len(conf["hidden_sizes"]) == 2 and conf["batch_norm"] is True
    noadv = yaml.safe_load((RECIPES[corpus] / "conf" / "tuning" / "train_cnn1_noadv.yaml").read_text())
    assert noadv["domain_heads"] == []
    assert {k: v for k, v in noadv.items() if k != "domain_heads"} == \
        {k: v for k, v in cfg.items() if k != "domain_heads"}


def _all_configs():
    out = []
    for corpus, recipe in sorted(RECIPES.items()):
        for path in sorted((recipe / "conf").glob("train*.yaml")) + sorted((recipe / "conf" / "tuning").glob("*.yaml")):
            out.append(pytest.param(path, id=f"{corpus}/{path.relative_to(recipe)}"))
    return out


def _build(cfg: dict, input_size: int, n_speakers: int = 0):
    from espnet_ser.tasks.ser import SERTask

    args = SERTask.get_default_config()
    # A component chosen by the config without its *_conf gets its own defaults, as in a real
    # run (not the default component's, e.g. stats pooling's eps for mean pooling).
    args.update({f"{k}_conf": {} for k in cfg if f"{k}_conf" in args and f"{k}_conf" not in cfg})
    args.update(cfg)
    heads = []
    for h in cfg.get("domain_heads") or []:
        h = dict(h)
        h["labels"] = [f"spk{i}" for i in range(n_speakers)]
        heads.append(h)
    # total_steps: the GRL schedule's run length (the trainer derives it in a real run).
    model_conf = dict(cfg.get("model_conf") or {}, total_steps=100)
    args.update(emotion_list=["ang", "hap", "neu", "sad"], input_size=input_size, domain_heads=heads,
                model_conf=model_conf)
    return SERTask.build_model(argparse.Namespace(**args))


@pytest.mark.parametrize("path", _all_configs())
def test_every_config_trains_one_batch(path):
    import torch

    torch.manual_seed(0)
    cfg = yaml.safe_load(path.read_text())
    model = _build(cfg, input_size=20, n_speakers=3)
    model.train()
    lens = torch.tensor([40, 31, 17, 40])
    loss, stats, _ = model(speech=torch.randn(4, 40, 20), speech_lengths=lens,
                           emotion=torch.tensor([0, 1, 2, 3]), speaker=torch.tensor([0, 1, 2, -1]))
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.encoder.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert ("loss_speaker" in stats) == bool(cfg["domain_heads"])


def test_functionals_mlp_configs_train_on_compare_vectors():
    # The utterance-level path: ComParE_2016 functionals are one (1, 6373) frame per utterance;
    # the adversarial twin differs only by the speaker head and its k3 training (own optimizer,
    # extra steps, constant GRL), as conf/tuning/train_cnn1_adv_k3.yaml trains it.
    import torch

    tuning = RECIPES["emodb"] / "conf" / "tuning"
    plain = yaml.safe_load((tuning / "train_func_mlp.yaml").read_text())
    adv = yaml.safe_load((tuning / "train_func_mlp_adv.yaml").read_text())
    k3 = yaml.safe_load((tuning / "train_cnn1_adv_k3.yaml").read_text())
    extra = ("domain_heads", "optim2", "optim2_conf", "adversary_steps")
    assert plain["domain_heads"] == [] and all(k not in plain for k in extra[1:])
    assert {k: v for k, v in adv.items() if k not in extra} == {k: v for k, v in plain.items() if k != "domain_heads"}
    for k in extra[1:]:
        assert adv[k] == k3[k], k
    (head,) = adv["domain_heads"]
    assert head["name"] == "speaker" and head["reverse"] is True and head["schedule"] == "constant"
    torch.manual_seed(0)
    for cfg in (plain, adv):
        model = _build(cfg, input_size=6373, n_speakers=6)
        model.train()
        speech, lens = torch.randn(8, 1, 6373), torch.ones(8, dtype=torch.long)
        loss, stats, _ = model(speech=speech, speech_lengths=lens,
                               emotion=torch.arange(8) % 4, speaker=torch.arange(8) % 6)
        assert torch.isfinite(loss)
        loss.backward()
        assert ("loss_speaker" in stats) == bool(cfg["domain_heads"])
        model.eval()
        with torch.no_grad():
            out = model.encode(speech, lens)
        assert out["embedding"].shape == (8, 256)   # what the speaker probe reads


def test_recipe_config_on_too_few_features_raises_the_encoders_error():
    cfg = yaml.safe_load((RECIPES["emodb"] / "conf" / "tuning" / "train_cnn4_gamma3.33.yaml").read_text())
    with pytest.raises(ValueError, match="= 0"):
        _build(cfg, input_size=8, n_speakers=3)


@pytest.mark.parametrize("corpus", sorted(RECIPES))
def test_paper_table_loads(corpus):
    from espnet_ser.eval.aggregate import load_paper_table

    table = load_paper_table(RECIPES[corpus] / "conf" / "paper_results.yaml")
    best = {"emodb": "73.6 ± 7.1", "ravdess": "61.2 ± 8.4"}[corpus]
    assert table["rows"][0]["wa"] == best


# ---------------------------------------------------------------- recipe runs


def _copy_repo(root: Path, corpus: str) -> Path:
    """The template, utils/ and one recipe (links kept) under root; returns the recipe dir."""
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "RESULTS.md")
    if corpus in ("emovo", "ravdess"):  # configs linked into egs/emodb/sier/conf (ravdess: train_func_mlp.yaml)
        shutil.copytree(RECIPES["emodb"] / "conf", root / "egs" / "emodb" / "sier" / "conf", symlinks=True)
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", root / "egs" / "TEMPLATE" / "ser1",
                    symlinks=True, ignore=ignore, dirs_exist_ok=True)
    if not (root / "utils").exists():
        shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    recipe = root / "egs" / corpus / "sier"
    shutil.copytree(RECIPES.get(corpus, EMOVO), recipe, symlinks=True, ignore=ignore)
    return recipe


@pytest.fixture(scope="module")
def emodb_tree(tmp_path_factory):
    """A generated Emo-DB (10 real speaker ids, 2 files per emotion, 1 s each)."""
    from espnet_ser.corpora.synth import generate_corpus

    return generate_corpus("emodb", tmp_path_factory.mktemp("corpus") / "emodb", seed=0,
                           n_speakers=10, utts_per_speaker=14, duration=1.0)


@pytest.mark.parametrize("speakers,message", [
    ("03,08,09,10", "more than 4 speakers"),              # 2 male + 2 female
    ("03,10,11,12,15,08", "female"),                      # 5 male + 1 female
])
def test_bad_speaker_lists_stop_stage_1(tmp_path, emodb_tree, speakers, message):
    recipe = _copy_repo(tmp_path, "emodb")
    res = _run(["./run.sh", "--stop_stage", "1", "--baseline_config", "",
                "--local_data_opts", f"--speakers {speakers}"], recipe, timeout=300, EMODB=str(emodb_tree))
    assert res.returncode != 0, _tail(res)
    assert message in res.stderr and "emodb_l2so" in res.stderr, _tail(res)
    assert not (recipe / "data" / "folds" / "emodb_l2so").exists()


def test_unknown_speaker_is_an_error(tmp_path, emodb_tree):
    recipe = _copy_repo(tmp_path, "emodb")
    res = _run(["./run.sh", "--stop_stage", "1", "--baseline_config", "",
                "--local_data_opts", "--speakers 03,08,99"], recipe, timeout=300, EMODB=str(emodb_tree))
    assert res.returncode != 0 and "emodb_99" in res.stderr, _tail(res)


def test_missing_corpus_is_one_line(tmp_path):
    recipe = _copy_repo(tmp_path, "emodb")
    res = _run(["./run.sh", "--stop_stage", "1"], recipe, timeout=120, EMODB=str(tmp_path / "nowhere"))
    assert res.returncode != 0 and "EMODB" in res.stderr, _tail(res)
    res = _run(["./run.sh", "--baseline_config", "conf/tuning/nothing.yaml"], recipe, timeout=120)
    assert res.returncode != 0 and "--baseline_config conf/tuning/nothing.yaml" in res.stderr


# A stand-in for run.sh that records its arguments and writes the aggregate that stage 7
# would write for the main tag and each --extra_configs tag (the last value of an option wins).
FAKE_RUN_SH = """#!/usr/bin/env python3
import json, pathlib, sys
args = sys.argv[1:]
with open("calls.txt", "a") as f:
    f.write(json.dumps(args) + "\\n")
opt = {args[i][2:]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
for tag in [opt["tag"]] + [e.split(":")[0] for e in opt.get("extra_configs", "").split()]:
    stat = {"mean": 0.5, "std": 0.1}
    agg = {"tag": tag, "n_runs": 1, "summary": {"wa": stat, "ua": stat, "macro_f1": stat}}
    pathlib.Path("exp", tag).mkdir(parents=True, exist_ok=True)
    pathlib.Path("exp", tag, "results.json").write_text(json.dumps(agg))
"""


def test_grid_is_one_run_sh_call(tmp_path):
    """grid.sh: one ./run.sh call (stages 1-3 and the baseline once), one summary row per config."""
    recipe = _copy_repo(tmp_path, "emodb")
    (recipe / "run.sh").write_text(FAKE_RUN_SH)
    res = _run(["./grid.sh", "--configs", "conf/tuning/train_cnn1_noadv.yaml conf/tuning/train_cnn[12]_gamma3.33.yaml",
                "--folds", "1"], recipe, timeout=120)
    assert res.returncode == 0, _tail(res)
    (call,) = [json.loads(line) for line in (recipe / "calls.txt").read_text().splitlines()]
    opt = {call[i]: call[i + 1] for i in range(len(call) - 1) if call[i].startswith("--")}
    assert opt["--stop_stage"] == "7" and opt["--folds"] == "1" and "--baseline_config" not in opt
    assert opt["--train_config"] == "conf/tuning/train_cnn1_noadv.yaml" and opt["--tag"] == "grid_train_cnn1_noadv"
    assert opt["--extra_configs"].split() == [
        "grid_train_cnn1_gamma3.33:conf/tuning/train_cnn1_gamma3.33.yaml",
        "grid_train_cnn2_gamma3.33:conf/tuning/train_cnn2_gamma3.33.yaml"]
    rows = [line for line in (recipe / "exp" / "grid_summary.md").read_text().splitlines()
            if line.startswith("| grid_")]
    assert [r.split("|")[1].strip() for r in rows] == [
        "grid_train_cnn1_noadv", "grid_train_cnn1_gamma3.33", "grid_train_cnn2_gamma3.33"]
    res = _run(["./grid.sh", "--configs", "conf/tuning/nothing.yaml"], recipe, timeout=60)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "conf/tuning/nothing.yaml" in res.stderr


def _results(exp: Path) -> dict:
    res = json.loads((exp / "seed0" / "fold1" / "decode_test" / "results.json").read_text())
    for key in ("wa", "ua"):
        assert 0.0 <= res[key] <= 1.0, (key, res[key])
    assert res["n"] > 0 and set(res["per_class"]) <= set(res["labels"])
    return res


@pytest.fixture(scope="module")
def emodb_smoke(tmp_path_factory, emodb_tree):
    """egs/emodb/sier run once through every stage (baseline + adversarial), for several tests."""
    recipe = _copy_repo(tmp_path_factory.mktemp("smoke"), "emodb")
    # The recipe's defaults (baseline, adversarial model, ComParE MLP, SVM, ensembles + fusion); the MLP
    # gets a train_args of its own (TINY sizes the CNN) and, like the recipe's, no speed perturbation.
    mlp = ("func_mlp:conf/tuning/train_func_mlp.yaml:feats_conf=conf/feats/compare_2016.yaml,speed_perturb_factors=,"
           "train_args=--max_epoch=1")
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--nj", "1", "--train_args", TINY, "--extra_configs", mlp],
               recipe, timeout=900, EMODB=str(emodb_tree))
    return recipe, res


@pytest.mark.slow
def test_emodb_recipe_smoke_all_stages(emodb_smoke):
    """Every stage of egs/emodb/sier: no-adversary baseline, adversarial model, report, pack."""
    recipe, res = emodb_smoke
    assert res.returncode == 0, _tail(res)
    # Speed perturbation 0.9/1.0/1.1 is the recipe's default (RESULTS.md: +5.1 WA): it is in the tags.
    tags = {"adv": "train_mfcc_sp0.9_1.0_1.1_speaker", "noadv": "train_cnn1_noadv_mfcc_sp0.9_1.0_1.1_speaker"}
    for tag in tags.values():
        exp = recipe / "exp" / tag
        _results(exp)
        assert (exp / "seed0" / "fold1" / "packed_model.zip").is_file()
        assert (exp / "results.json").is_file()
        assert tag in res.stdout  # the closing comparison table names both
        probe = json.loads((exp / "seed0" / "fold1" / "decode_test" / "probe.json").read_text())
        assert probe  # speaker probe of both the adversarial model and the one without it
    # The adversarial model trained its speaker head; the baseline has none.
    adv_log = (recipe / "exp" / tags["adv"] / "seed0" / "fold1" / "train.log").read_text()
    noadv_log = (recipe / "exp" / tags["noadv"] / "seed0" / "fold1" / "train.log").read_text()
    assert "lambda_speaker" in adv_log and "lambda_speaker" not in noadv_log
    results_md = (recipe / "RESULTS.md").read_text()
    for tag in tags.values():
        assert f"<!-- report:{tag} -->" in results_md
    assert "73.6 ± 7.1" in results_md            # the paper table
    # Test speakers never reach training or model selection.
    fold = recipe / "data" / "folds" / "emodb_l2so" / "fold1"
    train_spk = {line.split()[0] for line in (fold / "train" / "spk2utt").read_text().splitlines()}
    test_spk = {line.split()[0] for line in (fold / "test" / "spk2utt").read_text().splitlines()}
    dev_spk = {line.split()[0] for line in (fold / "dev" / "spk2utt").read_text().splitlines()}
    assert not (train_spk & test_spk) and not (dev_spk & test_spk) and len(test_spk) == 2


@pytest.mark.slow
def test_emodb_recipe_default_fusion(emodb_smoke):
    """The recipe's default --fusions: seed ensembles of the CNN and the ComParE MLP, their late fusion with
    equal weights (the default --fusion_weights) and the dev-speaker check beside it, each scored and in
    the closing table."""
    recipe, res = emodb_smoke
    assert res.returncode == 0, _tail(res)
    exp = recipe / "exp"
    mlp = json.loads((exp / "func_mlp" / "seed0" / "fold1" / "decode_test" / "results.json").read_text())
    assert mlp["n"] > 0
    assert "compare_2016_speaker" in (exp / "func_mlp" / "seed0" / "fold1" / "config.yaml").read_text()
    cnn = "train_cnn1_noadv_mfcc_sp0.9_1.0_1.1_speaker"   # speed perturbation: the recipe's default
    fusion = exp / f"{cnn}_ens+func_mlp_ens"
    for d in (exp / f"{cnn}_ens", exp / "func_mlp_ens", fusion):
        res1 = json.loads((d / "fold1" / "decode_test" / "results.json").read_text())
        assert res1["n"] == mlp["n"], d
        assert d.name in res.stdout, d   # the closing comparison table
    weights = json.loads((fusion / "fold1" / "fusion.json").read_text())
    assert [Path(p).parent.name for p in weights["systems"]] == [f"{cnn}_ens", "func_mlp_ens"]
    assert weights["rule"] == "equal" and weights["weights"] == [0.5, 0.5]
    check = weights["dev_speaker_check"]   # what --fusion_weights dev would have done, per dev speaker
    assert len(check["held_out"]) == 2 and 0 <= check["ua"] <= 1 and 0 <= check["equal_ua"] <= 1
    assert f"<!-- report:{fusion.name} -->" in (recipe / "RESULTS.md").read_text()


def test_stage_4_without_stages_1_to_3_is_one_line(tmp_path, emodb_tree):
    """--stage 4 on a fresh directory, and the default extra config (other features) started at --stage 4:
    one line naming what is missing and the stage to run, not a cp or report error later."""
    recipe = _copy_repo(tmp_path, "emodb")
    one = ["--baseline_config", "", "--svm", "false", "--fusions", ""]
    res = _run(["./run.sh", "--stage", "4", "--extra_configs", "", *one], recipe, timeout=120)
    assert res.returncode == 1 and res.stderr.count("\n") == 1, _tail(res)
    assert "data/folds/emodb_l2so has no folds: run stages 1-3 first (--stage 1)" in res.stderr
    res = _run(["./run.sh", "--stop_stage", "3", "--nj", "1", "--extra_configs", "", *one], recipe, timeout=300,
               EMODB=str(emodb_tree))
    assert res.returncode == 0, _tail(res)
    res = _run(["./run.sh", "--stage", "4", "--stop_stage", "4", "--folds", "1", "--seeds", "0", "--train_args", TINY,
                *one], recipe, timeout=600)
    assert res.returncode == 1, _tail(res)
    assert res.stderr.strip().splitlines()[-1].endswith(
        "dump/compare_2016_speaker/emodb_l2so/fold1/train/feats.scp not found: run stages 2-3 for "
        "--feats_conf conf/feats/compare_2016.yaml --norm speaker first (--stage 2)"), _tail(res)


@pytest.mark.parametrize("fusions, extra, message", [
    ("nothing_ens", [], "'nothing' is neither an experiment of this run"),
    ("func_mlp_ens+", [], "expected tag[_ens]+tag[_ens]"),
    ("func_mlp", [], "one system alone fuses nothing"),
    # @baseline is the baseline's tag of THIS run: without speed perturbation, the tag without _sp...
    ("@baseline_ens+nothing_ens", ["--speed_perturb_factors", ""],
     "--fusions 'train_cnn1_noadv_mfcc_speaker_ens+nothing_ens': 'nothing' is neither"),
    ("@train_ens+nothing_ens", ["--norm", "global"],
     "--fusions 'train_mfcc_sp0.9_1.0_1.1_global_ens+nothing_ens': 'nothing' is neither"),
    ("@baseline_ens+func_mlp_ens", ["--baseline_config", ""], "@baseline names the baseline's tag, but this run has none"),
    ("@base_ens+func_mlp_ens", [], "'@' is only in @baseline or @train"),
])
def test_bad_fusions_is_one_line(tmp_path, fusions, extra, message):
    """--fusions naming no experiment, or not a fusion, stops ser.sh before stage 1."""
    recipe = _copy_repo(tmp_path, "emodb")
    res = _run(["./run.sh", "--fusions", fusions, *extra], recipe, timeout=120, EMODB=str(tmp_path / "nowhere"))
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and message in res.stderr, _tail(res)
    assert "Stage 1" not in res.stdout


@pytest.mark.slow
def test_emodb_recipe_svm_reference(emodb_smoke):
    """--svm true: ser.sh runs svm.sh on the same fold (ComParE_2016 + linear SVM), scored and reported."""
    recipe, res = emodb_smoke
    assert res.returncode == 0, _tail(res)
    exp = recipe / "exp" / "svm_compare_2016_speaker"
    res1 = json.loads((exp / "fold1" / "decode_test" / "results.json").read_text())
    assert 0.0 <= res1["ua"] <= 1.0 and res1["n"] > 0
    assert not (exp / "fold2").exists()   # the same --folds as the neural models
    assert "<!-- report:svm_compare_2016_speaker -->" in (recipe / "RESULTS.md").read_text()


@pytest.mark.slow
def test_ravdess_recipe_smoke_synthetic(tmp_path):
    """Every stage of egs/ravdess/sier on a tree that local/data.sh generates (RAVDESS=synthetic)."""
    recipe = _copy_repo(tmp_path, "ravdess")
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--nj", "1", "--baseline_config", "",
                "--protocol_opts", "--n-folds 3",
                "--local_data_opts", "--synth_speakers 6 --synth_utts_per_speaker 8", "--extra_configs", "",
                "--svm", "false", "--fusions", "", "--train_args", TINY], recipe, timeout=900, RAVDESS="synthetic")
    assert res.returncode == 0, _tail(res)
    assert (recipe / "db" / "ravdess_synth" / "Audio_Speech_Actors_01-24").is_dir()
    assert len((recipe / "data" / "all" / "spk2utt").read_text().splitlines()) == 6
    _results(recipe / "exp" / "train_mfcc_speaker")   # --norm speaker is the default (Emo-DB's evidence)
    assert "<!-- report:train_mfcc_speaker -->" in (recipe / "RESULTS.md").read_text()


@pytest.mark.slow
def test_failing_training_stops_the_recipe(emodb_smoke):
    """A model that cannot be built fails stage 4, and run.sh exits non-zero naming the log."""
    recipe, res = emodb_smoke
    assert res.returncode == 0, _tail(res)
    bad = recipe / "conf" / "bad.yaml"
    cfg = yaml.safe_load((recipe / "conf" / "train.yaml").read_text())
    cfg["encoder_conf"]["num_blocks"] = 5
    bad.write_text(yaml.safe_dump(cfg))
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--baseline_config", "",
                "--stage", "4", "--stop_stage", "4", "--train_config", "conf/bad.yaml"], recipe, timeout=600)
    assert res.returncode != 0
    log = recipe / "exp" / "bad_mfcc_sp0.9_1.0_1.1_speaker" / "seed0" / "fold1" / "train.log"
    assert "train.log" in res.stderr + res.stdout, _tail(res)
    assert "num_blocks=5" in log.read_text()


def test_emovo_recipe_links_what_it_shares():
    """egs/emovo/sier copies nothing that can be linked: template scripts, cmd.sh, cluster configs, and
    Emo-DB's training configs (the paper reports no EMOVO setting)."""
    links = {"ser.sh": "../../TEMPLATE/ser1/ser.sh", "svm.sh": "../../TEMPLATE/ser1/svm.sh",
             "grid.sh": "../../TEMPLATE/ser1/grid.sh", "cmd.sh": "../../TEMPLATE/ser1/cmd.sh",
             "conf/slurm.conf": "../../../TEMPLATE/ser1/conf/slurm.conf",
             "conf/queue.conf": "../../../TEMPLATE/ser1/conf/queue.conf",
             "conf/train.yaml": "../../../emodb/sier/conf/train.yaml",
             "conf/tuning": "../../../emodb/sier/conf/tuning"}
    for name, target in links.items():
        assert os.readlink(EMOVO / name) == target and (EMOVO / name).exists(), name
    assert sorted(p.name for p in (EMOVO / "local").iterdir()) == ["data.sh"]
    run_sh = (EMOVO / "run.sh").read_text()
    assert "--protocol emovo_l2so" in run_sh and "--norm speaker" in run_sh
    assert '--protocol_opts "--dev-mode utts"' in run_sh


def test_emovo_missing_corpus_is_one_line(tmp_path):
    recipe = _copy_repo(tmp_path, "emovo")
    res = _run(["./run.sh", "--stop_stage", "1"], recipe, timeout=120, EMOVO="")
    assert res.returncode != 0, _tail(res)
    assert "EMOVO is not set" in res.stderr and "f1 f2 f3 m1 m2 m3" in res.stderr, _tail(res)


@pytest.mark.slow
def test_emovo_recipe_smoke_all_stages(tmp_path):
    """Every stage of egs/emovo/sier (adversarial model) on a generated EMOVO tree (6 speakers)."""
    from espnet_ser.corpora.synth import generate_corpus

    tree = generate_corpus("emovo", tmp_path / "corpus" / "emovo", seed=0, n_speakers=6, utts_per_speaker=7,
                           duration=1.0)
    recipe = _copy_repo(tmp_path / "repo", "emovo")
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--nj", "1", "--baseline_config", "", "--extra_configs", "",
                "--svm", "false", "--fusions", "", "--train_args", TINY], recipe, timeout=900, EMOVO=str(tree))
    assert res.returncode == 0, _tail(res)
    exp = recipe / "exp" / "train_mfcc_speaker"   # --norm speaker is the recipe's default
    _results(exp)
    assert (exp / "seed0" / "fold1" / "packed_model.zip").is_file()
    assert "lambda_speaker" in (exp / "seed0" / "fold1" / "train.log").read_text()
    assert "<!-- report:train_mfcc_speaker -->" in (recipe / "RESULTS.md").read_text()
    folds = recipe / "data" / "folds" / "emovo_l2so"
    assert json.loads((folds / "protocol.json").read_text())["num_folds"] == 3
    spk = {name: {line.split()[0] for line in (folds / "fold1" / name / "spk2utt").read_text().splitlines()}
           for name in ("train", "dev", "test")}
    assert sorted(s[len("emovo_")] for s in spk["test"]) == ["f", "m"]       # 1 male + 1 female held out
    assert not (spk["test"] & (spk["train"] | spk["dev"]))
    # The recipe's default --protocol_opts "--dev-mode utts": the 4 other speakers train, dev is a share
    # of their utterances (no utterance in both).
    assert spk["train"] == spk["dev"] and len(spk["train"]) == 4
    utts = {name: {line.split()[0] for line in (folds / "fold1" / name / "utt2spk").read_text().splitlines()}
            for name in ("train", "dev")}
    assert utts["dev"] and not (utts["train"] & utts["dev"])
