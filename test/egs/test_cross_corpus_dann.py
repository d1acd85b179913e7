"""Recipe egs/cross_corpus/dann (Gao et al.): CI smoke on GENERATED corpora.

* every stage (1-8) of a one-epoch, tiny-model run with Emo-DB as source and TESS as
  target (generated trees in the real layouts): the CNN-BLSTM baseline, DANN_2 (S+C)
  trained with the unlabelled target (--train_unlab), the SVM reference, one closing table
  with UA per target corpus and the paired test (the recipe's other rows are the same code
  paths with other configs: left out to stay well under 2 minutes);
* the paper's setting (IEMOCAP -> MSP-IMPROV, SAVEE, Emo-DB) prepares and folds;
* bad pools stop stage 1 with one line.
Runs in a copy of the repository, so the committed RESULTS.md is not touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "egs" / "cross_corpus" / "dann"
TINY = ("--max_epoch 1 --batch_size 8 --encoder_conf channels=[4,4] --encoder_conf lstm_units=8 "
        "--model_conf embedding_size=16")
CORPUS_VARS = ("EMODB", "RAVDESS", "EMOVO", "IEMOCAP", "TESS", "SAVEE", "MSP_IMPROV")


def _run(args, cwd, timeout=600, **extra):
    env = {k: v for k, v in os.environ.items() if k not in CORPUS_VARS + ("VIRTUAL_ENV",)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


def _tail(res, n=3000) -> str:
    return res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:]


def _copy_repo(root: Path) -> Path:
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "RESULTS.md")
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", root / "egs" / "TEMPLATE" / "ser1", symlinks=True,
                    ignore=ignore)
    shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    recipe = root / "egs" / "cross_corpus" / "dann"
    shutil.copytree(RECIPE, recipe, symlinks=True, ignore=ignore)
    return recipe


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    from espnet_ser.corpora.synth import generate_corpus

    root = tmp_path_factory.mktemp("corpora")
    return {
        "EMODB": generate_corpus("emodb", root / "emodb", n_speakers=4, utts_per_speaker=7, duration=0.8),
        "TESS": generate_corpus("tess", root / "tess", utts_per_speaker=7, duration=0.6),
    }


@pytest.mark.slow
def test_smoke_all_stages_emodb_to_tess(tmp_path, trees):
    recipe = _copy_repo(tmp_path)
    res = _run(["./run.sh", "--sources", "emodb", "--targets", "tess", "--seeds", "0", "--nj", "1",
                "--train_config", "conf/tuning/train_dann2_center.yaml", "--train_unlab", "true",
                "--extra_configs", "", "--probe_sets", "test", "--train_args", TINY],
               recipe, timeout=900, **{k: str(v) for k, v in trees.items()})
    assert res.returncode == 0, _tail(res)
    exp = recipe / "exp" / "emodb_to_tess" / "cross_corpus"
    tags = ["train_cnn_blstm_logspec_global_arousal", "train_dann2_center_logspec_global_arousal",
            "svm_compare_2016_speaker_arousal"]
    for tag in tags:
        results = exp / tag / ("fold1" if tag.startswith("svm") else "seed0/fold1") / "decode_test" / "results.json"
        r = json.loads(results.read_text())
        assert r["labels"] == ["high", "low"] and r["n"] == 14 and 0 <= r["ua"] <= 1, tag
        assert tag in res.stdout  # one closing table
    assert "UA tess %" in res.stdout and "vs train_cnn_blstm_logspec_global_arousal" in res.stdout
    # The DANN row trained on source + unlabelled target and its three adversaries ran.
    log = (exp / tags[1] / "seed0" / "fold1" / "train.log").read_text()
    assert all(f"lambda_{h}" in log for h in ("gender", "lang", "corpus")) and "loss_center" in log
    dump = recipe / "dump" / "emodb_to_tess_arousal" / "logspec_global" / "cross_corpus" / "fold1"
    assert (dump / "labels" / "corpora.txt").read_text().split() == ["emodb", "tess"]
    assert (dump / "labels" / "langs.txt").read_text().split() == ["de", "en"]
    assert sum(v == "-1" for v in (dump / "train_all" / "arousal.int").read_text().split()[1::2]) == 14
    cfg = (exp / tags[1] / "seed0" / "fold1" / "config.yaml").read_text()
    assert "train_all/feats.scp" in cfg and "target_name: arousal" in cfg
    assert (exp / tags[1] / "seed0" / "fold1" / "packed_model.zip").is_file()
    # The domain picture from stage 5's embeddings: baseline vs DANN, by corpus and emotion.
    png = tmp_path / "map.png"
    res = _run([sys.executable, "-m", "espnet_ser.bin.plot_domains", "--data-dir", "data/emodb_to_tess_arousal/all",
                "--run", f"S=exp/emodb_to_tess/cross_corpus/{tags[0]}/seed0/fold1",
                "--run", f"DANN_2 S+C=exp/emodb_to_tess/cross_corpus/{tags[1]}/seed0/fold1",
                "--sets", "test", "--out", png], recipe)
    assert res.returncode == 0 and png.stat().st_size > 1000, _tail(res)
    # A finished run of other training data under the same tag is not "resumed" (ESPnet would
    # take it as done): stage 4 stops with one line naming the run and the two data sets.
    res = _run(["./run.sh", "--sources", "emodb", "--targets", "tess", "--seeds", "0", "--nj", "1", "--stage", "4",
                "--stop_stage", "4", "--baseline_config", "", "--extra_configs", "", "--svm", "false",
                "--train_config", "conf/tuning/train_dann2_center.yaml", "--train_unlab", "false",
                "--train_args", TINY], recipe, timeout=120, **{k: str(v) for k, v in trees.items()})
    errors = [ln for ln in res.stderr.splitlines() if "was trained on" in ln and "train_all/feats.scp" in ln]
    assert res.returncode != 0 and len(errors) == 1, _tail(res)


def test_two_tasks_in_one_recipe_keep_their_own_folds(tmp_path, trees):
    """Stage 1 of a valence run must not rewrite the arousal run's folds (stage 6 of the
    arousal run reads utt2arousal from them): data and features are per pool AND task."""
    recipe = _copy_repo(tmp_path)
    for task in ("arousal", "valence"):
        res = _run(["./run.sh", "--sources", "emodb", "--targets", "tess", "--task", task, "--stop_stage", "1"],
                   recipe, timeout=300, **{k: str(v) for k, v in trees.items()})
        assert res.returncode == 0, _tail(res)
    for task, other in (("arousal", "valence"), ("valence", "arousal")):
        fold = recipe / "data" / f"emodb_to_tess_{task}" / "folds" / "cross_corpus" / "fold1"
        assert len((fold / "test" / f"utt2{task}").read_text().splitlines()) == 14
        assert not (fold / "test" / f"utt2{other}").exists()


@pytest.mark.parametrize("args, message", [
    (["--sources", "emodb tess", "--targets", "tess"], "tess is both a source and a target"),
    (["--sources", "emodb", "--targets", "klingon"], "unknown corpus 'klingon'"),
    (["--sources", "emodb", "--targets", "savee"], "SAVEE is not set"),
    (["--sources", "emodb", "--targets", "tess", "--task", "dominance"], "--task dominance"),
])
def test_bad_pools_stop_with_one_line(tmp_path, trees, args, message):
    recipe = _copy_repo(tmp_path)
    res = _run(["./run.sh", "--stop_stage", "1"] + args, recipe, timeout=120,
               **{k: str(v) for k, v in trees.items()})
    assert res.returncode != 0
    errors = [ln for ln in res.stderr.splitlines() if message in ln]
    assert errors, _tail(res)


@pytest.mark.slow
def test_papers_setting_prepares_on_generated_trees(tmp_path, trees):
    """./run.sh --sources iemocap --targets "msp_improv savee emodb": stage 1 on generated trees."""
    from espnet_ser.corpora.synth import generate_corpus

    env = {k: str(v) for k, v in trees.items()}
    for name, var in (("iemocap", "IEMOCAP"), ("msp_improv", "MSP_IMPROV"), ("savee", "SAVEE")):
        env[var] = str(generate_corpus(name, tmp_path / name, utts_per_speaker=4, duration=0.5))
    recipe = _copy_repo(tmp_path / "repo")
    res = _run(["./run.sh", "--sources", "iemocap", "--targets", "msp_improv savee emodb", "--stop_stage", "1"],
               recipe, timeout=300, **env)
    assert res.returncode == 0, _tail(res)
    folds = recipe / "data" / "iemocap_to_msp_improv+savee+emodb_arousal" / "folds" / "cross_corpus"
    tests = sorted({ln.split()[1] for k in (1, 2, 3)
                    for ln in (folds / f"fold{k}" / "test" / "utt2corpus").read_text().splitlines()})
    assert tests == ["emodb", "msp_improv", "savee"]
    for k in (1, 2, 3):
        train = {ln.split()[1] for ln in (folds / f"fold{k}" / "train" / "utt2corpus").read_text().splitlines()}
        assert train == {"iemocap"}
        assert (folds / f"fold{k}" / "train_unlab" / "utt2corpus").is_file()
