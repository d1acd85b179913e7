"""Tests of utils/parse_options.sh, sourced by a small script like a recipe's."""

import subprocess
from pathlib import Path

import pytest

PARSE_OPTIONS = Path(__file__).resolve().parents[2] / "utils" / "parse_options.sh"

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
nj=4                 # number of parallel jobs
use_gpu=false        # train on a GPU
feats_type="fbank pitch"   # feature kind
value=""             # option named like a variable parse_options might use
help_message="Usage: $0 [options] <data-dir>"
. {po}
printf 'nj=%s\\nuse_gpu=%s\\nfeats_type=%s\\nvalue=%s\\nargs=%s\\n' \\
  "$nj" "$use_gpu" "$feats_type" "$value" "$*"
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "recipe.sh"
    path.write_text(SCRIPT.format(po=PARSE_OPTIONS))
    path.chmod(0o755)

    def run(*args):
        return subprocess.run([str(path), *map(str, args)], capture_output=True, text=True,
                              timeout=30, cwd=tmp_path)
    return run


def parsed(res):
    assert res.returncode == 0, res.stderr
    return dict(line.split("=", 1) for line in res.stdout.splitlines())


def test_defaults_and_positional_args(script):
    assert parsed(script("a", "b")) == {"nj": "4", "use_gpu": "false",
                                        "feats_type": "fbank pitch", "value": "",
                                        "args": "a b"}


def test_space_and_equals_forms(script):
    out = parsed(script("--nj", "8", "--use-gpu=true", "--feats-type", "mfcc  x",
                        "--value=a=b", "d1", "--not-an-option"))
    assert out == {"nj": "8", "use_gpu": "true", "feats_type": "mfcc  x", "value": "a=b",
                   "args": "d1 --not-an-option"}
    # Underscores are accepted too (Kaldi does), and "--" ends the options.
    out = parsed(script("--feats_type", "x", "--", "--nj", "2"))
    assert out["feats_type"] == "x" and out["nj"] == "4" and out["args"] == "--nj 2"


def test_unknown_option(script):
    res = script("--foo-bar", "1", "data")
    assert res.returncode == 1
    assert res.stderr == "recipe.sh: unknown option --foo-bar (see --help)\n"
    assert res.stdout == ""
    res = script("--foo-bar")
    assert res.stderr == "recipe.sh: unknown option --foo-bar (see --help)\n"


def test_boolean_accepts_only_true_false(script):
    res = script("--use-gpu", "yes")
    assert res.returncode == 1
    assert res.stderr == ("recipe.sh: option --use-gpu is boolean: use true or false, "
                          "not 'yes'\n")
    assert parsed(script("--use-gpu", "true"))["use_gpu"] == "true"


def test_missing_value(script):
    res = script("--nj")
    assert res.returncode == 1
    assert res.stderr == "recipe.sh: option --nj needs a value\n"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_options(script, flag):
    res = script("--nj", "6", flag)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Usage: ") and lines[0].endswith("[options] <data-dir>")
    opts = {ln.split()[0]: ln for ln in lines if ln.startswith("  --")}
    assert list(opts) == ["--nj", "--use-gpu", "--feats-type", "--value"]
    # The value as parsed so far, and the comment of the defaults block.
    assert opts["--nj"].split()[1] == "6" and "# number of parallel jobs" in opts["--nj"]
    assert "fbank pitch" in opts["--feats-type"]
    assert "--help-message" not in res.stdout
    assert "args=" not in res.stdout  # exited before the script body


def test_config_file(script, tmp_path):
    conf = tmp_path / "opts.conf"
    conf.write_text("# comment\nnj=11\n\nuse_gpu=true\n")
    out = parsed(script("--config", conf, "--nj", "12", "x"))
    assert out["nj"] == "12" and out["use_gpu"] == "true" and out["args"] == "x"
    out = parsed(script(f"--config={conf}"))
    assert out["nj"] == "11"


def test_config_errors(script, tmp_path):
    res = script("--config", tmp_path / "absent.conf")
    assert res.returncode == 1
    assert res.stderr == f"recipe.sh: --config {tmp_path}/absent.conf: no such file\n"
    bad = tmp_path / "bad.conf"
    bad.write_text("nj=2\nnjobs=3\n")
    res = script("--config", bad)
    assert res.returncode == 1
    assert res.stderr == f"recipe.sh: {bad}:2: unknown option 'njobs' (see --help)\n"
    bad.write_text("echo hello\n")
    res = script("--config", bad)
    assert res.returncode == 1 and f"{bad}:1: expected var=value" in res.stderr
