"""Generated trees of all seven corpora through prepare_<corpus> and validate_data_dir.

The generator's manifest says exactly what was written; the preparers must
find every speech file, with the right speaker, gender and label, and leave
out only what the corpus's contract says (RAVDESS songs, IEMOCAP codes outside
the 4-class set).
"""

from __future__ import annotations

import collections

import pytest

from espnet_ser.corpora import CORPORA
from espnet_ser.corpora.synth import CORPUS_EMOTIONS, generate_corpus, read_manifest
from espnet_ser.utils.data_dir import read_table, validate_data_dir

LAYOUTS = ["emodb", "emovo", "iemocap", "msp_improv", "ravdess", "savee", "tess"]

# Per layout: generator options; every native code kept by an identity label map.
GEN_OPTIONS = {
    "emodb": dict(n_speakers=4, utts_per_speaker=7),
    "emovo": dict(n_speakers=3, utts_per_speaker=7),
    "iemocap": dict(utts_per_speaker=4),
    "msp_improv": dict(n_speakers=4, utts_per_speaker=5),
    "ravdess": dict(n_speakers=3, utts_per_speaker=8, songs=True),
    "savee": dict(n_speakers=2, utts_per_speaker=7),
    "tess": dict(utts_per_speaker=8),  # with the release's quirks (OA_ name, AIFF, 96 kHz)
}


def _identity_map(layout):
    return {"emotion": {code: code for code in CORPUS_EMOTIONS[layout]}}


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("roundtrip")
    return {
        layout: generate_corpus(layout, base / layout, seed=3, duration=(0.5, 0.8), sample_rate=16000,
                                **GEN_OPTIONS[layout])
        for layout in LAYOUTS
    }


def _expected_ids(layout, rows):
    """``{utt id: row}`` of the speech files, with the data-dir id of CONTRIBUTING.md."""
    out = {}
    for r in rows:
        if r["kind"] != "speech":
            continue
        native = r["utt"]
        if layout == "savee":
            native = f"{r['speaker']}_{r['utt']}"
        out[(f"{layout}_{r['speaker']}", native)] = r
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
def test_prepare_generated_tree(layout, trees, tmp_path):
    rows = read_manifest(trees[layout])
    result = CORPORA[layout](trees[layout], tmp_path / "data", label_map=_identity_map(layout))
    validate_data_dir(tmp_path / "data")
    expected = _expected_ids(layout, rows)
    assert result.num_utts == len(expected), (result.num_utts, len(expected), result.skipped)
    assert result.skipped == {}
    assert result.num_speakers == len({r["speaker"] for r in rows})

    utt2spk = read_table(tmp_path / "data" / "utt2spk")
    utt2emo = read_table(tmp_path / "data" / "utt2emo")
    utt2gender = read_table(tmp_path / "data" / "utt2gender")
    # Every utterance id is <speaker id>-<something naming the native file>, and
    # the speaker, gender and label are those generated for that file.
    by_native = {}
    for utt, spk in utt2spk.items():
        assert utt.startswith(spk + "-"), utt
        by_native[(spk, utt[len(spk) + 1:])] = utt
    for (spk, native), row in expected.items():
        utt = by_native.get((spk, native)) or by_native.get((spk, row["utt"]))
        assert utt is not None, f"{layout}: {row['path']} not prepared as {spk}-{native}"
        assert utt2emo[utt] == row["code"], (utt, utt2emo[utt], row["code"])
        assert utt2gender[utt] == row["gender"], (utt, utt2gender[utt], row["gender"])
    assert collections.Counter(utt2emo.values()) == collections.Counter(r["code"] for r in expected.values())


def test_ravdess_songs_excluded(trees, tmp_path):
    rows = read_manifest(trees["ravdess"])
    songs = [r for r in rows if r["kind"] == "song"]
    assert songs, "the fixture must contain song files for this test to mean anything"
    result = CORPORA["ravdess"](trees["ravdess"], tmp_path / "data", label_map=_identity_map("ravdess"))
    wav = read_table(tmp_path / "data" / "wav.scp")
    # Native name 03-CC-EE-...: CC = vocal channel, 01 speech, 02 song.
    assert {u.split("-", 1)[1].split("-")[1] for u in wav} == {"01"}
    assert all("Audio_Song" not in v and "/03-02-" not in v for v in wav.values())
    assert result.num_utts == len(rows) - len(songs)


def test_ravdess_songs_in_speech_folders_excluded(tmp_path):
    root = generate_corpus("ravdess", tmp_path / "rav", n_speakers=2, utts_per_speaker=3, songs="mixed",
                           duration=0.5, sample_rate=16000)
    rows = read_manifest(root)
    n_song = sum(r["kind"] == "song" for r in rows)
    assert n_song and all("Audio_Speech_Actors_01-24" in r["path"] for r in rows)
    result = CORPORA["ravdess"](root, tmp_path / "data", label_map=_identity_map("ravdess"))
    assert result.num_utts == len(rows) - n_song
    assert all("/03-02-" not in v for v in read_table(tmp_path / "data" / "wav.scp").values())


def test_iemocap_speakers_on_awkward_dialog_names(trees, tmp_path):
    CORPORA["iemocap"](trees["iemocap"], tmp_path / "data", label_map=_identity_map("iemocap"))
    utt2spk = read_table(tmp_path / "data" / "utt2spk")
    utt2dialog = read_table(tmp_path / "data" / "utt2dialog")
    awkward = {"Ses03M_impro05a", "Ses05M_script01_1b"}
    assert awkward <= set(utt2dialog.values())
    for utt, spk in utt2spk.items():
        turn = utt.rsplit("_", 1)[1]  # F000 / M001: the speaker of the turn
        session = utt2dialog[utt][:5]
        assert spk == f"iemocap_{session}{turn[0]}", (utt, spk)
    # The F turns of an M-led dialog belong to the session's F speaker.
    f_in_m = [u for u, d in utt2dialog.items() if d in awkward and u.rsplit("_", 1)[1][0] == "F"]
    assert f_in_m and all(utt2spk[u].endswith("F") for u in f_in_m)


def test_iemocap_default_four_classes(trees, tmp_path):
    rows = read_manifest(trees["iemocap"])
    result = CORPORA["iemocap"](trees["iemocap"], tmp_path / "data")
    four = {"neu": "neu", "hap": "hap", "exc": "hap", "ang": "ang", "sad": "sad"}  # the usual 4-class IEMOCAP set
    expected = collections.Counter(four[r["code"]] for r in rows if r["code"] in four)
    assert result.num_utts == sum(expected.values())
    assert collections.Counter(read_table(tmp_path / "data" / "utt2emo").values()) == expected
    assert len(result.skipped) == len(rows) - sum(expected.values())


def test_msp_improv_misspelled_label_file(tmp_path):
    root = generate_corpus("msp_improv", tmp_path / "msp", n_speakers=2, utts_per_speaker=3,
                           label_file="Evalution.txt", duration=0.5, sample_rate=16000)
    assert (root / "Evalution.txt").is_file() and not (root / "Evaluation.txt").exists()
    result = CORPORA["msp_improv"](root, tmp_path / "data", label_map=_identity_map("msp_improv"))
    assert result.num_utts == len(read_manifest(root))


def test_savee_flat_layout(tmp_path):
    root = generate_corpus("savee", tmp_path / "savee", n_speakers=2, utts_per_speaker=3, flat=True,
                           duration=0.5, sample_rate=16000)
    result = CORPORA["savee"](root, tmp_path / "data", label_map=_identity_map("savee"))
    assert result.num_utts == 6 and result.num_speakers == 2


def test_tess_quirks_and_flat_layout(trees, tmp_path):
    rows = {r["utt"]: r for r in read_manifest(trees["tess"])}
    result = CORPORA["tess"](trees["tess"], tmp_path / "data")  # the packaged map
    validate_data_dir(tmp_path / "data")
    assert result.num_utts == 16 and result.skipped == {}
    wav = read_table(tmp_path / "data" / "wav.scp")
    dur = read_table(tmp_path / "data" / "utt2dur")
    misnamed = [u for u, p in wav.items() if "/OA_" in p]
    assert misnamed and all(u.startswith("tess_OAF-OAF_") for u in misnamed)
    for utt, path in wav.items():  # AIFF-under-.wav and the 96 kHz file: durations from their own headers
        assert abs(float(dur[utt]) - float(rows[utt.split("-", 1)[1]]["duration"])) < 1e-3
    assert set(read_table(tmp_path / "data" / "utt2emo").values()) <= {"ang", "dis", "fea", "hap", "neu", "sad", "sur"}
    root = generate_corpus("tess", tmp_path / "flat", n_speakers=2, utts_per_speaker=3, flat=True,
                           duration=0.5, sample_rate=16000)
    result = CORPORA["tess"](root, tmp_path / "flat_data")
    validate_data_dir(tmp_path / "flat_data")
    assert result.num_utts == 6 and result.num_speakers == 2 and result.skipped == {}
