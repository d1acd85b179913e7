"""Stage 1 downloads the corpus when its db.sh variable is empty (egs/emodb/sier, egs/ravdess/sier).

The recipes run in a copy of the repository (as in test_sier_recipes.py) with
``EMODB=`` / ``RAVDESS=`` and a file:// URL of an archive built here from a
generated corpus (no network). Beside the copy sits a ``shared/corpora/emodb``
that db.sh would fall back to when EMODB is unset: an explicitly empty EMODB must
download instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DB_SH = REPO / "egs" / "TEMPLATE" / "ser1" / "db.sh"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EMODB", "RAVDESS", "EMOVO", "IEMOCAP", "MSP_IMPROV", "SAVEE", "VIRTUAL_ENV")
           and not k.endswith(("_URL", "_MD5"))}
    # The copied repository has no tools/venv: path.sh then uses python3 from PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def _run(args, cwd, timeout=300, **env):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=_env(**env), timeout=timeout)


def _tail(res, n=3000) -> str:
    return res.stdout[-n:] + "\n--- stderr ---\n" + res.stderr[-n:]


def _copy_repo(root: Path, corpus: str) -> Path:
    """The template, utils/ and one recipe (links kept) under root/repo; returns the recipe dir.

    root/shared/corpora/emodb (what db.sh falls back to) is made too, holding a
    one-speaker Emo-DB that must not be used when EMODB is set to empty.
    """
    ignore = shutil.ignore_patterns("data", "dump", "exp", "db", "downloads", "RESULTS.md")
    repo = root / "repo"
    shutil.copytree(REPO / "egs" / "TEMPLATE" / "ser1", repo / "egs" / "TEMPLATE" / "ser1",
                    symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "utils", repo / "utils", symlinks=True)
    recipe = repo / "egs" / corpus / "sier"
    shutil.copytree(REPO / "egs" / corpus / "sier", recipe, symlinks=True, ignore=ignore)
    if corpus != "emodb":  # configs linked into egs/emodb/sier/conf (the ComParE MLP)
        shutil.copytree(REPO / "egs" / "emodb" / "sier" / "conf", repo / "egs" / "emodb" / "sier" / "conf", symlinks=True)
    decoy = root / "shared" / "corpora" / "emodb" / "wav"
    decoy.mkdir(parents=True)
    return recipe


def _zip_tree(src: Path, zip_path: Path) -> Path:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w") as zf:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(src).as_posix())
    return zip_path


@pytest.fixture(scope="module")
def emodb_zip(tmp_path_factory) -> Path:
    """The Emo-DB release zip's layout (wav/ at the top) of a generated corpus: 10 speakers x 14 files."""
    from espnet_ser.corpora.synth import generate_corpus

    base = tmp_path_factory.mktemp("emodb_release")
    tree = generate_corpus("emodb", base / "tree", seed=0, n_speakers=10, utts_per_speaker=14, duration=0.4)
    return _zip_tree(tree, base / "server" / "download.zip")


def test_db_sh_falls_back_to_shared_only_when_unset(tmp_path):
    recipe = _copy_repo(tmp_path, "emodb")
    show = ". ./db.sh; echo \"EMODB=[${EMODB}]\""
    unset = _run(["bash", "-c", show], recipe)
    assert unset.returncode == 0, _tail(unset)
    assert unset.stdout.strip() == f"EMODB=[{(tmp_path / 'shared' / 'corpora' / 'emodb').resolve()}]"
    empty = _run(["bash", "-c", show], recipe, EMODB="")
    assert empty.stdout.strip() == "EMODB=[]", _tail(empty)
    given = _run(["bash", "-c", show], recipe, EMODB="/data/emodb")
    assert given.stdout.strip() == "EMODB=[/data/emodb]", _tail(given)


def test_emodb_stage_1_downloads_verifies_and_prepares(tmp_path, emodb_zip):
    recipe = _copy_repo(tmp_path, "emodb")
    res = _run(["./run.sh", "--stop_stage", "1"], recipe, EMODB="", EMODB_URL=emodb_zip.as_uri())
    assert res.returncode == 0, _tail(res)
    downloads = recipe / "downloads"
    sha = hashlib.sha256(emodb_zip.read_bytes()).hexdigest()
    assert (downloads / "CHECKSUMS").read_text() == f"{sha}  emodb_download.zip\n"
    assert (downloads / "emodb" / ".done").is_file()
    wav_scp = (recipe / "data" / "all" / "wav.scp").read_text().splitlines()
    assert len(wav_scp) == 140  # every utterance of the archive
    assert all(str((downloads / "emodb" / "wav").resolve()) in line for line in wav_scp)
    assert len((recipe / "data" / "folds" / "emodb_l2so" / "protocol.json").read_text()) > 0
    # Again: the download is not repeated (the archive URL is gone) and stage 1 still works.
    res = _run(["./run.sh", "--stop_stage", "1"], recipe, EMODB="", EMODB_URL=(tmp_path / "gone.zip").as_uri())
    assert res.returncode == 0, _tail(res)
    assert "already in" in res.stderr


def test_emodb_truncated_archive_stops_stage_1_in_one_line(tmp_path, emodb_zip):
    recipe = _copy_repo(tmp_path, "emodb")
    bad = tmp_path / "server" / "download.zip"
    bad.parent.mkdir()
    data = emodb_zip.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    res = _run(["./run.sh", "--stop_stage", "1"], recipe, EMODB="", EMODB_URL=bad.as_uri())
    assert res.returncode != 0, _tail(res)
    errors = [line for line in res.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, _tail(res)
    assert "emodb_download.zip" in errors[0] and "corrupt" in errors[0] and "delete" in errors[0]
    downloads = recipe / "downloads"
    assert not (downloads / "emodb").exists() and not list(downloads.glob(".emodb.extract-*"))
    assert not (downloads / "CHECKSUMS").exists() and not (recipe / "data" / "all").exists()


def test_ravdess_stage_1_downloads_against_an_md5(tmp_path):
    from espnet_ser.corpora.synth import generate_corpus

    tree = generate_corpus("ravdess", tmp_path / "tree", seed=0, n_speakers=6, utts_per_speaker=8, duration=0.4)
    archive = _zip_tree(tree, tmp_path / "server" / "Audio_Speech_Actors_01-24.zip")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    recipe = _copy_repo(tmp_path, "ravdess")
    args = ["./run.sh", "--stop_stage", "1", "--baseline_config", "", "--protocol_opts", "--n-folds 3"]
    # The Zenodo MD5 applies to any URL: a different archive is refused, nothing extracted.
    res = _run(args, recipe, RAVDESS="", RAVDESS_URL=archive.as_uri())
    assert res.returncode != 0 and "bc696df654c87fed845eb13823edef8a" in res.stderr, _tail(res)
    assert not (recipe / "downloads" / "ravdess").exists()
    res = _run(args, recipe, RAVDESS="", RAVDESS_URL=archive.as_uri(), RAVDESS_MD5=md5)
    assert res.returncode == 0, _tail(res)
    assert len((recipe / "data" / "all" / "utt2spk").read_text().splitlines()) == 48
    assert (recipe / "downloads" / "ravdess" / ".done").read_text().startswith(f"md5 {md5}")


@pytest.mark.parametrize("var,where", [
    ("IEMOCAP", "sail.usc.edu/iemocap"),
    ("MSP_IMPROV", "MSP lab at UT Dallas"),
    ("SAVEE", "University of Surrey"),
    ("EMOVO", "no stable public download"),
])
def test_check_db_says_where_to_request_a_licensed_corpus(tmp_path, var, where):
    res = _run(["bash", "-c", f". '{DB_SH}'; check_db {var}"], tmp_path, **{var: ""})
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1 and where in res.stderr and f"{var}=/path/to/corpus" in res.stderr
