"""Fault matrix, corpus and data-dir rows, each through the CLI the stage runs.

Corpus path missing / empty / wrong layout (stage 1: ``prepare_corpus``), a label
outside the inventory (stage 1: corpus label map; stage 3: ``prepare_labels``),
duplicate utterance ids across two corpora (``utils/combine_data.sh``, as a corpus
pool is combined) and an unsorted data dir (``utils/validate_data_dir.sh``, which
stage 1 runs on ``data/all``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_ser.utils.data_dir import read_table

from fault_utils import REPO, cli, data_dir, run, tail, write_wav


def _emodb(root: Path, names) -> Path:
    for name in names:
        write_wav(root / "wav" / f"{name}.wav")
    return root


CORPUS_ROWS = {
    "missing": (lambda r: r / "nowhere",
                "prepare_corpus.py: error: emodb: corpus directory {d} does not exist; set it in "
                "db.sh or pass --corpus-dir"),
    "empty": (lambda r: (r / "emodb" / "wav").mkdir(parents=True) or r / "emodb",
              "prepare_corpus.py: error: emodb: nothing usable in {d}: 0 candidate utterance(s), "
              "0 skipped; check --corpus-dir and the corpus layout in the module docstring"),
    "wrong layout": (lambda r: write_wav(r / "emodb" / "audio" / "03a01Fa.wav").parents[1],
                     "prepare_corpus.py: error: EMODB={d} has no wav/ folder; expected a folder "
                     "containing wav/03a01Fa.wav (the Emo-DB root)"),
}


@pytest.mark.parametrize("row", list(CORPUS_ROWS))
def test_corpus_path(row, tmp_path):
    make, message = CORPUS_ROWS[row]
    corpus = make(tmp_path)
    out = tmp_path / "data" / "all"
    res = cli("prepare_corpus", "--corpus", "emodb", "--corpus-dir", corpus, "--out-dir", out)
    assert res.returncode == 1, tail(res)
    errors = [ln for ln in res.stderr.splitlines() if "error" in ln]
    assert errors == [message.format(d=corpus)], tail(res)
    assert not out.exists()


def test_label_outside_inventory_stage1(tmp_path):
    """A corpus file whose emotion code is not in the label map: accounted skip of stage 1."""
    corpus = _emodb(tmp_path / "emodb", ["03a01Fa", "03a02Wa", "08a01Na", "08a01Xa"])
    out = tmp_path / "data" / "all"
    res = cli("prepare_corpus", "--corpus", "emodb", "--corpus-dir", corpus, "--out-dir", out)
    assert res.returncode == 0, tail(res)
    assert res.stdout.strip() == f"prepared 3 utterances (2 speakers) in {out}; skipped 1 (see {out}/skipped)"
    assert "skipped 1 input(s): 1x unknown emotion code 'X'" in res.stderr
    skipped = read_table(out / "skipped")
    assert skipped == {str(corpus / "wav" / "08a01Xa.wav"): "unknown emotion code 'X' (not in label map "
                       f"{REPO}/espnet_ser/corpora/maps/emodb.yaml)"}
    assert "emodb_08-08a01Xa" not in read_table(out / "utt2spk")


def test_label_outside_inventory_stage3(tmp_path):
    """A test utterance whose emotion the training set never had: -1 (masked), counted in the log."""
    train = data_dir(tmp_path / "train", {"a-1": "/x/1.wav", "a-2": "/x/2.wav"},
                     emo={"a-1": "ang", "a-2": "sad"})
    test = data_dir(tmp_path / "test", {"b-1": "/x/3.wav", "b-2": "/x/4.wav"},
                    emo={"b-1": "ang", "b-2": "sur"})
    res = cli("prepare_labels", "--train_dir", train, "--lang_dir", tmp_path / "labels", "--names",
              "emotion", "--set", f"{test}:{tmp_path / 'out'}")
    assert res.returncode == 0, tail(res)
    assert (f"{tmp_path / 'out'}/emotion.int: 2 utterances, 0 without label, 1 with a label outside "
            "the inventory (both -1)") in res.stderr
    assert read_table(tmp_path / "out" / "emotion.int") == {"b-1": "0", "b-2": "-1"}
    assert (tmp_path / "labels" / "emotions.txt").read_text() == "ang\nsad\n"
    # Stage 6 scores against the inventory the model was trained with: it refuses the label.
    (tmp_path / "posteriors").write_text("b-1 0.9 0.1\nb-2 0.2 0.8\n")
    res = cli("score", "--posteriors", tmp_path / "posteriors", "--labels",
              tmp_path / "labels" / "emotions.txt", "--data-dir", test, "--out-dir", tmp_path / "score")
    assert res.returncode == 1, tail(res)
    assert res.stderr.strip().splitlines()[-1].endswith(
        f"{test}/utt2emo: label(s) ['sur'] not in the label inventory ['ang', 'sad'] (e.g. ['b-2']); "
        "score with the inventory the model was trained with, or fix the label mapping"), tail(res)


def test_duplicate_utterance_ids_across_corpora(tmp_path):
    one = data_dir(tmp_path / "emodb", {"s1-u1": "/a/1.wav", "s1-u2": "/a/2.wav"})
    two = data_dir(tmp_path / "other", {"s1-u2": "/b/2.wav", "s1-u3": "/b/3.wav"})
    res = run([REPO / "utils" / "combine_data.sh", tmp_path / "pool", one, two])
    assert res.returncode == 1, tail(res)
    assert res.stderr.strip() == (
        f"utils/combine_data.sh: combine_data {tmp_path / 'pool'}: utterance 's1-u2' is in both "
        f"{one} and {two} (utterance ids must be unique: prefix them with the corpus/speaker id)")
    assert not (tmp_path / "pool").exists()


def test_unsorted_data_dir(tmp_path):
    d = data_dir(tmp_path / "all", {"s1-u1": "/a/1.wav", "s1-u2": "/a/2.wav"})
    (d / "wav.scp").write_text("s1-u2 /a/2.wav\ns1-u1 /a/1.wav\n")
    res = run([REPO / "utils" / "validate_data_dir.sh", "--no-feats", "--no-text", d])
    assert res.returncode == 1, tail(res)
    assert res.stderr.strip() == (
        f"utils/validate_data_dir.sh: {d}/wav.scp: not sorted in C locale at line 2 "
        f"('s1-u2' before 's1-u1') (run utils/fix_data_dir.sh {d})")
    res = run([REPO / "utils" / "fix_data_dir.sh", d])
    assert res.returncode == 0, tail(res)
    assert run([REPO / "utils" / "validate_data_dir.sh", "--no-feats", "--no-text", d]).returncode == 0
