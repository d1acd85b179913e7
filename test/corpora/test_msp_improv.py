"""Tests of espnet_ser.corpora.msp_improv on a hand-built tree in the release layout."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora.common import CorpusError
from espnet_ser.corpora.msp_improv import prepare_msp_improv, read_evaluation
from espnet_ser.utils.data_dir import read_table, validate_data_dir


def write_wav(path, seconds=0.05, sr=44100):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * sr)) / 4.0), sr, subtype="PCM_16")


# name (without MSP-IMPROV-), consensus label or None, has audio
TURNS = [
    ("S01A-F01-P-FM01", "A", True),
    ("S01A-F01-T-FM02", "N", True),
    ("S02H-M01-S-MF01", "H", True),
    ("S03S-F06-R-FM01", "S", True),
    ("S04N-M06-P-MF03", "O", True),   # other: left out
    ("S05A-M03-T-MF01", "X", True),   # no agreement: left out
    ("S06H-F02-P-FM04", None, True),  # audio without label
    ("S07S-M02-R-MF02", "S", False),  # label without audio
]


def build_tree(root: Path, label_name="Evaluation.txt") -> Path:
    lines = []
    for name, label, has_audio in TURNS:
        sess = int(name.split("-")[1][1:])
        sent = name.split("-")[0]
        rtype = name.split("-")[2]
        if has_audio:
            write_wav(root / "Audio" / f"session{sess}" / sent / rtype / f"MSP-IMPROV-{name}.wav")
        if label is not None:
            lines.append(
                f"UTD-IMPROV-{name}.avi; {label}; A:2.400000; V:3.000000; D:2.600000; N:3.200000;\n"
                "A1; Neutral; Concentrated;\nA2; Angry; Frustrated;\n\n"
            )
    (root / label_name).write_text("".join(lines))
    return root


@pytest.fixture
def tree(tmp_path):
    return build_tree(tmp_path / "MSP-IMPROV")


def test_prepare(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_msp_improv(tree, out)
    validate_data_dir(out)
    assert read_table(out / "utt2emo") == {
        "msp_improv_F01-MSP-IMPROV-S01A-F01-P-FM01": "ang",
        "msp_improv_F01-MSP-IMPROV-S01A-F01-T-FM02": "neu",
        "msp_improv_F06-MSP-IMPROV-S03S-F06-R-FM01": "sad",
        "msp_improv_M01-MSP-IMPROV-S02H-M01-S-MF01": "hap",
    }
    assert res.num_speakers == 3
    utt = "msp_improv_F06-MSP-IMPROV-S03S-F06-R-FM01"
    assert read_table(out / "utt2type")[utt] == "R"
    assert read_table(out / "utt2session")[utt] == "Ses06"
    assert read_table(out / "utt2dialog")[utt] == "MSP-IMPROV-S03S-F06-R"
    assert read_table(out / "utt2gender")["msp_improv_M01-MSP-IMPROV-S02H-M01-S-MF01"] == "m"
    assert read_table(out / "utt2arousal")[utt] == "low"
    assert read_table(out / "utt2valence")["msp_improv_M01-MSP-IMPROV-S02H-M01-S-MF01"] == (
        "positive"
    )
    reasons = {Path(k).stem if "/" in k else k: v for k, v in res.skipped.items()}
    assert reasons["MSP-IMPROV-S04N-M06-P-MF03"].startswith("emotion 'O' not in the class set")
    assert reasons["MSP-IMPROV-S05A-M03-T-MF01"].startswith("emotion 'X' not in the class set")
    assert reasons["MSP-IMPROV-S06H-F02-P-FM04"].startswith("no label")
    assert reasons["UTD-IMPROV-S07S-M02-R-MF02"].startswith("label without audio")
    assert len(reasons) == 4


def test_misspelt_label_file_and_types(tmp_path):
    root = build_tree(tmp_path / "m", label_name="Evalution.txt")
    res = prepare_msp_improv(root, tmp_path / "d", types="R")
    assert res.num_utts == 1
    # Turns of other types are excluded by design before their labels are looked up.
    assert res.excluded == {"turns of type P (types=R)": 3, "turns of type S (types=R)": 1,
                            "turns of type T (types=R)": 2}
    assert list(res.skipped) == ["UTD-IMPROV-S07S-M02-R-MF02"]
    with pytest.raises(ValueError, match="types='RQ' must be letters from 'TRSP'"):
        prepare_msp_improv(root, tmp_path / "d", types="RQ")


def test_label_file_errors(tree, tmp_path):
    (tree / "Audio" / "Evalution.txt").write_text("")
    with pytest.raises(CorpusError, match="several label files.*label_file="):
        prepare_msp_improv(tree, tmp_path / "d")
    res = prepare_msp_improv(tree, tmp_path / "d", label_file=tree / "Evaluation.txt")
    assert res.num_utts == 4
    (tree / "Evaluation.txt").unlink()
    (tree / "Audio" / "Evalution.txt").unlink()
    with pytest.raises(CorpusError, match="no Evaluation.txt"):
        prepare_msp_improv(tree, tmp_path / "d")
    with pytest.raises(FileNotFoundError, match="label_file"):
        prepare_msp_improv(tree, tmp_path / "d", label_file=tree / "nope.txt")


def test_conflicting_duplicate_label(tmp_path):
    f = tmp_path / "Evaluation.txt"
    f.write_text(
        "UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:1; V:1; D:1; N:1;\n"
        "UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:1; V:1; D:1; N:1;\n"
    )
    with pytest.raises(CorpusError, match=r"Evaluation.txt:2: .*labelled 'N' but 'A' at line 1"):
        read_evaluation(f)


def test_nothing_usable(tmp_path):
    root = tmp_path / "m"
    write_wav(root / "MSP-IMPROV-S01A-F01-P-FM01.wav")
    (root / "Evaluation.txt").write_text("UTD-IMPROV-S01A-F01-P-FM01.avi; X; A:1;\n")
    with pytest.raises(CorpusError, match=r"nothing usable.*emotion 'X' not in the class set"):
        prepare_msp_improv(root, tmp_path / "d")
