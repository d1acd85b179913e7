"""Tests of utils/queue.pl.

Two kinds: against a real (local) Grid Engine cluster (skipped, with the
reason, when gridengine is not installed or does not start), and always
against a fake qsub/qstat/qacct/qdel on PATH that runs the generated job
script itself, so the submission script and the wait logic (exit-code
markers, killed tasks, error states) are tested everywhere.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

QUEUE_PL = Path(__file__).resolve().parents[2] / "utils" / "queue.pl"


# The fake scheduler: qsub records its arguments and runs the tasks of
# "-t 1:N" one by one with SGE_TASK_ID set, except those listed in
# $FAKE/skip (a task that a real scheduler would have killed).
FAKE_QSUB = r"""#!/bin/bash
printf '%s\n' "$@" > "$FAKE/qsub.args"
script=${@: -1}
n=1
while [ $# -gt 0 ]; do
  case "$1" in -t) n=${2#1:}; shift ;; esac
  shift
done
for ((i = 1; i <= n; i++)); do
  grep -qx "$i" "$FAKE/skip" 2>/dev/null && continue
  SGE_TASK_ID=$i JOB_ID=77 bash "$script" > "$FAKE/task.$i.out" 2>&1
done
echo "77.1-$n:1"
"""
FAKE_PRINT = "#!/bin/bash\ncat \"$FAKE/{name}.txt\" 2>/dev/null\nexit 0\n"
FAKE_QDEL = "#!/bin/bash\necho \"$@\" >> \"$FAKE/qdel.called\"\n"


def queue_pl(*args, cwd, env=None, timeout=120):
    return subprocess.run([str(QUEUE_PL), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.fixture
def conf(tmp_path, cluster_confs):
    path = tmp_path / "queue.conf"
    path.write_text(cluster_confs["queue.pl"])   # test/conftest.py
    return path


@pytest.fixture
def fake(tmp_path):
    """Directory of the fake scheduler, and the environment that uses it."""
    fake_dir = tmp_path / "fake"
    bin_dir = fake_dir / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("qsub", FAKE_QSUB), ("qstat", FAKE_PRINT.format(name="qstat")),
                       ("qacct", FAKE_PRINT.format(name="qacct")), ("qdel", FAKE_QDEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = dict(os.environ, FAKE=str(fake_dir), PATH=f"{bin_dir}:{os.environ['PATH']}",
               QUEUE_PL_MARKER_GRACE="2")
    return fake_dir, env


# --- fake scheduler: submission script and wait logic --------------------------

def test_fake_array_submission_and_logs(tmp_path, conf, fake, joblog):
    fake_dir, env = fake
    res = queue_pl("--config", conf, "--mem", "2G", "--num-threads", "2", "--max-jobs-run", "2",
                   "JOB=1:3", "log/a.JOB.log", "echo", "x JOB", "|", "tr", "x", "y",
                   cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    args = (fake_dir / "qsub.args").read_text().splitlines()
    joined = " ".join(args)
    assert args[:6] == ["-v", "PATH", "-cwd", "-S", "/bin/bash", "-j"]
    for flags in ("-l mem_free=2G", "-pe smp 2", "-tc 2", "-t 1:3", "-N a",
                  f"-o log/q/a.$TASK_ID.out"):
        assert flags in joined, (flags, joined)
    assert args[-1] == "log/q/a.sh"
    for i in (1, 2, 3):
        lines = joblog.check_markers(tmp_path / f"log/a.{i}.log", f"echo 'x {i}' | tr x y", 0)
        assert f"y {i}" in lines and lines[-2].endswith("threads=2")


def test_fake_failing_task(tmp_path, conf, fake):
    _, env = fake
    res = queue_pl("--config", conf, "JOB=1:3", "log/f.JOB.log", "exit", "JOB", "\\>", "x",
                   cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert res.stderr.startswith("queue.pl: 3 / 3 failed, log is in log/f.1.log (exit code 1)")


def test_fake_killed_task_from_qacct(tmp_path, conf, fake):
    fake_dir, env = fake
    (fake_dir / "skip").write_text("2\n")
    (fake_dir / "qacct.txt").write_text(
        "==============================================================\n"
        "qname        all.q\njobnumber    77\ntaskid       2\n"
        "failed       100 : assumedly after job\nexit_status  137                  (Killed)\n")
    res = queue_pl("--config", conf, "JOB=1:3", "log/k.JOB.log", "true", cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert res.stderr.startswith("queue.pl: 1 / 3 failed, log is in log/k.2.log (killed by "
                                 "Grid Engine: failed=100 : assumedly after job, "
                                 "exit_status=137"), res.stderr
    assert "Grid Engine job 77.2" in res.stderr


def test_fake_vanished_task(tmp_path, conf, fake):
    fake_dir, env = fake
    (fake_dir / "skip").write_text("1\n")
    res = queue_pl("--config", conf, "log/v.log", "true", cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert "vanished from the queue without writing its exit code" in res.stderr


def test_fake_error_state_is_reported_and_deleted(tmp_path, conf, fake):
    fake_dir, env = fake
    (fake_dir / "skip").write_text("2\n")
    (fake_dir / "qstat.txt").write_text(
        "job-ID  prior   name  user  state submit/start at     queue  slots ja-task-ID\n"
        "-------------------------------------------------------------------------\n"
        "     77 0.50000 e     root  Eqw   11/22/2026 01:12:33         1 2\n")
    res = queue_pl("--config", conf, "JOB=1:2", "log/e.JOB.log", "true", cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert "log is in log/e.2.log (Grid Engine error state Eqw" in res.stderr
    assert (fake_dir / "qdel.called").read_text().split() == ["77"]


def test_submission_failure_is_one_line(tmp_path, conf, fake):
    _, env = fake
    bad = tmp_path / "bad.conf"
    bad.write_text("command false\n")
    res = queue_pl("--config", bad, "log/s.log", "true", cwd=tmp_path, env=env)
    assert res.returncode == 1
    assert res.stderr.startswith("queue.pl: submission failed: false ")
    assert len(res.stderr.splitlines()) == 1


# --- real Grid Engine --------------------------------------------------------

@pytest.mark.cluster
def test_array_job(sge_cluster, tmp_path, conf, joblog):
    res = queue_pl("--config", conf, "--num-threads", "2", "JOB=1:3", "log/r.JOB.log", "echo",
                   "task JOB", "&&", "printenv", "NSLOTS", cwd=tmp_path, env=sge_cluster)
    assert res.returncode == 0, res.stderr
    for i in (1, 2, 3):
        lines = joblog.check_markers(tmp_path / f"log/r.{i}.log",
                                     f"echo 'task {i}' && printenv NSLOTS", 0)
        assert [x for x in lines if not x.startswith("#")] == [f"task {i}", "2"]


@pytest.mark.cluster
def test_failing_job(sge_cluster, tmp_path, conf, joblog):
    res = queue_pl("--config", conf, "JOB=1:2", "log/f.JOB.log", "test", "JOB", "=", "1",
                   cwd=tmp_path, env=sge_cluster)
    assert res.returncode == 1
    assert res.stderr.strip() == "queue.pl: 1 / 2 failed, log is in log/f.2.log (exit code 1)"
    joblog.check_markers(tmp_path / "log/f.2.log", "test 2 = 1", 1)


@pytest.mark.cluster
def test_max_jobs_run(sge_cluster, tmp_path, conf, joblog):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    res = queue_pl("--config", conf, "--max-jobs-run", "1", "JOB=1:2", "log/m.JOB.log",
                   "date", "+%s.%N", ">", f"{stamps}/JOB.start", "&&", "sleep", "1", "&&",
                   "date", "+%s.%N", ">", f"{stamps}/JOB.end", cwd=tmp_path, env=sge_cluster)
    assert res.returncode == 0, res.stderr
    assert joblog.overlap(stamps) == 1


@pytest.mark.cluster
def test_qdel_is_reported(sge_cluster, tmp_path, conf):
    proc = subprocess.Popen([str(QUEUE_PL), "--config", str(conf), "JOB=1:2", "log/k.JOB.log",
                             "sleep", "120"], cwd=tmp_path, env=sge_cluster, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        job = None
        for _ in range(60):  # wait until both tasks run, then kill them
            time.sleep(0.5)
            logs = list((tmp_path / "log").glob("k.*.log"))
            out = subprocess.run("qstat -u '*' | awk '$3 == \"k\" && $5 == \"r\" {print $1}'",
                                 shell=True, capture_output=True, text=True,
                                 env=sge_cluster).stdout.split()
            if len(logs) == 2 and len(out) == 2:
                job = out[0]
                break
        assert job, "queue.pl's tasks did not start within 30 s"
        subprocess.run(["qdel", job], check=True, capture_output=True, env=sge_cluster)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
    assert proc.returncode == 1
    assert err.startswith("queue.pl: 2 / 2 failed, log is in log/k.1.log (killed by Grid "
                          "Engine"), err
    assert "exit_status=137" in err
    log = (tmp_path / "log/k.1.log").read_text()
    assert "# Ended" not in log and "failed: killed by Grid Engine" in log
