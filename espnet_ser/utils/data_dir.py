"""Kaldi data directories: read, write, validate, fix, subset, combine, split.

One Python implementation behind Kaldi's command-line contract: the shell
wrappers in ``utils/`` (``validate_data_dir.sh``, ``fix_data_dir.sh``,
``subset_data_dir.sh``, ``combine_data.sh``, ``split_data.sh``,
``utt2spk_to_spk2utt.pl``, ``spk2utt_to_utt2spk.pl``) exec
``python3 -m espnet_ser.utils.data_dir <verb> ...`` with Kaldi's argument order.

A data directory ``data/<set>/`` holds (CONTRIBUTING.md, "Data directory"):

* ``wav.scp`` (``reco path-or-pipe``), optional ``segments``
  (``utt reco start end``), ``utt2spk``, ``spk2utt``;
* optional ``text``, ``feats.scp``, ``utt2num_frames``, ``utt2dur`` and any
  ``utt2*`` label file (``utt2emo``, ``utt2gender``, ``utt2corpus`` ...);
* optional speaker tables ``spk2*`` (``spk2gender``) and recording tables
  ``reco2*``;
* ``skipped`` (not a table): ``<id> <reason>`` for inputs left out.

Rules (Kaldi's, plus ours): every table is ``key value...`` per line, keys
unique, sorted bytewise (C locale); all utterance tables share one key set,
except ``utt2emo`` which may lack unlabelled utterances; utterance ids start
with their speaker id, so ``utt2spk`` sorted by utterance is also sorted by
speaker.

Python strings compare by code point, and UTF-8 preserves code-point order,
so ``sorted(keys)`` is exactly ``LC_ALL=C sort`` on the UTF-8 bytes.

Example:
    >>> from espnet_ser.utils.data_dir import write_data_dir, validate_data_dir
    >>> write_data_dir("data/train", {
    ...     "wav.scp": {"emodb_03-03a01Fa": "/corpora/emodb/wav/03a01Fa.wav"},
    ...     "utt2spk": {"emodb_03-03a01Fa": "emodb_03"},
    ...     "utt2emo": {"emodb_03-03a01Fa": "happiness"},
    ... })  # doctest: +SKIP
    >>> validate_data_dir("data/train")  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike

# Files that may be partial over the utterances: unlabelled utterances (target
# data of a domain-adversarial setup) have no emotion but are still used.
# The emotion and its binary views: an unlabelled utterance has none of them.
PARTIAL_UTT_TABLES = frozenset({"utt2emo", "utt2arousal", "utt2valence"})

# Tables keyed by something other than the utterance, and files that are not
# tables at all.  Everything else named utt2* is an utterance table.
_SPK_TABLE = re.compile(r"^(spk2.*|cmvn\.scp)$")
_RECO_TABLE = re.compile(r"^(reco2.*)$")
_UTT_TABLE = re.compile(r"^(utt2.*|text|feats\.scp|segments)$")
_NOT_TABLES = frozenset({"skipped"})

# How many example ids an error message shows.
_N_EXAMPLES = 3

_LINE = re.compile(r"^(\S+)(?:[ \t]+(.*))?$")


class DataDirError(ValueError):
    """A data directory breaks the contract; the message is one line with the fix."""


# ---------------------------------------------------------------------------
# Table I/O
# ---------------------------------------------------------------------------


def _fix_hint(d: PathLike) -> str:
    return f"(run utils/fix_data_dir.sh {d})"


def read_lines(path: PathLike) -> list[str]:
    """Lines of a UTF-8 text file (``-`` = stdin), without line ends.

    Only ``\n`` (and a ``\r`` before it) ends a line.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataDirError: the file is not UTF-8 (names the byte offset).
    """
    try:
        if str(path) == "-":
            path = "<stdin>"
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            path = Path(path)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such file")
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataDirError(
            f"{path}: not valid UTF-8 at byte {e.start} (re-encode the file as UTF-8)"
        ) from None
    # splitlines() would also split on \x0b, \x1c ... which may occur in text.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def _parse_line(path: PathLike, lineno: int, line: str) -> tuple[str, str]:
    """Split one table line into ``(key, value)``; value '' when key-only."""
    stripped = line.rstrip()
    if not stripped:
        raise DataDirError(f"{path}:{lineno}: empty line (remove it, or run utils/fix_data_dir.sh)")
    m = _LINE.match(stripped)
    if m is None:
        raise DataDirError(
            f"{path}:{lineno}: line starts with whitespace: {line[:60]!r} "
            "(the key must be the first character)"
        )
    return m.group(1), m.group(2) or ""


def read_table(path: PathLike, *, allow_empty_value: bool = False) -> dict[str, str]:
    """Read a Kaldi text table ``key value...`` into a dict, keeping file order.

    The project's one reader of text tables: data-directory files, ``feats.scp``,
    ``utt2num_frames``, ``text``, ``posteriors``, shape files (archives are read
    through :mod:`espnet_ser.features.ark_io`).  The value is the rest of the line after the first run of spaces/tabs
    (trailing whitespace removed), so ``text`` and pipes in ``wav.scp`` keep
    their inner spacing.

    Args:
        path: table file (``-`` = stdin).
        allow_empty_value: accept key-only lines (value ``""``); by default
            they are an error because every table in a data dir needs a value.

    Returns:
        ``{key: value}`` in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataDirError: duplicate key, key-only line, empty line or bad encoding,
            naming ``path:line``.
    """
    table: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(read_lines(path), 1):
        key, value = _parse_line(path, lineno, line)
        if not value and not allow_empty_value:
            raise DataDirError(
                f"{path}:{lineno}: key {key!r} has no value "
                "(every table line needs 'key value'; fix the writer or run utils/fix_data_dir.sh)"
            )
        if key in table:
            raise DataDirError(
                f"{path}:{lineno}: duplicate key {key!r} (first at line {first_line[key]}; "
                "keys must be unique)"
            )
        table[key] = value
        first_line[key] = lineno
    return table


def write_table(path: PathLike, table: Mapping[str, str]) -> None:
    """Write ``{key: value}`` sorted bytewise by key (C locale), atomically.

    The file is written to a temporary file in the same directory and renamed
    over ``path``, so readers never see a half-written table.

    Raises:
        DataDirError: a key is empty or holds whitespace, or a value is empty
            or holds a newline.
    """
    path = Path(path)
    lines = []
    for key in sorted(table):
        value = table[key]
        if not key or any(c.isspace() for c in key):
            raise DataDirError(f"{path}: key {key!r} is empty or contains whitespace (ids must be one token)")
        if not isinstance(value, str):
            value = str(value)
        if not value.strip():
            raise DataDirError(f"{path}: key {key!r} has an empty value (tables need 'key value')")
        if "\n" in value or "\r" in value:
            raise DataDirError(f"{path}: value of {key!r} contains a newline (one entry per line)")
        lines.append(f"{key} {value.strip()}\n")
    write_text(path, "".join(lines))


def write_text(path: PathLike, content: str) -> None:
    """Write ``content`` to ``path`` atomically (temporary file + rename), mode 0644."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_list(path: PathLike) -> list[str]:
    """Read the first token of each line; blank lines and ``#`` comments ignored.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    out = []
    for line in read_lines(path):
        tokens = line.split()
        if tokens and not tokens[0].startswith("#"):
            out.append(tokens[0])
    return out


# ---------------------------------------------------------------------------
# spk2utt <-> utt2spk
# ---------------------------------------------------------------------------


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> dict[str, str]:
    """Group utterances by speaker, both in input order (Kaldi's utt2spk_to_spk2utt.pl)."""
    groups: dict[str, list[str]] = {}
    for utt, spk in utt2spk.items():
        groups.setdefault(spk, []).append(utt)
    return {spk: " ".join(utts) for spk, utts in groups.items()}


def spk2utt_to_utt2spk(spk2utt: Mapping[str, str]) -> dict[str, str]:
    """Invert ``spk2utt`` (Kaldi's spk2utt_to_utt2spk.pl).

    Raises:
        DataDirError: an utterance is listed under two speakers.
    """
    utt2spk: dict[str, str] = {}
    for spk, utts in spk2utt.items():
        for utt in utts.split():
            if utt in utt2spk and utt2spk[utt] != spk:
                raise DataDirError(
                    f"spk2utt: utterance {utt!r} listed under speakers {utt2spk[utt]!r} and {spk!r}"
                )
            utt2spk[utt] = spk
    return utt2spk


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _is_table_name(name: str) -> bool:
    return bool(
        name == "wav.scp"
        or _UTT_TABLE.match(name)
        or _SPK_TABLE.match(name)
        or _RECO_TABLE.match(name)
    ) and "/" not in name


def _table_files(d: Path) -> list[str]:
    """Names of the table files in ``d`` (regular files; hidden/temp ones excluded)."""
    return [
        p.name for p in sorted(d.iterdir())
        if p.is_file() and not p.name.startswith(".") and _is_table_name(p.name)
    ]


def _examples(ids: Iterable[str]) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:_N_EXAMPLES])
    return shown + (", ..." if len(ids) > _N_EXAMPLES else "")


def _check_sorted(path: Path, keys: Sequence[str], hint: str) -> None:
    for i in range(1, len(keys)):
        if keys[i - 1] > keys[i]:
            raise DataDirError(
                f"{path}: not sorted in C locale at line {i + 1} "
                f"({keys[i - 1]!r} before {keys[i]!r}) {hint}"
            )


def _check_same_keys(path: Path, keys: Iterable[str], ref_name: str, ref: set[str], hint: str,
                     *, subset_ok: bool = False) -> None:
    keys = set(keys)
    missing = ref - keys
    extra = keys - ref
    if extra or (missing and not subset_ok):
        parts = []
        if missing and not subset_ok:
            parts.append(f"{len(missing)} key(s) of {ref_name} missing (e.g. {_examples(missing)})")
        if extra:
            parts.append(f"{len(extra)} not in {ref_name} (e.g. {_examples(extra)})")
        raise DataDirError(f"{path}: {len(keys)} keys vs {len(ref)} in {ref_name}: {'; '.join(parts)} {hint}")


def validate_data_dir(d: PathLike, *, require_feats: bool = False, require_text: bool = False) -> None:
    """Check a data directory against the contract; raise on the first problem.

    Checks: ``wav.scp``, ``utt2spk``, ``spk2utt`` present (and ``feats.scp`` /
    ``text`` when required); every table readable, keys unique, no empty
    values, sorted in C locale; ``segments`` (or ``wav.scp`` without segments),
    ``utt2spk``, ``text``, ``feats.scp`` and every ``utt2*`` share one key set
    (``utt2emo`` may be a subset); ``segments`` name known recordings with
    ``0 <= start < end``; ``spk2utt`` equals the one derived from ``utt2spk``;
    utterance ids start with their speaker id and ``utt2spk`` is sorted by
    speaker too; ``utt2num_frames`` holds non-negative integers and
    ``utt2dur`` non-negative numbers; ``spk2*`` tables cover exactly the speakers.

    Args:
        d: the data directory.
        require_feats: ``feats.scp`` must exist (it is checked whenever present).
        require_text: ``text`` must exist (it is checked whenever present).

    Raises:
        DataDirError: one line naming the file, the problem and the fix.
        FileNotFoundError: ``d`` is not a directory.
    """
    d = Path(d)
    hint = _fix_hint(d)
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: data directory not found")
    required = ["wav.scp", "utt2spk", "spk2utt"]
    if require_feats:
        required.append("feats.scp")
    if require_text:
        required.append("text")
    for name in required:
        if not (d / name).is_file():
            optional = {"feats.scp": " (features not extracted yet? pass --no-feats)",
                        "text": " (no transcripts? pass --no-text)"}.get(name, "")
            raise DataDirError(f"{d}/{name}: missing (required: {', '.join(required)}){optional}")

    tables: dict[str, dict[str, str]] = {}
    for name in _table_files(d):
        path = d / name
        tables[name] = read_table(path)
        _check_sorted(path, list(tables[name]), hint)

    utt2spk = tables["utt2spk"]
    if not utt2spk:
        raise DataDirError(f"{d}/utt2spk: empty (a data dir needs at least one utterance)")
    utts = set(utt2spk)

    # Recordings and segments.
    wav = tables["wav.scp"]
    if "segments" in tables:
        for utt, value in tables["segments"].items():
            fields = value.split()
            if len(fields) != 3:
                raise DataDirError(f"{d}/segments: line of {utt!r} needs 'utt reco start end', got {value!r}")
            reco, start, end = fields
            if reco not in wav:
                raise DataDirError(f"{d}/segments: recording {reco!r} of {utt!r} not in wav.scp {hint}")
            try:
                t0, t1 = float(start), float(end)
            except ValueError:
                raise DataDirError(f"{d}/segments: non-numeric times for {utt!r}: {value!r}") from None
            # Kaldi allows end == -1 meaning "to the end of the recording".
            if t0 < 0 or (t1 != -1 and t1 <= t0):
                raise DataDirError(f"{d}/segments: bad times for {utt!r}: start {start}, end {end} (need 0 <= start < end)")
        _check_same_keys(d / "segments", tables["segments"], "utt2spk", utts, hint)
    else:
        _check_same_keys(d / "wav.scp", wav, "utt2spk", utts, hint)

    for name, table in tables.items():
        if name == "segments" or not _UTT_TABLE.match(name):
            continue
        _check_same_keys(d / name, table, "utt2spk", utts, hint, subset_ok=name in PARTIAL_UTT_TABLES)

    # Speakers.
    prev_spk = None
    for lineno, (utt, spk) in enumerate(utt2spk.items(), 1):
        if len(spk.split()) != 1:
            raise DataDirError(f"{d}/utt2spk:{lineno}: speaker of {utt!r} must be one token, got {spk!r}")
        if not utt.startswith(spk):
            raise DataDirError(
                f"{d}/utt2spk:{lineno}: utterance id {utt!r} does not start with its speaker id {spk!r} "
                "(name utterances '<speaker>-<id>' in the corpus preparation)"
            )
        if prev_spk is not None and spk < prev_spk:
            raise DataDirError(
                f"{d}/utt2spk:{lineno}: not sorted by speaker ({prev_spk!r} before {spk!r}); "
                "speaker ids that are prefixes of each other break Kaldi's rule (rename the speakers)"
            )
        prev_spk = spk
    expected = utt2spk_to_spk2utt(utt2spk)
    spk2utt = tables["spk2utt"]
    for spk, line in spk2utt.items():
        if spk not in expected:
            raise DataDirError(f"{d}/spk2utt: speaker {spk!r} not in utt2spk {hint}")
        if line.split() != expected[spk].split():
            raise DataDirError(f"{d}/spk2utt: utterances of {spk!r} differ from utt2spk {hint}")
    if len(spk2utt) != len(expected):
        missing = set(expected) - set(spk2utt)
        raise DataDirError(f"{d}/spk2utt: {len(missing)} speaker(s) of utt2spk missing (e.g. {_examples(missing)}) {hint}")
    for name, table in tables.items():
        if name != "spk2utt" and _SPK_TABLE.match(name):
            _check_same_keys(d / name, table, "spk2utt", set(expected), hint)

    # Value formats.
    for utt, value in tables.get("utt2num_frames", {}).items():
        if not re.fullmatch(r"\d+", value):
            raise DataDirError(f"{d}/utt2num_frames: value of {utt!r} is not a non-negative integer: {value!r}")
    for utt, value in tables.get("utt2dur", {}).items():
        try:
            ok = float(value) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise DataDirError(f"{d}/utt2dur: value of {utt!r} is not a non-negative number: {value!r}")


# ---------------------------------------------------------------------------
# Fix
# ---------------------------------------------------------------------------


def _read_table_lenient(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read a table for fixing: drop blank lines, identical duplicates and key-only lines.

    Returns:
        ``(table, notes)``; notes describe what was dropped (for the log).

    Raises:
        DataDirError: the same key with two different values (cannot pick one).
    """
    table: dict[str, str] = {}
    notes = []
    for lineno, line in enumerate(read_lines(path), 1):
        if not line.strip():
            notes.append(f"{path}:{lineno}: blank line dropped")
            continue
        key, value = _parse_line(path, lineno, line)
        if not value:
            # Missing value = the utterance lacks this field: the intersection removes it.
            notes.append(f"{path}:{lineno}: key-only line {key!r} dropped")
            continue
        if key in table:
            if table[key] != value:
                raise DataDirError(
                    f"{path}:{lineno}: key {key!r} appears twice with different values "
                    "(fix_data_dir cannot choose; correct the data preparation)"
                )
            notes.append(f"{path}:{lineno}: duplicate line of {key!r} dropped")
            continue
        table[key] = value
    return table, notes


def fix_data_dir(d: PathLike) -> dict:
    """Make a data directory consistent, like Kaldi's fix_data_dir.sh but keeping all ``utt2*``.

    Keeps the utterances present in every utterance table (``segments`` or
    ``wav.scp``, ``utt2spk``, ``text``, ``feats.scp``, every ``utt2*`` except
    ``utt2emo``), filters ``utt2emo`` to them, drops recordings no segment uses
    and speakers without utterances from ``spk2*``, re-sorts every table and
    regenerates ``spk2utt``.  The original files go to ``d/.backup/`` and the
    removed utterances to ``d/.backup/removed`` (``utt <files that lacked it>``).

    Returns:
        ``{"before": int, "kept": int, "removed": int, "speakers": int,
        "lacking": {file: count}}``.

    Raises:
        DataDirError: ``utt2spk``/``wav.scp`` missing, conflicting duplicate keys,
            or the result still breaks the contract (e.g. utterance ids not
            starting with the speaker id: fix the preparation).
    """
    d = Path(d)
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: data directory not found")
    for name in ("utt2spk", "wav.scp"):
        if not (d / name).is_file():
            raise DataDirError(f"{d}/{name}: missing (fix_data_dir needs wav.scp and utt2spk)")
    names = _table_files(d)
    tables: dict[str, dict[str, str]] = {}
    for name in names:
        if name == "spk2utt":
            continue  # regenerated from utt2spk; whatever it holds now does not matter
        tables[name], notes = _read_table_lenient(d / name)
        for note in notes:
            logger.info(note)

    has_segments = "segments" in tables
    if has_segments:
        wav = tables["wav.scp"]
        tables["segments"] = {
            u: v for u, v in tables["segments"].items() if v.split()[0] in wav
        }
    # All utterance tables that define the key set.
    defining = ["utt2spk", "segments" if has_segments else "wav.scp"]
    defining += [
        n for n in names
        if _UTT_TABLE.match(n) and n not in defining and n not in PARTIAL_UTT_TABLES
    ]
    all_utts = set().union(*(tables[n] for n in defining))
    keep = set.intersection(*(set(tables[n]) for n in defining))
    lacking: dict[str, int] = {}
    removed_lines = []
    for utt in sorted(all_utts - keep):
        which = [n for n in defining if utt not in tables[n]]
        for n in which:
            lacking[n] = lacking.get(n, 0) + 1
        removed_lines.append(f"{utt} {','.join(which)}\n")

    new: dict[str, dict[str, str]] = {}
    for name in names:
        if name == "spk2utt":
            continue
        t = tables[name]
        if name == "wav.scp" and has_segments:
            used = {v.split()[0] for u, v in tables["segments"].items() if u in keep}
            new[name] = {r: v for r, v in t.items() if r in used}
        elif name == "wav.scp" or _UTT_TABLE.match(name):
            new[name] = {u: v for u, v in t.items() if u in keep}
        else:
            new[name] = dict(t)
    speakers = set(new["utt2spk"].values())
    for name in names:
        if name != "spk2utt" and _SPK_TABLE.match(name):
            new[name] = {s: v for s, v in new[name].items() if s in speakers}
    new["spk2utt"] = utt2spk_to_spk2utt(dict(sorted(new["utt2spk"].items())))

    backup = d / ".backup"
    backup.mkdir(exist_ok=True)
    for name in names:
        shutil.copy2(d / name, backup / name)
    write_text(backup / "removed", "".join(removed_lines))
    for name, table in new.items():
        write_table(d / name, table)

    result = {
        "before": len(all_utts),
        "kept": len(keep),
        "removed": len(all_utts) - len(keep),
        "speakers": len(speakers),
        "lacking": lacking,
    }
    detail = ", ".join(f"{n} lacked {c}" for n, c in sorted(lacking.items()))
    print(
        f"fix_data_dir.sh: {d}: kept {result['kept']} of {result['before']} utterances, "
        f"{result['speakers']} speakers"
        + (f"; removed {result['removed']} ({detail}; list in {backup}/removed)" if result["removed"] else ""),
        file=sys.stderr,
    )
    validate_data_dir(d)
    return result


# ---------------------------------------------------------------------------
# Writing whole directories
# ---------------------------------------------------------------------------


def write_data_dir(
    d: PathLike,
    tables: Mapping[str, Mapping[str, str]],
    *,
    skipped: Mapping[str, str] | None = None,
    log_level: int = logging.INFO,
) -> None:
    """Write a complete data directory, validated, replacing ``d`` atomically.

    The tables are written into a temporary directory next to ``d``, validated
    there, then ``d`` is renamed away, the new one renamed in and the old one
    removed, so an interrupted run never leaves a half-written directory that
    looks complete.

    Args:
        d: target directory (replaced if it exists).
        tables: ``{file name: {key: value}}``, e.g. ``wav.scp``, ``utt2spk``,
            ``utt2emo``, ``text``, ``utt2gender``, ``feats.scp``, ``spk2gender``.
            ``spk2utt`` is derived from ``utt2spk`` (if given it must match).
        skipped: ``{id: reason}`` of inputs left out, written as ``d/skipped``.
        log_level: level of the summary log line (utterances, speakers, skipped).

    Raises:
        DataDirError: the tables break the contract (message names ``d``).
    """
    d = Path(d)
    if d.exists() and not d.is_dir():
        raise DataDirError(f"{d}: exists and is not a directory (remove it or choose another path)")
    for name in ("wav.scp", "utt2spk"):
        if name not in tables:
            raise DataDirError(f"write_data_dir {d}: table {name!r} missing (tables given: {', '.join(sorted(tables)) or 'none'})")
    for name in tables:
        if not _is_table_name(name):
            raise DataDirError(
                f"write_data_dir {d}: {name!r} is not a data-dir table name (wav.scp, segments, utt2spk, "
                "text, feats.scp, utt2*, spk2*, reco2*, cmvn.scp; pass skipped= for the skipped list)"
            )
    derived = utt2spk_to_spk2utt(dict(sorted(tables["utt2spk"].items())))
    if "spk2utt" in tables:
        given = {s: " ".join(sorted(v.split())) for s, v in tables["spk2utt"].items()}
        if given != {s: " ".join(sorted(v.split())) for s, v in derived.items()}:
            raise DataDirError(f"write_data_dir {d}: spk2utt given does not match utt2spk (leave it out: it is derived)")

    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}.tmp.", dir=d.parent))
    try:
        try:
            for name, table in tables.items():
                if name != "spk2utt":
                    write_table(tmp / name, table)
            write_table(tmp / "spk2utt", derived)
            if skipped is not None:
                lines = [f"{k} {' '.join(str(r).split()) or 'unknown'}\n" for k, r in sorted(skipped.items())]
                write_text(tmp / "skipped", "".join(lines))
            validate_data_dir(tmp)
        except DataDirError as e:
            # Name the target, not the temporary directory the user never sees.
            msg = str(e).replace(str(tmp), str(d)).replace(f" {_fix_hint(d)}", "")
            raise DataDirError(f"write_data_dir {d}: {msg} (the tables passed in are inconsistent)") from None
        os.chmod(tmp, 0o755)
        _replace_dir(tmp, d)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    n_utt = len(tables["utt2spk"])
    logger.log(
        log_level,
        "wrote %s: %d utterances, %d speakers, %d skipped",
        d, n_utt, len(derived), len(skipped) if skipped else 0,
    )


def _replace_dir(new: Path, d: Path) -> None:
    """Move ``new`` to ``d``; an existing ``d`` is renamed away first, then removed."""
    old = None
    if d.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{d.name}.old.", dir=d.parent))
        os.rmdir(old)
        os.rename(d, old)
    os.rename(new, d)
    if old is not None:
        shutil.rmtree(old)


def _read_dir(d: Path) -> dict[str, dict[str, str]]:
    validate_data_dir(d)
    return {name: read_table(d / name) for name in _table_files(d)}


def _filter_tables(tables: Mapping[str, Mapping[str, str]], utts: set[str]) -> dict[str, dict[str, str]]:
    """Restrict all tables of one validated directory to ``utts``."""
    out: dict[str, dict[str, str]] = {}
    utt2spk = {u: s for u, s in tables["utt2spk"].items() if u in utts}
    speakers = set(utt2spk.values())
    segments = tables.get("segments")
    if segments is not None:
        recos = {v.split()[0] for u, v in segments.items() if u in utts}
    for name, t in tables.items():
        if name == "spk2utt":
            continue
        if name == "wav.scp" and segments is not None:
            out[name] = {r: v for r, v in t.items() if r in recos}
        elif name == "wav.scp" or _UTT_TABLE.match(name) or name == "utt2spk":
            out[name] = {u: v for u, v in t.items() if u in utts}
        elif _SPK_TABLE.match(name):
            out[name] = {s: v for s, v in t.items() if s in speakers}
        elif _RECO_TABLE.match(name):
            kept = recos if segments is not None else utts
            out[name] = {r: v for r, v in t.items() if r in kept}
        else:
            out[name] = dict(t)
    return out


# ---------------------------------------------------------------------------
# Subset, combine, split
# ---------------------------------------------------------------------------


def subset_data_dir(
    src: PathLike,
    dst: PathLike,
    *,
    utts: Iterable[str] | None = None,
    spks: Iterable[str] | None = None,
    num: int | None = None,
    first: bool = False,
    allow_missing: bool = False,
) -> int:
    """Copy the utterances ``utts`` (or those of speakers ``spks``, or ``num`` of them) to ``dst``.

    Every table is filtered (``utt2*``, ``text``, ``feats.scp``, ``spk2*`` ...),
    ``spk2utt`` regenerated; ``dst`` is written with :func:`write_data_dir`.

    Args:
        src: validated source directory.
        dst: output directory (replaced).
        utts: utterance ids to keep; exactly one of ``utts``/``spks``/``num``.
        spks: speaker ids whose utterances to keep.
        num: keep this many utterances, evenly spread over the sorted list
            (Kaldi's ``subset_data_dir.sh <src> <N> <dst>``), or the first
            ``num`` with ``first=True``.
        first: with ``num``: take the first utterances instead of spreading.
        allow_missing: ids absent from ``src`` are ignored (logged) instead of
            being an error.

    Returns:
        Number of utterances written.

    Raises:
        DataDirError: ids not in ``src`` (unless ``allow_missing``), or nothing left.
    """
    src, dst = Path(src), Path(dst)
    if sum(x is not None for x in (utts, spks, num)) != 1:
        raise ValueError("subset_data_dir: give exactly one of utts=, spks= or num=")
    if src.resolve() == dst.resolve():
        raise DataDirError(f"subset_data_dir: source and destination are the same directory {src}")
    tables = _read_dir(src)
    utt2spk = tables["utt2spk"]
    if num is not None:
        ordered = sorted(utt2spk)
        if not 1 <= num <= len(ordered):
            raise DataDirError(f"subset_data_dir {dst}: asked for {num} utterances but {src} has {len(ordered)}")
        # Evenly spread indices (like Kaldi's subset_scp.pl) so all speakers are represented.
        idx = range(num) if first else (i * len(ordered) // num for i in range(num))
        utts = [ordered[i] for i in idx]
    if utts is not None:
        wanted = set(utts)
        missing = wanted - set(utt2spk)
        keep = wanted & set(utt2spk)
        what = "utterance"
    else:
        wanted = set(spks)
        missing = wanted - set(utt2spk.values())
        keep = {u for u, s in utt2spk.items() if s in wanted}
        what = "speaker"
    if missing:
        msg = f"{len(missing)} {what} id(s) not in {src} (e.g. {_examples(missing)})"
        if not allow_missing:
            raise DataDirError(f"subset_data_dir {dst}: {msg} (check the list, or pass --allow-missing)")
        logger.warning("subset_data_dir %s: %s: ignored", dst, msg)
    if not keep:
        raise DataDirError(f"subset_data_dir {dst}: no utterance of {src} selected (check the list)")
    write_data_dir(dst, _filter_tables(tables, keep))
    return len(keep)


def combine_data(
    dst: PathLike,
    srcs: Sequence[PathLike],
    *,
    allow_partial: bool = False,
    exclude: Iterable[str] = (),
) -> int:
    """Union several data directories into ``dst``.

    Args:
        dst: output directory (replaced; must not be one of ``srcs``).
        srcs: validated source directories.
        allow_partial: ``utt2emo`` (and ``utt2arousal``/``utt2valence``) may
            be missing in some sources (their utterances become unlabelled).  Any other table present in only
            some sources is an error.
        exclude: table names not to combine (e.g. ``text`` when only some
            corpora have transcripts).

    Returns:
        Number of utterances written.

    Raises:
        DataDirError: duplicate utterance ids across sources, conflicting
            recording/speaker entries, or a table present in only some sources.
    """
    dst = Path(dst)
    srcs = [Path(s) for s in srcs]
    exclude = set(exclude)
    if not srcs:
        raise ValueError("combine_data: no source directories given")
    for s in srcs:
        if s.resolve() == dst.resolve():
            raise DataDirError(f"combine_data: destination {dst} is also a source (write to a new directory)")
    for name in exclude & {"wav.scp", "utt2spk", "spk2utt"}:
        raise DataDirError(f"combine_data: cannot exclude {name} (every data dir needs it)")
    per_src = [_read_dir(s) for s in srcs]
    names = set().union(*(set(t) for t in per_src)) - exclude - {"spk2utt"}
    for name in sorted(names):
        have = [str(s) for s, t in zip(srcs, per_src) if name in t]
        if len(have) == len(srcs):
            continue
        if name in PARTIAL_UTT_TABLES and allow_partial:
            continue
        lacking = [str(s) for s, t in zip(srcs, per_src) if name not in t]
        if name in PARTIAL_UTT_TABLES:
            fix = "pass --allow-partial, or add it to the sources that lack it"
        elif name == "segments":
            fix = "add segments to the sources that lack it"
        else:
            fix = f"pass --exclude {name}, or add it to the sources that lack it"
        raise DataDirError(
            f"combine_data {dst}: {name} is in {', '.join(have)} but not in {', '.join(lacking)} "
            f"({fix})"
        )

    out: dict[str, dict[str, str]] = {name: {} for name in names}
    origin: dict[str, str] = {}
    for s, tables in zip(srcs, per_src):
        for utt in tables["utt2spk"]:
            if utt in origin:
                raise DataDirError(
                    f"combine_data {dst}: utterance {utt!r} is in both {origin[utt]} and {s} "
                    "(utterance ids must be unique: prefix them with the corpus/speaker id)"
                )
            origin[utt] = str(s)
        for name in names:
            for key, value in tables.get(name, {}).items():
                prev = out[name].get(key)
                if prev is not None and prev != value:
                    raise DataDirError(
                        f"combine_data {dst}: {name} key {key!r} has {prev!r} in one source and "
                        f"{value!r} in {s} (ids must mean the same thing in every source)"
                    )
                out[name][key] = value
    write_data_dir(dst, out)
    return len(origin)


def _hash_tables(d: Path) -> str:
    h = hashlib.sha256()
    for name in _table_files(d):
        h.update(name.encode() + b"\0" + (d / name).read_bytes() + b"\0")
    return h.hexdigest()


def _partition(sizes: Sequence[int], n: int) -> list[int]:
    """Cut ``len(sizes)`` ordered items into ``n`` contiguous non-empty parts.

    Returns the start index of each part; the k-th boundary is the one whose
    cumulative size is closest to ``k * total / n`` (ties: the earlier one).
    """
    total = sum(sizes)
    cum = [0]
    for size in sizes:
        cum.append(cum[-1] + size)
    starts = [0]
    for k in range(1, n):
        target = k * total / n
        # Boundary b means the part starts at item b; leave >= 1 item per remaining part.
        lo, hi = starts[-1] + 1, len(sizes) - (n - k)
        starts.append(min(range(lo, hi + 1), key=lambda b: abs(cum[b] - target)))
    return starts


def split_data(d: PathLike, n: int, *, by_speaker: bool = False) -> list[Path]:
    """Split a data directory into ``n`` parts for parallel jobs.

    Parts are ``d/split{n}/{1..n}`` when ``by_speaker`` (Kaldi's default
    layout: a speaker's utterances stay in one part) and ``d/split{n}utt/{1..n}``
    otherwise (Kaldi's ``--per-utt``).  Parts are contiguous in sorted order and
    balanced by utterance count.  An existing split whose stored hash of the
    source tables matches is reused.

    Args:
        d: validated data directory.
        n: number of parts (>= 1).
        by_speaker: keep speakers together.

    Returns:
        The part directories ``[d/split{n}[utt]/1, ..., /n]``.

    Raises:
        DataDirError: ``n`` larger than the number of speakers/utterances.
    """
    d = Path(d)
    if n < 1:
        raise ValueError(f"split_data {d}: number of parts must be >= 1, got {n}")
    split_dir = d / (f"split{n}" if by_speaker else f"split{n}utt")
    parts = [split_dir / str(i) for i in range(1, n + 1)]
    stamp = split_dir / ".source_hash"
    tables = _read_dir(d)
    digest = _hash_tables(d)
    if stamp.is_file() and stamp.read_text().strip() == digest and all(
        (p / "utt2spk").is_file() for p in parts
    ):
        logger.info("split_data %s: reusing %s", d, split_dir)
        return parts

    utt2spk = tables["utt2spk"]
    if by_speaker:
        spk2utt = utt2spk_to_spk2utt(utt2spk)
        units = [spk2utt[s].split() for s in sorted(spk2utt)]
        unit_name = "speakers"
    else:
        units = [[u] for u in sorted(utt2spk)]
        unit_name = "utterances"
    if n > len(units):
        raise DataDirError(
            f"split_data {d}: cannot split {len(units)} {unit_name} into {n} parts "
            f"(use fewer jobs{'' if not by_speaker else ', or split per utterance'})"
        )
    starts = _partition([len(u) for u in units], n) + [len(units)]

    split_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{split_dir.name}.tmp.", dir=d))
    try:
        for i in range(n):
            utts = {u for unit in units[starts[i]:starts[i + 1]] for u in unit}
            write_data_dir(tmp / str(i + 1), _filter_tables(tables, utts), log_level=logging.DEBUG)
        write_text(tmp / ".source_hash", digest + "\n")
        os.chmod(tmp, 0o755)
        _replace_dir(tmp, split_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    logger.info("split_data %s: %d %s into %s", d, len(units), unit_name, split_dir)
    return parts


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

_PROG = {
    "validate": "utils/validate_data_dir.sh",
    "fix": "utils/fix_data_dir.sh",
    "subset": "utils/subset_data_dir.sh",
    "combine": "utils/combine_data.sh",
    "split": "utils/split_data.sh",
    "utt2spk_to_spk2utt": "utils/utt2spk_to_spk2utt.pl",
    "spk2utt_to_utt2spk": "utils/spk2utt_to_utt2spk.pl",
}


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line and exits 1 (Kaldi scripts do)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        usage = " ".join(self.format_usage().split())
        self.exit(1, f"{self.prog}: {message} ({usage})\n")


def _read_stream_table(paths: Sequence[str]) -> dict[str, str]:
    """One table from several files (keys unique across them), or stdin without files."""
    table: dict[str, str] = {}
    for p in paths or ["-"]:
        for k, v in read_table(p).items():
            if k in table:
                raise DataDirError(f"{p}: duplicate key {k!r} (also in an earlier file)")
            table[k] = v
    return table


def _build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m espnet_ser.utils.data_dir",
        description="Kaldi data-directory tools (the utils/*.sh wrappers call these verbs).",
    )
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_OneLineParser)

    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("validate", prog=_PROG["validate"], help="check a data directory", formatter_class=raw,
                       description="""\
Check a data directory (validate_data_dir in espnet_ser/utils/data_dir.py).
As Kaldi's: feats.scp and text are required unless --no-feats / --no-text, and
checked whenever present.
Differences from Kaldi: wav.scp is always required (no --no-wav); utt2spk must
be sorted by speaker too (no --no-spk-sort: utterance ids start with the speaker
id); no --non-print; utt2emo may cover a subset of the utterances (unlabelled
data); every table is checked for sorting, unique keys and one key set.""")
    p.add_argument("--no-feats", action="store_true", help="feats.scp not required (checked when present)")
    p.add_argument("--no-text", action="store_true", help="text not required (checked when present)")
    p.add_argument("data_dir")

    p = sub.add_parser("fix", prog=_PROG["fix"], help="make a data directory consistent", formatter_class=raw,
                       description="""\
Keep the utterances present in all tables, re-sort, regenerate spk2utt;
originals in <dir>/.backup/, removed utterances in <dir>/.backup/removed.
Differences from Kaldi: every utt2*/spk2* table is filtered (no
--utt-extra-files / --spk-extra-files needed); utt2emo may keep a subset
(unlabelled utterances are not removed); blank, key-only and identical duplicate
lines are dropped, the same key with two values is an error.""")
    p.add_argument("data_dir")

    p = sub.add_parser("subset", prog=_PROG["subset"], help="copy a subset of utterances/speakers",
                       formatter_class=raw, description="""\
Copy the utterances (or speakers) listed in a file (first token per line;
blank and '#' lines ignored), or <num-utt> utterances spread evenly (as Kaldi).
Differences from Kaldi: a listed id that is not in <src-dir> is an error
unless --allow-missing (Kaldi's filter_scp.pl drops it silently); of Kaldi's
selection options only --first is supported (no --last, --shortest,
--speakers, --per-spk).""")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--utt-list", help="file with utterance ids")
    g.add_argument("--spk-list", help="file with speaker ids")
    p.add_argument("--first", action="store_true", help="with <num-utt>: the first N instead of evenly spread")
    p.add_argument("--allow-missing", action="store_true", help="ignore listed ids that are not in src")
    p.add_argument("dirs", nargs="+", metavar="src-dir [num-utt] dst-dir",
                   help="<src-dir> <dst-dir> with a list, or <src-dir> <num-utt> <dst-dir>")

    p = sub.add_parser("combine", prog=_PROG["combine"], help="union data directories", formatter_class=raw,
                       description="""\
Union data directories; utterance ids must be unique across sources.
Differences from Kaldi: a table present in only some sources is an error (Kaldi
drops it with a warning): pass --exclude <table>, or --allow-partial for utt2emo;
the same id with different values in two sources is an error; the result is
validated (no --skip-fix, no --extra-files: every table is combined).""")
    p.add_argument("--allow-partial", action="store_true",
                   help="utt2emo may be missing in some sources (their utterances become unlabelled)")
    p.add_argument("--exclude", action="append", default=[], metavar="FILE",
                   help="table not to combine (repeatable), e.g. --exclude text")
    p.add_argument("dst_dir")
    p.add_argument("src_dirs", nargs="+")

    p = sub.add_parser("split", prog=_PROG["split"], help="split into N parts", formatter_class=raw,
                       description="""\
Write <dir>/split<N>/{1..N} (speakers kept together, Kaldi's default) or
<dir>/split<N>utt/{1..N} with --per-utt, as Kaldi; nothing on stdout.
Difference from Kaldi: an existing split is reused while a hash of the source
tables is unchanged (Kaldi compares file times).""")
    p.add_argument("--per-utt", action="store_true", help="split by utterance, not by speaker")
    p.add_argument("data_dir")
    p.add_argument("num_parts", type=int)

    for verb, doc in (("utt2spk_to_spk2utt", "utt2spk -> spk2utt"), ("spk2utt_to_utt2spk", "spk2utt -> utt2spk")):
        p = sub.add_parser(verb, prog=_PROG[verb], help=doc,
                           description=f"{doc}: read files (or stdin), write stdout.")
        p.add_argument("files", nargs="*")
    return parser


def _subset_cli(args: argparse.Namespace) -> tuple[str, int]:
    """Kaldi's two call forms: ``(--utt-list f | --spk-list f) src dst`` and ``src N dst``."""
    listed = args.utt_list or args.spk_list
    if listed and len(args.dirs) != 2:
        raise ValueError(f"with --utt-list/--spk-list give <src-dir> <dst-dir>, got {' '.join(args.dirs)}")
    if not listed:
        if len(args.dirs) != 3 or not args.dirs[1].isdigit():
            raise ValueError("give --utt-list <file> or --spk-list <file> with <src-dir> <dst-dir>, "
                             "or <src-dir> <num-utt> <dst-dir>")
        src, num, dst = args.dirs
        return dst, subset_data_dir(src, dst, num=int(num), first=args.first)
    src, dst = args.dirs
    if args.first:
        raise ValueError("--first goes with <src-dir> <num-utt> <dst-dir>, not with a list")
    if args.utt_list:
        return dst, subset_data_dir(src, dst, utts=read_list(args.utt_list), allow_missing=args.allow_missing)
    return dst, subset_data_dir(src, dst, spks=read_list(args.spk_list), allow_missing=args.allow_missing)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; errors are one line on stderr with exit status 1."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Report it from the verb's parser so the message names the wrapper and its usage.
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.choices[args.verb].error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    prog = _PROG[args.verb]
    try:
        if args.verb == "validate":
            validate_data_dir(args.data_dir, require_feats=not args.no_feats, require_text=not args.no_text)
            print(f"{prog}: {args.data_dir}: OK", file=sys.stderr)
        elif args.verb == "fix":
            fix_data_dir(args.data_dir)
        elif args.verb == "subset":
            dst = _subset_cli(args)
            print(f"{prog}: wrote {dst[1]} utterances to {dst[0]}", file=sys.stderr)
        elif args.verb == "combine":
            n = combine_data(args.dst_dir, args.src_dirs, allow_partial=args.allow_partial, exclude=args.exclude)
            print(f"{prog}: combined {len(args.src_dirs)} dirs, {n} utterances, into {args.dst_dir}",
                  file=sys.stderr)
        elif args.verb == "split":
            parts = split_data(args.data_dir, args.num_parts, by_speaker=not args.per_utt)
            print(f"{prog}: {parts[0].parent}", file=sys.stderr)
        else:
            table = _read_stream_table(args.files)
            out = utt2spk_to_spk2utt(table) if args.verb == "utt2spk_to_spk2utt" else spk2utt_to_utt2spk(table)
            sys.stdout.write("".join(f"{k} {v}\n" for k, v in out.items()))
    except (DataDirError, FileNotFoundError, ValueError, OSError) as e:
        msg = " ".join(str(e).split())
        print(f"{prog}: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
