"""CI run of the embedded demo egs/mini_ser/ser1 (every stage, short configuration).

The demo generates its own corpus, so this test needs no data: it copies the
recipe (links kept) with the template and utils/ into a temporary repository,
runs ``./run.sh`` with one fold, one seed, 8 utterances per speaker and 2
epochs, and checks the outputs of every stage of the three experiments
(baseline, adversarial, speaker_norm) and the closing comparison table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "egs" / "mini_ser" / "ser1"
TAGS = ("baseline", "adversarial", "speaker_norm")
RESULT_KEYS = {"wa", "ua", "macro_f1", "n", "per_class", "per_speaker", "labels", "confusion"}
# One fold of emodb_l2so, 10 speakers x 8 files (2 per emotion), 2 epochs.
SHORT = ["--folds", "1", "--seeds", "0", "--train_args", "--max_epoch 2",
         "--local_data_opts", "--utts_per_speaker 8 --duration 1.0"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    # The copied repository has no tools/venv: path.sh then uses python3 from PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def _run(args, cwd, timeout) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=_env(), timeout=timeout)


def _tail(res, n=3000) -> str:
    return res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:]


def _copy_recipe(root: Path) -> Path:
    """Template, utils/ and the demo (links kept, no outputs) under root; returns the recipe."""
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "db.opts", "RESULTS.md")
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", root / "egs" / "TEMPLATE" / "ser1",
                    symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    recipe = root / "egs" / "mini_ser" / "ser1"
    shutil.copytree(RECIPE, recipe, symlinks=True, ignore=ignore)
    return recipe


def _table(path: Path) -> dict:
    return dict(line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip())


def test_help_lists_stages_and_demo_defaults():
    res = _run(["./run.sh", "--help"], RECIPE, timeout=60)
    assert res.returncode == 0, _tail(res)
    out = res.stdout
    for stage in ("1 data", "2 features", "3 normalisation", "4 training", "5 inference",
                  "6 scoring", "7 report", "8 pack"):
        assert stage in out, out
    # --help shows the demo's own defaults, not the template's.
    assert "emodb_l2so" in out and "global" in out.split("--norm", 1)[1].split("\n", 1)[0]


def test_unknown_option_is_one_line_error(tmp_path):
    recipe = _copy_recipe(tmp_path)
    res = _run(["./run.sh", "--no_such_option", "1"], recipe, timeout=60)
    assert res.returncode != 0
    assert "no_such_option" in res.stderr, _tail(res)
    assert not (recipe / "exp").exists() and not (recipe / "data").exists()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo run once in the short configuration (shared by the slow tests)."""
    recipe = _copy_recipe(tmp_path_factory.mktemp("mini_ser"))
    res = _run(["./run.sh", *SHORT], recipe, timeout=600)
    return recipe, res


@pytest.mark.slow
def test_demo_runs_every_stage(demo):
    recipe, res = demo
    assert res.returncode == 0, _tail(res)
    # Stage 1: generated corpus (10 speakers x 8 files) and the fold lists.
    utt2spk = _table(recipe / "data" / "all" / "utt2spk")
    assert len(utt2spk) == 80 and len(set(utt2spk.values())) == 10
    assert sorted(set(_table(recipe / "data" / "all" / "utt2emo").values())) == ["ang", "hap", "neu", "sad"]
    fold = recipe / "data" / "folds" / "emodb_l2so" / "fold1"
    spk = {s: set(_table(fold / s / "utt2spk").values()) for s in ("train", "dev", "test")}
    assert [len(spk[s]) for s in ("train", "dev", "test")] == [6, 2, 2]
    assert not (spk["test"] & (spk["train"] | spk["dev"])) and not (spk["dev"] & spk["train"])
    # Stage 2: one feature matrix per utterance; stage 3: globally and per-speaker normalised copies.
    assert set(_table(recipe / "dump" / "fbank" / "all" / "feats.scp")) == set(utt2spk)
    for kind in ("global", "speaker"):
        norm = recipe / "dump" / f"fbank_{kind}" / "emodb_l2so" / "fold1"
        for s in ("train", "dev", "test"):
            assert set(_table(norm / s / "feats.scp")) == set(_table(fold / s / "utt2spk")), (kind, s)
        assert (norm / "labels" / "emotions.txt").read_text().split() == ["ang", "hap", "neu", "sad"]
    test_utts = set(_table(fold / "test" / "utt2spk"))

    for tag in TAGS:
        exp = recipe / "exp" / tag
        run = exp / "seed0" / "fold1"
        assert (exp / "run.sh").is_file(), tag
        # Stage 4: a dev-selected checkpoint; stage 5: posteriors and embeddings of test and dev.
        assert (run / "valid.ua.best.pth").exists(), tag
        post = _table(run / "decode_test" / "posteriors")
        assert set(post) == test_utts, tag
        assert all(abs(sum(map(float, p.split())) - 1.0) < 1e-4 for p in post.values()), tag
        assert (run / "decode_dev" / "embeddings.scp").is_file(), tag
        # Stage 6: results.json with the keys of espnet_ser.eval.metrics.RESULTS_KEYS.
        r = json.loads((run / "decode_test" / "results.json").read_text())
        assert RESULT_KEYS <= set(r), (tag, sorted(r))
        assert r["n"] == len(test_utts) and r["labels"] == ["ang", "hap", "neu", "sad"]
        assert sum(map(sum, r["confusion"])) == r["n"]
        assert all(0.0 <= r[k] <= 1.0 for k in ("wa", "ua", "macro_f1")), r
        assert set(r["per_speaker"]) == spk["test"]
        # Stage 7: speaker probe on the held-out (dev + test) speakers, aggregate.
        probe = json.loads((run / "decode_test" / "probe.json").read_text())
        assert probe["n_speakers"] == 4 and probe["chance"] == pytest.approx(0.25), probe
        agg = json.loads((exp / "results.json").read_text())
        assert agg["n_runs"] == 1 and agg["summary"]["ua"]["mean"] == pytest.approx(r["ua"]), agg
        # Stage 8: a packed model that opens and holds a checkpoint.
        with zipfile.ZipFile(run / "packed_model.zip") as z:
            assert z.testzip() is None and any(n.endswith(".pth") for n in z.namelist()), z.namelist()

    results_md = (recipe / "RESULTS.md").read_text()
    for tag in TAGS:
        assert f"<!-- report:{tag} -->" in results_md and f"<!-- /report:{tag} -->" in results_md


@pytest.mark.slow
def test_demo_trains_the_adversary_only_in_the_adversarial_model(demo):
    recipe, res = demo
    assert res.returncode == 0, _tail(res)
    cfg = {t: yaml.safe_load((recipe / "exp" / t / "seed0" / "fold1" / "config.yaml").read_text())
           for t in TAGS}
    assert not cfg["baseline"]["domain_heads"] and not cfg["speaker_norm"]["domain_heads"]
    assert [h["name"] for h in cfg["adversarial"]["domain_heads"]] == ["speaker"]
    assert cfg["adversarial"]["domain_heads"][0]["reverse"] is True
    # The adversary's own optimizer and extra steps reached the trainer.
    assert cfg["adversarial"]["adversary_steps"] == 3 and cfg["adversarial"]["optim2_conf"]["lr"] == 0.01
    ckpt = torch.load(recipe / "exp" / "adversarial" / "seed0" / "fold1" / "checkpoint.pth", weights_only=False)
    assert len(ckpt["optimizers"]) == 2
    log = {t: (recipe / "exp" / t / "seed0" / "fold1" / "train.log").read_text() for t in TAGS}
    assert "lambda_speaker" in log["adversarial"] and "lambda_speaker" not in log["baseline"]
    # The command-line override reached the trainer (2 epochs, not the config's 20).
    assert cfg["baseline"]["max_epoch"] == 2 and (recipe / "exp" / "baseline" / "seed0" / "fold1" / "2epoch.pth").exists()


@pytest.mark.slow
def test_demo_prints_the_comparison_table(demo):
    recipe, res = demo
    assert res.returncode == 0, _tail(res)
    lines = res.stdout.splitlines()
    header = [i for i, line in enumerate(lines) if line.startswith("experiment")]
    assert header, _tail(res)
    head = lines[header[-1]]
    for col in ("WA (accuracy)", "UA (unweighted avg recall)", "speaker probe LR", "probe chance"):
        assert col in head, head
    rows = {line.split()[0]: line for line in lines[header[-1] + 2:header[-1] + 2 + len(TAGS)]}
    assert set(rows) == set(TAGS), lines[header[-1]:]
    # The printed numbers are the aggregates of exp/<tag>/results.json.
    for tag in TAGS:
        agg = json.loads((recipe / "exp" / tag / "results.json").read_text())
        assert f"{100 * agg['summary']['ua']['mean']:.1f}" in rows[tag], (rows[tag], agg["summary"])
