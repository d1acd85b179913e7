"""Tests of utils/run.pl: logs, markers, failures, --max-jobs-run, quoting, errors."""

import subprocess

import pytest

from pathlib import Path

RUN_PL = Path(__file__).resolve().parents[2] / "utils" / "run.pl"


def run_pl(*args, cwd=None):
    return subprocess.run([str(RUN_PL), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def test_array_writes_one_log_per_job_with_markers(tmp_path, joblog):
    res = run_pl("JOB=1:4", tmp_path / "x" / "log.JOB.log", "echo", "JOB")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        f"log.{i}.log" for i in range(1, 5)]
    for i in range(1, 5):
        lines = joblog.check_markers(tmp_path / "x" / f"log.{i}.log", f"echo {i}", 0)
        assert lines[2:-2] == [str(i)]
        assert lines[-2].endswith("threads=1")


def test_other_variable_name_and_num_threads(tmp_path, joblog):
    res = run_pl("--num-threads", 3, "TASK=1:2", tmp_path / "t.TASK.log", "echo", "part-TASK")
    assert res.returncode == 0, res.stderr
    for i in (1, 2):
        lines = joblog.check_markers(tmp_path / f"t.{i}.log", f"echo part-{i}", 0)
        assert lines[2] == f"part-{i}"
        assert lines[-2].endswith("threads=3")


def test_single_job_and_missing_log_dir_is_created(tmp_path, joblog):
    log = tmp_path / "a" / "b" / "c" / "one.log"
    res = run_pl(log, "echo", "single")
    assert res.returncode == 0, res.stderr
    assert joblog.check_markers(log, "echo single", 0)[2] == "single"


def test_failing_job_is_reported(tmp_path, joblog):
    # Job 2 exits 3, the others 0.
    res = run_pl("JOB=1:3", tmp_path / "f.JOB.log", "test", "JOB", "-ne", "2", "||", "exit", "3")
    assert res.returncode == 1
    assert res.stderr.strip() == f"run.pl: 1 / 3 failed, log is in {tmp_path}/f.2.log"
    joblog.check_markers(tmp_path / "f.2.log", "test 2 -ne 2 || exit 3", 3)
    joblog.check_markers(tmp_path / "f.1.log", "test 1 -ne 2 || exit 3", 0)


def test_several_failures_name_the_first(tmp_path):
    res = run_pl("JOB=1:4", tmp_path / "g.JOB.log", "test", "JOB", "-lt", "3")
    assert res.returncode == 1
    line = res.stderr.strip()
    assert line.startswith(f"run.pl: 2 / 4 failed, log is in {tmp_path}/g.3.log"), line
    assert len(res.stderr.strip().splitlines()) == 1


def test_signal_and_pipefail_are_failures(tmp_path, joblog):
    res = run_pl(tmp_path / "k.log", "kill", "-9", "$$")
    assert res.returncode == 1
    joblog.check_markers(tmp_path / "k.log", "kill -9 '$$'", 1)
    # An unquoted $$ would be the job's pid; quoted it is a bad argument.
    res = run_pl(tmp_path / "p.log", "false", "|", "cat")
    assert res.returncode == 1
    joblog.check_markers(tmp_path / "p.log", "false | cat", 1)


def test_killed_job_code_is_128_plus_signal(tmp_path, joblog):
    script = tmp_path / "suicide.sh"
    script.write_text("#!/bin/bash\nkill -9 $$\n")
    script.chmod(0o755)
    res = run_pl(tmp_path / "s.log", script)
    assert res.returncode == 1
    joblog.check_markers(tmp_path / "s.log", str(script), 137)


@pytest.mark.parametrize("limit", [1, 2])
def test_max_jobs_run_is_honoured(tmp_path, joblog, limit):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    res = run_pl("--max-jobs-run", limit, "JOB=1:4", tmp_path / "log" / "m.JOB.log",
                 "date", "+%s.%N", ">", f"{stamps}/JOB.start", "&&", "sleep", "0.6", "&&",
                 "date", "+%s.%N", ">", f"{stamps}/JOB.end")
    assert res.returncode == 0, res.stderr
    assert len(list(stamps.glob("*.end"))) == 4
    # Exactly the limit: never more, and the jobs did run side by side.
    assert joblog.overlap(stamps) == limit


def test_default_limit_counts_cpus_not_omp_num_threads(tmp_path, joblog):
    """OMP_NUM_THREADS=1 (set by clusters and by utils/run_list.sh) must not serialise arrays."""
    import os
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        pytest.skip("needs 2 CPUs to see two jobs at once")
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([str(RUN_PL), "JOB=1:2", str(tmp_path / "log" / "o.JOB.log"),
                          "date", "+%s.%N", ">", f"{stamps}/JOB.start", "&&", "sleep", "0.6", "&&",
                          "date", "+%s.%N", ">", f"{stamps}/JOB.end"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert joblog.overlap(stamps) == 2


def test_quotes_pipes_redirections_and_spaces_survive(tmp_path, joblog):
    out = tmp_path / "out.txt"
    weird = "it's \"quoted\"  with  $HOME `x` \\ and * ; & spaces"
    res = run_pl(tmp_path / "q.log", "printf", "%s\\n", weird, "|", "tr", "a-z", "A-Z",
                 ">", out, "2>&1")
    assert res.returncode == 0, res.stderr
    assert out.read_text() == weird.upper() + "\n"
    lines = joblog.check_markers(tmp_path / "q.log", Path(tmp_path / "q.log").read_text()
                                 .splitlines()[0][2:], 0)
    assert "| tr a-z A-Z >" in lines[0]
    # Attached redirections and an empty argument.
    res = run_pl(tmp_path / "r.log", "printf", "[%s]", "", f">{out}")
    assert res.returncode == 0, res.stderr
    assert out.read_text() == "[]"


@pytest.mark.parametrize("rng", ["JOB=0:3", "JOB=3:1", "JOB=1:0", "JOB=2:4", "JOB=5"])
def test_bad_job_ranges(tmp_path, rng):
    res = run_pl(rng, tmp_path / "b.JOB.log", "true")
    assert res.returncode == 1
    assert res.stderr.strip() == f"run.pl: bad job range {rng} (must be JOB=1:N with N>=1)"
    assert not list(tmp_path.iterdir())


def test_unknown_option_lists_the_known_ones(tmp_path):
    res = run_pl("--memory", "4G", tmp_path / "u.log", "true")
    assert res.returncode == 1
    msg = res.stderr.strip()
    assert msg.startswith("run.pl: unknown option --memory (known: --mem, --gpu,"), msg
    assert "--max-jobs-run" in msg and "--config" in msg


def test_bad_option_values(tmp_path):
    for args in (["--max-jobs-run", "0"], ["--num-threads", "x"], ["--mem", "lots"],
                 ["--time", "soon"], ["--config", tmp_path / "absent.conf"]):
        res = run_pl(*args, tmp_path / "v.log", "true")
        assert res.returncode == 1, args
        assert res.stderr.startswith("run.pl: ") and len(res.stderr.splitlines()) == 1, args


def test_cluster_options_are_accepted(tmp_path, joblog):
    res = run_pl("--mem", "4G", "--gpu", "1", "--time", "1:00:00", "--max-jobs-run=3",
                 tmp_path / "c.log", "true")
    assert res.returncode == 0, res.stderr
    joblog.check_markers(tmp_path / "c.log", "true", 0)


def test_missing_command_prints_usage(tmp_path):
    res = run_pl(tmp_path / "only.log")
    assert res.returncode == 1
    assert "run.pl: missing command" in res.stderr and "Usage: run.pl" in res.stderr
    res = run_pl()
    assert res.returncode == 1 and "Usage: run.pl" in res.stderr


def test_range_needs_job_in_log_name(tmp_path):
    res = run_pl("JOB=1:2", tmp_path / "same.log", "true")
    assert res.returncode == 1
    assert "must contain JOB" in res.stderr


def test_runs_in_current_directory(tmp_path):
    res = run_pl("JOB=1:2", "log/w.JOB.log", "pwd", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "log" / "w.2.log").read_text().splitlines()[2] == str(tmp_path)
