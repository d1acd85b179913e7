"""features/norm.py: accumulator maths and the variance floor."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_ser.features.norm import StatsAccumulator, speaker_stats, standardize, utterance_normalize


def test_accumulator_matches_numpy_over_chunks():
    rng = np.random.default_rng(1)
    mats = [rng.standard_normal((n, 3)) * 2 + 5 for n in (1, 7, 20)]
    acc = StatsAccumulator()
    for m in mats:
        acc.add(m)
    mean, std = acc.mean_std()
    allx = np.concatenate(mats)
    np.testing.assert_allclose(mean, allx.mean(0))
    np.testing.assert_allclose(std, allx.std(0))
    assert acc.count == 28


def test_variance_floor_single_frame_and_constant():
    acc = StatsAccumulator(var_floor=1e-10)
    acc.add(np.array([[1.0, 2.0]]))
    mean, std = acc.mean_std()
    assert np.all(std == pytest.approx(1e-5))
    y = utterance_normalize(np.full((4, 2), 3.0, np.float32))
    assert np.isfinite(y).all() and np.all(y == 0)


def test_errors():
    acc = StatsAccumulator()
    with pytest.raises(ValueError, match="no frames"):
        acc.mean_std()
    acc.add(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="feature dim 2 differs from the previous 3"):
        acc.add(np.zeros((2, 2)), "u9")
    with pytest.raises(ValueError, match="feature dim 3 != stats dim 2"):
        standardize(np.zeros((1, 3)), np.zeros(2), np.ones(2))


def test_speaker_stats_uses_each_speakers_own_frames():
    feats = {"a-1": np.ones((2, 1)), "a-2": np.full((2, 1), 3.0), "b-1": np.full((3, 1), -1.0)}
    st = speaker_stats(feats, {"a-1": "a", "a-2": "a", "b-1": "b"}, sorted(feats))
    assert st["a"][0][0] == 2.0 and st["a"][1][0] == 1.0 and st["a"][2] == 4
    assert st["b"][0][0] == -1.0 and st["b"][2] == 3
