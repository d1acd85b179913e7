"""Fixtures shared by the tests: the job layer (utils/*.pl) and the clusters.

Here (not in test/utils/) so that test/utils and the fault matrix (test/faults) both
get the cluster fixtures and the job-log helpers.

The cluster fixtures use the real schedulers: they call
``.ci/start_clusters.sh`` when the daemons are not up (so a plain ``pytest``
works as root in CI), and skip with the reason only when the Debian packages
are missing or the cluster cannot be started within about a minute.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UTILS = REPO / "utils"
START = REPO / ".ci" / "start_clusters.sh"
PACKAGES = REPO / ".ci" / "apt_packages.txt"
SGE_ENV = {"SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default"}


# slurm.pl / queue.pl configs whose flags any local (loopback) cluster accepts.
CLUSTER_CONFS = {
    "slurm.pl": """command sbatch --export=PATH --ntasks=1
option mem=* --mem-per-cpu $0
option mem=0
option num_threads=* --cpus-per-task $0
option num_threads=1 --cpus-per-task 1
option time=* --time $0
option gpu=0
default gpu=0
""",
    "queue.pl": """command qsub -v PATH -cwd -S /bin/bash -j y
option mem=* -l mem_free=$0
option mem=0
option num_threads=* -pe smp $0
option num_threads=1
option max_jobs_run=* -tc $0
option time=* -l h_rt=$0
""",
}


@pytest.fixture(scope="session")
def cluster_confs():
    """``{runner: config text}`` of slurm.pl and queue.pl for the local clusters."""
    return dict(CLUSTER_CONFS)


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: needs a real Slurm or Grid Engine cluster")
    config.addinivalue_line("markers", "slow: takes more than ~10 s")


def _install_hint():
    pkgs = " ".join(PACKAGES.read_text().split()) if PACKAGES.exists() else ""
    return f"apt-get install {pkgs}"


def _ok(cmd, env=None):
    try:
        res = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20,
                             env=env)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    return res.returncode == 0, res.stdout + res.stderr


def _start(which, is_up, env=None):
    """Return None when the cluster is up (starting it if needed), else a reason."""
    if is_up():
        return None
    if os.geteuid() != 0:
        return f"{which} is not running and starting it needs root (run {START} as root)"
    try:
        res = subprocess.run([str(START), which], capture_output=True, text=True, timeout=60,
                             env=env)
    except subprocess.TimeoutExpired:
        return f"{START} {which} did not finish within 60 s"
    if res.returncode != 0 or not is_up():
        tail = " | ".join((res.stdout + res.stderr).strip().splitlines()[-3:])
        return f"{START} {which} could not start it: {tail}"
    return None


@pytest.fixture(scope="session")
def slurm_cluster():
    """A live Slurm cluster (the local one of .ci/start_clusters.sh or a real one)."""
    if not (shutil.which("sbatch") and shutil.which("slurmctld") and shutil.which("munged")):
        pytest.skip(f"Slurm not installed ({_install_hint()})")

    def is_up():
        ok, out = _ok("sinfo -h -o %T")
        return ok and any(s.rstrip("*") in ("idle", "mixed", "allocated")
                          for s in out.split())

    reason = _start("slurm", is_up)
    if reason:
        pytest.skip(f"Slurm cluster unavailable: {reason}")
    return True


@pytest.fixture(scope="session")
def sge_env():
    """Environment for Grid Engine commands, with SGE_ROOT/SGE_CELL set."""
    env = dict(os.environ)
    for key, value in SGE_ENV.items():
        env.setdefault(key, value)
    return env


@pytest.fixture(scope="session")
def sge_cluster(sge_env):
    """A live Grid Engine cluster; yields the environment to run queue.pl in."""
    if not (shutil.which("qsub") and Path("/usr/sbin/sge_qmaster").exists()):
        pytest.skip("Grid Engine not installed, so only the fake-scheduler tests of queue.pl "
                    f"ran (submission script and wait logic) ({_install_hint()})")

    def is_up():
        # A dead execd leaves its queue instance listed in state "u": not up.
        ok, out = _ok("qstat -f", env=sge_env)
        alive, _ = _ok("pgrep -x sge_execd")
        instances = [line.split() for line in out.splitlines() if line.startswith("all.q@")]
        return ok and alive and any(
            len(f) >= 5 and f[4].startswith("lx-") and "u" not in (f[5] if len(f) > 5 else "")
            for f in instances
        )

    reason = _start("sge", is_up, env=sge_env)
    if reason:
        pytest.skip("Grid Engine unavailable, so only the fake-scheduler tests of queue.pl "
                    f"ran (submission script and wait logic): {reason}")
    return sge_env


def check_markers(path, command, code):
    """Assert the run.pl log markers: command, start, accounting, end with code."""
    lines = Path(path).read_text().splitlines()
    assert lines[0] == f"# {command}", lines
    assert lines[1].startswith("# Started at "), lines
    assert lines[-2].startswith("# Accounting: time="), lines
    assert lines[-2].split()[-1].startswith("threads="), lines
    assert lines[-1].startswith(f"# Ended (code {code}) at "), lines
    return lines


def overlap(stamp_dir):
    """Largest number of jobs running at once, from <i>.start/<i>.end files."""
    events = []
    for start in Path(stamp_dir).glob("*.start"):
        end = start.with_suffix(".end")
        events.append((float(start.read_text()), 1))
        events.append((float(end.read_text()), -1))
    assert events, f"no timestamp files in {stamp_dir}"
    events.sort(key=lambda e: (e[0], e[1]))
    now = most = 0
    for _, delta in events:
        now += delta
        most = max(most, now)
    return most


class _JobLogTools:
    """Helpers handed to the tests through the ``joblog`` fixture."""

    check_markers = staticmethod(check_markers)
    overlap = staticmethod(overlap)


@pytest.fixture
def joblog():
    """Helpers to check job logs and measure job overlap."""
    return _JobLogTools
