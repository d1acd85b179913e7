"""One checkpoint rule and normalisation inside the model, end to end through ser.sh.

A tiny run of the demo recipe (one fold, one seed, one epoch, global
normalisation) then checks that: stage 3 wrote statistics but no feature
copies; stage 8's zip holds the checkpoint that stage 5 decoded and no stats
file; and recognising the test speakers' wav files from the zip (Python API and
``espnet_ser.bin.recognize``) gives exactly stage 5's posteriors.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from test_mini_ser import _copy_recipe, _run, _table, _tail

TINY = ["--protocol", "emodb_l2so", "--folds", "1", "--seeds", "0", "--nj", "2", "--norm", "global",
        "--feats_conf", "conf/feats/fbank.yaml", "--train_config", "conf/train.yaml", "--tag", "tiny",
        "--train_args", "--max_epoch 1", "--local_data_opts", "--utts_per_speaker 4 --duration 1.0",
        "--stop_stage", "8"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    recipe = _copy_recipe(tmp_path_factory.mktemp("packed"))
    res = _run(["./ser.sh", *TINY], recipe, timeout=900)
    assert res.returncode == 0, _tail(res)
    return recipe


def _posteriors(path: Path) -> dict:
    return {k: np.array(v.split(), dtype=float) for k, v in _table(path).items()}


@pytest.mark.slow
def test_stage3_writes_statistics_not_copies(tiny_run):
    fold = tiny_run / "dump" / "fbank_global" / "emodb_l2so" / "fold1"
    assert not list(fold.rglob("*.ark")), "global normalisation must not copy the features"
    with np.load(fold / "stats.npz") as stats:
        assert set(stats.files) == {"count", "sum", "sum_square"}
    for s in ("train", "dev", "test"):
        assert all("dump/fbank/all/" in v for v in _table(fold / s / "feats.scp").values())


@pytest.mark.slow
def test_packed_model_is_stage5s_checkpoint_with_its_normalisation(tiny_run):
    from espnet_ser.bin.pack_model import DEFAULT_INFERENCE_MODEL
    from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer

    run = tiny_run / "exp" / "tiny" / "seed0" / "fold1"
    zpath = run / "packed_model.zip"
    with zipfile.ZipFile(zpath) as zf:
        record = json.loads(zf.read("model.json"))
        assert record == {"format": 1, "checkpoint": DEFAULT_INFERENCE_MODEL, "norm": "global"}
        assert zf.read(DEFAULT_INFERENCE_MODEL) == (run / DEFAULT_INFERENCE_MODEL).read_bytes()
        assert not [n for n in zf.namelist() if n.endswith(".npz")]  # statistics live in the checkpoint
    log = (run / "decode_test" / "log" / "inference.log").read_text()
    assert f"--model_file {run.relative_to(tiny_run)}/{DEFAULT_INFERENCE_MODEL}" in log

    # Recognise the test speakers' own wav files from the zip, with no dump/ or stats file around.
    (tiny_run / "dump").rename(tiny_run / "dump.away")
    try:
        stage5 = _posteriors(run / "decode_test" / "posteriors")
        wavs = _table(tiny_run / "data" / "all" / "wav.scp")
        rec = SpeechEmotionRecognizer.from_packed(zpath)
        labels = (run / "emotions.txt").read_text().split()
        for utt, post in stage5.items():
            out = rec(wavs[utt])  # absolute paths (local/data.sh)
            np.testing.assert_allclose([out["posteriors"][lab] for lab in labels], post, atol=1.01e-6,
                                       err_msg=utt)
        # The command line prints the same numbers.
        utt = sorted(stage5)[0]
        res = _run(["python3", "-m", "espnet_ser.bin.recognize", "--model", zpath, wavs[utt]], tiny_run,
                   timeout=300)
        assert res.returncode == 0, _tail(res)
        name, label, *pairs = res.stdout.split()
        assert name == wavs[utt] and label == labels[int(stage5[utt].argmax())]
        np.testing.assert_allclose([float(p.split(":")[1]) for p in pairs], stage5[utt], atol=1.01e-6)
    finally:
        (tiny_run / "dump.away").rename(tiny_run / "dump")


@pytest.mark.slow
def test_stage5_in_two_jobs_per_set_gives_the_same_posteriors(tiny_run):
    """--inference_nj 2: each set's keys in 2 lists, all (fold, seed, set, split) decodes one array, merged."""
    run = tiny_run / "exp" / "tiny" / "seed0" / "fold1"
    dec = run / "decode_test"
    one = {s: _posteriors(run / f"decode_{s}" / "posteriors") for s in ("dev", "test")}
    one_skipped = (dec / "skipped").read_text()
    stage5 = [*TINY[:-2], "--stage", "5", "--stop_stage", "5"]
    res = _run(["./ser.sh", *stage5, "--inference_nj", "2"], tiny_run, timeout=600)
    assert res.returncode == 0, _tail(res)
    assert "Stage 5: inference: 4 run(s)" in res.stdout and "as one job array" in res.stdout, _tail(res)
    assert len((tiny_run / "exp" / "tiny" / "log" / "decode.list").read_text().splitlines()) == 4
    for s in ("dev", "test"):
        merged = _posteriors(run / f"decode_{s}" / "posteriors")
        assert list(merged) == list(one[s])
        for utt in merged:
            np.testing.assert_allclose(merged[utt], one[s][utt], atol=2.01e-6, err_msg=utt)
    split = _table(dec / "split2" / "keys.1.scp").keys() | _table(dec / "split2" / "keys.2.scp").keys()
    assert split == _table(tiny_run / "dump" / "fbank_global" / "emodb_l2so" / "fold1" / "test" / "feats.scp").keys()
    assert (dec / "skipped").read_text() == one_skipped
    assert all("decode_test/split2/" in v for v in _table(dec / "embeddings.scp").values())
    assert not (dec / "embeddings.ark").exists() and (dec / "log" / "inference.2.log").is_file()
    # Back to one job per set: today's layout again, no splits left behind.
    res = _run(["./ser.sh", *stage5, "--inference_nj", "1"], tiny_run, timeout=600)
    assert res.returncode == 0, _tail(res)
    assert not (dec / "split2").exists() and (dec / "embeddings.ark").is_file()
    assert (dec / "log" / "inference.log").is_file() and not (dec / "log" / "inference.2.log").exists()
    assert _posteriors(dec / "posteriors").keys() == one["test"].keys()
