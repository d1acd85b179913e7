"""espnet_ser.bin.search --fold-jobs: folds searched at once, same result as one after another.

A fake run.sh stands in for the recipe: it writes an ESPnet-like train.log whose dev UA is a
deterministic function of the trial's config (so the sampler, not training noise, decides the
best values), sleeps a little, and records when it ran, so the test can see two folds overlap.
The real recipe path (./grid.sh --search optuna on a generated Emo-DB) is in
test/egs/test_sier_levers.py.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from espnet_ser.bin.search import main

FAKE_RUN = textwrap.dedent("""\
    #!/usr/bin/env bash
    # usage: run.sh [--opt value]...: a stage-4 call writes <expdir>/<tag>/seed<s>/fold<k>/train.log
    set -euo pipefail
    stage=1; stop_stage=100; expdir=exp; tag=; folds=; seeds=0; train_config=
    while [ $# -gt 0 ]; do
      name=${1#--}; value=${2-}; shift 2 || shift
      case "$name" in
        stage|stop_stage|expdir|tag|folds|seeds|train_config) printf -v "$name" '%s' "$value" ;;
      esac
    done
    [ "$stage" = 4 ] && [ "$stop_stage" = 4 ] || exit 0
    [ "${FAIL_FOLD:-}" = "$folds" ] && { echo "training failed on fold $folds"; exit 1; }
    d=$expdir/$tag/seed$seeds/fold$folds; mkdir -p "$d"
    echo "start fold$folds $(date +%s.%N)" >> "$TIMES"
    sleep 0.4
    ua=$(python3 -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); \\
    print(round(1 - abs(c['optim_conf']['lr'] - 0.003) * 50 - abs(c['encoder_conf']['dropout'] - 0.2) \\
    - 0.01 * int(sys.argv[2]), 4))" "$train_config" "$folds")
    echo "[vm] (trainer:394) INFO: 1epoch results: [train] loss=1.0, ua=0.5, [valid] loss=1.0, wa=$ua, ua=$ua" > "$d/train.log"
    echo "end fold$folds $(date +%s.%N)" >> "$TIMES"
""")

SPACE = {"base_config": "conf/base.yaml",
         "params": {"optim_conf.lr": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
                    "encoder_conf.dropout": {"low": 0.0, "high": 0.5}}}


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "base.yaml").write_text(yaml.safe_dump(
        {"optim": "adam", "optim_conf": {"lr": 1.0e-3}, "encoder_conf": {"dropout": 0.1}}))
    (tmp_path / "conf" / "search.yaml").write_text(yaml.safe_dump(SPACE))
    run = tmp_path / "run.sh"
    run.write_text(FAKE_RUN)
    run.chmod(run.stat().st_mode | stat.S_IXUSR)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMES", str(tmp_path / "times.txt"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def _search(name, fold_jobs, folds="1 2", trials=3):
    return main(["--trials", str(trials), "--name", name, "--final", "false", "--fold-jobs", str(fold_jobs),
                 "--", "--stage", "4", "--folds", folds])


def _intervals(times: Path):
    spans = {}
    for line in times.read_text().splitlines():
        what, fold, t = line.split()
        spans.setdefault(fold, []).append((what, float(t)))
    return {fold: (min(t for w, t in ev if w == "start"), max(t for w, t in ev if w == "end"))
            for fold, ev in spans.items()}


def test_fold_jobs_run_folds_at_once_with_the_sequential_result(recipe, capsys):
    assert _search("seq", 1) == 0
    seq_spans = _intervals(recipe / "times.txt")
    assert seq_spans["fold1"][1] <= seq_spans["fold2"][0]          # one fold after the other
    (recipe / "times.txt").unlink()
    assert _search("par", 2) == 0
    spans = _intervals(recipe / "times.txt")
    assert spans["fold1"][0] < spans["fold2"][1] and spans["fold2"][0] < spans["fold1"][1]   # overlap
    seq = json.loads((recipe / "exp" / "seq" / "best_params.json").read_text())
    par = json.loads((recipe / "exp" / "par" / "best_params.json").read_text())
    assert list(par["folds"]) == ["fold1", "fold2"] and par["fold_jobs"] == 2
    for fold in ("fold1", "fold2"):
        assert par["folds"][fold]["n_trials"] == 3
        assert par["folds"][fold]["best_params"] == seq["folds"][fold]["best_params"]
        assert par["folds"][fold]["dev_ua"] == seq["folds"][fold]["dev_ua"]
        cfg = yaml.safe_load((recipe / "exp" / "par" / f"best_{fold}.yaml").read_text())
        assert cfg["optim_conf"]["lr"] == pytest.approx(par["folds"][fold]["best_params"]["optim_conf.lr"])
    assert sorted(p.name for p in (recipe / "exp" / "par" / "trials").iterdir() if p.is_dir()) == \
        [f"fold{k}_t{n}" for k in (1, 2) for n in range(3)]
    # Resumed with more trials: only the missing ones run, in both folds.
    assert _search("par", 2, trials=4) == 0
    par = json.loads((recipe / "exp" / "par" / "best_params.json").read_text())
    assert [par["folds"][f]["n_trials"] for f in ("fold1", "fold2")] == [4, 4]


def test_a_failing_fold_stops_the_search_in_one_line(recipe, monkeypatch, capsys):
    monkeypatch.setenv("FAIL_FOLD", "2")
    assert _search("fail", 2, trials=2) == 1
    # Optuna warns about each failed trial on stderr; the search's own message is the last line.
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("search: fold2: no trial finished; see exp/fail/trials/fold2_t*.log"), last
    assert not (recipe / "exp" / "fail" / "best_params.json").exists()


def test_fold_jobs_below_one_is_one_line(recipe, capsys):
    assert _search("zero", 0) == 1
    err = capsys.readouterr().err.strip()
    assert err == "search: --fold-jobs 0: must be at least 1 (folds searched at once)", err
