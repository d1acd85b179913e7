"""Download the emotion corpora that are free to download (lhotse-style ``download_<corpus>``).

Stage 1 of a recipe calls this (through ``python -m espnet_ser.bin.download_corpus``)
when the corpus variable of ``db.sh`` is empty. One table, :data:`SOURCES`, says
for each corpus where its release archive is, which checksum the publisher gives
for it, and which entries mark the corpus root inside the archive:

========== ======================================================== ================
corpus     archive                                                  checksum
========== ======================================================== ================
emodb      Emo-DB release zip (emodb.bilderbar.info)                SHA-256 recorded
ravdess    ``Audio_Speech_Actors_01-24.zip`` (Zenodo record 1188976) published MD5
tess       whole-dataset zip of doi:10.5683/SP2/E8H2MF (Borealis)   SHA-256 recorded
========== ======================================================== ================

EMOVO has no stable public URL, and IEMOCAP, MSP-IMPROV and SAVEE need a
licence or a registration: for those :func:`download_corpus` raises
:class:`DownloadError` with one line saying where to get the corpus and which
``db.sh`` variable to set (unless a URL of a copy you have is given).

What one download does, in ``download_dir`` (a recipe's ``downloads/``):

1. fetch the archive into ``<archive>.part``, resuming a partial file (http(s):
   a ``Range`` request, used when the server answers 206, otherwise the file is
   fetched again from the start; ``file://``: by seeking), then rename it to
   ``<archive>``;
2. verify it: against the published MD5 when there is one; otherwise against
   the SHA-256 recorded in ``CHECKSUMS`` (``sha256sum`` format) at the first
   download, which is recorded once the archive has extracted cleanly;
3. extract it into a temporary folder beside the target (zip members with an
   absolute path or ``..`` are refused), check that the corpus root is there,
   write ``.done`` (the archive's checksum) and rename the folder to
   ``<corpus>/``. A corrupt or truncated archive, or a checksum mismatch, raises
   :class:`DownloadError` (one line: the file, what was expected, the fix) and
   leaves no extracted folder.

A later call finds ``<corpus>/.done`` and returns at once, without network.

Example:
    >>> from espnet_ser.corpora.download import download_emodb
    >>> root = download_emodb("downloads")  # doctest: +SKIP
    >>> sorted(p.name for p in (root / "wav").iterdir())[:1]  # doctest: +SKIP
    ['03a01Fa.wav']
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Dict, Optional, Tuple, Union

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

CHECKSUMS_NAME = "CHECKSUMS"
DONE_NAME = ".done"
_CHUNK = 1 << 20
_TIMEOUT_S = 60
_USER_AGENT = "espnet_ser-download/1 (Python urllib)"


class DownloadError(RuntimeError):
    """A download, verification or extraction failed; the message is one line with the fix."""


@dataclasses.dataclass(frozen=True)
class CorpusSource:
    """Where a corpus comes from.

    Attributes:
        corpus: corpus name (as in ``espnet_ser.corpora.CORPORA``).
        title: human-readable name.
        db_var: the ``db.sh`` variable naming the corpus folder; ``<db_var>_URL``
            and ``<db_var>_MD5`` override :attr:`url` and :attr:`md5` in the CLI.
        url: the release archive, or ``None`` when there is no free download.
        archive: file name of the archive in the download folder.
        md5: checksum published with the release (lower-case hex), or ``None``.
        markers: entries, one of which the corpus root holds (the same ones
            ``check_db`` in ``db.sh`` looks for); empty: the extracted folder is
            the root.
        origin: where the URL and checksum come from (for messages).
        request: for corpora without a free download: where to request them.
    """

    corpus: str
    title: str
    db_var: str
    url: Optional[str]
    archive: str
    md5: Optional[str] = None
    markers: Tuple[str, ...] = ()
    origin: str = ""
    request: str = ""


SOURCES: Dict[str, CorpusSource] = {
    s.corpus: s for s in (
        CorpusSource(
            "emodb", "Emo-DB", "EMODB", "http://emodb.bilderbar.info/download/download.zip",
            "emodb_download.zip", None, ("wav",),
            origin="http://emodb.bilderbar.info (Burkhardt et al., Interspeech 2005)"),
        CorpusSource(
            "ravdess", "RAVDESS speech", "RAVDESS",
            "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1",
            "Audio_Speech_Actors_01-24.zip", "bc696df654c87fed845eb13823edef8a",
            ("Actor_01", "Audio_Speech_Actors_01-24"),
            origin="Zenodo record 1188976 (Livingstone and Russo, PLoS ONE 2018)"),
        CorpusSource(
            "tess", "TESS", "TESS",
            "https://borealisdata.ca/api/access/dataset/:persistentId/?persistentId=doi:10.5683/SP2/E8H2MF",
            "tess_dataverse_files.zip", None, (),
            origin="Borealis (University of Toronto Dataverse), doi:10.5683/SP2/E8H2MF"),
        CorpusSource(
            "emovo", "EMOVO", "EMOVO", None, "emovo.zip", None, ("f1",),
            request="EMOVO (Costantini et al., LREC 2014) has no stable public download URL: "
                    "ask its authors (Fondazione Ugo Bordoni, Rome) for a copy and set "
                    "EMOVO=/path/to/EMOVO (db.sh or the environment), or give the URL of an "
                    "archive you have (--url / EMOVO_URL)"),
        CorpusSource(
            "iemocap", "IEMOCAP", "IEMOCAP", None, "iemocap.tar.gz", None, ("Session1",),
            request="IEMOCAP needs a licence: request it with the release form at "
                    "https://sail.usc.edu/iemocap/ and set IEMOCAP=/path/to/IEMOCAP_full_release "
                    "(db.sh or the environment)"),
        CorpusSource(
            "msp_improv", "MSP-IMPROV", "MSP_IMPROV", None, "msp_improv.zip", None,
            ("Evaluation.txt", "Evalution.txt"),
            request="MSP-IMPROV needs an academic licence from the MSP lab at UT Dallas "
                    "(https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Improv.html): "
                    "request it there and set MSP_IMPROV=/path/to/MSP-IMPROV (db.sh or the environment)"),
        CorpusSource(
            "savee", "SAVEE", "SAVEE", None, "savee.zip", None, ("AudioData", "DC_a01.wav"),
            request="SAVEE needs a registration with the University of Surrey "
                    "(http://kahlan.eps.surrey.ac.uk/savee/): register there and set "
                    "SAVEE=/path/to/SAVEE (db.sh or the environment)"),
    )
}

_PUBLISHED = object()  # md5 default: the checksum published for the corpus


def get_source(corpus: str) -> CorpusSource:
    """Returns the :class:`CorpusSource` of ``corpus`` (``msp-improv`` = ``msp_improv``).

    Raises:
        DownloadError: unknown corpus; the message lists the choices.
    """
    key = corpus.strip().lower().replace("-", "_")
    if key not in SOURCES:
        raise DownloadError(f"unknown corpus {corpus!r}; choose one of: {', '.join(sorted(SOURCES))}")
    return SOURCES[key]


# ---------------------------------------------------------------- checksums


def file_digest(path: PathLike, algorithm: str = "sha256") -> str:
    """Returns the hex digest (``sha256`` or ``md5``) of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checksums(path: PathLike) -> Dict[str, str]:
    """Reads a ``sha256sum``-format file (``<hex>  <name>`` per line) as name -> hex."""
    out: Dict[str, str] = {}
    path = Path(path)
    if not path.is_file():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line.strip())
        if not m:
            raise DownloadError(f"{path}:{n}: not a '<sha256>  <file name>' line: {line.strip()!r} "
                                f"(fix or delete that line)")
        out[m.group(2)] = m.group(1).lower()
    return out


def record_checksum(path: PathLike, name: str, sha256: str) -> None:
    """Adds (or replaces) the line ``<sha256>  <name>`` of a ``CHECKSUMS`` file, atomically."""
    path = Path(path)
    sums = read_checksums(path)
    sums[name] = sha256
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{h}  {n}\n" for n, h in sorted(sums.items())), encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- fetching


def _file_url_path(url: str) -> Path:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(f"{url}: a file:// URL must name a local file (file:///path/to/archive)")
    return Path(urllib.request.url2pathname(parts.path))


def _copy(fin, fout, done: int, total: Optional[int], url: str, part: Path) -> int:
    """Copies fin to fout in chunks, logging progress; returns the bytes now in fout."""
    step = max(total // 10, _CHUNK) if total else 50 * _CHUNK
    next_log = done + step
    try:
        for chunk in iter(lambda: fin.read(_CHUNK), b""):
            fout.write(chunk)
            done += len(chunk)
            if done >= next_log:
                logger.info("%s: %.1f MB%s", part.name, done / 1e6,
                            f" of {total / 1e6:.1f} MB" if total else "")
                next_log += step
    except OSError as exc:  # connection reset, timeout: the .part file is kept for the next run
        raise DownloadError(f"download of {url} stopped after {done} bytes ({exc}); "
                            f"rerun to resume it from {part}") from None
    return done


def fetch(url: str, dest: PathLike, *, timeout: float = _TIMEOUT_S) -> Path:
    """Downloads ``url`` to ``dest`` through ``dest.part``, resuming a partial file.

    Args:
        url: ``http://``, ``https://`` or ``file://`` URL.
        dest: file to write; ``<dest>.part`` holds the bytes received so far and
            is renamed to ``dest`` when the download is complete.
        timeout: seconds to wait for the server (per connection and read).

    Returns:
        ``dest``.

    Raises:
        DownloadError: unsupported scheme, missing file, HTTP or network error,
            or fewer bytes than the server announced (the ``.part`` file is kept
            so that the next call resumes).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "file":
        src = _file_url_path(url)
        if not src.is_file():
            raise DownloadError(f"{url}: no such file (check the URL given with --url or the *_URL variable)")
        total = src.stat().st_size
        if offset > total:  # not a prefix of this file
            offset = 0
        if offset:
            logger.info("resuming %s at byte %d of %d", part, offset, total)
        with open(src, "rb") as fin, open(part, "ab" if offset else "wb") as fout:
            fin.seek(offset)
            got = _copy(fin, fout, offset, total, url, part)
    elif scheme in ("http", "https"):
        headers = {"User-Agent": _USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # the partial file is not a prefix: start again
                part.unlink()
                return fetch(url, dest, timeout=timeout)
            raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"cannot download {url}: {reason} (no network? give the URL of a "
                                f"copy with --url / the *_URL variable)") from None
        with resp:
            status = getattr(resp, "status", None) or resp.getcode()
            crange = resp.headers.get("Content-Range", "") or ""
            if offset and not (status == 206 and crange.startswith(f"bytes {offset}-")):
                logger.info("%s: the server does not resume (HTTP %s): downloading from the start",
                            url, status)
                offset = 0
            elif offset:
                logger.info("resuming %s at byte %d", part, offset)
            length = resp.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            with open(part, "ab" if offset else "wb") as fout:
                got = _copy(resp, fout, offset, total, url, part)
        if total is not None and got != total:
            raise DownloadError(f"download of {url} is incomplete: {got} of {total} bytes; "
                                f"rerun to resume it from {part}")
    else:
        raise DownloadError(f"{url}: unsupported URL scheme {scheme!r} (use http, https or file)")
    os.replace(part, dest)
    logger.info("downloaded %s (%d bytes)", dest, dest.stat().st_size)
    return dest


# ---------------------------------------------------------------- extracting


def _check_member(archive: Path, name: str) -> None:
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if posix.startswith("/") or ".." in parts or (parts and re.fullmatch(r"[A-Za-z]:", parts[0] or "")):
        raise DownloadError(f"{archive}: refusing to extract member {name!r} (absolute path or '..'): "
                            f"not a corpus release; delete {archive} and check the URL")


def _extract(archive: Path, out_dir: Path) -> None:
    """Extracts a zip or tar archive into out_dir after checking every member name."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(archive, info.filename)
                zf.extractall(out_dir)
            return
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    _check_member(archive, m.name)
                    if not (m.isfile() or m.isdir()):
                        raise DownloadError(f"{archive}: refusing to extract {m.name!r} (not a regular "
                                            f"file or folder); delete {archive} and check the URL")
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(out_dir, members=members, **kwargs)
            return
    except DownloadError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, ValueError) as exc:
        raise DownloadError(f"{archive}: the archive is corrupt or truncated ({exc}); "
                            f"delete {archive} and rerun to download it again") from None
    raise DownloadError(f"{archive}: not a valid zip or tar archive (truncated or corrupt download?); "
                        f"delete {archive} and rerun to download it again")


def find_root(folder: PathLike, markers: Tuple[str, ...]) -> Optional[Path]:
    """Returns ``folder`` or one of its sub-folders that holds one of ``markers``.

    ``folder`` itself is preferred; then its sub-folders in sorted order
    (``__MACOSX`` ignored). With no markers, ``folder`` is the root when it is a
    non-empty directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if not markers:
        return folder if any(p.name != DONE_NAME for p in folder.iterdir()) else None
    candidates = [folder] + sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "__MACOSX")
    for cand in candidates:
        if any((cand / m).exists() for m in markers):
            return cand
    return None


def extract_archive(archive: PathLike, target: PathLike, markers: Tuple[str, ...] = (),
                    done_text: str = "") -> Path:
    """Extracts ``archive`` into ``target`` all at once, or not at all.

    The archive is extracted into a temporary folder beside ``target``; when
    extraction succeeded and the corpus root (see :func:`find_root`) is there,
    ``.done`` (``done_text``) is written and the folder renamed to ``target``
    (an existing ``target`` is replaced).

    Returns:
        The corpus root inside ``target``.

    Raises:
        DownloadError: corrupt or truncated archive, unsafe member, or no corpus
            root inside; the temporary folder is removed.
    """
    archive, target = Path(archive), Path(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.extract-", dir=target.parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)  # mkdtemp makes it private; the corpus folder should not be
        logger.info("extracting %s", archive)
        _extract(archive, tmp)
        root = find_root(tmp, markers)
        if root is None:
            top = ", ".join(sorted(p.name for p in tmp.iterdir())[:8]) or "nothing"
            want = " or ".join(markers) if markers else "any file"
            raise DownloadError(f"{archive}: extracted, but holds no {want} at its top level or one "
                                f"folder down (found: {top}); not the corpus release? check the URL, "
                                f"delete {archive} and rerun")
        (tmp / DONE_NAME).write_text(done_text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / root.relative_to(tmp)


# ---------------------------------------------------------------- one corpus


def _verify(archive: Path, source: CorpusSource, md5: Optional[str], checksums: Path) -> Tuple[str, bool]:
    """Checks the archive; returns (the .done line, whether its SHA-256 is still to be recorded)."""
    if md5:
        actual = file_digest(archive, "md5")
        if actual != md5:
            raise DownloadError(f"{archive}: MD5 {actual} does not match the published {md5} "
                                f"({source.origin or 'given checksum'}): the download is corrupt or not "
                                f"the release; delete {archive} and rerun")
        return f"md5 {actual}  {archive.name}\n", False
    actual = file_digest(archive, "sha256")
    recorded = read_checksums(checksums).get(archive.name)
    if recorded is not None and actual != recorded:
        raise DownloadError(f"{archive}: SHA-256 {actual} does not match {recorded} recorded in "
                            f"{checksums} at the first download: delete {archive} and rerun (if the "
                            f"release itself changed, also delete the {archive.name} line of {checksums})")
    return f"sha256 {actual}  {archive.name}\n", recorded is None


def download_corpus(corpus: str, download_dir: PathLike = "downloads", *, url: Optional[str] = None,
                    md5=_PUBLISHED) -> Path:
    """Downloads, verifies and extracts one corpus; returns its root folder.

    Args:
        corpus: a key of :data:`SOURCES` (``emodb``, ``ravdess``, ``tess``; the
            others need a ``url``).
        download_dir: where the archive, ``CHECKSUMS`` and the extracted
            ``<corpus>/`` folder go (created).
        url: overrides the release URL (e.g. ``file:///path/to/download.zip``).
        md5: expected MD5 of the archive; default: the published one (if any);
            ``None``: use the SHA-256 recorded in ``CHECKSUMS`` instead.

    Returns:
        The corpus root to pass to ``prepare_<corpus>`` (e.g. the folder holding
        ``wav/`` for Emo-DB).

    Raises:
        DownloadError: one line naming the file or URL, what was expected, and
            the fix (no free download, network error, checksum mismatch, corrupt
            archive, ...). Nothing half-extracted is left behind.
    """
    source = get_source(corpus)
    if md5 is _PUBLISHED:
        md5 = source.md5
    elif md5 is not None:
        md5 = str(md5).strip().lower()
        if not re.fullmatch(r"[0-9a-f]{32}", md5):
            raise DownloadError(f"MD5 {md5!r} for {source.title}: expected 32 hex digits")
    download_dir = Path(download_dir)
    target = download_dir / source.corpus
    if (target / DONE_NAME).is_file():
        root = find_root(target, source.markers)
        if root is not None:
            logger.info("%s is already in %s (%s): nothing to download", source.title, target,
                        (target / DONE_NAME).read_text(encoding="utf-8").strip())
            return root
    url = url or source.url
    if not url:
        raise DownloadError(source.request)
    download_dir.mkdir(parents=True, exist_ok=True)
    for stale in download_dir.glob(f".{target.name}.extract-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    archive = download_dir / source.archive
    if archive.is_file():
        logger.info("using the archive already downloaded: %s", archive)
    else:
        logger.info("downloading %s: %s -> %s", source.title, url, archive)
        fetch(url, archive)
    checksums = download_dir / CHECKSUMS_NAME
    done_text, to_record = _verify(archive, source, md5, checksums)
    root = extract_archive(archive, target, source.markers, done_text)
    if to_record:
        # Only an archive that extracted cleanly is recorded: a truncated first
        # download must not become the reference.
        record_checksum(checksums, archive.name, done_text.split()[1])
        logger.info("recorded the SHA-256 of %s in %s", archive.name, checksums)
    logger.info("%s is in %s", source.title, root)
    return root


def download_emodb(download_dir: PathLike = "downloads", *, url: Optional[str] = None) -> Path:
    """Emo-DB (Burkhardt et al., 2005): returns the folder holding ``wav/``."""
    return download_corpus("emodb", download_dir, url=url)


def download_ravdess(download_dir: PathLike = "downloads", *, url: Optional[str] = None,
                     md5=_PUBLISHED) -> Path:
    """RAVDESS speech (Livingstone and Russo, 2018), checked against the published MD5.

    Returns the folder holding ``Actor_01/`` ... or ``Audio_Speech_Actors_01-24/``.
    """
    return download_corpus("ravdess", download_dir, url=url, md5=md5)


def download_tess(download_dir: PathLike = "downloads", *, url: Optional[str] = None) -> Path:
    """TESS (Dupuis and Pichora-Fuller, 2010): returns the extracted dataset folder."""
    return download_corpus("tess", download_dir, url=url)
