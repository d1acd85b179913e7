"""Tests of utils/slurm.pl against a real (local) Slurm cluster.

The cluster tests need slurm-wlm and munge (.ci/apt_packages.txt); the
fixture starts the daemons with .ci/start_clusters.sh when they are down.
"""

import subprocess
from pathlib import Path

import pytest

SLURM_PL = Path(__file__).resolve().parents[2] / "utils" / "slurm.pl"



def slurm_pl(*args, cwd, timeout=150):
    return subprocess.run([str(SLURM_PL), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


@pytest.fixture
def conf(tmp_path, cluster_confs):
    path = tmp_path / "slurm.conf"
    path.write_text(cluster_confs["slurm.pl"])   # test/conftest.py
    return path


# --- without a cluster: option and config errors ---------------------------

def test_unknown_option_and_bad_range(tmp_path, conf):
    res = slurm_pl("--config", conf, "--partition", "long", "log/x.log", "true", cwd=tmp_path)
    assert res.returncode == 1
    msg = res.stderr.strip()
    assert msg.startswith("slurm.pl: unknown option --partition (known: --mem, --gpu,"), msg
    assert "option partition=* <flags>" in msg
    res = slurm_pl("JOB=0:3", "log/x.JOB.log", "true", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == "slurm.pl: bad job range JOB=0:3 (must be JOB=1:N with N>=1)"


def test_bad_config_lines(tmp_path, conf):
    bad = tmp_path / "bad.conf"
    bad.write_text("command sbatch\noptoin mem=* --mem $0\n")
    res = slurm_pl("--config", bad, "log/x.log", "true", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.startswith(f"slurm.pl: {bad}:2: expected 'command ...'")
    bad.write_text("command sbatch\noption max_jobs_run=* --foo $0\n")
    res = slurm_pl("--config", bad, "log/x.log", "true", cwd=tmp_path)
    assert res.returncode == 1 and "remove the 'option max_jobs_run' line" in res.stderr
    # --gpu 1 given, but the config only maps gpu=0.
    res = slurm_pl("--config", conf, "--gpu", "1", "log/x.log", "true", cwd=tmp_path)
    assert res.returncode == 1
    assert "no 'option gpu=1' or 'option gpu=*' line" in res.stderr


# --- against the cluster -----------------------------------------------------

@pytest.mark.cluster
def test_array_job_logs_and_substitution(slurm_cluster, tmp_path, conf, joblog):
    res = slurm_pl("--config", conf, "--mem", "300M", "--num-threads", "1", "JOB=1:3",
                   "exp/log/a.JOB.log", "echo", "task JOB", "|", "tr", "a-z", "A-Z", "&&",
                   "printenv", "SLURM_MEM_PER_CPU", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for i in (1, 2, 3):
        lines = joblog.check_markers(tmp_path / f"exp/log/a.{i}.log",
                                     f"echo 'task {i}' | tr a-z A-Z && printenv "
                                     "SLURM_MEM_PER_CPU", 0)
        body = [x for x in lines if not x.startswith("#")]
        assert body == [f"TASK {i}", "300"], lines  # --mem went through the config
    script = (tmp_path / "exp/log/q/a.sh").read_text()
    assert script.startswith("#!/bin/bash\n") and "SLURM_ARRAY_TASK_ID" in script
    assert sorted(p.name for p in (tmp_path / "exp/log/q").glob("a.done.*")) == [
        "a.done.1", "a.done.2", "a.done.3"]


@pytest.mark.cluster
def test_failing_task(slurm_cluster, tmp_path, conf, joblog):
    res = slurm_pl("--config", conf, "JOB=1:3", "log/f.JOB.log", "test", "JOB", "-ne", "2",
                   "||", "exit", "5", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == "slurm.pl: 1 / 3 failed, log is in log/f.2.log (exit code 5)"
    joblog.check_markers(tmp_path / "log/f.2.log", "test 2 -ne 2 || exit 5", 5)
    joblog.check_markers(tmp_path / "log/f.3.log", "test 3 -ne 2 || exit 5", 0)


@pytest.mark.cluster
def test_max_jobs_run(slurm_cluster, tmp_path, conf, joblog):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    res = slurm_pl("--config", conf, "--max-jobs-run", "1", "JOB=1:3", "log/m.JOB.log",
                   "date", "+%s.%N", ">", f"{stamps}/JOB.start", "&&", "sleep", "1", "&&",
                   "date", "+%s.%N", ">", f"{stamps}/JOB.end", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(list(stamps.glob("*.end"))) == 3
    assert joblog.overlap(stamps) == 1


# A job cancelled (scancel) or killed for time (TIMEOUT): test/faults/test_fault_jobs.py.
