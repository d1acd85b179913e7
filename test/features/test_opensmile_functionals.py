"""openSMILE functionals: dimensions and NaN handling on very short clips."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_ser.features import build_extractor
from espnet_ser.features.abs_extractor import ExtractionError

from feat_testutils import sine_noise


@pytest.mark.parametrize("name, dim", [("compare_2016", 6373), ("egemaps_v02", 88)])
def test_functionals_shape(name, dim):
    ex = build_extractor(name)
    assert ex.frame_shift is None and ex.output_dim == dim
    feats = ex(sine_noise(16000, 1.0), 16000)
    assert feats.shape == (1, dim) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    # Different signals give different functionals (the extractor reads the input).
    assert not np.allclose(feats, ex(sine_noise(16000, 1.0, freq=400, seed=3), 16000))


def test_20ms_clip_raises_extraction_error_not_nan():
    ex = build_extractor("egemaps_v02")
    with pytest.raises(ExtractionError, match="non-finite") as info:
        ex(sine_noise(16000, 0.02), 16000)
    assert info.value.kind == "non-finite output"


def test_unknown_feature_set():
    from espnet_ser.features.opensmile_functionals import OpenSmileFunctionals

    with pytest.raises(ValueError, match="unknown feature_set 'GeMAPS_v9'"):
        OpenSmileFunctionals("GeMAPS_v9")
