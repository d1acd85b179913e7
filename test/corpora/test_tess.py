"""Tests of espnet_ser.corpora.tess on hand-built trees (both layouts, the
release's quirks, bad inputs) and on the real corpus when it is present."""

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.bin import prepare_corpus
from espnet_ser.corpora import CORPORA, get_preparer
from espnet_ser.corpora.common import CorpusError, load_label_map
from espnet_ser.corpora.tess import EXPECTED_COUNTS, parse_folder, parse_name, prepare_tess
from espnet_ser.features.audio import load_audio
from espnet_ser.utils.data_dir import read_table, validate_data_dir

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ESPNET_SER_SHARED", REPO.parent / "shared"))
REAL_TESS = SHARED / "corpora" / "tess"


def write_audio(path, seconds=0.1, sr=24414, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    x = 0.1 * np.sin(np.arange(int(seconds * sr)) / 5.0)
    sf.write(str(path), x, sr, format=fmt, subtype="PCM_16")


@pytest.fixture
def tree(tmp_path):
    """Folder per emotion, with the folder spellings and file quirks of circulating copies."""
    root = tmp_path / "TESS"
    write_audio(root / "OAF_angry" / "OAF_back_angry.wav")
    write_audio(root / "OAF_Fear" / "OAF_back_fear.wav")
    write_audio(root / "OAF_Pleasant_surprise" / "OAF_back_ps.wav")
    write_audio(root / "OAF_neutral" / "OA_bite_neutral.wav")  # the release's misspelt prefix
    write_audio(root / "YAF_fear" / "YAF_back_fear.wav", fmt="AIFF")  # AIFF data, .wav name
    write_audio(root / "YAF_pleasant_surprised" / "YAF_back_ps.wav", sr=96000)  # the 96 kHz file
    write_audio(root / "YAF_sad" / "YAF_back_sad.flac")
    write_audio(root / "YAF_happy" / "YAF_back_happy.aiff")
    (root / "README.txt").write_text("Toronto emotional speech set\n")  # ignored
    return root


def test_parse_name_and_folder():
    assert parse_name("OAF_back_angry") == ("OAF", "back", "angry")
    assert parse_name("OA_bite_neutral") == ("OAF", "bite", "neutral")
    assert parse_name("YAF_germ_Fear") == ("YAF", "germ", "fear")
    assert parse_name("yaf_back_pleasant_surprise") == ("YAF", "back", "ps")
    for bad in ("OAF_back", "XAF_back_angry", "OAF_back_bored", "OAF__angry", "OAF_back_angry_2"):
        assert parse_name(bad) is None, bad
    assert parse_folder("OAF_Pleasant_surprise") == ("OAF", "ps")
    assert parse_folder("YAF_pleasant_surprised") == ("YAF", "ps")
    assert parse_folder("YAF_ps") == ("YAF", "ps")
    assert parse_folder("OAF_Fear") == ("OAF", "fear")
    assert parse_folder("TESS Toronto emotional speech set data") is None


def test_prepare_folder_layout_with_quirks(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_tess(tree, out)
    validate_data_dir(out)
    assert (res.num_utts, res.num_speakers) == (8, 2)
    assert res.skipped == {}
    assert res.emotion_counts == {"ang": 1, "fea": 2, "hap": 1, "neu": 1, "sad": 1, "sur": 2}
    utt2spk = read_table(out / "utt2spk")
    assert sorted(utt2spk) == [
        "tess_OAF-OAF_back_angry", "tess_OAF-OAF_back_fear", "tess_OAF-OAF_back_ps",
        "tess_OAF-OAF_bite_neutral", "tess_YAF-YAF_back_fear", "tess_YAF-YAF_back_happy",
        "tess_YAF-YAF_back_ps", "tess_YAF-YAF_back_sad",
    ]
    assert all(u.startswith(s + "-") for u, s in utt2spk.items())
    wav = read_table(out / "wav.scp")
    assert wav["tess_OAF-OAF_bite_neutral"].endswith("OAF_neutral/OA_bite_neutral.wav")
    assert read_table(out / "spk2gender") == {"tess_OAF": "f", "tess_YAF": "f"}
    assert set(read_table(out / "utt2lang").values()) == {"en"}
    assert set(read_table(out / "utt2corpus").values()) == {"tess"}
    assert read_table(out / "text")["tess_OAF-OAF_bite_neutral"] == "Say the word bite"
    # Pleasant surprise: sur, high arousal, positive valence (the map's analogy).
    assert read_table(out / "utt2emo")["tess_YAF-YAF_back_ps"] == "sur"
    assert read_table(out / "utt2arousal")["tess_YAF-YAF_back_ps"] == "high"
    assert read_table(out / "utt2valence")["tess_YAF-YAF_back_ps"] == "positive"
    assert read_table(out / "utt2arousal")["tess_YAF-YAF_back_sad"] == "low"
    assert read_table(out / "utt2valence")["tess_OAF-OAF_bite_neutral"] == "positive"
    # Durations come from each file's own header, whatever its format and rate.
    assert all(abs(float(v) - 0.1) < 1e-4 for v in read_table(out / "utt2dur").values())
    # The feature loader reads every entry by content and resamples to the recipe rate.
    for utt, path in wav.items():
        x, sr = load_audio(path, sample_rate=16000, utt_id=utt)
        assert sr == 16000 and abs(len(x) - 1600) <= 1, (utt, len(x))


def test_prepare_flat_layout(tmp_path):
    root = tmp_path / "flat"
    for name in ("OAF_back_angry.wav", "OAF_back_ps.wav", "YAF_dog_sad.wav", "YAF_dog_neutral.wav"):
        write_audio(root / name)
    res = prepare_tess(root, tmp_path / "data")
    validate_data_dir(tmp_path / "data")
    assert (res.num_utts, res.num_speakers) == (4, 2)
    assert "tess_YAF-YAF_dog_sad" in read_table(tmp_path / "data" / "utt2emo")


def test_wrapped_copy_with_spaces_in_path(tree, tmp_path):
    wrapped = tmp_path / "kaggle"
    (wrapped).mkdir()
    tree.rename(wrapped / "TESS Toronto emotional speech set data")
    res = prepare_tess(wrapped, tmp_path / "data")
    validate_data_dir(tmp_path / "data")
    assert res.num_utts == 8
    path = read_table(tmp_path / "data" / "wav.scp")["tess_OAF-OAF_back_angry"]
    assert " " in path and Path(path).is_file()


def test_bad_inputs_are_skipped_with_reasons(tree, tmp_path):
    write_audio(tree / "OAF_angry" / "OAF_back.wav")  # name does not parse
    write_audio(tree / "OAF_angry" / "YAF_bar_angry.wav")  # speaker disagrees with folder
    write_audio(tree / "OAF_angry" / "OAF_bar_sad.wav")  # emotion disagrees with folder
    (tree / "OAF_sad").mkdir()
    (tree / "OAF_sad" / "OAF_bean_sad.wav").write_bytes(b"")
    (tree / "OAF_sad" / "OAF_beg_sad.wav").write_bytes(b"RIFF\x00\x00\x00\x00garbage")
    (tree / "OAF_sad" / "OAF_bone_sad.mp3").write_bytes(b"ID3")  # a TESS name, not read
    (tree / "__MACOSX" / "OAF_angry").mkdir(parents=True)
    (tree / "__MACOSX" / "OAF_angry" / "._OAF_back_angry.wav").write_bytes(b"\x00\x05")
    res = prepare_tess(tree, tmp_path / "d")
    assert res.num_utts == 8
    reasons = {Path(k).name: v for k, v in res.skipped.items()}
    assert reasons["OAF_back.wav"].startswith("unrecognised file name")
    assert reasons["YAF_bar_angry.wav"] == "speaker 'YAF' disagrees with folder 'OAF_angry'"
    assert reasons["OAF_bar_sad.wav"] == "emotion 'sad' disagrees with folder 'OAF_angry'"
    assert reasons["OAF_bean_sad.wav"] == "empty file (0 bytes)"
    assert reasons["OAF_beg_sad.wav"].startswith("corrupt")
    assert reasons["OAF_bone_sad.mp3"].startswith("extension '.mp3' is not read")
    assert reasons["__MACOSX"].startswith("macOS metadata folder")
    assert len(res.skipped) == 7
    # Every skipped input is listed in the data dir too.
    lines = (tmp_path / "d" / "skipped").read_text().splitlines()
    assert len(lines) == 7 and all(len(ln.split(" ", 1)) == 2 for ln in lines)


def test_same_utterance_twice_is_an_error(tree, tmp_path):
    write_audio(tree / "OAF_angry" / "OAF_back_angry.flac")
    with pytest.raises(CorpusError, match=r"duplicate utterance id tess_OAF-OAF_back_angry"):
        prepare_tess(tree, tmp_path / "d")


def test_no_tess_files(tmp_path):
    (tmp_path / "other").mkdir()
    write_audio(tmp_path / "other" / "x" / "03a01Fa.wav")
    with pytest.raises(CorpusError, match=r"nothing usable"):
        prepare_tess(tmp_path / "other", tmp_path / "d")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"TESS=.*empty holds no TESS audio file; expected .*OAF_back_angry"):
        prepare_tess(tmp_path / "empty", tmp_path / "d")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_tess(tmp_path / "missing", tmp_path / "d")


def test_registry_and_cli(tree, tmp_path, capsys):
    assert CORPORA["tess"] is prepare_tess and get_preparer("TESS") is prepare_tess
    rc = prepare_corpus.main(["--corpus", "tess", "--corpus-dir", str(tree), "--out-dir", str(tmp_path / "d")])
    assert rc == 0 and "prepared 8 utterances (2 speakers)" in capsys.readouterr().out


def test_label_map_is_table1_by_analogy():
    lm = load_label_map(None, "tess")
    assert lm.emotion == {"angry": "ang", "disgust": "dis", "fear": "fea", "happy": "hap",
                          "neutral": "neu", "ps": "sur", "sad": "sad"}
    high = {c for c, lab in lm.emotion.items() if lm.arousal[lab] == "high"}
    pos = {c for c, lab in lm.emotion.items() if lm.valence[lab] == "positive"}
    assert high == {"angry", "fear", "happy", "ps"} and pos == {"happy", "neutral", "ps"}


@pytest.mark.skipif(not REAL_TESS.is_dir(), reason=f"real TESS not at {REAL_TESS}")
def test_real_tess(tmp_path):
    """The copy used here: 2798 FLAC files (OAF_back_angry and YAF_beg_sad are missing)."""
    out = tmp_path / "tess"
    res = prepare_tess(REAL_TESS, out)
    validate_data_dir(out)
    assert res.skipped == {}
    assert res.num_utts == 2798 == EXPECTED_COUNTS["total"] - 2
    assert res.num_speakers == 2
    assert res.emotion_counts == {"ang": 399, "dis": 400, "fea": 400, "hap": 400, "neu": 400,
                                  "sad": 399, "sur": 400}
    assert Counter(read_table(out / "utt2spk").values()) == {"tess_OAF": 1399, "tess_YAF": 1399}
    utt2emo = read_table(out / "utt2emo")
    per = Counter((u.split("-")[0], e) for u, e in utt2emo.items())
    assert per[("tess_OAF", "ang")] == 199 and per[("tess_YAF", "sad")] == 199
    assert {v for k, v in per.items() if k not in {("tess_OAF", "ang"), ("tess_YAF", "sad")}} == {200}
    assert "tess_OAF-OAF_bite_neutral" in utt2emo  # stored as OA_bite_neutral
    words = {t.rsplit(" ", 1)[1] for t in read_table(out / "text").values()}
    assert len(words) == EXPECTED_COUNTS["words"]
    assert Counter(read_table(out / "utt2arousal").values()) == {"high": 1599, "low": 1199}
    assert Counter(read_table(out / "utt2valence").values()) == {"positive": 1200, "negative": 1598}
