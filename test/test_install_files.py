"""The files an install reads name registry versions only (no machine's local paths).

A requirements line such as ``espnet @ file:///tmp/espdl/espnet-202511-py3-none-any.whl``
installs only on the machine that had that wheel; CI stayed green while every
fresh clone failed.  This test reads every tracked requirement or configuration
file and fails on a file URL or an absolute path of a developer machine.
"""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Tracked files that an install or a recipe reads as configuration.
CONFIG_SUFFIXES = {".txt", ".yaml", ".yml", ".conf", ".cfg", ".ini", ".toml", ".json"}
CONFIG_NAMES = {"setup.py", "install.sh", "path.sh", "db.sh", "cmd.sh", "run"}

#: A file URL, or an absolute path under a directory that only one machine has.
LOCAL_PATH = re.compile(r"file:/|(?<![\w.$}\-])/(?:tmp|home|root|work|Users|mnt|scratch)/")


def local_paths(text: str):
    """Return ``(line_number, line)`` for every line naming a local path or file URL."""
    return [(i, line) for i, line in enumerate(text.splitlines(), 1)
            if not line.lstrip().startswith("#") and LOCAL_PATH.search(line)]


def tracked_config_files():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the list of tracked files is unknown")
    files = []
    for rel in out:
        p = Path(rel)
        if p.parts[0] == "test":
            continue  # tests build their own temporary paths
        if p.suffix in CONFIG_SUFFIXES or p.name in CONFIG_NAMES:
            files.append(ROOT / p)
    return files


def test_old_requirements_line_is_caught():
    old = ("espnet==202511\n"
           "espnet @ file:///tmp/espdl/espnet-202511-py3-none-any.whl#sha256=4777fd8a\n")
    assert [n for n, _ in local_paths(old)] == [2]
    assert local_paths("x @ file:/home/me/x.whl\n")
    assert local_paths("stats_file: /work/main/egs/x/stats.npz\n")
    assert local_paths("cache: /root/.cache/x\n")
    # Registry pins, relative paths and shell variables are fine.
    assert not local_paths("kaldiio==2.18.1\nstats_file: dump/fold1/stats.npz\n"
                           "dir=${TMPDIR:-/tmp}/x\n")


def test_requirements_pin_registry_versions_only():
    req = ROOT / "tools" / "requirements.txt"
    for n, line in enumerate(req.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line), (
            f"{req}:{n}: '{line}' is not a registry pin 'name==version'")


def test_no_local_paths_in_tracked_configs():
    files = tracked_config_files()
    assert any(f.name == "requirements.txt" for f in files)
    bad = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
           for f in files if f.is_file() for n, line in local_paths(f.read_text(errors="replace"))]
    assert not bad, "local paths or file URLs in tracked configuration:\n" + "\n".join(bad)
