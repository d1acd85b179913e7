"""Recipe egs/iemocap/dann (Lian et al.): CI smoke on a tiny generated IEMOCAP tree and bad input.

* every stage (1-8) of one setting (TS_1234), one seed, one epoch: Cmp baseline and DANN,
  dialogue examples, per-utterance posteriors, AT-Fusion weights, per-setting table;
* a setting name that is not TS_<sessions>, or a --folds name the protocol lacks: one line.

Runs in a copy of the repository (template, utils, the recipe) so the committed RESULTS.md
is not touched; IEMOCAP=synthetic makes local/data.sh generate the tree.
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
RECIPE = REPO / "egs" / "iemocap" / "dann"
TINY_TREE = "--utts_per_speaker 8 --dialogs_per_session 2 --duration 0.6,1.0"


def _copy(root: Path) -> Path:
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "RESULTS.md")
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", root / "egs" / "TEMPLATE" / "ser1",
                    symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    recipe = root / "egs" / "iemocap" / "dann"
    shutil.copytree(RECIPE, recipe, symlinks=True, ignore=ignore)
    return recipe


def _run(args, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("IEMOCAP", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["IEMOCAP"] = "synthetic"
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


def _tail(res, n=3000) -> str:
    return res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    recipe = _copy(tmp_path_factory.mktemp("iemocap_dann"))
    res = _run(["./run.sh", "--folds", "TS_1234", "--seeds", "0", "--nj", "1", "--probe_sets", "test",
                "--local_data_opts", TINY_TREE, "--train_args", "--max_epoch 1"], recipe, timeout=900)
    return recipe, res


@pytest.mark.slow
def test_recipe_smoke_all_stages(smoke):
    recipe, res = smoke
    assert res.returncode == 0, _tail(res)
    fold = recipe / "data" / "folds" / "iemocap_ts" / "fold1"
    test_utts = set((fold / "test" / "utt2spk").read_text().split()[::2])
    labelled = set((fold / "test" / "utt2emo").read_text().split()[::2])
    assert labelled < test_utts  # the generated tree has unlabelled context turns
    dump = recipe / "dump" / "compare_2016+sentence_embedding_dialogue_global" / "iemocap_ts" / "fold1"
    shape = (dump / "train" / "speech_shape").read_text().split()[1]
    assert shape.split(",")[1] == str(6373 + 384)  # both modalities, concatenated per turn
    assert "-1" in (dump / "train" / "emotion.int").read_text().split()  # unlabelled turns
    for tag in ("cmp", "dann"):
        d = recipe / "exp" / tag / "seed0" / "fold1"
        post = dict(line.split(" ", 1) for line in (d / "decode_test" / "posteriors").read_text().splitlines())
        assert set(post) <= test_utts and labelled <= set(post)  # unrolled back to utterances
        res_json = json.loads((d / "decode_test" / "results.json").read_text())
        assert 0.0 <= res_json["wa"] <= 1.0 and 0.0 <= res_json["ua"] <= 1.0
        assert res_json["n"] == len(labelled)
        assert (d / "packed_model.zip").is_file()
        alpha = (d / "decode_test" / "alpha").read_text().splitlines()
        w = [float(x) for x in alpha[0].split()[1:]]
        assert len(w) == 2 and abs(sum(w) - 1.0) < 1e-4  # weights over the two modalities
        assert (recipe / "exp" / tag / "plots" / "modality_weights.png").is_file()
    log = (recipe / "exp" / "dann" / "seed0" / "fold1" / "train.log").read_text()
    assert "lambda_speaker" in log
    assert "lambda_speaker" not in (recipe / "exp" / "cmp" / "seed0" / "fold1" / "train.log").read_text()
    assert "WA TS_1234 %" in res.stdout and "dann vs cmp" in res.stdout  # the per-setting table
    results_md = (recipe / "RESULTS.md").read_text()
    assert "<!-- report:dann -->" in results_md and "82.68" in results_md  # with the paper's table


@pytest.mark.parametrize("args,message", [
    (["--protocol_opts", "--setting TS_9"], "needs labelled sessions"),
    (["--protocol_opts", "--setting 1234"], "setting must look like"),
    (["--folds", "TS_999"], "neither a fold number nor a fold name"),
])
def test_bad_setting_is_one_line(tmp_path, args, message):
    recipe = _copy(tmp_path)
    res = _run(["./run.sh", "--stop_stage", "2", "--baseline_config", "",
                "--local_data_opts", TINY_TREE, *args], recipe, timeout=300)
    assert res.returncode != 0
    assert message in res.stderr, _tail(res)
