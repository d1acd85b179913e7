"""Tests of espnet_ser.labels: the one list of label streams and the one inventory reader."""
import pytest

from espnet_ser.labels import (
    DOMAIN_LABEL_NAMES,
    LABEL_NAMES,
    LABEL_SOURCES,
    inventory_name,
    read_label_list,
    write_label_list,
)


def test_streams_are_defined_once_and_used_by_task_and_cli():
    import espnet_ser.bin.prepare_labels as prepare_labels
    from espnet_ser.tasks.ser import SERTask

    assert LABEL_NAMES[0] == "emotion" and "emotion" not in DOMAIN_LABEL_NAMES
    assert SERTask.optional_data_names() == LABEL_NAMES
    assert prepare_labels.LABEL_SOURCES is LABEL_SOURCES
    assert inventory_name("speaker") == "speakers.txt"
    with pytest.raises(ValueError, match="unknown label stream 'age'"):
        inventory_name("age")


def test_task_does_not_import_the_cli():
    """tasks/ser.py must not reach up into bin/ (arrows point down)."""
    import ast
    from pathlib import Path

    import espnet_ser.tasks.ser as ser

    tree = ast.parse(Path(ser.__file__).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in modules if m and m.startswith("espnet_ser.bin")}


def test_read_label_list_file_and_list(tmp_path):
    f = tmp_path / "emotions.txt"
    write_label_list(f, ["ang", "neu", "sad"])
    assert f.read_text() == "ang\nneu\nsad\n"
    assert read_label_list(f) == ["ang", "neu", "sad"]
    assert read_label_list(("a", "b"), "--emotion_list", min_labels=2) == ["a", "b"]


@pytest.mark.parametrize("text, match", [
    ("ang\n\nneu\n", r"emotions.txt:2: expected exactly one label per line"),
    ("ang x\n", r"emotions.txt:1: expected exactly one label per line"),
    ("ang\nneu\nang\n", r"emotions.txt:3: duplicate label 'ang' \(first at .*emotions.txt:1\)"),
    ("ang\n", r"needs at least 2 label"),
])
def test_read_label_list_errors_name_file_and_line(tmp_path, text, match):
    f = tmp_path / "emotions.txt"
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_label_list(f, min_labels=2)


def test_read_label_list_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="--emotion_list: label inventory not found"):
        read_label_list(tmp_path / "none.txt", "--emotion_list")
    with pytest.raises(ValueError, match="expected a label-inventory path or a list"):
        read_label_list(3, "--emotion_list")
    with pytest.raises(ValueError, match=r"domain_heads\[0\]\[1\]: duplicate label"):
        read_label_list(["a", "a"], "domain_heads[0]")
