"""tools/gpu_check.sh (its CPU part) and tools/benchmark_all.py (argument checks, one tiny table)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
NUM = r"[0-9]+(?:\.[0-9]+)?"


def _cpu_env():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def _run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_cpu_env(), timeout=240, **kw)


@pytest.mark.slow
def test_gpu_check_cpu_part_prints_a_row_and_what_it_skipped(tmp_path):
    # A segment model (Gao et al.'s 32-frame segments): both throughput columns are filled.
    r = _run(["bash", "tools/gpu_check.sh", "--models", "cross_corpus/dann", "--quick", "--amp", "off", "on",
              "--work-dir", str(tmp_path)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "device cpu" in r.stdout
    assert re.search(r"model\s+device\s+amp\s+utt/s\s+seg/s\s+peak_RSS_MiB\s+wait\s+epoch_s\s+steps", r.stdout)
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("cross_corpus/dann")]
    assert len(rows) == 1, r.stdout            # AMP on is skipped on CPU, not run
    _, device, amp, ups, sps, mem, wait, secs, steps = rows[0]
    assert (device, amp) == ("cpu", "off")
    assert float(ups) > 0 and float(sps) > float(ups)     # several segments per utterance
    assert float(mem) > 100                               # peak RSS of a torch process, MiB
    assert 0.0 <= float(wait) <= 1.0 and float(secs) > 0 and int(steps) >= 1
    skipped = [line for line in r.stdout.splitlines() if line.startswith("skipped: ")]
    assert skipped and "AMP on" in skipped[0] and "GPU" in skipped[0]
    # The trainer really ran one epoch and left its log and checkpoint.
    assert (tmp_path / "exp" / "cross_corpus_dann_cpu_ampoff" / "1epoch.pth").is_file()


@pytest.mark.parametrize("args, message", [
    (["--models", "nope/ser1"], "--models nope/ser1: unknown recipe"),
    (["--device", "cuda"], "--device cuda: torch sees no CUDA device"),
    (["--amp", "on"], "--amp on: nothing to run on CPU"),
])
def test_gpu_check_bad_arguments_are_one_line(args, message, tmp_path):
    r = _run(["bash", "tools/gpu_check.sh", *args, "--work-dir", str(tmp_path)])
    assert r.returncode != 0
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and message in err[0], r.stderr


@pytest.mark.parametrize("args, message", [
    (["--models", "nope/ser1"], "--models nope/ser1: unknown recipe"),
    (["--extractors", "nosuch"], "--extractors nosuch: no "),
    (["--corpus-dir", "/nonexistent/corpus"], "--corpus-dir /nonexistent/corpus: no such directory"),
    (["--recipe-folds", "1 x"], "--recipe-folds '1 x': give space-separated numbers"),
    (["--nj", "0"], "--nj 0: must be >= 1"),
    (["--parts", "everything"], "argument --parts: invalid choice"),
])
def test_benchmark_all_bad_arguments_are_one_line(args, message):
    r = _run([sys.executable, "tools/benchmark_all.py", *args])
    assert r.returncode != 0
    assert message in r.stderr.strip().splitlines()[-1], r.stderr
    assert "| part |" not in r.stdout        # nothing ran


@pytest.mark.slow
def test_benchmark_all_prints_one_table(tmp_path):
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        sf.write(wavs / f"u{i}.wav", 0.1 * rng.standard_normal(16000).astype(np.float32), 16000)
    r = _run([sys.executable, "tools/benchmark_all.py", "--parts", "features", "--extractors", "fbank",
              "--corpus-dir", str(wavs), "--nj", "1", "2", "--work-dir", str(tmp_path / "work")])
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("machine: ") and lines[1].startswith("commit ")
    assert lines[2] == "| part | item | setting | wall_s | figure | notes |"
    assert re.search(r"^\| features \| \(audio\) \| - \| - \| 2 files, 2 s \|", r.stdout, re.M)
    for nj in (1, 2):
        assert re.search(rf"^\| features \| fbank \| nj={nj} \| {NUM} \| RTF {NUM} \| speed-up {NUM}", r.stdout, re.M)
    assert re.search(r"^\| end \| \(load average\) \|", r.stdout, re.M)


def test_gpu_check_recipes_are_the_run_sh_defaults():
    """tools/gpu_check.py RECIPES = each recipe's run.sh --train_config/--feats_conf/--norm."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(REPO / "tools"))
    for recipe, spec in gpu_check.RECIPES.items():
        text = (REPO / "egs" / recipe / "run.sh").read_text()
        opts = text[text.index("opts=("):]
        found = {k: re.search(rf"--{k}\s+(\S+)", opts) for k in ("train_config", "feats_conf", "norm")}
        want = {"train_config": found["train_config"].group(1) if found["train_config"] else "conf/train.yaml",
                "feats_conf": found["feats_conf"].group(1), "norm": found["norm"].group(1)}
        assert (spec["config"], spec["feats"], spec["norm"]) == \
            (want["train_config"], want["feats_conf"], want["norm"]), recipe
