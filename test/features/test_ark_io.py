"""ark/scp round trip and crash-safety of ArkWriter."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import espnet_ser.features.ark_io as ark_io
from espnet_ser.features.ark_io import ArkWriter, load_scp, read_ark, read_matrix
from espnet_ser.utils.data_dir import read_table, write_table

REPO = Path(__file__).resolve().parents[2]


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    mats = {f"u{i}": rng.standard_normal((5 + i, 3)).astype(np.float32) for i in range(4)}
    with ArkWriter(tmp_path / "f.ark", tmp_path / "f.scp") as w:
        for k, v in mats.items():
            w[k] = v
    feats = load_scp(tmp_path / "f.scp")
    assert sorted(feats) == sorted(mats)
    for k, v in mats.items():
        got = feats[k]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, v)
        np.testing.assert_array_equal(read_matrix(read_table(tmp_path / "f.scp")[k]), v)
    assert not (tmp_path / "f.ark.tmp").exists()


def test_interrupted_writer_leaves_valid_prefix_and_no_final_files(tmp_path):
    mats = [np.full((4, 2), i, dtype=np.float32) for i in range(3)]
    with pytest.raises(RuntimeError, match="killed"):
        with ArkWriter(tmp_path / "f.ark", tmp_path / "f.scp") as w:
            w["a"] = mats[0]
            w["b"] = mats[1]
            raise RuntimeError("killed")
    # Downstream never sees a partial archive under the final name ...
    assert not (tmp_path / "f.ark").exists() and not (tmp_path / "f.scp").exists()
    # ... and the temporary files hold exactly the records written so far.
    got = list(read_ark(tmp_path / "f.ark.tmp"))
    assert [k for k, _ in got] == ["a", "b"]
    np.testing.assert_array_equal(got[1][1], mats[1])
    assert len((tmp_path / "f.scp.tmp").read_text().splitlines()) == 2


def test_duplicate_and_bad_keys_rejected(tmp_path):
    with ArkWriter(tmp_path / "f.ark", tmp_path / "f.scp") as w:
        w["a"] = np.zeros((1, 1), np.float32)
        with pytest.raises(ValueError, match="duplicate key"):
            w["a"] = np.zeros((1, 1), np.float32)
        with pytest.raises(ValueError, match="whitespace"):
            w["a b"] = np.zeros((1, 1), np.float32)
        with pytest.raises(ValueError, match="numpy array"):
            w["c"] = np.zeros((1, 1, 1), np.float32)


def test_scp_text_goes_through_the_one_table_reader(tmp_path):
    """scp files are text tables: data_dir.read_table/write_table, not a second parser in ark_io."""
    assert not hasattr(ark_io, "read_scp") and not hasattr(ark_io, "write_scp")
    table = {"b": "2", "B": "1", "a_x": "3", "a-x": "4"}
    write_table(tmp_path / "t", table)
    keys = [line.split()[0] for line in (tmp_path / "t").read_text().splitlines()]
    assert keys == sorted(table, key=lambda k: k.encode())
    assert read_table(tmp_path / "t") == table
    (tmp_path / "t").write_text("a 1\na 2\n")
    with pytest.raises(ValueError, match=r"t:2: duplicate key"):
        read_table(tmp_path / "t")
    with pytest.raises(FileNotFoundError):
        load_scp(tmp_path / "missing.scp")


def test_no_hand_written_table_parsers():
    """Kaldi text tables are parsed in utils/data_dir.py only (corpus-native files excepted)."""
    offenders = []
    for path in (REPO / "espnet_ser").rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        if rel == "espnet_ser/utils/data_dir.py" or rel.startswith("espnet_ser/corpora/"):
            continue
        text = path.read_text(encoding="utf-8")
        if "split(maxsplit=1)" in text or "split(None, 1)" in text:
            offenders.append(rel)
    assert offenders == [], f"hand-written '<key> <value>' parsing outside utils/data_dir.py: {offenders}"


def test_only_ark_io_imports_kaldiio():
    offenders = []
    for path in (REPO / "espnet_ser").rglob("*.py"):
        if path.name == "ark_io.py" and path.parent.name == "features":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "kaldiio" for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == [], f"kaldiio imported outside features/ark_io.py: {offenders}"
