"""Tests of espnet_ser.corpora.iemocap on a hand-built tree in the release layout."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora.common import CorpusError
from espnet_ser.corpora.iemocap import EXPECTED_COUNTS, parse_utt_id, prepare_iemocap
from espnet_ser.utils.data_dir import read_table, validate_data_dir


def write_wav(path, seconds=0.05, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * sr)) / 3.0), sr, subtype="PCM_16")


# (session, dialog, utt, label or None (no label line), start, has_audio, transcript)
UTTS = [
    (1, "Ses01F_impro01", "Ses01F_impro01_F000", "neu", 6.2901, True, "Excuse me."),
    (1, "Ses01F_impro01", "Ses01F_impro01_M000", "exc", 8.5, True, "Do you have your forms?"),
    (1, "Ses01F_impro01", "Ses01F_impro01_F001", "fru", 10.0, True, "Yeah."),
    (1, "Ses01F_impro01", "Ses01F_impro01_M001", "xxx", 12.25, True, "Um."),
    (1, "Ses01F_impro01", "Ses01F_impro01_F002", None, 14.0, True, "No label here."),
    (1, "Ses01F_impro01", "Ses01F_impro01_M002", "ang", 16.0, False, "No audio here."),
    (3, "Ses03M_impro05a", "Ses03M_impro05a_F012", "sad", 101.5, True, "I miss him."),
    (5, "Ses05M_script01_1b", "Ses05M_script01_1b_M003", "hap", 33.0, True, "Great!"),
    (5, "Ses05M_script01_1b", "Ses05M_script01_1b_F004", "ang", 35.0, True, "Stop it."),
]


def build_tree(root: Path, utts=UTTS) -> Path:
    labels, trans = {}, {}
    for sess, dialog, utt, label, start, has_audio, text in utts:
        s = root / f"Session{sess}"
        if has_audio:
            write_wav(s / "sentences" / "wav" / dialog / f"{utt}.wav")
        if label is not None:
            labels.setdefault((s, dialog), []).append(
                f"[{start:.4f} - {start + 1.5:.4f}]\t{utt}\t{label}\t[2.5000, 3.0000, 3.5000]\n"
                "C-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n"
            )
        trans.setdefault((s, dialog), []).append(
            f"{utt} [{start:08.4f}-{start + 1.5:08.4f}]: {text}\n"
        )
    for (s, dialog), lines in labels.items():
        d = s / "dialog" / "EmoEvaluation"
        (d / "Categorical").mkdir(parents=True, exist_ok=True)
        (d / "Categorical" / f"{dialog}_e1_cat.txt").write_text("junk that is not read\n")
        (d / f"{dialog}.txt").write_text(
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "".join(lines)
        )
    for (s, dialog), lines in trans.items():
        d = s / "dialog" / "transcriptions"
        d.mkdir(parents=True, exist_ok=True)
        extra = f"{dialog}_MXX0 [000.0000-001.0000]: [BREATHING]\n"
        (d / f"{dialog}.txt").write_text(extra + "".join(lines))
    return root


@pytest.fixture
def tree(tmp_path):
    return build_tree(tmp_path / "IEMOCAP_full_release")


@pytest.mark.parametrize("utt, expected", [
    ("Ses01F_impro01_M000", ("Ses01", "Ses01M", "Ses01F_impro01", "m")),
    ("Ses03M_impro05a_F012", ("Ses03", "Ses03F", "Ses03M_impro05a", "f")),
    ("Ses05M_script01_1b_M003", ("Ses05", "Ses05M", "Ses05M_script01_1b", "m")),
    ("Ses02F_script02_2_F014", ("Ses02", "Ses02F", "Ses02F_script02_2", "f")),
])
def test_parse_utt_id(utt, expected):
    assert parse_utt_id(utt) == expected


def test_parse_utt_id_rejects():
    with pytest.raises(ValueError, match="not an IEMOCAP utterance id"):
        parse_utt_id("Ses1F_impro01_M000")


def test_four_class(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_iemocap(tree, out)
    validate_data_dir(out)
    emo = read_table(out / "utt2emo")
    assert emo == {
        "iemocap_Ses01F-Ses01F_impro01_F000": "neu",
        "iemocap_Ses01M-Ses01F_impro01_M000": "hap",  # exc merged into hap
        "iemocap_Ses03F-Ses03M_impro05a_F012": "sad",
        "iemocap_Ses05F-Ses05M_script01_1b_F004": "ang",
        "iemocap_Ses05M-Ses05M_script01_1b_M003": "hap",
    }
    assert res.num_speakers == 5
    assert read_table(out / "utt2gender")["iemocap_Ses03F-Ses03M_impro05a_F012"] == "f"
    assert read_table(out / "utt2session")["iemocap_Ses05M-Ses05M_script01_1b_M003"] == "Ses05"
    assert read_table(out / "utt2dialog")["iemocap_Ses03F-Ses03M_impro05a_F012"] == (
        "Ses03M_impro05a"
    )
    assert read_table(out / "utt2start")["iemocap_Ses01M-Ses01F_impro01_M000"] == "8.5000"
    assert read_table(out / "utt2type")["iemocap_Ses05M-Ses05M_script01_1b_M003"] == "script"
    assert read_table(out / "text")["iemocap_Ses01F-Ses01F_impro01_F000"] == "Excuse me."
    assert read_table(out / "utt2arousal")["iemocap_Ses01F-Ses01F_impro01_F000"] == "low"
    assert read_table(out / "utt2valence")["iemocap_Ses05F-Ses05M_script01_1b_F004"] == (
        "negative"
    )
    reasons = {Path(k).stem if "/" in k else k: v for k, v in res.skipped.items()}
    assert reasons["Ses01F_impro01_F001"].startswith("emotion 'fru' not in the class set")
    assert reasons["Ses01F_impro01_M001"].startswith("emotion 'xxx' not in the class set")
    assert reasons["Ses01F_impro01_F002"] == "no label"
    assert reasons["Ses01F_impro01_M002"].startswith("label without audio")
    assert len(reasons) == 4  # the MXX transcription line is not an utterance
    assert res.excluded == {"transcription lines with an XX id (no audio, not utterances)": 3}  # counted


def test_all_classes_keeps_xxx_unlabelled(tree, tmp_path):
    out = tmp_path / "all"
    res = prepare_iemocap(tree, out, classes="all")
    validate_data_dir(out)
    wav = read_table(out / "wav.scp")
    emo = read_table(out / "utt2emo")
    assert len(wav) == 7 and len(emo) == 6
    assert "iemocap_Ses01M-Ses01F_impro01_M001" in wav  # xxx: kept, unlabelled
    assert "iemocap_Ses01M-Ses01F_impro01_M001" not in emo
    assert emo["iemocap_Ses01M-Ses01F_impro01_M000"] == "exc"
    assert emo["iemocap_Ses01F-Ses01F_impro01_F001"] == "fru"
    assert not (out / "utt2arousal").exists()
    assert res.emotion_counts == {"ang": 1, "exc": 1, "fru": 1, "hap": 1, "neu": 1, "sad": 1}
    with pytest.raises(ValueError, match="either label_map or classes='all'"):
        prepare_iemocap(tree, out, classes="all", label_map={"emotion": {"neu": "neu"}})
    with pytest.raises(ValueError, match="classes='5' is not one of"):
        prepare_iemocap(tree, out, classes="5")


def test_context_keeps_other_labels_unlabelled(tree, tmp_path):
    """Lian et al.'s dialogue context: fru/xxx turns stay, with speaker and text, without utt2emo."""
    out = tmp_path / "ctx"
    res = prepare_iemocap(tree, out, context=True)
    validate_data_dir(out)
    wav, emo = read_table(out / "wav.scp"), read_table(out / "utt2emo")
    ctx = {"iemocap_Ses01F-Ses01F_impro01_F001", "iemocap_Ses01M-Ses01F_impro01_M001"}
    assert ctx <= set(wav) and not ctx & set(emo) and len(emo) == 5
    assert ctx <= set(read_table(out / "utt2spk")) and ctx <= set(read_table(out / "text"))
    assert not (out / "utt2arousal").exists()
    reasons = {Path(k).stem if "/" in k else k: v for k, v in res.skipped.items()}
    assert reasons["Ses01F_impro01_F002"] == "no label" and len(reasons) == 2


def test_improvised_only(tree, tmp_path):
    res = prepare_iemocap(tree, tmp_path / "impro", improvised_only=True)
    assert res.num_utts == 3
    assert res.excluded["scripted utterances (improvised_only)"] == 2
    assert set(read_table(tmp_path / "impro" / "utt2type").values()) == {"impro"}


def test_duplicate_label_and_corrupt_audio(tree, tmp_path):
    # Corrupt audio of a labelled utterance goes to skipped with the reason.
    wav = tree / "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav"
    wav.write_bytes(b"not a wav at all")
    res = prepare_iemocap(tree, tmp_path / "d")
    assert res.skipped[str(wav.resolve())].startswith("corrupt: soundfile could not open")
    # The same utterance labelled in two files is an error, naming both files.
    extra = tree / "Session1/dialog/EmoEvaluation/Ses01F_impro01_copy.txt"
    extra.write_text("[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n")
    with pytest.raises(CorpusError, match="Ses01F_impro01_F000 is labelled twice"):
        prepare_iemocap(tree, tmp_path / "d")


def test_wrong_level(tree, tmp_path):
    with pytest.raises(CorpusError, match=r"no Session1..Session5 folders.*pass .*IEMOCAP_full_release"):
        prepare_iemocap(tree.parent, tmp_path / "d")


def test_expected_counts_are_consistent():
    # The constant a real-data run is checked against must add up.
    assert sum(EXPECTED_COUNTS["emotion"].values()) == EXPECTED_COUNTS["total"] == 5531
    assert sum(EXPECTED_COUNTS["session"].values()) == 5531
    assert sum(EXPECTED_COUNTS["speaker"].values()) == 5531
