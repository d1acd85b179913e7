"""Fixtures for the feature tests."""

from __future__ import annotations

import pytest

from feat_testutils import make_data_dir, write_wav


@pytest.fixture
def tiny_corpus(tmp_path):
    """Six 16 kHz utterances of two speakers plus one corrupt wav, as a data dir."""
    wavs = tmp_path / "wavs"
    utts = {}
    for i, spk in enumerate(["spkA", "spkA", "spkA", "spkB", "spkB", "spkB"]):
        utt = f"{spk}-u{i}"
        utts[utt] = (spk, write_wav(wavs / f"{utt}.wav", 16000, 0.4 + 0.1 * i, freq=150 + 40 * i, seed=i))
    bad = wavs / "spkB-bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    utts["spkB-bad"] = ("spkB", bad)
    return make_data_dir(tmp_path / "data" / "all", utts)
