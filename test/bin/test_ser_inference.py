"""Stage 5's inference as ESPnet does it: build_model_from_file, the streaming iterator,
``--key_file``, and a set split into jobs (split_scp) and merged again (merge_decode).

One tiny model (global normalisation inside the model, its stats file deleted after
training) is trained for one epoch on random features; the tests decode a test set
with a missing ark entry and a wrong-dimension entry in it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_ser.bin import merge_decode, ser_inference, ser_train, split_scp
from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.bin.prepare_labels import main as prepare_labels_main
from espnet_ser.features.ark_io import ArkWriter, load_scp
from espnet_ser.features.norm import StatsAccumulator
from espnet_ser.utils.data_dir import read_table

REPO = Path(__file__).resolve().parents[2]
D = 6
EMOS = ["ang", "neu", "sad"]
CONF = {
    "input_size": D,
    "encoder": "conv1d",
    "encoder_conf": {"channels": [8], "kernel_sizes": [3], "strides": [1], "dropout": 0.0},
    "pooling": "stats", "classifier": "mlp", "classifier_conf": {"hidden_sizes": [8]},
    "model_conf": {"embedding_size": 8}, "domain_heads": [],
    "optim": "adam", "optim_conf": {"lr": 0.01}, "batch_type": "unsorted", "batch_size": 4,
    "num_workers": 0, "num_att_plot": 0, "use_matplotlib": False,
    "best_model_criterion": [["valid", "ua", "max"]], "keep_nbest_models": 1,
}


def _write_set(root: Path, name: str, feats: dict) -> tuple[Path, Path]:
    data, dump = root / "data" / name, root / "dump" / name
    data.mkdir(parents=True)
    with ArkWriter(dump / "feats.ark", dump / "feats.scp") as w:
        for utt in sorted(feats):
            w[utt] = feats[utt]
    u2e = {u: EMOS[int(u[-1]) % 3] for u in feats}
    (data / "utt2emo").write_text("".join(f"{k} {v}\n" for k, v in sorted(u2e.items())))
    (data / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in sorted(feats)))
    (dump / "utt2num_frames").write_text("".join(f"{k} {v.shape[0]}\n" for k, v in sorted(feats.items())))
    make_shape_file(dump)
    return data, dump


def _feats(rng, spks, n) -> dict:
    return {f"{s}-u{i}": (rng.normal(size=(int(rng.integers(4, 30)), D)) + i % 3).astype(np.float32)
            for s in spks for i in range(n)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A trained model dir and a test feats.scp with one unreadable and one wrong-shape entry."""
    root = tmp_path_factory.mktemp("ser_inference")
    rng = np.random.default_rng(0)
    train, dev = _feats(rng, ["a", "b", "c"], 6), _feats(rng, ["d"], 6)
    dirs = {"train": _write_set(root, "train", train), "dev": _write_set(root, "dev", dev)}
    lang = root / "lang"
    prepare_labels_main(["--train_dir", str(dirs["train"][0]), "--lang_dir", str(lang), "--names", "emotion",
                         *[a for s in dirs.values() for a in ("--set", f"{s[0]}:{s[1]}")]])
    acc = StatsAccumulator()
    for x in train.values():
        acc.add(x)
    np.savez(root / "stats.npz", **acc.espnet_stats())
    (root / "train.yaml").write_text(yaml.safe_dump(CONF))
    exp = root / "exp"
    args = ["--config", str(root / "train.yaml"), "--emotion_list", str(lang / "emotions.txt"),
            "--output_dir", str(exp), "--max_epoch", "1", "--ngpu", "0", "--seed", "0",
            "--normalize", "global_mvn", "--normalize_conf", f"stats_file={root / 'stats.npz'}"]
    for mode, (_, d) in (("train", dirs["train"]), ("valid", dirs["dev"])):
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/feats.scp,speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/emotion.int,emotion,text_int",
                 f"--{mode}_shape_file", f"{d}/speech_shape"]
    ser_train.main(args)
    (root / "stats.npz").unlink()  # inference must not need the training statistics
    test = root / "test"
    test.mkdir()
    feats = _feats(rng, ["e", "f"], 7)
    feats["e-u3"] = rng.normal(size=(5, D + 2)).astype(np.float32)  # wrong dimension
    with ArkWriter(test / "feats.ark", test / "feats.scp") as w:
        for utt in sorted(feats):
            w[utt] = feats[utt]
    with ArkWriter(test / "gone.ark", test / "gone.scp") as w:
        w["e-u5"] = feats.pop("e-u5")
    (test / "gone.ark").unlink()
    table = {**read_table(test / "feats.scp"), **read_table(test / "gone.scp")}
    (test / "feats.scp").write_text("".join(f"{k} {table[k]}\n" for k in sorted(table)))
    return exp, test / "feats.scp"


def _decode(run, out: Path, *extra) -> int:
    exp, scp = run
    try:
        ser_inference.main(["--model_file", str(exp / "valid.ua.best.pth"), "--train_config",
                            str(exp / "config.yaml"), "--data_path_and_name_and_type", f"{scp},speech,kaldi_ark",
                            "--output_dir", str(out), "--batch_size", "4", *map(str, extra)])
    except SystemExit as e:
        return int(e.code)
    return 0


def _posteriors(d: Path) -> dict:
    return {k: np.array(v.split(), dtype=float) for k, v in read_table(d / "posteriors").items()}


@pytest.fixture(scope="module")
def one_job(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "decode_test"
    assert _decode(run, out) == 0
    return out


def test_one_job_accounts_for_every_utterance(run, one_job):
    _, scp = run
    keys = set(read_table(scp))
    decoded, skipped = set(_posteriors(one_job)), read_table(one_job / "skipped")
    assert decoded | set(skipped) == keys and not decoded & set(skipped) and len(keys) == 14
    assert skipped["e-u3"] == "bad feature shape (5, 8)"
    assert skipped["e-u5"].startswith("unreadable features: read_matrix: ark file") and "gone.ark" in skipped["e-u5"]
    assert list(read_table(one_job / "posteriors")) == sorted(decoded)
    assert set(load_scp(one_job / "embeddings.scp")) == decoded
    assert set(read_table(one_job / "labels.txt").values()) <= set(EMOS)
    assert (one_job / "emotions.txt").read_text().split() == EMOS
    for p in _posteriors(one_job).values():
        assert p.shape == (3,) and abs(p.sum() - 1) < 1e-4


def test_key_file_decodes_exactly_those_keys(run, one_job, tmp_path):
    _, scp = run
    table = read_table(scp)
    # An id list in another order, and scp lines (the first column counts): the same three ids.
    ids = ["f-u6", "e-u0", "e-u5"]
    (tmp_path / "ids").write_text("".join(k + "\n" for k in ids))
    (tmp_path / "lines.scp").write_text("".join(f"{k} {table[k]}\n" for k in ids))
    for key_file in ("ids", "lines.scp"):
        out = tmp_path / f"dec_{key_file}"
        assert _decode(run, out, "--key_file", tmp_path / key_file) == 0
        post = _posteriors(out)
        assert list(post) == ["e-u0", "f-u6"] and list(read_table(out / "skipped")) == ["e-u5"]
        assert list(load_scp(out / "embeddings.scp")) == ["e-u0", "f-u6"]
        ref = _posteriors(one_job)
        for k, p in post.items():
            np.testing.assert_allclose(p, ref[k], atol=2e-6)


def test_key_file_with_an_unknown_id_is_one_line(run, tmp_path, capsys):
    (tmp_path / "ids").write_text("e-u0\nnope-u1\n")
    assert _decode(run, tmp_path / "dec", "--key_file", tmp_path / "ids") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--key_file" in err[0] and "1 id(s) not in" in err[0] and "nope-u1" in err[0]


def test_model_is_built_by_espnet_without_unpickling(run, monkeypatch):
    """build_model_from_file builds (model_file=None); the weights are read by our weights_only load."""
    from espnet_ser.tasks.ser import SERTask

    exp, _ = run
    calls = []
    original = SERTask.build_model_from_file.__func__

    def spy(cls, config_file=None, model_file=None, device="cpu"):
        calls.append((config_file, model_file, device))
        return original(cls, config_file, model_file, device)

    monkeypatch.setattr(SERTask, "build_model_from_file", classmethod(spy))
    model, args = ser_inference.load_model(exp / "config.yaml", exp / "valid.ua.best.pth")
    assert len(calls) == 1 and calls[0][1] is None
    # global_mvn: built from a placeholder statistics file; the checkpoint's buffers are the statistics.
    assert args.normalize == "global_mvn" and str(args.normalize_conf["stats_file"]).endswith("stats.npz")
    import torch

    state = torch.load(exp / "valid.ua.best.pth", weights_only=True)
    np.testing.assert_array_equal(model.normalize.mean.numpy(), state["normalize.mean"].numpy())


def _split_and_decode(run, root: Path, nj: int) -> list[Path]:
    _, scp = run
    keys = [root / f"keys.{j}.scp" for j in range(1, nj + 1)]
    assert split_scp.main([str(scp), *map(str, keys)]) == 0
    parts = []
    for j, k in enumerate(keys, 1):
        assert _decode(run, root / str(j), "--key_file", k) == 0
        parts.append(root / str(j))
    return parts


def test_split_and_merge_equal_one_job(run, one_job, tmp_path):
    parts = _split_and_decode(run, tmp_path / "split3", 3)
    out = tmp_path / "decode_test"
    assert merge_decode.main(["--out", str(out), *map(str, parts)]) == 0
    post, ref = _posteriors(out), _posteriors(one_job)
    assert list(post) == list(ref)
    for k in ref:
        np.testing.assert_allclose(post[k], ref[k], atol=2e-6, err_msg=k)
    assert read_table(out / "labels.txt") == read_table(one_job / "labels.txt")
    assert (out / "skipped").read_text() == (one_job / "skipped").read_text()
    assert (out / "emotions.txt").read_text() == (one_job / "emotions.txt").read_text()
    merged, single = load_scp(out / "embeddings.scp"), load_scp(one_job / "embeddings.scp")
    assert list(merged) == list(single)
    for k in single:
        np.testing.assert_allclose(merged[k], single[k], atol=2e-6)
    # The scp points into the splits' arks (nothing copied).
    assert {v.rsplit(":", 1)[0] for v in read_table(out / "embeddings.scp").values()} == \
        {str(p / "embeddings.ark") for p in parts}
    assert not (out / "embeddings.ark").exists()


@pytest.fixture(scope="module")
def parts(run, tmp_path_factory):
    return _split_and_decode(run, tmp_path_factory.mktemp("split2"), 2)


def _merge_error(out: Path, splits, capsys) -> str:
    assert merge_decode.main(["--out", str(out), *map(str, splits)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert not out.exists(), "nothing is written on an error"
    return err[0]


def test_merge_missing_split(parts, tmp_path, capsys):
    err = _merge_error(tmp_path / "out", [parts[0], tmp_path / "no_such_split"], capsys)
    assert "no_such_split: no such split dir" in err and "see its log" in err


def test_merge_split_without_posteriors(parts, tmp_path, capsys):
    broken = tmp_path / "2"
    shutil.copytree(parts[1], broken)
    (broken / "posteriors").unlink()
    err = _merge_error(tmp_path / "out", [parts[0], broken], capsys)
    assert f"{broken}/posteriors: no such posteriors of the split" in err


def test_merge_overlapping_keys(parts, tmp_path, capsys):
    err = _merge_error(tmp_path / "out", [parts[0], parts[1], parts[0].parent / "1"], capsys)
    assert err == f"merge_decode: error: split {parts[0].parent / '1'} is given twice (each split once)"
    twice = tmp_path / "again"   # the same utterances in a copy of a split
    shutil.copytree(parts[0], twice)
    err = _merge_error(tmp_path / "out", [parts[0], twice], capsys)
    assert err.startswith("merge_decode: error: utterance ") and f"is in two splits, {parts[0]} and {twice}" in err
    skipped_twice = tmp_path / "skipped_twice"   # an utterance decoded in one split and skipped in another
    shutil.copytree(parts[1], skipped_twice)
    first = next(iter(read_table(parts[0] / "posteriors")))
    (skipped_twice / "skipped").write_text(f"{first} unreadable features: x\n")
    err = _merge_error(tmp_path / "out", [parts[0], skipped_twice], capsys)
    assert f"utterance {first} is in two splits" in err


def test_merge_different_models(parts, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(parts[1], other)
    (other / "emotions.txt").write_text("hap\nsad\n")
    assert "emotions.txt differs" in _merge_error(tmp_path / "out", [parts[0], other], capsys)


def test_split_scp_kaldi_sizes_and_order(tmp_path, capsys):
    scp = tmp_path / "feats.scp"
    lines = [f"u{i:02d} x.ark:{i}" for i in range(10)]
    scp.write_text("".join(x + "\n" for x in lines))
    outs = [tmp_path / f"k.{j}" for j in (1, 2, 3)]
    assert split_scp.split_scp(scp, outs) == [4, 3, 3]
    assert "".join(o.read_text() for o in outs) == scp.read_text()
    # Kaldi's name and arguments: utils/split_scp.pl gives the same pieces.
    pl = [tmp_path / f"p.{j}" for j in (1, 2, 3)]
    res = subprocess.run(["perl", str(REPO / "utils" / "split_scp.pl"), str(scp), *map(str, pl)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert [p.read_text() for p in pl] == [o.read_text() for o in outs]
    assert split_scp.main([str(scp), *[str(tmp_path / f"m.{j}") for j in range(11)]]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has 10 line(s), fewer than the 11 outputs (split it into at most 10)" in err[0]
    scp.write_text("u1 a\nu1 b\n")
    assert split_scp.main([str(scp), str(tmp_path / "d.1")]) == 1
    assert "duplicate" in capsys.readouterr().err


def test_cli_help_runs():
    for mod in ("split_scp", "merge_decode"):
        res = subprocess.run([sys.executable, "-m", f"espnet_ser.bin.{mod}", "--help"], capture_output=True,
                             text=True)
        assert res.returncode == 0 and "usage" in res.stdout.lower(), res.stderr
