"""utils/run_list.sh: line J of a run list, run through run.pl into that run's own log."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

RUN_LIST = Path(__file__).resolve().parents[2] / "utils" / "run_list.sh"


def _list(tmp_path: Path, *runs) -> Path:
    """A run list of (log, [words]) as ser.sh's add_run writes it (printf %q per word)."""
    path = tmp_path / "log" / "x.list"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{log} {' '.join(shlex.quote(w) for w in words)}\n" for log, words in runs))
    return path


def _run(*args, cwd):
    return subprocess.run([str(RUN_LIST), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_runs_line_j_into_its_own_log_with_the_threads(tmp_path, joblog):
    lst = _list(tmp_path, ("a/1.log", ["echo", "one"]),
                ("b/2.log", ["sh", "-c", 'echo "$OMP_NUM_THREADS $MKL_NUM_THREADS" \'x y\'']))
    res = _run("--num-threads", "3", lst, 2, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "a").exists()                    # only line 2 ran
    body = (tmp_path / "b" / "2.log").read_text().splitlines()
    assert body[2] == "3 3 x y", body
    joblog.check_markers(tmp_path / "b" / "2.log", "sh -c 'echo \"$OMP_NUM_THREADS $MKL_NUM_THREADS\" '\\''x y'\\'''", 0)
    assert "threads=3" in body[-2]


def test_failing_run_names_its_log(tmp_path, joblog):
    lst = _list(tmp_path, ("runs/1.log", ["sh", "-c", "echo boom >&2; exit 3"]))
    res = _run(lst, 1, cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == "run.pl: 1 / 1 failed, log is in runs/1.log"
    joblog.check_markers(tmp_path / "runs" / "1.log", "sh -c 'echo boom >&2; exit 3'", 3)


def test_bad_arguments_are_one_line(tmp_path):
    lst = _list(tmp_path, ("runs/1.log", ["true"]))
    (tmp_path / "bad.list").write_text("no-command-here\n")
    for args, msg in (
        ((lst, 2), f"{lst} has no line 2 (1 runs)"),
        ((lst, 0), "line number '0' must be a positive integer"),
        ((lst, "x"), "line number 'x' must be a positive integer"),
        ((tmp_path / "none.list", 1), f"{tmp_path / 'none.list'}: no such run list"),
        ((tmp_path / "bad.list", 1), f"{tmp_path / 'bad.list'}:1: expected '<log> <command>', got 'no-command-here'"),
    ):
        res = _run(*args, cwd=tmp_path)
        assert res.returncode == 1, args
        assert res.stderr.strip() == f"{RUN_LIST}: {msg}", res.stderr
    res = _run(lst, cwd=tmp_path)
    assert res.returncode == 1 and res.stderr.startswith("Usage: ")
