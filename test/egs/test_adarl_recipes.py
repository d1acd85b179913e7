"""Recipes egs/iemocap/adarl and egs/emodb/adarl (ADARL, Fan et al.).

* conf/train.yaml holds the paper's values; every ablation / CPU config differs from it
  only where its comment says (so an edit of train.yaml cannot leave a variant stale);
* egs/emodb/adarl shares configs with egs/iemocap/adarl and stage 1 with egs/emodb/sier
  (links, not copies);
* CI smoke: every stage (1-8), one fold, one epoch, tiny channels, of both recipes on
  GENERATED corpora, plus the attention-per-gender picture (espnet_ser.bin.plot_attention).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

# The recipe-run helpers of the sier recipes' tests (environment without corpus variables).
from test_sier_recipes import _run, _tail

REPO = Path(__file__).resolve().parents[2]
IEMOCAP = REPO / "egs" / "iemocap" / "adarl"
EMODB = REPO / "egs" / "emodb" / "adarl"
# One epoch, tiny channels (ESPnet merges --encoder_conf key=value into the config's).
TINY = "--max_epoch 1 --batch_size 8 --encoder_conf channels=[2,2,2,2]"


def _load(name: str) -> dict:
    return yaml.safe_load((IEMOCAP / "conf" / name).read_text())


def _diff(a: dict, b: dict, prefix: str = "") -> dict:
    """Leaf paths where a and b differ: {path: (a, b)}."""
    out = {}
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out.update(_diff(x, y, f"{prefix}{k}."))
        elif x != y:
            out[f"{prefix}{k}"] = (x, y)
    return out


def test_train_yaml_is_the_papers_setting():
    cfg = _load("train.yaml")
    enc = cfg["encoder_conf"]
    assert cfg["encoder"] == "adarl" and enc["domain_pathway"] is True and enc["num_frames"] == 300
    assert cfg["input_adapter_conf"]["segment_length"] == 300 == cfg["input_adapter_conf"]["hop"]
    (head,) = cfg["domain_heads"]
    assert head["name"] == "gender" and head["reverse"] is False and head["attach"] == "domain"
    assert head["weight"] == 1.0 and cfg["model_conf"]["ce_weight"] == 1.0
    assert cfg["model_conf"]["center_loss_weight"] == 0.5
    assert cfg["optim"] == "sgd" and cfg["optim_conf"] == {"lr": 0.2, "weight_decay": 4e-5}
    assert cfg["scheduler"] == "exponentiallr" and cfg["scheduler_conf"] == {"gamma": 0.7}
    assert cfg["batch_size"] == 32 and cfg["max_epoch"] == 50 and cfg["init"] == "xavier_uniform"
    assert ["valid", "ua", "max"] in cfg["best_model_criterion"]


# The CPU-sized variants also lower lambda_3 (center loss) from 0.5 to 0.01 (no_center: 0 anyway);
# see the comment in conf/tuning/train_adarl_cpu.yaml and egs/emodb/adarl/RESULTS.md.
CPU = {"encoder_conf.channels", "encoder_conf.pools", "encoder_conf.input_pool", "max_epoch", "batch_size",
       "model_conf.center_loss_weight"}
ABLATIONS = {
    "train_backbone": {"encoder_conf.domain_pathway", "domain_heads"},
    "train_domain_invariant": {"encoder_conf.domain_pathway", "domain_heads"},
    "train_no_center": {"model_conf.center_loss_weight"},
}


@pytest.mark.parametrize("name,keys", [(n, k) for n, k in ABLATIONS.items()]
                         + [(n + "_cpu", k | CPU) for n, k in ABLATIONS.items()]
                         + [("train_adarl_cpu", CPU)])
def test_variants_differ_only_where_they_say(name, keys):
    base, var = _load("train.yaml"), _load(f"tuning/{name}.yaml")
    assert set(_diff(base, var)) == keys
    if "domain_invariant" in name:
        (head,) = var["domain_heads"]
        assert head["reverse"] is True and head["attach"] == "embedding" and head["name"] == "gender"
    if name.startswith("train_backbone"):
        assert var["domain_heads"] == []



def test_cpu_ablations_share_optimiser_schedule_input_and_lambda3():
    """The four CPU-sized configs stay comparable: only the ablated part differs."""
    cfgs = {n: _load(f"tuning/{n}.yaml") for n in
            ("train_adarl_cpu", "train_backbone_cpu", "train_domain_invariant_cpu", "train_no_center_cpu")}
    for key in ("optim", "optim_conf", "scheduler", "scheduler_conf", "max_epoch", "batch_size",
                "input_adapter_conf"):
        assert len({repr(c[key]) for c in cfgs.values()}) == 1, key
    assert len({repr(c["encoder_conf"]["input_pool"]) for c in cfgs.values()}) == 1
    lam3 = {n: c["model_conf"]["center_loss_weight"] for n, c in cfgs.items()}
    assert lam3 == {"train_adarl_cpu": 0.01, "train_backbone_cpu": 0.01,
                    "train_domain_invariant_cpu": 0.01, "train_no_center_cpu": 0.0}


def test_emodb_recipe_links_instead_of_copies():
    assert os.readlink(EMODB / "conf" / "train.yaml") == "../../../iemocap/adarl/conf/train.yaml"
    assert os.readlink(EMODB / "conf" / "tuning") == "../../../iemocap/adarl/conf/tuning"
    assert os.readlink(EMODB / "local" / "data.sh") == "../../sier/local/data.sh"


def test_emodb_segment_length_matches_the_encoder():
    """run.sh's default segment (201 frames: the shared copy's 2.0 s files) is set for the
    adapter and the encoder together; a mismatch would stop only at the first batch."""
    import re

    text = (EMODB / "run.sh").read_text()
    m = re.search(r'^\s*--train_args "([^"]*)"', text, re.M)
    assert m, "egs/emodb/adarl/run.sh: no --train_args default"
    seg = re.findall(r"segment_length=(\d+)", m.group(1))
    frames = re.findall(r"num_frames=(\d+)", m.group(1))
    assert seg == frames == ["201"]


@pytest.mark.parametrize("recipe", [IEMOCAP, EMODB], ids=["iemocap", "emodb"])
def test_paper_table_loads(recipe):
    from espnet_ser.eval.aggregate import load_paper_table

    rows = load_paper_table(recipe / "conf" / "paper_results.yaml")["rows"]
    assert [(r["wa"], r["ua"]) for r in rows] == [(73.02, 65.86), (71.47, 61.91), (69.96, 56.78)]


# ---------------------------------------------------------------- recipe runs


def _copy_repo(root: Path) -> None:
    """The template, utils/, both adarl recipes and the sier stage 1 they link to (links kept)."""
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "RESULTS.md")
    for rel in ("egs/TEMPLATE/ser1", "egs/iemocap/adarl", "egs/emodb/adarl", "egs/emodb/sier/local"):
        shutil.copytree(REPO / rel, root / rel, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(REPO / "utils", root / "utils", symlinks=True)


def _check_exp(exp: Path, fold: str = "fold1") -> dict:
    res = json.loads((exp / "seed0" / fold / "decode_test" / "results.json").read_text())
    assert 0.0 <= res["wa"] <= 1.0 and 0.0 <= res["ua"] <= 1.0 and res["n"] > 0
    assert (exp / "seed0" / fold / "packed_model.zip").is_file()
    assert (exp / "results.json").is_file()
    return res


@pytest.mark.slow
def test_emodb_recipe_smoke_both_protocols(tmp_path):
    """ADARL on one fold of each Emo-DB protocol (the baseline and its paired test: the IEMOCAP smoke)."""
    from espnet_ser.corpora.synth import generate_corpus

    tree = generate_corpus("emodb", tmp_path / "corpus", seed=0, n_speakers=10, utts_per_speaker=7, duration=1.0)
    _copy_repo(tmp_path / "repo")
    recipe = tmp_path / "repo" / "egs" / "emodb" / "adarl"
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--nj", "1", "--train_args", TINY,
                "--baseline_config", "",
                "--extra_configs", "adarl_cpu_l2so:conf/tuning/train_adarl_cpu.yaml:protocol=emodb_l2so"],
               recipe, timeout=600, EMODB=str(tree))
    assert res.returncode == 0, _tail(res)
    adarl = "train_adarl_cpu_multiwin_logspec_global"
    for tag in (adarl, "adarl_cpu_l2so"):
        _check_exp(recipe / "exp" / tag)
        assert tag in res.stdout  # the closing comparison table names both
    log = (recipe / "exp" / adarl / "seed0" / "fold1" / "train.log").read_text()
    assert "loss_gender" in log and "acc_gender" in log and "loss_center" in log
    assert (recipe / "data" / "folds" / "emodb_l2so" / "fold1" / "test").is_dir()
    # The learned frequency attention per gender.
    out = recipe / "exp" / adarl / "attention"
    res = _run([sys.executable, "-m", "espnet_ser.bin.plot_attention", "--exp", f"exp/{adarl}",
                "--dump", "dump/multiwin_logspec_global/emodb_loso", "--data-dir", "data/all",
                "--out-dir", out], recipe, timeout=300)
    assert res.returncode == 0, _tail(res)
    summary = json.loads((out / "attention.json").read_text())
    assert set(summary["genders"]) <= {"f", "m"} and len(summary["bands_hz"]) == 4
    assert summary["bands_hz"][-1][1] <= 4000.0 and (out / "attention.png").stat().st_size > 0


@pytest.mark.slow
def test_iemocap_recipe_smoke_synthetic(tmp_path):
    """ADARL against its backbone (paired test, per-class recall) on one fold of a generated IEMOCAP."""
    _copy_repo(tmp_path / "repo")
    recipe = tmp_path / "repo" / "egs" / "iemocap" / "adarl"
    res = _run(["./run.sh", "--folds", "1", "--seeds", "0", "--nj", "1", "--extra_configs", "",
                "--train_args", TINY], recipe, timeout=600, IEMOCAP="synthetic")
    assert res.returncode == 0, _tail(res)
    adarl, backbone = "train_multiwin_logspec_global", "train_backbone_multiwin_logspec_global"
    for tag in (adarl, backbone):
        _check_exp(recipe / "exp" / tag)
    assert "loss_gender" in (recipe / "exp" / adarl / "seed0" / "fold1" / "train.log").read_text()
    assert "loss_gender" not in (recipe / "exp" / backbone / "seed0" / "fold1" / "train.log").read_text()
    agg = json.loads((recipe / "exp" / adarl / "results.json").read_text())
    assert agg["baseline"] == backbone and "paired_test" in agg and agg["per_class"]
    fold = recipe / "data" / "folds" / "iemocap_impro_loso" / "fold1"
    spk = {s: {ln.split()[0] for ln in (fold / s / "spk2utt").read_text().splitlines()} for s in ("train", "dev", "test")}
    (test,), (dev,) = spk["test"], spk["dev"]
    assert dev[:-1] == test[:-1] and not (spk["train"] & {dev, test})  # session partner as dev
    utt2dialog = (recipe / "data" / "all" / "utt2dialog").read_text()
    assert "script" not in utt2dialog  # improvised dialogues only
