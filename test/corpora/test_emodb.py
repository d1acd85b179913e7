"""Tests of espnet_ser.corpora.emodb and the shared helpers in corpora.common.

Hand-built trees in Emo-DB's exact layout (wav/03a01Fa.wav), plus the real
corpus when ``<repo>/../shared/corpora/emodb`` (or ``$ESPNET_SER_SHARED/corpora``)
exists.
"""

import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora import get_preparer, CORPORA
from espnet_ser.corpora.common import (
    AudioError,
    CorpusError,
    load_label_map,
    probe_audio,
)
from espnet_ser.corpora.emodb import EXPECTED_COUNTS, SENTENCES, prepare_emodb
from espnet_ser.utils.data_dir import read_table, validate_data_dir

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ESPNET_SER_SHARED", REPO.parent / "shared"))
REAL_EMODB = SHARED / "corpora" / "emodb"


def write_wav(path, seconds=0.1, sr=16000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * sr)
    x = 0.1 * np.sin(np.arange(n) / 7.0).astype("float32")
    if channels > 1:
        x = np.stack([x] * channels, axis=1)
    sf.write(str(path), x, sr, subtype="PCM_16")


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "emodb"
    write_wav(root / "wav" / "03a01Fa.wav", 0.2)
    write_wav(root / "wav" / "08b10Wa.wav", 0.1)
    write_wav(root / "wav" / "16a04Nc.wav", 0.1, sr=22050)
    (root / "wav" / "README.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "wav" / "README.txt").write_text("not audio\n")
    (root / "labsilb").mkdir()
    return root


def test_prepare_small_tree(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_emodb(tree, out)
    validate_data_dir(out)
    assert res.num_utts == 3 and res.num_speakers == 3
    assert res.emotion_counts == {"ang": 1, "hap": 1, "neu": 1}
    assert res.skipped == {}
    utt = "emodb_03-03a01Fa"
    assert read_table(out / "utt2spk")[utt] == "emodb_03"
    assert read_table(out / "utt2gender") == {
        utt: "m", "emodb_08-08b10Wa": "f", "emodb_16-16a04Nc": "f",
    }
    assert read_table(out / "utt2emo")["emodb_08-08b10Wa"] == "ang"
    assert read_table(out / "text")[utt] == SENTENCES["a01"]
    assert read_table(out / "text")["emodb_08-08b10Wa"] == SENTENCES["b10"]
    assert read_table(out / "utt2arousal") == {
        utt: "high", "emodb_08-08b10Wa": "high", "emodb_16-16a04Nc": "low",
    }
    assert read_table(out / "utt2valence")[utt] == "positive"
    assert read_table(out / "utt2valence")["emodb_08-08b10Wa"] == "negative"
    assert set(read_table(out / "utt2lang").values()) == {"de"}
    assert set(read_table(out / "utt2corpus").values()) == {"emodb"}
    assert float(read_table(out / "utt2dur")[utt]) == pytest.approx(0.2, abs=1e-3)
    assert read_table(out / "spk2gender") == {"emodb_03": "m", "emodb_08": "f", "emodb_16": "f"}
    wav = Path(read_table(out / "wav.scp")[utt])
    assert wav.is_absolute() and wav == (tree / "wav" / "03a01Fa.wav").resolve()


def test_bad_inputs_go_to_skipped(tree, tmp_path):
    wav = tree / "wav"
    write_wav(wav / "03a01Qa.wav")  # unknown emotion letter
    write_wav(wav / "07a01Fa.wav")  # not an Emo-DB speaker
    write_wav(wav / "03x01Fa.wav")  # bad name
    (wav / "11a01Fa.wav").write_bytes(b"")
    (wav / "12a01Fa.wav").write_bytes(b"RIFF....garbage" * 5)
    sf.write(str(wav / "13a01Fa.wav"), np.zeros(0, dtype="float32"), 16000)
    write_wav(wav / "14a01Fa.wav", 0.5)
    data = (wav / "14a01Fa.wav").read_bytes()
    (wav / "14a01Fa.wav").write_bytes(data[: len(data) // 2])
    out = tmp_path / "data"
    res = prepare_emodb(tree, out)
    validate_data_dir(out)
    assert res.num_utts == 3
    reasons = {Path(k).name: v for k, v in res.skipped.items()}
    assert reasons["03a01Qa.wav"].startswith("unknown emotion code 'Q'")
    assert reasons["07a01Fa.wav"].startswith("unknown speaker '07'")
    assert reasons["03x01Fa.wav"].startswith("unrecognised file name")
    assert reasons["11a01Fa.wav"] == "empty file (0 bytes)"
    assert reasons["12a01Fa.wav"].startswith("corrupt: soundfile could not open")
    assert reasons["13a01Fa.wav"] == "zero-length audio (0 samples)"
    assert reasons["14a01Fa.wav"].startswith("corrupt: truncated")
    assert len(reasons) == 7
    lines = (out / "skipped").read_text().splitlines()
    assert len(lines) == 7
    assert any("14a01Fa.wav corrupt: truncated" in line for line in lines)


def test_wrong_level_and_missing(tree, tmp_path):
    with pytest.raises(CorpusError, match=r"points at the wav/ folder itself.*pass "):
        prepare_emodb(tree / "wav", tmp_path / "d")
    with pytest.raises(CorpusError, match=r"points at the parent of the corpus folder.*emodb"):
        prepare_emodb(tree.parent, tmp_path / "d")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_emodb(tmp_path / "nope", tmp_path / "d")
    empty = tmp_path / "empty"
    (empty / "wav").mkdir(parents=True)
    with pytest.raises(CorpusError, match="nothing usable"):
        prepare_emodb(empty, tmp_path / "d")
    # Nothing usable because every file is corrupt: the reason is in the message.
    (empty / "wav" / "03a01Fa.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"nothing usable.*empty file"):
        prepare_emodb(empty, tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_idempotent_and_replaces(tree, tmp_path):
    out = tmp_path / "data"
    prepare_emodb(tree, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    prepare_emodb(tree, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    (tree / "wav" / "16a04Nc.wav").unlink()
    res = prepare_emodb(tree, out)
    assert res.num_utts == 2
    assert "emodb_16-16a04Nc" not in read_table(out / "wav.scp")


def test_custom_label_map(tree, tmp_path):
    lm = tmp_path / "map.yaml"
    lm.write_text("emotion: {W: negative_high, F: positive_high, N: null}\n")
    res = prepare_emodb(tree, tmp_path / "d", label_map=lm)
    assert res.emotion_counts == {"negative_high": 1, "positive_high": 1}
    assert any("not in the class set" in r for r in res.skipped.values())
    assert not (tmp_path / "d" / "utt2arousal").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("emotion: {W: ang, F: hap}\narousal: {ang: high}\n")
    with pytest.raises(ValueError, match=r"bad.yaml.*'arousal' has no value.*hap"):
        prepare_emodb(tree, tmp_path / "d", label_map=bad)
    bad.write_text("emotion: {W: ang}\nvalence: {ang: bad}\n")
    with pytest.raises(ValueError, match="'valence' values must be one of"):
        load_label_map(bad, "emodb")
    bad.write_text("emotions: {W: ang}\n")
    with pytest.raises(ValueError, match="needs an 'emotion' mapping"):
        load_label_map(bad, "emodb")
    with pytest.raises(FileNotFoundError, match="--label-map"):
        load_label_map(tmp_path / "missing.yaml", "emodb")


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_packaged_maps_cover_every_label(corpus):
    lm = load_label_map(None, corpus)
    assert lm.arousal is not None and lm.valence is not None
    assert set(lm.labels) <= set(lm.arousal) and set(lm.labels) <= set(lm.valence)


def test_packaged_maps_follow_paper_001_table1():
    # Gao et al., Table 1, Emo-DB: arousal high = A, F, H; valence positive = H, N.
    lm = load_label_map(None, "emodb")
    high = {c for c, lab in lm.emotion.items() if lm.arousal[lab] == "high"}
    pos = {c for c, lab in lm.emotion.items() if lm.valence[lab] == "positive"}
    assert high == {"W", "A", "F"} and pos == {"F", "N"}
    lm = load_label_map(None, "savee")
    high = {c for c, lab in lm.emotion.items() if lm.arousal[lab] == "high"}
    pos = {c for c, lab in lm.emotion.items() if lm.valence[lab] == "positive"}
    assert high == {"a", "f", "h", "su"} and pos == {"h", "n", "su"}
    for corpus in ("iemocap", "msp_improv"):
        lm = load_label_map(None, corpus)
        assert {k for k, v in lm.arousal.items() if v == "high"} == {"ang", "hap"}
        assert {k for k, v in lm.valence.items() if v == "positive"} == {"hap", "neu"}


def test_packaged_maps_extend_table1_by_analogy_consistently():
    # Corpora outside Table 1 (EMOVO, RAVDESS, TESS): surprise and pleasant surprise
    # high/positive, calm low/positive; and across every packaged map one label has
    # one arousal and one valence, so pooled cross-corpus sets agree.
    for corpus, code, arousal, valence in [("emovo", "sor", "high", "positive"),
                                           ("ravdess", "08", "high", "positive"),
                                           ("ravdess", "02", "low", "positive"),
                                           ("tess", "ps", "high", "positive")]:
        lm = load_label_map(None, corpus)
        label = lm.emotion[code]
        assert (lm.arousal[label], lm.valence[label]) == (arousal, valence), (corpus, code)
    seen = {}
    for corpus in sorted(CORPORA):
        lm = load_label_map(None, corpus)
        for label in lm.labels:
            pair = (lm.arousal[label], lm.valence[label])
            assert seen.setdefault(label, (corpus, pair))[1] == pair, (label, corpus, seen[label])


def test_probe_audio(tmp_path):
    write_wav(tmp_path / "st.wav", 0.25, sr=48000, channels=2)
    info = probe_audio(tmp_path / "st.wav")
    assert (info.sample_rate, info.channels, info.frames) == (48000, 2, 12000)
    assert info.duration == pytest.approx(0.25)
    with pytest.raises(AudioError, match="unreadable"):
        probe_audio(tmp_path / "missing.wav")


def test_get_preparer():
    assert get_preparer("emodb") is prepare_emodb
    assert get_preparer("MSP-IMPROV") is CORPORA["msp_improv"]
    with pytest.raises(ValueError, match=r"unknown corpus 'foo'; choose one of: emodb, emovo"):
        get_preparer("foo")


@pytest.mark.skipif(not (REAL_EMODB / "wav").is_dir(), reason=f"real Emo-DB not at {REAL_EMODB}")
def test_real_emodb(tmp_path):
    out = tmp_path / "emodb"
    t0 = time.perf_counter()
    res = prepare_emodb(REAL_EMODB, out)
    elapsed = time.perf_counter() - t0
    validate_data_dir(out)
    assert res.num_utts == EXPECTED_COUNTS["total"] == 535
    assert res.num_speakers == 10 and res.skipped == {}
    lm = load_label_map(None, "emodb")
    assert res.emotion_counts == {lm.emotion[c]: n for c, n in EXPECTED_COUNTS["emotion"].items()}
    utt2spk = read_table(out / "utt2spk")
    per_spk = Counter(s.split("_", 1)[1] for s in utt2spk.values())
    assert dict(per_spk) == EXPECTED_COUNTS["speaker"]
    genders = read_table(out / "spk2gender")
    assert sorted(s for s, g in genders.items() if g == "m") == [
        "emodb_03", "emodb_10", "emodb_11", "emodb_12", "emodb_15",
    ]
    # Gao et al., Table 1 totals: arousal low 268 / high 267, valence positive 150.
    assert Counter(read_table(out / "utt2arousal").values()) == {"low": 268, "high": 267}
    assert Counter(read_table(out / "utt2valence").values()) == {"negative": 385, "positive": 150}
    # Native emotion letter of each id agrees with utt2emo.
    emo = read_table(out / "utt2emo")
    assert all(lm.emotion[u[-2]] == e for u, e in emo.items())
    assert elapsed < 30, f"probing 535 files took {elapsed:.1f}s (headers only should be ~1s)"
