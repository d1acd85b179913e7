"""Tests of the closed-set speaker probe."""
import numpy as np
import pytest

from espnet_ser.eval.probe import cv_folds_per_speaker, pool_mean_std, speaker_probe


def _speakers(n_spk, per_spk):
    return [f"spk{s}" for s in range(n_spk) for _ in range(per_spk)]


def test_cv_folds_are_per_speaker_and_cover_every_utterance():
    spk = _speakers(4, 10) + ["lonely"] + ["pair"] * 2
    fold, skipped = cv_folds_per_speaker(spk, seed=1, n_folds=5)
    arr = np.asarray(spk)
    assert fold[arr == "lonely"].tolist() == [-1]
    for s in ("spk0", "spk3"):  # 10 utterances -> 2 per fold
        assert np.bincount(fold[arr == s], minlength=5).tolist() == [2] * 5
    assert sorted(fold[arr == "pair"].tolist()) == [0, 1]  # tested in two folds, trained in the other
    assert skipped == [("lonely", "only 1 utterance(s); a closed-set probe needs 2")]
    with pytest.raises(ValueError, match="n_folds"):
        cv_folds_per_speaker(spk, n_folds=1)


def test_speaker_identity_is_found():
    rng = np.random.default_rng(0)
    n_spk, per = 6, 20
    means = rng.normal(scale=3.0, size=(n_spk, 16))
    X = np.concatenate([means[s] + rng.normal(size=(per, 16)) for s in range(n_spk)])
    res = speaker_probe(X, _speakers(n_spk, per), seed=0)
    assert res["chance"] == pytest.approx(1 / 6)
    assert res["logreg_bacc"] > 0.9
    assert res["mlp_bacc"] > 0.9
    assert res["n_utts"] == n_spk * per and res["n_folds"] == 5


def test_noise_is_near_chance():
    rng = np.random.default_rng(1)
    n_spk, per = 4, 40
    X = rng.normal(size=(n_spk * per, 16))
    res = speaker_probe(X, _speakers(n_spk, per), seed=0)
    assert res["logreg_bacc"] < res["chance"] + 0.25
    assert res["mlp_bacc"] < res["chance"] + 0.25


def test_bad_inputs():
    with pytest.raises(ValueError, match="expected"):
        speaker_probe(np.zeros((3, 2)), ["a", "b"])
    with pytest.raises(ValueError, match=">= 2 speakers"):
        speaker_probe(np.zeros((4, 2)), ["a"] * 4)
    with pytest.raises(ValueError, match="nan"):
        speaker_probe(np.full((4, 2), np.nan), ["a", "a", "b", "b"])


def test_pool_mean_std_single_frame_no_nan():
    v = pool_mean_std(np.array([[1.0, 2.0]]))
    assert v.tolist() == [1.0, 2.0, 0.0, 0.0]
    v = pool_mean_std(np.array([[0.0, 2.0], [2.0, 2.0]]))
    assert v.tolist() == [1.0, 2.0, 1.0, 0.0]


def _emodb_wav_dir():
    import os
    from pathlib import Path

    root = os.environ.get("ESPNET_SER_EMODB")
    base = Path(root) if root else Path(__file__).resolve().parents[3] / "shared" / "corpora" / "emodb"
    return base / "wav"


@pytest.mark.skipif(not _emodb_wav_dir().is_dir(), reason="real Emo-DB not found (set ESPNET_SER_EMODB)")
def test_real_emodb_mfcc_carries_speaker_identity():
    """Pooled MFCCs of real Emo-DB speakers: the probe must find the speakers well above chance."""
    import librosa
    import soundfile as sf

    wav_dir = _emodb_wav_dir()
    files = sorted(wav_dir.glob("*.wav"))
    by_spk = {}
    for f in files:
        by_spk.setdefault(f.name[:2], []).append(f)
    X, spk = [], []
    for s in sorted(by_spk)[:4]:
        for f in by_spk[s][:15]:
            y, sr = sf.read(f, dtype="float32")
            mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)  # (20, T)
            X.append(pool_mean_std(mfcc.T))
            spk.append(s)
    res = speaker_probe(np.stack(X), spk, seed=0)
    assert res["chance"] == pytest.approx(0.25)
    assert res["logreg_bacc"] > 0.6
