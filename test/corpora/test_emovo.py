"""Tests of espnet_ser.corpora.emovo on hand-built trees and the real corpus."""

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora.common import CorpusError
from espnet_ser.corpora.emovo import EXPECTED_COUNTS, prepare_emovo
from espnet_ser.utils.data_dir import read_table, validate_data_dir

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ESPNET_SER_SHARED", REPO.parent / "shared"))
REAL_EMOVO = SHARED / "corpora" / "emovo"


def write_wav(path, seconds=0.1, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * sr)) / 5.0), sr, subtype="PCM_16")


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "EMOVO"
    for name in ("f1/dis-f1-b1.wav", "f1/gio-f1-l3.wav", "m2/sor-m2-n5.wav", "m3/tri-m3-d2.wav"):
        write_wav(root / name)
    return root


def test_prepare_small_tree(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_emovo(tree, out)
    validate_data_dir(out)
    assert (res.num_utts, res.num_speakers) == (4, 3)
    assert res.emotion_counts == {"dis": 1, "hap": 1, "sad": 1, "sur": 1}
    assert read_table(out / "utt2spk")["emovo_m2-sor-m2-n5"] == "emovo_m2"
    assert read_table(out / "spk2gender") == {"emovo_f1": "f", "emovo_m2": "m", "emovo_m3": "m"}
    assert read_table(out / "text")["emovo_f1-gio-f1-l3"] == "l3"
    assert set(read_table(out / "utt2lang").values()) == {"it"}
    # Extension of Gao et al.'s Table 1: surprise is high arousal, positive valence.
    assert read_table(out / "utt2arousal")["emovo_m2-sor-m2-n5"] == "high"
    assert read_table(out / "utt2valence")["emovo_m2-sor-m2-n5"] == "positive"
    assert read_table(out / "utt2arousal")["emovo_m3-tri-m3-d2"] == "low"


def test_bad_inputs(tree, tmp_path):
    write_wav(tree / "f2" / "xyz-f2-b1.wav")  # unknown emotion
    write_wav(tree / "f2" / "neu-f3-b1.wav")  # speaker disagrees with folder
    write_wav(tree / "f2" / "neu-f2-z9.wav")  # unknown sentence
    (tree / "f2" / "rab-f2-b2.wav").write_bytes(b"")
    res = prepare_emovo(tree, tmp_path / "d")
    reasons = {Path(k).name: v for k, v in res.skipped.items()}
    assert reasons["xyz-f2-b1.wav"].startswith("unknown emotion code 'xyz'")
    assert reasons["neu-f3-b1.wav"] == "speaker field 'f3' disagrees with folder 'f2'"
    assert reasons["neu-f2-z9.wav"] == "unknown sentence code 'z9'"
    assert reasons["rab-f2-b2.wav"] == "empty file (0 bytes)"
    assert res.num_utts == 4


def test_wrong_level(tree, tmp_path):
    with pytest.raises(CorpusError, match=r"has none of the speaker folders.*pass .*EMOVO"):
        prepare_emovo(tree.parent, tmp_path / "d")
    with pytest.raises(CorpusError, match="has none of the speaker folders"):
        prepare_emovo(tree / "f1", tmp_path / "d")


@pytest.mark.skipif(not (REAL_EMOVO / "f1").is_dir(), reason=f"real EMOVO not at {REAL_EMOVO}")
def test_real_emovo(tmp_path):
    out = tmp_path / "emovo"
    res = prepare_emovo(REAL_EMOVO, out)
    validate_data_dir(out)
    assert res.num_utts == EXPECTED_COUNTS["total"] == 588
    assert res.num_speakers == 6 and res.skipped == {}
    assert set(res.emotion_counts.values()) == {84} and len(res.emotion_counts) == 7
    per_spk = Counter(read_table(out / "utt2spk").values())
    assert set(per_spk.values()) == {98} and len(per_spk) == 6
    assert Counter(read_table(out / "utt2gender").values()) == {"f": 294, "m": 294}
    assert Counter(read_table(out / "text").values()) == {c: 42 for c in (
        "b1", "b2", "b3", "l1", "l2", "l3", "l4", "n1", "n2", "n3", "n4", "n5", "d1", "d2")}
