"""espnet_ser.corpora.download and bin/download_corpus: fetch, verify, extract (no network).

Archives are built here from generated corpora (espnet_ser.corpora.synth) and
served through file:// URLs; the http(s) resume logic runs against a fake
``urlopen`` (no socket is opened).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import urllib.error
import zipfile
from pathlib import Path

import pytest

from espnet_ser.bin import download_corpus as cli
from espnet_ser.corpora import download as dl
from espnet_ser.corpora.download import DownloadError, download_corpus, download_emodb, download_ravdess
from espnet_ser.corpora.synth import generate_corpus


def _zip_tree(root: Path, zip_path: Path, prefix: str = "", stored: bool = False) -> Path:
    """Zips every file under root, with member names prefix + path relative to root."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(zip_path, "w", method) as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            zf.write(path, prefix + path.relative_to(root).as_posix())
    return zip_path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_leftovers(d: Path, corpus: str) -> None:
    assert not (d / corpus).exists(), sorted(p.name for p in d.iterdir())
    assert not list(d.glob(f".{corpus}.extract-*")), sorted(p.name for p in d.iterdir())


@pytest.fixture(scope="module")
def emodb_src(tmp_path_factory) -> Path:
    """A generated Emo-DB tree (10 speakers x 2 files), as the release zip holds it."""
    return generate_corpus("emodb", tmp_path_factory.mktemp("src") / "emodb", seed=0,
                           n_speakers=10, utts_per_speaker=2, duration=0.4)


@pytest.fixture
def emodb_zip(tmp_path, emodb_src) -> Path:
    # The real download.zip holds wav/, lablaut/, ... at its top level.
    (tmp_path / "server").mkdir()
    return _zip_tree(emodb_src, tmp_path / "server" / "download.zip")


def test_emodb_download_records_sha256_and_is_idempotent(tmp_path, emodb_src, emodb_zip):
    d = tmp_path / "downloads"
    root = download_emodb(d, url=emodb_zip.as_uri())
    assert root == d / "emodb"
    wavs = sorted(p.name for p in (root / "wav").iterdir())
    assert wavs == sorted(p.name for p in (emodb_src / "wav").iterdir()) and len(wavs) == 20
    assert (root / "wav" / wavs[0]).read_bytes() == (emodb_src / "wav" / wavs[0]).read_bytes()
    sha = _sha256(emodb_zip)
    assert (d / "CHECKSUMS").read_text() == f"{sha}  emodb_download.zip\n"
    assert (root / ".done").read_text() == f"sha256 {sha}  emodb_download.zip\n"
    assert (d / "emodb_download.zip").read_bytes() == emodb_zip.read_bytes()
    assert not list(d.glob("*.part")) and not list(d.glob(".emodb.extract-*"))
    # The folder is readable by others, like any extracted corpus (not mkdtemp's 0700).
    assert root.stat().st_mode & 0o055 == 0o055 & ~_umask()
    # Second run: the marker is there, nothing is fetched (the source and the archive are gone).
    emodb_zip.unlink()
    (d / "emodb_download.zip").unlink()
    assert download_emodb(d, url=emodb_zip.as_uri()) == root


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_emodb_is_prepared_from_the_download(tmp_path, emodb_zip):
    from espnet_ser.corpora import prepare_emodb

    root = download_emodb(tmp_path / "downloads", url=emodb_zip.as_uri())
    result = prepare_emodb(root, tmp_path / "data" / "all")
    assert result.num_utts == 20


def test_changed_archive_at_the_same_url_is_a_mismatch(tmp_path, emodb_src, emodb_zip):
    d = tmp_path / "downloads"
    download_emodb(d, url=emodb_zip.as_uri())
    recorded = (d / "CHECKSUMS").read_text()
    # The user deleted the corpus and its archive; the server now has other bytes.
    shutil.rmtree(d / "emodb")
    (d / "emodb_download.zip").unlink()
    with zipfile.ZipFile(emodb_zip, "a") as zf:
        zf.writestr("extra.txt", "changed")
    with pytest.raises(DownloadError) as err:
        download_emodb(d, url=emodb_zip.as_uri())
    msg = str(err.value)
    assert "\n" not in msg
    assert "emodb_download.zip" in msg and _sha256(emodb_zip) in msg and "CHECKSUMS" in msg
    assert "delete" in msg and "rerun" in msg
    _no_leftovers(d, "emodb")
    assert (d / "CHECKSUMS").read_text() == recorded  # the reference is not overwritten
    # A rerun keeps failing on the same file until the user acts; deleting its line accepts it.
    with pytest.raises(DownloadError, match="does not match"):
        download_emodb(d, url=emodb_zip.as_uri())
    (d / "CHECKSUMS").write_text("")
    assert (download_emodb(d, url=emodb_zip.as_uri()) / "extra.txt").is_file()


@pytest.mark.parametrize("damage", ["truncated", "bad_crc"])
def test_corrupt_archive_is_one_line_and_leaves_nothing_extracted(tmp_path, emodb_src, damage):
    (tmp_path / "server").mkdir()
    src = _zip_tree(emodb_src, tmp_path / "server" / "download.zip", stored=True)
    data = bytearray(src.read_bytes())
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    else:  # one byte of audio flipped in the middle: the zip opens, a member fails its CRC
        data[len(data) // 2] ^= 0xFF
    src.write_bytes(bytes(data))
    d = tmp_path / "downloads"
    with pytest.raises(DownloadError) as err:
        download_emodb(d, url=src.as_uri())
    msg = str(err.value)
    assert "\n" not in msg and "emodb_download.zip" in msg
    assert "corrupt" in msg and "delete" in msg and "rerun" in msg
    _no_leftovers(d, "emodb")
    assert not (d / "CHECKSUMS").exists()  # a bad first download never becomes the reference


@pytest.fixture(scope="module")
def ravdess_src(tmp_path_factory) -> Path:
    return generate_corpus("ravdess", tmp_path_factory.mktemp("src") / "ravdess", seed=0,
                           n_speakers=2, utts_per_speaker=2, duration=0.4)


@pytest.mark.parametrize("layout", ["release_folder", "actors_at_top"])
def test_ravdess_checked_against_the_md5(tmp_path, ravdess_src, layout):
    from espnet_ser.corpora import prepare_ravdess

    (tmp_path / "server").mkdir()
    if layout == "release_folder":  # Audio_Speech_Actors_01-24/Actor_01/...
        src = _zip_tree(ravdess_src, tmp_path / "server" / "a.zip")
    else:  # Actor_01/... at the top
        src = _zip_tree(ravdess_src / "Audio_Speech_Actors_01-24", tmp_path / "server" / "a.zip")
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    d = tmp_path / "downloads"
    root = download_ravdess(d, url=src.as_uri(), md5=md5)
    assert (root / "Actor_01").is_dir() or (root / "Audio_Speech_Actors_01-24" / "Actor_01").is_dir()
    assert (d / "ravdess" / ".done").read_text() == f"md5 {md5}  Audio_Speech_Actors_01-24.zip\n"
    assert not (d / "CHECKSUMS").exists()  # a published checksum needs no recorded one
    assert prepare_ravdess(root, tmp_path / "data").num_utts == 4


def test_ravdess_wrong_md5_is_not_extracted(tmp_path, ravdess_src):
    (tmp_path / "server").mkdir()
    src = _zip_tree(ravdess_src, tmp_path / "server" / "a.zip")
    d = tmp_path / "downloads"
    with pytest.raises(DownloadError) as err:
        download_ravdess(d, url=src.as_uri(), md5="0" * 32)
    msg = str(err.value)
    assert "\n" not in msg and "Audio_Speech_Actors_01-24.zip" in msg and "0" * 32 in msg
    assert hashlib.md5(src.read_bytes()).hexdigest() in msg and "delete" in msg
    _no_leftovers(d, "ravdess")
    # Without an override the MD5 published on Zenodo applies, to any URL.
    (d / "Audio_Speech_Actors_01-24.zip").unlink()
    with pytest.raises(DownloadError, match="bc696df654c87fed845eb13823edef8a.*Zenodo"):
        download_ravdess(d, url=src.as_uri())
    _no_leftovers(d, "ravdess")


def test_file_url_resume_seeks(tmp_path, emodb_zip, caplog):
    data = emodb_zip.read_bytes()
    dest = tmp_path / "out.zip"
    # A .part that is not a prefix of the file shows that only the rest was copied.
    (tmp_path / "out.zip.part").write_bytes(b"X" * 1000)
    dl.fetch(emodb_zip.as_uri(), dest)
    assert dest.read_bytes() == b"X" * 1000 + data[1000:]
    # Through download_corpus: an interrupted download resumes and gives the same archive.
    d = tmp_path / "downloads"
    d.mkdir()
    (d / "emodb_download.zip.part").write_bytes(data[: len(data) // 3])
    with caplog.at_level("INFO", logger="espnet_ser.corpora.download"):
        root = download_emodb(d, url=emodb_zip.as_uri())
    assert f"at byte {len(data) // 3}" in caplog.text
    assert (d / "emodb_download.zip").read_bytes() == data
    assert not (d / "emodb_download.zip.part").exists() and (root / "wav").is_dir()
    # A .part longer than the file cannot be a prefix: fetched again from the start.
    (tmp_path / "long.zip.part").write_bytes(b"Y" * (len(data) + 10))
    dl.fetch(emodb_zip.as_uri(), tmp_path / "long.zip")
    assert (tmp_path / "long.zip").read_bytes() == data


class _FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, status: int, headers: dict):
        super().__init__(body)
        self.status = status
        self.headers = headers

    def getcode(self):
        return self.status


class _FakeServer:
    """Stands in for urllib.request.urlopen; records the Range headers it was sent."""

    def __init__(self, data: bytes, ranges: bool = True, cut: int = 0):
        self.data, self.ranges, self.cut, self.requests = data, ranges, cut, []

    def __call__(self, req, timeout=None):
        rng = req.get_header("Range")
        self.requests.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng and self.ranges else 0
        if start >= len(self.data):
            raise urllib.error.HTTPError(req.full_url, 416, "Range Not Satisfiable", {}, None)
        body = self.data[start:]
        headers = {"Content-Length": str(len(body))}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"
        if self.cut:  # the connection drops: fewer bytes than announced
            body, self.cut = body[: self.cut], 0
        return _FakeResponse(body, 206 if start else 200, headers)


@pytest.mark.parametrize("ranges", [True, False])
def test_http_resume_with_range_or_from_the_start(tmp_path, monkeypatch, ranges):
    data = os.urandom(300_000)
    server = _FakeServer(data, ranges=ranges)
    monkeypatch.setattr(dl.urllib.request, "urlopen", server)
    dest = tmp_path / "a.zip"
    (tmp_path / "a.zip.part").write_bytes(data[:1234])
    dl.fetch("https://example.org/a.zip", dest)
    assert server.requests == ["bytes=1234-"]
    assert dest.read_bytes() == data  # 206: appended; 200: written again from the start


def test_http_416_for_a_part_longer_than_the_file_starts_again(tmp_path, monkeypatch):
    data = os.urandom(10_000)
    server = _FakeServer(data)
    monkeypatch.setattr(dl.urllib.request, "urlopen", server)
    (tmp_path / "a.zip.part").write_bytes(b"Z" * 20_000)
    dl.fetch("https://example.org/a.zip", tmp_path / "a.zip")
    assert server.requests == ["bytes=20000-", None] and (tmp_path / "a.zip").read_bytes() == data


def test_http_short_read_keeps_the_part_for_the_next_run(tmp_path, monkeypatch):
    data = os.urandom(200_000)
    server = _FakeServer(data, cut=50_000)
    monkeypatch.setattr(dl.urllib.request, "urlopen", server)
    dest = tmp_path / "a.zip"
    with pytest.raises(DownloadError, match=r"incomplete: 50000 of 200000 bytes; rerun to resume"):
        dl.fetch("https://example.org/a.zip", dest)
    assert (tmp_path / "a.zip.part").stat().st_size == 50_000 and not dest.exists()
    dl.fetch("https://example.org/a.zip", dest)
    assert server.requests == [None, "bytes=50000-"] and dest.read_bytes() == data


def test_http_error_is_one_line(tmp_path, monkeypatch):
    def refuse(req, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(dl.urllib.request, "urlopen", refuse)
    with pytest.raises(DownloadError, match="cannot download https://example.org/a.zip: Name or service"):
        dl.fetch("https://example.org/a.zip", tmp_path / "a.zip")


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "wav/../../evil.txt"])
def test_unsafe_zip_members_are_refused(tmp_path, member):
    (tmp_path / "server").mkdir()
    src = tmp_path / "server" / "download.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("wav/03a01Fa.wav", b"RIFF")
        zf.writestr(member, b"evil")
    d = tmp_path / "dl" / "downloads"
    with pytest.raises(DownloadError, match="refusing to extract member"):
        download_emodb(d, url=src.as_uri())
    _no_leftovers(d, "emodb")
    assert not list(tmp_path.rglob("evil.txt"))


def test_archive_without_the_corpus_layout(tmp_path):
    (tmp_path / "server").mkdir()
    src = tmp_path / "server" / "download.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("index.html", b"<html>moved</html>")
    d = tmp_path / "downloads"
    with pytest.raises(DownloadError, match=r"holds no wav .*found: index.html"):
        download_emodb(d, url=src.as_uri())
    _no_leftovers(d, "emodb")


@pytest.mark.parametrize("corpus,var,where", [
    ("iemocap", "IEMOCAP", "sail.usc.edu/iemocap"),
    ("msp_improv", "MSP_IMPROV", "MSP lab at UT Dallas"),
    ("savee", "SAVEE", "University of Surrey"),
    ("emovo", "EMOVO", "no stable public download URL"),
])
def test_corpora_without_a_free_download_say_where_to_get_them(tmp_path, corpus, var, where):
    with pytest.raises(DownloadError) as err:
        download_corpus(corpus, tmp_path / "downloads")
    assert where in str(err.value) and f"{var}=/path/to/" in str(err.value)
    assert not (tmp_path / "downloads").exists()


def test_cli_prints_the_root_last_and_reads_the_url_variable(tmp_path, emodb_zip, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMODB_URL", emodb_zip.as_uri())
    assert cli.main(["--corpus", "emodb", "--download-dir", "downloads"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [str((tmp_path / "downloads" / "emodb").resolve())]
    # No free download: one line on stderr, exit 1.
    assert cli.main(["--corpus", "iemocap", "--download-dir", "downloads"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("download_corpus.py: error: IEMOCAP needs a licence")


def test_cli_md5_from_the_environment_and_none(tmp_path, ravdess_src, monkeypatch, capsys):
    (tmp_path / "server").mkdir()
    src = _zip_tree(ravdess_src, tmp_path / "server" / "a.zip")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAVDESS_URL", src.as_uri())
    monkeypatch.setenv("RAVDESS_MD5", "f" * 32)
    assert cli.main(["--corpus", "ravdess"]) == 1
    assert "f" * 32 in capsys.readouterr().err
    # --md5 none: the recorded SHA-256 instead of the published MD5.
    assert cli.main(["--corpus", "ravdess", "--md5", "none"]) == 0
    assert (tmp_path / "downloads" / "CHECKSUMS").read_text() == f"{_sha256(src)}  Audio_Speech_Actors_01-24.zip\n"


def test_checksums_file_format(tmp_path):
    path = tmp_path / "CHECKSUMS"
    dl.record_checksum(path, "b.zip", "b" * 64)
    dl.record_checksum(path, "a.zip", "a" * 64)
    dl.record_checksum(path, "b.zip", "c" * 64)
    assert path.read_text() == f"{'a' * 64}  a.zip\n{'c' * 64}  b.zip\n"
    path.write_text("not a checksum line\n")
    with pytest.raises(DownloadError, match=r"CHECKSUMS:1: not a '<sha256>  <file name>' line"):
        dl.read_checksums(path)
