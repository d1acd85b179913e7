"""Stage 3 for dialogue models: one example per dialogue, turns in time order, per-turn labels
(-1 unlabelled), speaker inventory over labelled and unlabelled sessions, statistics from the
labelled training set only, and every left-out turn or dialogue accounted for."""

import json

import numpy as np
import pytest

from espnet_ser.bin.make_dialogues import main, make_dialogues
from espnet_ser.features.ark_io import ArkWriter, read_matrix
from espnet_ser.features.norm import load_stats
from espnet_ser.labels import read_label_list
from espnet_ser.utils.data_dir import read_table, write_table

# set -> [(utt, spk, dialog, start, emo or None)]
FOLD = {
    "train": [("s1F-d1_F000", "s1F", "d1", "3.0", "ang"), ("s1M-d1_M000", "s1M", "d1", "1.0", None),
              ("s1F-d1_F001", "s1F", "d1", "5.0", "neu"), ("s1M-d2_M000", "s1M", "d2", "1.0", None)],
    "dev": [("s2F-d3_F000", "s2F", "d3", "1.0", "neu"), ("s2M-d4_M000", "s2M", "d4", "1.0", None)],
    "test": [("s5F-d5_F000", "s5F", "d5", "2.0", "hap"), ("s5M-d5_M000", "s5M", "d5", "1.0", "ang")],
    "train_unlab": [("s5F-d5_F000", "s5F", "d5", "2.0", None), ("s5M-d5_M000", "s5M", "d5", "1.0", None)],
}


def _fold(tmp_path, skip=("s1F-d1_F001", "empty transcript")):
    fold = tmp_path / "fold1"
    for s, rows in FOLD.items():
        d = fold / s
        d.mkdir(parents=True)
        write_table(d / "utt2spk", {u: k for u, k, *_ in rows})
        write_table(d / "utt2dialog", {u: g for u, _, g, *_ in rows})
        write_table(d / "utt2start", {u: t for u, _, _, t, _ in rows})
        write_table(d / "utt2emo", {u: e for u, *_, e in rows if e})
    utts = sorted({u for rows in FOLD.values() for u, *_ in rows})
    scps = []
    for name, dim in (("audio", 3), ("text", 2)):
        out = tmp_path / name / "all"
        out.mkdir(parents=True)
        with ArkWriter(out / "feats.ark", out / "feats.scp") as w:
            for i, u in enumerate(utts):
                if name == "text" and skip and u == skip[0]:
                    continue
                w[u] = np.full((1, dim), i, dtype=np.float32)
        write_table(out / "skipped", {skip[0]: skip[1]} if skip and name == "text" else {})
        scps.append(out / "feats.scp")
    return fold, scps, utts


def test_dialogues(tmp_path):
    fold, scps, utts = _fold(tmp_path)
    out = tmp_path / "dump"
    summary = make_dialogues(fold, scps, out, "global", ["emotion", "speaker"])
    train = out / "train"
    assert read_table(train / "dialogues") == {"d1": "s1M-d1_M000 s1F-d1_F000", "d2": "s1M-d2_M000",
                                               "d5": "s5M-d5_M000 s5F-d5_F000"}
    emos = read_label_list(out / "labels" / "emotions.txt")
    spks = read_label_list(out / "labels" / "speakers.txt")
    assert emos == ["ang", "neu"] and spks == ["s1F", "s1M", "s5F", "s5M"]  # unlabelled sessions' speakers too
    assert read_table(train / "emotion.int") == {"d1": "-1 0", "d2": "-1", "d5": "-1 -1"}
    assert read_table(train / "speaker.int") == {"d1": "1 0", "d2": "1", "d5": "3 2"}
    assert read_table(train / "speech_shape")["d1"] == "2,5"
    m = read_matrix(read_table(train / "feats.scp")["d1"])
    i_m, i_f = utts.index("s1M-d1_M000"), utts.index("s1F-d1_F000")
    assert m.shape == (2, 5) and m[0, 0] == i_m and m[1, 0] == i_f and m[1, 4] == i_f  # time order, concat
    assert read_table(train / "skipped") == {"s1F-d1_F001": "no text features: empty transcript"}
    st = load_stats(out / "stats.npz")  # labelled train set only (d1, d2: 3 turns with features)
    assert int(st["count"]) == 3 and st["sum"][0] == i_m + i_f + utts.index("s1M-d2_M000")
    assert read_table(out / "dev" / "skipped") == {"d4": "dialogue without a labelled utterance in dev "
                                                         "(nothing to score)"}
    assert read_table(out / "test" / "emotion.int") == {"d5": "0 -1"}  # hap is not a training class
    assert summary["sets"]["train"]["dialogues_without_label"] == 2
    assert json.loads((out / "norm.json").read_text())["mode"] == "global"
    # unchanged inputs: not redone
    mtime = (train / "feats.ark").stat().st_mtime_ns
    make_dialogues(fold, scps, out, "global", ["emotion", "speaker"])
    assert (train / "feats.ark").stat().st_mtime_ns == mtime


def test_bad_input(tmp_path, capsys):
    fold, scps, _ = _fold(tmp_path, skip=None)
    (tmp_path / "text" / "all" / "feats.scp").write_text(
        "".join(l + "\n" for l in (tmp_path / "text" / "all" / "feats.scp").read_text().splitlines()[1:]))
    with pytest.raises(ValueError, match="no features for .* and no entry"):
        make_dialogues(fold, scps, tmp_path / "o1")
    fold2, scps2, _ = _fold(tmp_path / "b")
    with pytest.raises(ValueError, match="global or none"):
        make_dialogues(fold2, scps2, tmp_path / "o2", norm="speaker")
    (fold2 / "dev" / "utt2dialog").unlink()
    assert main(["--fold-dir", str(fold2), "--feats", str(scps2[0]), "--out-dir", str(tmp_path / "o3")]) == 1
    assert "utt2dialog: missing" in capsys.readouterr().err
    assert main(["--fold-dir", str(fold2), "--feats", str(tmp_path / "nope.scp"),
                 "--out-dir", str(tmp_path / "o4")]) == 1
