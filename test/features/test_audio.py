"""load_audio: paths, pipes, segments, downmix, resampling, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.features.audio import AudioError, load_audio

from feat_testutils import sine_noise, write_wav


def test_downmix_is_channel_mean(tmp_path):
    x = sine_noise(16000, 0.2, channels=2)
    sf.write(tmp_path / "st.wav", x, 16000, subtype="FLOAT")
    wav, sr = load_audio(str(tmp_path / "st.wav"))
    assert sr == 16000 and wav.ndim == 1 and wav.dtype == np.float32
    np.testing.assert_allclose(wav, x.mean(axis=1), atol=1e-6)


def test_resample_changes_length_and_keeps_tone(tmp_path):
    sr_in = 22050
    t = np.arange(sr_in) / sr_in
    sf.write(tmp_path / "a.wav", (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), sr_in,
             subtype="FLOAT")
    wav, sr = load_audio(str(tmp_path / "a.wav"), sample_rate=16000)
    assert sr == 16000 and abs(wav.shape[0] - 16000) <= 1
    spec = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spec) * sr / wav.shape[0] - 1000) < 5


def test_segment_and_pipe(tmp_path):
    path = write_wav(tmp_path / "rec.wav", 16000, 1.0)
    full, _ = load_audio(str(path))
    seg, _ = load_audio(str(path), segment=(0.25, 0.5))
    assert seg.shape[0] == 4000
    np.testing.assert_allclose(seg, full[4000:8000])
    to_end, _ = load_audio(str(path), segment=(0.5, -1))
    assert to_end.shape[0] == 8000
    piped, _ = load_audio(f"cat {path} |")
    np.testing.assert_allclose(piped, full)
    piped_seg, _ = load_audio(f"cat {path} |", segment=(0.25, 0.5))
    np.testing.assert_allclose(piped_seg, seg)


def test_errors_name_utterance_and_path(tmp_path):
    with pytest.raises(AudioError, match=r"utterance u1 .*nope\.wav.*file not found"):
        load_audio(str(tmp_path / "nope.wav"), utt_id="u1")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(AudioError, match=r"u2 .*bad\.wav.*unreadable audio") as info:
        load_audio(str(bad), utt_id="u2")
    assert info.value.kind == "unreadable audio"
    with pytest.raises(AudioError, match="exited with"):
        load_audio("false |", utt_id="u3")
    path = write_wav(tmp_path / "short.wav", 16000, 0.1)
    with pytest.raises(AudioError, match="outside"):
        load_audio(str(path), segment=(1.0, 2.0))
