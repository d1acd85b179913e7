"""Every registered audio extractor: shape, dtype, dimension, frame count, config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from espnet_ser.features import EXTRACTORS, build_extractor, load_feats_conf
from espnet_ser.features.abs_extractor import ExtractionError

from feat_testutils import sine_noise

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = REPO / "egs" / "TEMPLATE" / "ser1" / "conf" / "feats"


@pytest.mark.parametrize(
    "name, dim",
    [("mfcc", 20), ("fbank", 80), ("logspec", 129), ("multiwin_logspec", 1200)],
)
def test_frame_level_shapes(name, dim):
    ex = build_extractor(name)
    sr = ex.sample_rate
    wav = sine_noise(sr, 0.5)
    feats = ex(wav, sr)
    assert feats.dtype == np.float32 and feats.ndim == 2
    assert feats.shape[1] == ex.output_dim == dim
    assert np.isfinite(feats).all()
    # Frames follow from the shift: about duration / frame_shift of them.
    assert abs(feats.shape[0] - 0.5 / ex.frame_shift) <= 3, (feats.shape, ex.frame_shift)


def test_logspec_frames_match_paper_segments():
    ex = build_extractor("logspec")
    wav = sine_noise(16000, 4224 / 16000)  # 31 * 128 + 256 samples = one 265 ms segment
    assert ex(wav, 16000).shape == (32, 129)
    with pytest.raises(ExtractionError, match="too short") as info:
        ex(sine_noise(16000, 0.01), 16000)
    assert info.value.kind == "too short"


def test_multiwin_layout_is_channel_major():
    ex = build_extractor("multiwin_logspec", {"win_lengths_ms": [20, 40]})
    wav = sine_noise(16000, 0.3)
    feats = ex(wav, 16000)
    assert feats.shape[1] == 2 * 400 and ex.n_channels == 2 and ex.n_bins == 400
    for c, win in enumerate([320, 640]):
        ref = build_extractor("logspec", {"n_fft": 1600, "win_length": win, "hop_length": 160,
                                          "window": "hamming", "center": True})(wav, 16000)[:, :400]
        np.testing.assert_allclose(feats[:, c * 400:(c + 1) * 400], ref, rtol=1e-5, atol=1e-4)
    # The 220 Hz tone must peak at bin 22 (10 Hz spacing) in every channel.
    cube = feats.reshape(feats.shape[0], 2, 400)
    assert set(np.argmax(cube.mean(axis=0), axis=1)) == {22}


def test_mfcc_trimming_removes_silence():
    sr = 22050
    speech = sine_noise(sr, 0.5)
    padded = np.concatenate([np.zeros(sr, np.float32), speech, np.zeros(sr, np.float32)])
    trimmed = build_extractor("mfcc")(padded, sr)
    untrimmed = build_extractor("mfcc", {"trim_top_db": None})(padded, sr)
    assert untrimmed.shape[0] == 1 + padded.shape[0] // 512
    assert trimmed.shape[0] < untrimmed.shape[0] / 2


def test_wrong_rate_is_an_error():
    ex = build_extractor("fbank")
    with pytest.raises(ValueError, match="expected 16000 Hz"):
        ex(sine_noise(8000, 0.2), 8000)


def test_registry_errors_list_choices():
    with pytest.raises(ValueError, match="unknown feature extractor 'mfccc'.*choices"):
        build_extractor("mfccc")
    with pytest.raises(ValueError, match=r"unknown conf option\(s\) \['n_mfc'\]"):
        build_extractor("mfcc", {"n_mfc": 13})


def test_get_config_round_trips():
    ex = build_extractor("mfcc", {"n_mfcc": 13})
    conf = ex.get_config()
    assert conf["n_mfcc"] == 13 and conf["n_fft"] == 2048
    assert build_extractor("mfcc", conf).get_config() == conf


def test_every_conf_file_names_a_registered_extractor():
    confs = sorted(CONF_DIR.glob("*.yaml"))
    names = {load_feats_conf(p)[0] for p in confs}
    assert names == set(EXTRACTORS), f"conf/feats/*.yaml vs registry: {names ^ set(EXTRACTORS)}"
    for path in confs:
        name, conf = load_feats_conf(path)
        if EXTRACTORS[name].input_kind == "audio":
            ex = build_extractor(name, conf)
            assert ex.output_dim > 0


def test_load_feats_conf_rejects_unknown_keys(tmp_path):
    (tmp_path / "x.yaml").write_text("name: mfcc\nconfs: {}\n")
    with pytest.raises(ValueError, match=r"unknown top-level key\(s\) \['confs'\]"):
        load_feats_conf(tmp_path / "x.yaml")
