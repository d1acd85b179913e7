"""Tests of espnet_ser.utils.data_dir (the Python API and its CLI entry point)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from espnet_ser.utils.data_dir import (
    DataDirError,
    combine_data,
    fix_data_dir,
    main,
    read_list,
    read_table,
    spk2utt_to_utt2spk,
    split_data,
    subset_data_dir,
    utt2spk_to_spk2utt,
    validate_data_dir,
    write_data_dir,
    write_table,
)

REPO = Path(__file__).resolve().parents[2]


def _raw(d: Path, files: dict[str, str]) -> Path:
    """Write files verbatim (no sorting, no checks) to build broken directories."""
    d.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (d / name).write_text(content, encoding="utf-8")
    return d


def _tables(speakers=("spkA", "spkB", "spkC"), per_spk=3, unlabelled=()):
    utt2spk = {f"{s}-u{i}": s for s in speakers for i in range(per_spk)}
    return {
        "wav.scp": {u: f"sox /corpus/{u}.wav -t wav - |" for u in utt2spk},
        "utt2spk": utt2spk,
        "text": {u: f"words of {u}" for u in utt2spk},
        "utt2emo": {u: ("ang" if i % 2 else "neu") for i, u in enumerate(utt2spk) if u not in unlabelled},
        "utt2gender": {u: ("f" if s == "spkA" else "m") for u, s in utt2spk.items()},
    }


def _good(tmp_path: Path, name="data/x", **kw) -> Path:
    d = tmp_path / name
    write_data_dir(d, _tables(**kw))
    return d


# ---------------------------------------------------------------------------
# Table I/O
# ---------------------------------------------------------------------------


def test_read_table_keeps_inner_whitespace_and_order(tmp_path):
    p = _raw(tmp_path, {"t": "b-1 sox  a.wav -t wav - |\na-1\tHallo  Welt \n"}) / "t"
    assert read_table(p) == {"b-1": "sox  a.wav -t wav - |", "a-1": "Hallo  Welt"}
    assert list(read_table(p)) == ["b-1", "a-1"]


def test_read_table_duplicate_key_names_path_and_line(tmp_path):
    p = _raw(tmp_path, {"t": "a x\nb y\na z\n"}) / "t"
    with pytest.raises(DataDirError, match=re.escape(f"{p}:3: duplicate key 'a' (first at line 1")):
        read_table(p)


def test_read_table_key_only_line(tmp_path):
    p = _raw(tmp_path, {"t": "a x\nb\n"}) / "t"
    with pytest.raises(DataDirError, match=re.escape(f"{p}:2: key 'b' has no value")):
        read_table(p)
    assert read_table(p, allow_empty_value=True) == {"a": "x", "b": ""}


def test_read_table_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope: no such file"):
        read_table(tmp_path / "nope")


def test_read_list_ignores_comments_and_blank_lines(tmp_path):
    p = _raw(tmp_path, {"l": "# header\nu1 extra fields\n\n  u2\n#u3\n"}) / "l"
    assert read_list(p) == ["u1", "u2"]


def test_write_table_sorts_bytewise_like_c_locale(tmp_path):
    keys = ["b", "B", "a-1", "a_1", "a", "ä", "Z9", "a.1"]
    p = tmp_path / "t"
    write_table(p, {k: "v" for k in keys})
    written = [line.split()[0] for line in p.read_text(encoding="utf-8").splitlines()]
    # LC_ALL=C sort compares UTF-8 bytes.
    assert written == sorted(keys, key=lambda k: k.encode("utf-8"))
    assert [f for f in os.listdir(tmp_path)] == ["t"], "temporary file left behind"


@pytest.mark.parametrize(
    "table, msg",
    [({"a b": "x"}, "contains whitespace"), ({"a": "  "}, "empty value"), ({"a": "x\ny"}, "newline")],
)
def test_write_table_rejects_bad_entries(tmp_path, table, msg):
    with pytest.raises(DataDirError, match=msg):
        write_table(tmp_path / "t", table)
    assert not (tmp_path / "t").exists()


def test_spk2utt_utt2spk_round_trip():
    utt2spk = {"a-1": "a", "a-2": "a", "b-1": "b"}
    spk2utt = utt2spk_to_spk2utt(utt2spk)
    assert spk2utt == {"a": "a-1 a-2", "b": "b-1"}
    assert spk2utt_to_utt2spk(spk2utt) == utt2spk
    with pytest.raises(DataDirError, match="'a-1' listed under speakers 'a' and 'b'"):
        spk2utt_to_utt2spk({"a": "a-1", "b": "a-1"})


# ---------------------------------------------------------------------------
# write_data_dir
# ---------------------------------------------------------------------------


def test_write_data_dir_derives_spk2utt_and_writes_skipped(tmp_path):
    d = tmp_path / "data" / "x"
    write_data_dir(d, _tables(unlabelled=("spkB-u1",)), skipped={"/c/bad.wav": "cannot\nread", "/c/b.wav": "short"})
    assert read_table(d / "spk2utt") == {"spkA": "spkA-u0 spkA-u1 spkA-u2",
                                         "spkB": "spkB-u0 spkB-u1 spkB-u2",
                                         "spkC": "spkC-u0 spkC-u1 spkC-u2"}
    assert (d / "skipped").read_text() == "/c/b.wav short\n/c/bad.wav cannot read\n"
    assert "spkB-u1" not in read_table(d / "utt2emo")
    assert read_table(d / "wav.scp")["spkA-u0"] == "sox /corpus/spkA-u0.wav -t wav - |"
    validate_data_dir(d)
    # Nothing but the directory itself is left next to it.
    assert os.listdir(d.parent) == ["x"]


def test_write_data_dir_replaces_old_dir_and_keeps_it_on_failure(tmp_path):
    d = _good(tmp_path)
    (d / "utt2old").write_text("stale\n")
    write_data_dir(d, _tables(speakers=("spkA",)))
    assert not (d / "utt2old").exists()
    assert len(read_table(d / "utt2spk")) == 3

    bad = _tables()
    del bad["utt2gender"]["spkC-u2"]
    with pytest.raises(DataDirError) as e:
        write_data_dir(d, bad)
    msg = str(e.value)
    assert "\n" not in msg
    assert f"{d}/utt2gender" in msg and "spkC-u2" in msg and ".tmp." not in msg
    # The previous, valid directory is untouched and no temporary dir remains.
    assert len(read_table(d / "utt2spk")) == 3
    assert sorted(os.listdir(d.parent)) == ["x"]


def test_write_data_dir_requires_core_tables_and_known_names(tmp_path):
    t = _tables()
    del t["utt2spk"]
    with pytest.raises(DataDirError, match="table 'utt2spk' missing"):
        write_data_dir(tmp_path / "x", t)
    with pytest.raises(DataDirError, match=r"write_data_dir .*/x: .*/x/utt2emo: key 'a b' is empty or contains whitespace"):
        write_data_dir(tmp_path / "x", {**_tables(), "utt2emo": {"a b": "ang"}})
    with pytest.raises(DataDirError, match="'emotions.txt' is not a data-dir table name"):
        write_data_dir(tmp_path / "x", {**_tables(), "emotions.txt": {"ang": "0"}})
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------
# validate_data_dir
# ---------------------------------------------------------------------------


def test_validate_accepts_partial_utt2emo_and_segments(tmp_path):
    _good(tmp_path, unlabelled=("spkA-u0", "spkC-u2"))
    d = _raw(tmp_path / "seg", {
        "wav.scp": "spkA-rec1 /a/1.wav\nspkA-rec2 /a/2.wav\n",
        "segments": "spkA-rec1-0 spkA-rec1 0.0 1.5\nspkA-rec1-1 spkA-rec1 1.5 3\nspkA-rec2-0 spkA-rec2 0 -1\n",
        "utt2spk": "spkA-rec1-0 spkA\nspkA-rec1-1 spkA\nspkA-rec2-0 spkA\n",
        "spk2utt": "spkA spkA-rec1-0 spkA-rec1-1 spkA-rec2-0\n",
        "utt2num_frames": "spkA-rec1-0 150\nspkA-rec1-1 150\nspkA-rec2-0 7\n",
    })
    validate_data_dir(d)


def _x(files_over: dict[str, str | None]) -> dict[str, str]:
    base = {
        "wav.scp": "a-1 /w/a1.wav\na-2 /w/a2.wav\nb-1 /w/b1.wav\n",
        "utt2spk": "a-1 a\na-2 a\nb-1 b\n",
        "spk2utt": "a a-1 a-2\nb b-1\n",
        "utt2emo": "a-1 ang\nb-1 neu\n",
    }
    base.update(files_over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    "over, pattern",
    [
        ({"utt2spk": None}, r"/x/utt2spk: missing"),
        ({"utt2emo": "b-1 neu\na-1 ang\n"}, r"/x/utt2emo: not sorted in C locale at line 2 \('b-1' before 'a-1'\) "
                                            r"\(run utils/fix_data_dir.sh .*/x\)"),
        ({"wav.scp": "a-1 /w/a1.wav\nb-1 /w/b1.wav\n"}, r"/x/wav.scp: 2 keys vs 3 in utt2spk: 1 key\(s\) of utt2spk missing \(e.g. a-2\)"),
        ({"utt2gender": "a-1 f\na-2 f\nb-1 m\nc-1 m\n"}, r"/x/utt2gender: .*1 not in utt2spk \(e.g. c-1\)"),
        ({"utt2emo": "a-1 ang\nc-9 neu\n"}, r"/x/utt2emo: .*1 not in utt2spk \(e.g. c-9\)"),
        ({"text": "a-1 hallo\nb-1 welt\n"}, r"/x/text: .*missing \(e.g. a-2\)"),
        ({"spk2utt": "a a-1\nb b-1\n"}, r"/x/spk2utt: utterances of 'a' differ from utt2spk"),
        ({"spk2utt": "a a-1 a-2\n"}, r"/x/spk2utt: 1 speaker\(s\) of utt2spk missing \(e.g. b\)"),
        ({"utt2spk": "a-1 a\na-2 b\nb-1 b\n", "spk2utt": "a a-1\nb a-2 b-1\n"},
         r"/x/utt2spk:2: utterance id 'a-2' does not start with its speaker id 'b'"),
        ({"wav.scp": "a-1 /w\nab-1 /w\nb-1 /w\n", "utt2spk": "a-1 a\nab-1 ab\nb-1 a\n",
          "spk2utt": "a a-1 b-1\nab ab-1\n", "utt2emo": None},
         r"utt2spk:3: utterance id 'b-1' does not start"),
        ({"wav.scp": "a-1 /w\na-b-1 /w\n", "utt2spk": "a-1 a\na-b-1 a-b\n", "spk2utt": "a a-1\na-b a-b-1\n",
          "utt2emo": None, "utt2x": "a-1 1\na-b-1 2\n"}, None),
        ({"wav.scp": "a-a-1 /w\na-b /w\n", "utt2spk": "a-a-1 a-a\na-b a\n", "spk2utt": "a a-b\na-a a-a-1\n",
          "utt2emo": None}, r"utt2spk:2: not sorted by speaker \('a-a' before 'a'\)"),
        ({"utt2num_frames": "a-1 10\na-2 1.5\nb-1 3\n"}, r"utt2num_frames: value of 'a-2' is not a non-negative integer"),
        ({"utt2dur": "a-1 1\na-2 x\nb-1 3\n"}, r"utt2dur: value of 'a-2' is not a non-negative number"),
        ({"utt2gender": "a-1 f\na-2\nb-1 m\n"}, r"utt2gender:2: key 'a-2' has no value"),
        ({"utt2spk": "a-1 a\na-2 a\nb-1 b\nb-1 b\n"}, r"utt2spk:4: duplicate key 'b-1'"),
        ({"spk2gender": "a f\n"}, r"spk2gender: .*1 key\(s\) of spk2utt missing \(e.g. b\)"),
        ({"segments": "a-1 r1 0 1\na-2 r1 1 2\nb-1 r2 0 1\n"}, r"segments: recording 'r1' of 'a-1' not in wav.scp"),
        ({"wav.scp": "r1 /w/r1.wav\n", "segments": "a-1 r1 0 1\na-2 r1 2 1\nb-1 r1 3 4\n"},
         r"segments: bad times for 'a-2': start 2, end 1"),
    ],
)
def test_validate_reports_one_line_naming_file_and_fix(tmp_path, over, pattern):
    d = _raw(tmp_path / "x", _x(over))
    if pattern is None:  # a valid variant: speaker 'a' is a prefix of 'a-b' but the order still holds
        validate_data_dir(d)
        return
    with pytest.raises(DataDirError) as e:
        validate_data_dir(d)
    assert "\n" not in str(e.value)
    assert re.search(pattern, str(e.value)), str(e.value)


def test_validate_requirements(tmp_path):
    d = _raw(tmp_path / "x", _x({}))
    validate_data_dir(d)
    with pytest.raises(DataDirError, match=r"x/feats.scp: missing"):
        validate_data_dir(d, require_feats=True)
    with pytest.raises(DataDirError, match=r"x/text: missing"):
        validate_data_dir(d, require_text=True)
    with pytest.raises(FileNotFoundError, match="data directory not found"):
        validate_data_dir(tmp_path / "nope")


def test_validate_ignores_split_backup_and_non_tables(tmp_path):
    d = _good(tmp_path)
    split_data(d, 2)
    (d / ".backup").mkdir()
    (d / ".backup" / "utt2spk").write_text("zzz garbage\n")
    (d / "skipped").write_text("whatever reason\n")
    (d / "feats_conf.yaml").write_text("a: 1\n")
    validate_data_dir(d)


# ---------------------------------------------------------------------------
# fix_data_dir
# ---------------------------------------------------------------------------


def test_fix_data_dir_keeps_intersection_and_all_utt2_files(tmp_path, capsys):
    d = _raw(tmp_path / "x", {
        "wav.scp": "b-1 /w/b1.wav\na-1 /w/a1.wav\na-2 /w/a2.wav\nc-1 /w/c1.wav\n",
        "utt2spk": "a-1 a\na-2 a\nb-1 b\nc-1 c\nd-1 d\n",
        "spk2utt": "a a-1\nb b-1\nb b-2\n   garbage\n",
        "text": "a-1 eins\na-2 zwei\nb-1 drei\nc-1 vier\nd-1 fünf\n\n",
        "utt2gender": "a-1 f\na-2 f\nb-1 m\nd-1 m\nb-1 m\n",
        "utt2emo": "a-2 ang\nc-1 neu\nb-1 sad\n",
        "spk2gender": "a f\nb m\nc m\nd m\n",
    })
    originals = {p.name: p.read_text() for p in d.iterdir()}
    result = fix_data_dir(d)
    assert result == {"before": 5, "kept": 3, "removed": 2, "speakers": 2,
                      "lacking": {"wav.scp": 1, "utt2gender": 1}}
    assert read_table(d / "utt2spk") == {"a-1": "a", "a-2": "a", "b-1": "b"}
    assert read_table(d / "spk2utt") == {"a": "a-1 a-2", "b": "b-1"}
    assert list(read_table(d / "wav.scp")) == ["a-1", "a-2", "b-1"]
    assert read_table(d / "text") == {"a-1": "eins", "a-2": "zwei", "b-1": "drei"}
    assert read_table(d / "utt2gender") == {"a-1": "f", "a-2": "f", "b-1": "m"}
    # utt2emo is partial: filtered, not used to drop a-1.
    assert read_table(d / "utt2emo") == {"a-2": "ang", "b-1": "sad"}
    assert read_table(d / "spk2gender") == {"a": "f", "b": "m"}
    assert (d / ".backup" / "removed").read_text() == "c-1 utt2gender\nd-1 wav.scp\n"
    for name, content in originals.items():
        assert (d / ".backup" / name).read_text() == content
    err = capsys.readouterr().err
    assert "kept 3 of 5 utterances" in err and "removed 2" in err
    validate_data_dir(d)
    # Idempotent.
    assert fix_data_dir(d)["removed"] == 0


def test_fix_data_dir_segments_drops_unused_recordings(tmp_path):
    d = _raw(tmp_path / "x", {
        "wav.scp": "r1 /w/1.wav\nr2 /w/2.wav\n",
        "segments": "a-1 r1 0 1\na-2 r2 0 1\nb-1 r3 0 1\n",
        "utt2spk": "a-1 a\na-2 a\nb-1 b\n",
        "utt2emo": "a-1 x\na-2 y\n",
        "utt2gender": "a-1 f\nb-1 m\n",
    })
    assert fix_data_dir(d)["kept"] == 1
    assert read_table(d / "wav.scp") == {"r1": "/w/1.wav"}
    assert read_table(d / "segments") == {"a-1": "r1 0 1"}


def test_fix_data_dir_refuses_conflicting_duplicates(tmp_path):
    d = _raw(tmp_path / "x", {"wav.scp": "a-1 /w\n", "utt2spk": "a-1 a\n", "utt2emo": "a-1 x\na-1 y\n"})
    with pytest.raises(DataDirError, match=r"utt2emo:2: key 'a-1' appears twice with different values"):
        fix_data_dir(d)


# ---------------------------------------------------------------------------
# subset, combine, split
# ---------------------------------------------------------------------------


def test_subset_by_utts_and_spks(tmp_path):
    src = _good(tmp_path)
    (src / "spk2gender").write_text("spkA f\nspkB m\nspkC m\n")
    n = subset_data_dir(src, tmp_path / "u", utts=["spkB-u2", "spkA-u1"])
    assert n == 2
    assert read_table(tmp_path / "u" / "utt2spk") == {"spkA-u1": "spkA", "spkB-u2": "spkB"}
    assert set(read_table(tmp_path / "u" / "utt2gender")) == {"spkA-u1", "spkB-u2"}
    assert read_table(tmp_path / "u" / "spk2gender") == {"spkA": "f", "spkB": "m"}
    subset_data_dir(src, tmp_path / "s", spks=["spkC"])
    assert read_table(tmp_path / "s" / "spk2utt") == {"spkC": "spkC-u0 spkC-u1 spkC-u2"}
    assert set(read_table(tmp_path / "s" / "text")) == {"spkC-u0", "spkC-u1", "spkC-u2"}


def _subset(src, dst, **kw):
    subset_data_dir(src, dst, **kw)
    return dst


def test_subset_missing_ids(tmp_path):
    src = _good(tmp_path)
    with pytest.raises(DataDirError, match=r"2 utterance id\(s\) not in .* \(e.g. nope-1, nope-2\)"):
        subset_data_dir(src, tmp_path / "u", utts=["spkA-u0", "nope-1", "nope-2"])
    assert not (tmp_path / "u").exists()
    assert subset_data_dir(src, tmp_path / "u", utts=["spkA-u0", "nope-1"], allow_missing=True) == 1
    assert list(read_table(_subset(src, tmp_path / "n", num=3) / "utt2spk")) == ["spkA-u0", "spkB-u0", "spkC-u0"]
    assert list(read_table(_subset(src, tmp_path / "n", num=2, first=True) / "utt2spk")) == ["spkA-u0", "spkA-u1"]
    with pytest.raises(DataDirError, match="asked for 10 utterances but .* has 9"):
        subset_data_dir(src, tmp_path / "n", num=10)
    with pytest.raises(ValueError, match="exactly one of"):
        subset_data_dir(src, tmp_path / "u", utts=["spkA-u0"], spks=["spkA"])


def test_combine_unions_and_checks(tmp_path):
    a = _good(tmp_path, "a", speakers=("spkA",))
    b = _good(tmp_path, "b", speakers=("spkB", "spkC"))
    assert combine_data(tmp_path / "ab", [a, b]) == 9
    ab = tmp_path / "ab"
    for name in ("wav.scp", "utt2spk", "text", "utt2emo", "utt2gender"):
        assert read_table(ab / name) == {**read_table(a / name), **read_table(b / name)}
    validate_data_dir(ab)

    with pytest.raises(DataDirError, match=r"utterance 'spkA-u0' is in both .*/a and .*/a2"):
        combine_data(tmp_path / "dup", [a, _good(tmp_path, "a2", speakers=("spkA",))])

    nolab = _good(tmp_path, "c", speakers=("spkD",))
    (nolab / "utt2emo").unlink()
    with pytest.raises(DataDirError, match=r"utt2emo is in .*/a but not in .*/c \(pass --allow-partial"):
        combine_data(tmp_path / "ac", [a, nolab])
    combine_data(tmp_path / "ac", [a, nolab], allow_partial=True)
    assert set(read_table(tmp_path / "ac" / "utt2emo")) == set(read_table(a / "utt2emo"))
    assert len(read_table(tmp_path / "ac" / "utt2spk")) == 6

    (nolab / "text").unlink()
    with pytest.raises(DataDirError, match=r"text is in .* \(pass --exclude text"):
        combine_data(tmp_path / "ac2", [a, nolab], allow_partial=True)
    combine_data(tmp_path / "ac2", [a, nolab], allow_partial=True, exclude=["text"])
    assert not (tmp_path / "ac2" / "text").exists()


def test_combine_labelled_with_unlabelled_binary_views(tmp_path):
    """Labelled data with utt2arousal + unlabelled target data (DANN's train + train_unlab)."""
    from espnet_ser.utils.data_dir import write_table

    a = _good(tmp_path, "a", speakers=("spkA",))
    write_table(a / "utt2arousal", {u: "high" for u in read_table(a / "utt2spk")})
    nolab = _good(tmp_path, "c", speakers=("spkD",))
    (nolab / "utt2emo").unlink()
    with pytest.raises(DataDirError, match=r"utt2arousal is in .*/a but not in .*/c \(pass --allow-partial"):
        combine_data(tmp_path / "ac", [a, nolab])
    combine_data(tmp_path / "ac", [a, nolab], allow_partial=True)
    assert set(read_table(tmp_path / "ac" / "utt2arousal")) == set(read_table(a / "utt2spk"))
    validate_data_dir(tmp_path / "ac")


@pytest.mark.parametrize("by_speaker", [True, False])
def test_split_data_partitions_and_reuses(tmp_path, by_speaker):
    d = _good(tmp_path, speakers=("s1", "s2", "s3", "s4", "s5"), per_spk=4)
    parts = split_data(d, 3, by_speaker=by_speaker)
    expected_dir = d / ("split3" if by_speaker else "split3utt")
    assert parts == [expected_dir / "1", expected_dir / "2", expected_dir / "3"]
    all_utts = read_table(d / "utt2spk")
    seen: dict[str, str] = {}
    sizes = []
    for p in parts:
        validate_data_dir(p)
        u2s = read_table(p / "utt2spk")
        sizes.append(len(u2s))
        for u in u2s:
            assert u not in seen
            seen[u] = p.name
        assert set(read_table(p / "utt2emo")) <= set(u2s)
        assert set(read_table(p / "text")) == set(u2s)
    assert set(seen) == set(all_utts)
    assert max(sizes) - min(sizes) <= (4 if by_speaker else 1)
    if by_speaker:
        for spk in set(all_utts.values()):
            assert len({seen[u] for u, s in all_utts.items() if s == spk}) == 1

    # Up to date: reused (files not rewritten); source changed: rebuilt.
    mtime = (parts[0] / "utt2spk").stat().st_mtime_ns
    assert split_data(d, 3, by_speaker=by_speaker) == parts
    assert (parts[0] / "utt2spk").stat().st_mtime_ns == mtime
    write_data_dir(d, _tables(speakers=("s1", "s2", "s3"), per_spk=4))
    parts = split_data(d, 3, by_speaker=by_speaker)
    assert sum(len(read_table(p / "utt2spk")) for p in parts) == 12


def test_split_data_too_many_parts(tmp_path):
    d = _good(tmp_path)
    with pytest.raises(DataDirError, match="cannot split 3 speakers into 4 parts"):
        split_data(d, 4, by_speaker=True)
    assert len(split_data(d, 9)) == 9
    with pytest.raises(DataDirError, match="cannot split 9 utterances into 10 parts"):
        split_data(d, 10)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def test_cli_errors_are_one_line_exit_1(tmp_path, capsys):
    d = _raw(tmp_path / "x", _x({"utt2emo": "b-1 neu\na-1 ang\n"}))
    assert main(["validate", "--no-feats", "--no-text", str(d)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("utils/validate_data_dir.sh: ") and "not sorted" in err
    with pytest.raises(SystemExit) as e:
        main(["split", str(d)])
    assert e.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["fix", str(d)]) == 0
    assert main(["validate", "--no-feats", "--no-text", str(d)]) == 0


# ---------------------------------------------------------------------------
# Real corpus (skipped when the shared copy is absent)
# ---------------------------------------------------------------------------

EMODB = Path(os.environ.get("EMODB") or REPO.parent / "shared" / "corpora" / "emodb")


@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"Emo-DB not found at {EMODB} (set EMODB)")
def test_real_emodb_listing_round_trip(tmp_path):
    """A data dir of the 535 real Emo-DB files: write, validate, split by speaker."""
    wavs = sorted((EMODB / "wav").glob("*.wav"))
    assert len(wavs) == 535
    utt2spk, wav, emo = {}, {}, {}
    for w in wavs:
        spk = f"emodb_{w.stem[:2]}"
        utt = f"{spk}-{w.stem}"
        utt2spk[utt], wav[utt], emo[utt] = spk, str(w), w.stem[5]
    d = tmp_path / "emodb"
    write_data_dir(d, {"wav.scp": wav, "utt2spk": utt2spk, "utt2emo": emo})
    validate_data_dir(d)
    assert len(read_table(d / "spk2utt")) == 10
    counts = {s: len(v.split()) for s, v in read_table(d / "spk2utt").items()}
    assert counts["emodb_03"] == 49 and counts["emodb_16"] == 71
    parts = split_data(d, 4, by_speaker=True)
    assert sum(len(read_table(p / "utt2spk")) for p in parts) == 535
