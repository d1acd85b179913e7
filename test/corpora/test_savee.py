"""Tests of espnet_ser.corpora.savee on hand-built trees (both layouts)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora.common import CorpusError
from espnet_ser.corpora.savee import prepare_savee
from espnet_ser.utils.data_dir import read_table, validate_data_dir


def write_wav(path, seconds=0.1, sr=44100):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * sr)) / 9.0), sr, subtype="PCM_16")


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "SAVEE"
    for name in ("DC/a01.wav", "DC/sa03.wav", "JE/su15.wav", "KL/n30.wav", "JK/d02.wav"):
        write_wav(root / "AudioData" / name)
    return root


def test_release_layout(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_savee(tree, out)
    validate_data_dir(out)
    assert (res.num_utts, res.num_speakers) == (5, 4)
    emo = read_table(out / "utt2emo")
    assert emo == {
        "savee_DC-a01": "ang", "savee_DC-sa03": "sad", "savee_JE-su15": "sur",
        "savee_JK-d02": "dis", "savee_KL-n30": "neu",
    }
    assert set(read_table(out / "utt2gender").values()) == {"m"}
    assert read_table(out / "text")["savee_DC-sa03"] == "sa03"
    # Gao et al., Table 1: SAVEE arousal high = a f h su, valence positive = h n su.
    assert read_table(out / "utt2arousal") == {
        "savee_DC-a01": "high", "savee_DC-sa03": "low", "savee_JE-su15": "high",
        "savee_JK-d02": "low", "savee_KL-n30": "low",
    }
    assert read_table(out / "utt2valence")["savee_JE-su15"] == "positive"
    assert read_table(out / "utt2valence")["savee_DC-a01"] == "negative"
    # corpus_dir = AudioData itself gives the same ids.
    res2 = prepare_savee(tree / "AudioData", tmp_path / "data2")
    assert read_table(tmp_path / "data2" / "utt2emo") == emo and res2.num_utts == 5


def test_flat_layout_and_bad_inputs(tmp_path):
    root = tmp_path / "flat"
    for name in ("DC_a01.wav", "JE_h07.wav", "KL_sa15.wav"):
        write_wav(root / name)
    write_wav(root / "XY_a01.wav")  # unknown speaker
    write_wav(root / "DC_q01.wav")  # unknown emotion prefix
    (root / "JK_f01.wav").write_bytes(b"\x00" * 100)  # corrupt
    res = prepare_savee(root, tmp_path / "d")
    validate_data_dir(tmp_path / "d")
    assert sorted(read_table(tmp_path / "d" / "utt2spk")) == [
        "savee_DC-a01", "savee_JE-h07", "savee_KL-sa15",
    ]
    reasons = {Path(k).name: v for k, v in res.skipped.items()}
    assert reasons["XY_a01.wav"].startswith("unknown speaker 'XY'")
    assert reasons["DC_q01.wav"].startswith("unknown emotion code 'q'")
    assert reasons["JK_f01.wav"].startswith("corrupt: soundfile could not open")
    assert len(reasons) == 3


def test_flat_layout_in_all_folder(tmp_path):
    root = tmp_path / "kaggle"
    write_wav(root / "ALL" / "DC_a01.wav")
    write_wav(root / "ALL" / "JK_su02.wav")
    res = prepare_savee(root, tmp_path / "d")
    assert read_table(tmp_path / "d" / "utt2emo") == {"savee_DC-a01": "ang", "savee_JK-su02": "sur"}
    assert res.num_speakers == 2


def test_duplicate_across_layouts_is_an_error(tree, tmp_path):
    write_wav(tree / "DC_a01.wav")
    with pytest.raises(CorpusError, match="duplicate utterance id savee_DC-a01"):
        prepare_savee(tree, tmp_path / "d")


def test_no_layout(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(CorpusError, match=r"neither AudioData/\{DC,JE,JK,KL\}/ nor flattened"):
        prepare_savee(tmp_path / "x", tmp_path / "d")
