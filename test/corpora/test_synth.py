"""Synthetic emotional-speech generator: determinism, exact layouts, and that
the emotion is learnable across speakers while speaker compensation helps."""

from __future__ import annotations

import collections
import filecmp
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from espnet_ser.bin import synth_corpus
from espnet_ser.corpora.synth import (
    CORPUS_DEFAULTS,
    CORPUS_EMOTIONS,
    MANIFEST_NAME,
    generate_corpus,
    make_sentence,
    make_speaker,
    read_manifest,
    synthesize,
)

# Exact file names of each layout (relative to the corpus root).
WAV_PATTERNS = {
    "emodb": r"wav/(\d\d)(a0[12457]|b0[1239]|b10)([WLEAFTN])([a-z])\.wav",
    "emovo": r"([fm]\d+)/(dis|gio|neu|pau|rab|sor|tri)-\1-(b[1-3]|d[12]|l[1-4]|n[1-5])\.wav",
    "iemocap": r"Session(\d)/sentences/wav/(Ses0\1[FM]_(?:impro\d\d[ab]?|script\d\d_\d[ab]?))/\2_[FM]\d{3}\.wav",
    "msp_improv": r"Audio/session(\d)/S(\d\d)([AHSN])/([TRSP])/MSP-IMPROV-S\2\3-([FM])0\1-\4-\5[FM]\d\d\.wav",
    "ravdess": r"Audio_Speech_Actors_01-24/Actor_(\d\d)/03-01-0[1-8]-0[12]-0[12]-0[12]-\1\.wav",
    "savee": r"AudioData/(DC|JE|JK|KL)/(a|d|f|h|n|sa|su)\d\d\.wav",
    "tess": r"(OAF|YAF)_(angry|disgust|Fear|fear|happy|neutral|Pleasant_surprise|pleasant_surprised|Sad|sad)"
            r"/(?:\1|OA)_[a-z]+_(angry|disgust|fear|happy|neutral|ps|sad)\.wav",
}
TEXT_PATTERNS = {
    "iemocap": r"Session(\d)/dialog/(EmoEvaluation|transcriptions)/Ses0\1[FM]_\w+\.txt"
               r"|Session(\d)/dialog/EmoEvaluation/(Categorical/\w+_e1_cat|Attribute/\w+_e1_atr)\.txt",
    "msp_improv": r"Evaluation\.txt",
}
SMALL = {
    "emodb": dict(n_speakers=3, utts_per_speaker=3),
    "emovo": dict(n_speakers=2, utts_per_speaker=3),
    "iemocap": dict(n_speakers=6, utts_per_speaker=3),
    "msp_improv": dict(n_speakers=2, utts_per_speaker=4),
    "ravdess": dict(n_speakers=2, utts_per_speaker=8),
    "savee": dict(n_speakers=2, utts_per_speaker=3),
    "tess": dict(n_speakers=2, utts_per_speaker=3, quirks=False),  # quirks: test_tess_quirks
}


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- determinism
def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kw = dict(n_speakers=2, utts_per_speaker=3, duration=(0.5, 0.9))
    a = generate_corpus("iemocap", tmp_path / "a", seed=5, **kw)
    b = generate_corpus("iemocap", tmp_path / "b", seed=5, **kw)
    c = generate_corpus("iemocap", tmp_path / "c", seed=6, **kw)
    assert _files(a) == _files(b) and len(_files(a)) > 10
    match, mismatch, errors = filecmp.cmpfiles(a, b, _files(a), shallow=False)
    assert not mismatch and not errors
    wavs = [f for f in _files(a) if f.endswith(".wav")]
    assert any(not filecmp.cmp(a / f, c / f, shallow=False) for f in wavs if (c / f).exists()) or \
        _files(a) != _files(c)


# ---------------------------------------------------------------- layouts
@pytest.mark.parametrize("layout", sorted(WAV_PATTERNS))
def test_layout_exact_names_rates_durations(layout, tmp_path):
    root = generate_corpus(layout, tmp_path / layout, seed=1, duration=(0.6, 0.9), **SMALL[layout])
    rows = read_manifest(root)
    files = _files(root)
    wavs = [f for f in files if f.endswith(".wav")]
    others = [f for f in files if not f.endswith(".wav") and f != MANIFEST_NAME]
    bad = [f for f in wavs if not re.fullmatch(WAV_PATTERNS[layout], f)]
    assert not bad, f"{layout}: names outside the real layout: {bad[:3]}"
    bad = [f for f in others if not re.fullmatch(TEXT_PATTERNS.get(layout, r"(?!)"), f)]
    assert not bad, f"{layout}: unexpected files {bad[:3]}"
    assert sorted(r["path"] for r in rows) == wavs
    n_spk = SMALL[layout]["n_speakers"]
    assert len({r["speaker"] for r in rows}) == n_spk
    assert len(rows) == n_spk * SMALL[layout]["utts_per_speaker"]
    rate = CORPUS_DEFAULTS[layout]["sample_rate"]
    for r in rows:
        info = sf.info(root / r["path"])
        assert info.samplerate == rate == int(r["sample_rate"])
        assert info.channels == int(r["channels"])
        assert info.frames == round(float(r["duration"]) * rate)
        assert 0.6 <= float(r["duration"]) <= 0.9 + 1e-4
        assert r["code"] in CORPUS_EMOTIONS[layout]


def test_emodb_real_speakers_and_extra_ids(tmp_path):
    rows = read_manifest(generate_corpus("emodb", tmp_path / "a", utts_per_speaker=1, duration=0.4))
    genders = {r["speaker"]: r["gender"] for r in rows}
    assert genders == {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m",
                       "13": "f", "14": "f", "15": "m", "16": "f"}
    rows = read_manifest(generate_corpus("emodb", tmp_path / "b", n_speakers=12, utts_per_speaker=1,
                                         duration=0.4, sample_rate=22050))
    assert {r["speaker"] for r in rows} >= {"17", "18"} and len(rows) == 12
    assert sf.info(tmp_path / "b" / rows[0]["path"]).samplerate == 22050


def test_emodb_versions_when_takes_repeat(tmp_path):
    rows = read_manifest(generate_corpus("emodb", tmp_path / "a", n_speakers=1, utts_per_speaker=140,
                                         duration=0.35, sample_rate=8000))
    names = [r["utt"] for r in rows]
    assert len(set(names)) == 140 and any(n.endswith("b") for n in names)
    assert collections.Counter(r["code"] for r in rows) == {c: 20 for c in "WLEAFTN"}


def test_iemocap_label_and_transcript_files(tmp_path):
    root = generate_corpus("iemocap", tmp_path / "iem", seed=2, utts_per_speaker=4, duration=(0.5, 0.8))
    rows = {r["utt"]: r for r in read_manifest(root)}
    dialogs = {Path(r["path"]).parent.name for r in rows.values()}
    assert {"Ses03M_impro05a", "Ses05M_script01_1b"} <= dialogs
    assert any("impro" in d for d in dialogs) and any("script" in d for d in dialogs)
    line = re.compile(r"\[(\d+\.\d{4}) - (\d+\.\d{4})\]\t(\S+)\t([a-z]{3})\t\[(\d\.\d{4}), (\d\.\d{4}), (\d\.\d{4})\]")
    seen = {}
    for f in sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt")):
        text = f.read_text().splitlines()
        assert text[0] == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
        for m in filter(None, map(line.fullmatch, text)):
            start, end, utt, code = float(m[1]), float(m[2]), m[3], m[4]
            seen[utt] = code
            assert utt.startswith(f.stem + "_")
            assert abs((end - start) - sf.info(root / rows[utt]["path"]).duration) < 1e-3
    assert seen == {u: r["code"] for u, r in rows.items()}
    assert (root / "Session1/dialog/EmoEvaluation/Categorical").is_dir()
    tline = re.compile(r"(\S+) \[(\d{3}\.\d{4})-(\d{3}\.\d{4})\]: (.+)")
    texts = {}
    for f in root.glob("Session*/dialog/transcriptions/*.txt"):
        for ln in f.read_text().splitlines():
            m = tline.fullmatch(ln)
            assert m, f"{f.name}: {ln!r}"
            texts[m[1]] = m[4]
    assert {u: t for u, t in texts.items() if "XX" not in u} == {u: r["text"] for u, r in rows.items()}
    assert any("XX" in u for u in texts)  # overlapping speech lines the preparer must skip


def test_iemocap_emotion_persists_across_turns(tmp_path):
    def changes(root):
        rows = read_manifest(root)
        by_dialog = collections.defaultdict(list)
        for r in sorted(rows, key=lambda r: r["path"]):
            by_dialog[Path(r["path"]).parent.name].append(r)
        n = 0
        for turns in by_dialog.values():
            turns.sort(key=lambda r: (int(r["utt"][-3:]), r["utt"][-4] != r["utt"].split("_")[0][-1]))
            n += sum(a["code"] != b["code"] for a, b in zip(turns, turns[1:]))
        return n

    kw = dict(n_speakers=2, utts_per_speaker=8, dialogs_per_session=1, duration=0.4, sample_rate=8000)
    assert changes(generate_corpus("iemocap", tmp_path / "p1", persist=1.0, **kw)) == 0
    assert changes(generate_corpus("iemocap", tmp_path / "p0", persist=0.0, **kw)) >= 5


def test_msp_improv_evaluation_lines(tmp_path):
    root = generate_corpus("msp_improv", tmp_path / "msp", n_speakers=4, utts_per_speaker=4, duration=0.5)
    rows = read_manifest(root)
    lab = {}
    for ln in (root / "Evaluation.txt").read_text().splitlines():
        m = re.fullmatch(r"UTD-IMPROV-(\S+)\.avi; ([AHSNOX]); A:\d\.\d{6}; V:\d\.\d{6}; D:\d\.\d{6}; N:\d\.\d{6};", ln)
        if m:
            lab["MSP-IMPROV-" + m[1]] = m[2]
    assert lab == {r["utt"]: r["code"] for r in rows}
    assert {r["speaker"] for r in rows} == {"F01", "M01", "F02", "M02"}


def test_ravdess_stereo_intensity_songs(tmp_path):
    root = generate_corpus("ravdess", tmp_path / "rav", n_speakers=3, utts_per_speaker=15, songs=True,
                           duration=0.4, sample_rate=16000)
    rows = read_manifest(root)
    speech = [r for r in rows if r["kind"] == "speech"]
    songs = [r for r in rows if r["kind"] == "song"]
    assert len(speech) == 45 and songs
    assert all(re.fullmatch(r"Audio_Song_Actors_01-24/Actor_\d\d/03-02-0[1-6]-01-01-01-\d\d\.wav", r["path"])
               for r in songs)
    assert any(sf.info(root / r["path"]).channels == 2 for r in rows)
    assert all(r["utt"].split("-")[3] == "01" for r in speech if r["code"] == "01")  # neutral: normal only
    assert {r["speaker"]: r["gender"] for r in rows} == {"01": "m", "02": "f", "03": "m"}


def test_savee_flat(tmp_path):
    root = generate_corpus("savee", tmp_path / "sv", n_speakers=4, utts_per_speaker=2, flat=True, duration=0.4)
    assert all(re.fullmatch(r"ALL/(DC|JE|JK|KL)_(a|d|f|h|n|sa|su)\d\d\.wav", f)
               for f in _files(root) if f.endswith(".wav"))


def test_tess_release_layout_and_quirks(tmp_path):
    a = generate_corpus("tess", tmp_path / "a", seed=4, utts_per_speaker=14, duration=0.4)
    b = generate_corpus("tess", tmp_path / "b", seed=4, utts_per_speaker=14, duration=0.4)
    files = _files(a)
    assert files == _files(b) and not filecmp.cmpfiles(a, b, files, shallow=False)[1]
    rows = read_manifest(a)
    assert len(rows) == 28 and {r["speaker"] for r in rows} == {"OAF", "YAF"}
    assert all(r["gender"] == "f" and r["text"].startswith("Say the word ") for r in rows)
    for spk in ("OAF", "YAF"):  # word-major: 2 words x 7 emotions, each said in every emotion
        words = collections.Counter(r["text"] for r in rows if r["speaker"] == spk)
        assert len(words) == 2 and set(words.values()) == {7}
    assert all(re.fullmatch(WAV_PATTERNS["tess"], r["path"]) for r in rows)
    # Folder spellings differ from the codes; file names always use the code (ps).
    assert {"OAF_Fear", "OAF_Pleasant_surprise", "YAF_pleasant_surprised", "YAF_fear"} <= \
        {Path(r["path"]).parent.name for r in rows}
    infos = {r["path"]: sf.info(a / r["path"]) for r in rows}
    misnamed = [r for r in rows if Path(r["path"]).name.startswith("OA_")]
    assert len(misnamed) == 1 and misnamed[0]["code"] == "neutral" and misnamed[0]["utt"].startswith("OAF_")
    aiff = [p for p, i in infos.items() if i.format == "AIFF"]
    assert len(aiff) == 1 and aiff[0].endswith(".wav")
    assert {i.format for p, i in infos.items() if p != aiff[0]} == {"WAV"}
    high = [r for r in rows if infos[r["path"]].samplerate == 96000]
    assert len(high) == 1 and high[0]["sample_rate"] == "96000"
    assert {i.samplerate for p, i in infos.items() if p != high[0]["path"]} == {24414}
    assert all(i.frames == round(0.4 * i.samplerate) for i in infos.values())


def test_tess_flat_flac_no_quirks(tmp_path):
    root = generate_corpus("tess", tmp_path / "t", n_speakers=1, utts_per_speaker=7, flat=True, ext="flac",
                           quirks=False, duration=0.4, sample_rate=16000)
    files = [f for f in _files(root) if f != MANIFEST_NAME]
    assert len(files) == 7 and all(re.fullmatch(r"OAF_[a-z]+_(angry|disgust|fear|happy|neutral|ps|sad)\.flac", f)
                                   for f in files)
    assert {(sf.info(root / f).format, sf.info(root / f).samplerate) for f in files} == {("FLAC", 16000)}


# ---------------------------------------------------------------- signal
def test_synthesize_shape_and_emotion_direction():
    spk = make_speaker("x", "f", np.random.default_rng(0))
    rms = {}
    for emo in ("anger", "sadness"):
        levels = []
        for i in range(4):
            x = synthesize(spk, emo, rng=np.random.default_rng(i), duration=1.0, sample_rate=22050)
            assert x.shape == (22050,) and x.dtype == np.float32 and np.abs(x).max() < 1.0
            levels.append(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        rms[emo] = np.mean(levels)
    assert 20 * np.log10(rms["anger"] / rms["sadness"]) > 6.0


def _features(x: np.ndarray, sr: int) -> np.ndarray:
    """Utterance statistics of frame log-energy, spectral centroid, tilt, crude F0."""
    if x.ndim == 2:
        x = x.mean(axis=1)
    hop, win = sr // 100, sr // 40
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop] * np.hanning(win)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10
    freqs = np.fft.rfftfreq(win, 1.0 / sr)
    loge = np.log(spec.sum(1))
    active = loge > np.percentile(loge, 40)
    centroid = (spec * freqs).sum(1) / spec.sum(1)
    tilt = np.log(spec[:, freqs > 1000].sum(1) / spec[:, freqs <= 1000].sum(1))
    acf = np.fft.irfft(spec, axis=1)
    lo, hi = sr // 500, sr // 60
    logf0 = np.log(sr / (lo + np.argmax(acf[:, lo:hi], axis=1)))
    out = []
    for v in (loge, centroid, tilt, logf0):
        v = v[active]
        out += [v.mean(), v.std(), np.percentile(v, 90) - np.percentile(v, 10)]
    return np.array(out + [active.mean(), np.abs(np.diff(loge)).mean()])


def _loso_accuracy(X, y, groups):
    acc = []
    for g in np.unique(groups):
        test = groups == g
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit(X[~test], y[~test])
        acc.append(np.mean(clf.predict(X[test]) == y[test]))
    return float(np.mean(acc))


def test_emotion_learnable_across_speakers_and_speaker_norm_helps(tmp_path):
    root = generate_corpus("emodb", tmp_path / "emodb", seed=0, utts_per_speaker=14)
    rows = read_manifest(root)
    X = np.stack([_features(*sf.read(root / r["path"])) for r in rows])
    y = np.array([r["code"] for r in rows])
    spk = np.array([r["speaker"] for r in rows])
    Xz = X.copy()
    for s in np.unique(spk):  # per-speaker z-normalisation (test speaker: its own statistics)
        m = spk == s
        Xz[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-8)
    chance = 1.0 / len(set(y))
    raw, norm = _loso_accuracy(X, y, spk), _loso_accuracy(Xz, y, spk)
    assert raw > 1.5 * chance, (raw, chance)
    assert norm > raw + 0.08, (raw, norm)


def test_sentences_carry_the_emotion():
    rng = np.random.default_rng(0)
    angry = [make_sentence("anger", rng) for _ in range(200)]
    calm = [make_sentence("neutral", rng) for _ in range(200)]
    cue = ("hate", "ridiculous", "damn", "stupid", "out of my way")
    frac = lambda xs: np.mean([any(c in s for c in cue) for s in xs])  # noqa: E731
    assert frac(angry) > 0.5 and frac(calm) == 0.0


# ---------------------------------------------------------------- errors and CLI
@pytest.mark.parametrize(
    "layout,kwargs,message",
    [
        ("wsj", {}, "unknown layout"),
        ("emodb", {"flat": True}, "unknown option"),
        ("iemocap", {"n_speakers": 3}, "must be even"),
        ("emodb", {"emotions": ["X"]}, "valid codes"),
        ("ravdess", {"utts_per_speaker": 61}, "valid names per actor"),
        ("emodb", {"duration": (2.0, 1.0)}, "duration"),
        ("tess", {"n_speakers": 3}, "OAF and YAF"),
        ("tess", {"ext": "mp3"}, "ext must be"),
    ],
)
def test_bad_arguments(layout, kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        generate_corpus(layout, tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_refuses_non_empty_out_dir(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_corpus("emodb", tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "user data"


def test_cli(tmp_path, capsys):
    out = tmp_path / "savee"
    rc = synth_corpus.main(["--layout", "savee", "--out-dir", str(out), "--n-speakers", "2",
                            "--utts-per-speaker", "2", "--duration", "0.4", "--option", "emotions=a,n"])
    assert rc == 0
    assert "generated 4 files (2 speakers)" in capsys.readouterr().out
    assert {r["code"] for r in read_manifest(out)} == {"a", "n"}
    rc = synth_corpus.main(["--layout", "savee", "--out-dir", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "not empty" in err
