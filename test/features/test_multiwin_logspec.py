"""multiwin_logspec (ADARL): window lengths, 0-4 kHz band of 400 bins, 10 ms frames, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from espnet_ser.bin.extract_feats import main
from espnet_ser.features import ExtractionError, build_extractor, load_feats_conf
from espnet_ser.utils.data_dir import read_table

from feat_testutils import make_data_dir, sine_noise, write_wav

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "egs" / "TEMPLATE" / "ser1" / "conf" / "feats" / "multiwin_logspec.yaml"


def _ex(**conf):
    name, base = load_feats_conf(CONF)
    return build_extractor(name, dict(base, **conf))


def test_recipe_config_window_lengths_band_and_frames():
    ex = _ex()
    assert ex.win_lengths_ms == (20.0, 30.0, 40.0) and ex.window == "hamming"
    assert ex._wins == [320, 480, 640] and ex._n_fft == 1600 and ex._hop == 160
    assert (ex.n_channels, ex.n_bins, ex.output_dim) == (3, 400, 1200)
    # 3 s at a 10 ms shift (centred frames): 301 frames; the segment adapter keeps 300.
    feats = ex(sine_noise(16000, 3.0), 16000)
    assert feats.shape == (301, 1200) and feats.dtype == np.float32
    assert ex.min_source_rate == 8000


def test_each_channel_is_its_window_length():
    ex = _ex()
    wav = sine_noise(16000, 0.5)
    feats = ex(wav, 16000).reshape(-1, 3, 400)
    for c, win in enumerate([320, 480, 640]):
        ref = build_extractor("logspec", {"n_fft": 1600, "win_length": win, "hop_length": 160,
                                          "window": "hamming", "center": True})(wav, 16000)[:, :400]
        np.testing.assert_allclose(feats[:, c], ref, rtol=1e-5, atol=1e-4)
    # Longer windows resolve the harmonics more sharply: higher peak-to-median contrast.
    spread = [np.median(feats[:, c].mean(0)) - feats[:, c].mean(0).max() for c in range(3)]
    assert spread[0] > spread[2]


def test_band_keeps_0_to_4_khz_at_10_hz():
    ex = _ex()
    t = np.arange(16000) / 16000
    inside = ex((0.5 * np.sin(2 * np.pi * 3500 * t)).astype(np.float32), 16000).reshape(-1, 3, 400)
    assert set(np.argmax(inside.mean(0), axis=1)) == {350}
    # A loud 6 kHz tone is outside the kept band: the quiet 500 Hz tone is the peak there.
    mix = 0.5 * np.sin(2 * np.pi * 6000 * t) + 0.01 * np.sin(2 * np.pi * 500 * t)
    low = ex(mix.astype(np.float32), 16000).reshape(-1, 3, 400)
    assert set(np.argmax(low.mean(0), axis=1)) == {50}


def test_shorter_than_the_longest_window_is_a_skip_reason():
    ex = _ex()
    with pytest.raises(ExtractionError, match="shorter than the longest window") as err:
        ex(np.zeros(639, dtype=np.float32) + 0.1, 16000)
    assert err.value.kind == "too short"
    assert ex(np.zeros(640, dtype=np.float32) + 0.1, 16000).shape[0] == 5


def test_extract_feats_skips_short_and_low_rate_files_with_reasons(tmp_path, capsys):
    wavs = tmp_path / "wavs"
    utts = {
        "s1-ok": ("s1", write_wav(wavs / "ok.wav", 16000, 0.5)),
        "s1-ok8k": ("s1", write_wav(wavs / "ok8k.wav", 8000, 0.5)),
        "s1-short": ("s1", write_wav(wavs / "short.wav", 16000, 0.02)),
        "s1-sr6k": ("s1", write_wav(wavs / "sr6k.wav", 6000, 0.5)),
    }
    data = make_data_dir(tmp_path / "data", utts)
    out = tmp_path / "dump"
    assert main(["--feats-conf", str(CONF), "--data-dir", str(data), "--out-dir", str(out), "--job", "1",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "4 in, 2 written, 2 skipped" in err and "sample rate too low: 1" in err and "too short: 1" in err
    skipped = read_table(out / "skipped.1")
    assert sorted(skipped) == ["s1-short", "s1-sr6k"]
    assert "6000 Hz is below the 8000 Hz" in skipped["s1-sr6k"]
    assert sorted(read_table(out / "utt2num_frames.1")) == ["s1-ok", "s1-ok8k"]
