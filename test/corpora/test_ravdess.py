"""Tests of espnet_ser.corpora.ravdess on hand-built trees in the release layout."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.corpora.common import CorpusError
from espnet_ser.corpora.ravdess import RELEASE_DIR, prepare_ravdess
from espnet_ser.utils.data_dir import read_table, validate_data_dir


def write_wav(path, seconds=0.05, sr=48000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    x = 0.1 * np.sin(np.arange(int(seconds * sr)) / 11.0)
    if channels == 2:
        x = np.stack([x, x], axis=1)
    sf.write(str(path), x, sr, subtype="PCM_16")


SPEECH = [
    "Actor_01/03-01-01-01-01-01-01.wav",  # neutral, male
    "Actor_01/03-01-05-02-02-01-01.wav",  # angry strong
    "Actor_02/03-01-02-01-01-02-02.wav",  # calm, female
    "Actor_24/03-01-08-02-02-02-24.wav",  # surprised, female
]
SONG = ["Actor_01/03-02-03-01-01-01-01.wav", "Actor_02/03-02-04-02-02-01-02.wav"]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "ravdess"
    for i, name in enumerate(SPEECH + SONG):
        write_wav(root / RELEASE_DIR / name, channels=2 if i == 1 else 1)
    return root


def test_speech_set(tree, tmp_path):
    out = tmp_path / "data"
    res = prepare_ravdess(tree, out)
    validate_data_dir(out)
    assert (res.num_utts, res.num_speakers) == (4, 3)
    assert res.skipped == {}
    assert res.excluded == {"song files (vocal channel 02)": 2}
    assert read_table(out / "utt2emo") == {
        "ravdess_01-03-01-01-01-01-01-01": "neu",
        "ravdess_01-03-01-05-02-02-01-01": "ang",
        "ravdess_02-03-01-02-01-01-02-02": "cal",
        "ravdess_24-03-01-08-02-02-02-24": "sur",
    }
    assert read_table(out / "spk2gender") == {
        "ravdess_01": "m", "ravdess_02": "f", "ravdess_24": "f",
    }
    assert read_table(out / "utt2intensity")["ravdess_01-03-01-05-02-02-01-01"] == "strong"
    assert read_table(out / "text")["ravdess_01-03-01-05-02-02-01-01"] == (
        "Dogs are sitting by the door"
    )
    # Extension by analogy: calm is low arousal, positive valence.
    assert read_table(out / "utt2arousal")["ravdess_02-03-01-02-01-01-02-02"] == "low"
    assert read_table(out / "utt2valence")["ravdess_02-03-01-02-01-01-02-02"] == "positive"


def test_root_holding_actor_dirs_and_song_subsets(tree, tmp_path):
    res = prepare_ravdess(tree / RELEASE_DIR, tmp_path / "d")
    assert res.num_utts == 4
    res = prepare_ravdess(tree, tmp_path / "song", vocal_channel="song")
    assert res.num_utts == 2 and res.excluded == {"speech files (vocal channel 01)": 4}
    res = prepare_ravdess(tree, tmp_path / "all", vocal_channel="all")
    assert res.num_utts == 6 and res.excluded == {}
    with pytest.raises(ValueError, match="vocal_channel='x' is not one of"):
        prepare_ravdess(tree, tmp_path / "d", vocal_channel="x")


def test_song_release_folder(tmp_path):
    root = tmp_path / "ravdess"
    write_wav(root / RELEASE_DIR / SPEECH[0])
    write_wav(root / "Audio_Song_Actors_01-24" / SONG[0])
    res = prepare_ravdess(root, tmp_path / "speech")
    assert res.num_utts == 1 and res.excluded == {"song files (vocal channel 02)": 1}
    res = prepare_ravdess(root, tmp_path / "all", vocal_channel="all")
    assert sorted(read_table(tmp_path / "all" / "utt2emo").values()) == ["hap", "neu"]


def test_bad_inputs(tree, tmp_path):
    actor = tree / RELEASE_DIR / "Actor_03"
    write_wav(actor / "03-01-09-01-01-01-03.wav")  # unknown emotion
    write_wav(actor / "03-01-03-01-01-01-05.wav")  # actor disagrees with folder
    write_wav(actor / "01-01-03-01-01-01-03.wav")  # not audio-only
    write_wav(actor / "03-01-03-01-01.wav")  # bad name
    sf.write(str(actor / "03-01-04-01-01-01-03.wav"), np.zeros(0), 48000)
    res = prepare_ravdess(tree, tmp_path / "d")
    reasons = {Path(k).name: v for k, v in res.skipped.items()}
    assert reasons == {
        "03-01-09-01-01-01-03.wav": reasons["03-01-09-01-01-01-03.wav"],
        "03-01-03-01-01-01-05.wav": "actor field '05' disagrees with folder 'Actor_03'",
        "01-01-03-01-01-01-03.wav": "modality '01' is not audio-only (03)",
        "03-01-03-01-01.wav": reasons["03-01-03-01-01.wav"],
        "03-01-04-01-01-01-03.wav": "zero-length audio (0 samples)",
    }
    assert reasons["03-01-09-01-01-01-03.wav"].startswith("unknown emotion code '09'")
    assert reasons["03-01-03-01-01.wav"].startswith("unrecognised file name")
    assert res.num_utts == 4


def test_missing_layout(tmp_path):
    (tmp_path / "r").mkdir()
    with pytest.raises(CorpusError, match=r"no Actor_XX/ folders"):
        prepare_ravdess(tmp_path / "r", tmp_path / "d")
