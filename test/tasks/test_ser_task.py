"""SERTask end to end: labels + shape files, 2 epochs, resume to 3, inference, errors."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet_ser.bin import ser_inference, ser_train
from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.bin.prepare_labels import main as prepare_labels_main
from espnet_ser.features.ark_io import ArkWriter

REPO = Path(__file__).resolve().parents[2]
D = 8
CONF = {
    "input_size": D,
    "encoder": "conv1d",
    "encoder_conf": {"channels": [8], "kernel_sizes": [3], "strides": [1], "dropout": 0.0},
    "pooling": "stats",
    "classifier": "mlp",
    "classifier_conf": {"hidden_sizes": [8], "batch_norm": True},
    "model_conf": {"embedding_size": 8},
    "domain_heads": [{"name": "speaker", "schedule": "dann", "schedule_conf": {"gamma": 2.5},
                      "classifier_conf": {"hidden_sizes": [8]}}],
    "optim": "adam", "optim_conf": {"lr": 0.01},
    "batch_type": "unsorted", "batch_size": 4, "num_workers": 0, "num_att_plot": 0,
    "best_model_criterion": [["valid", "acc", "max"], ["valid", "ua", "max"]],
    "keep_nbest_models": 2, "seed": 0,
}


def make_set(root: Path, name: str, n_per_spk: int, spks, nan_utt=None):
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    data, dump = root / "data" / name, root / "dump" / name
    data.mkdir(parents=True)
    emos = ["ang", "neu", "sad"]
    u2s, u2e, u2n = {}, {}, {}
    with ArkWriter(dump / "feats.ark", dump / "feats.scp") as w:
        for s in spks:
            for i in range(n_per_spk):
                utt = f"{s}-u{i:02d}"
                e = i % 3
                T = int(rng.integers(3, 20))
                x = rng.normal(size=(T, D)).astype(np.float32) + e
                if utt == nan_utt:
                    x[0, 0] = np.nan
                w[utt] = x
                u2s[utt], u2n[utt] = s, T
                if not (name == "train" and i == n_per_spk - 1):  # one unlabelled per speaker
                    u2e[utt] = emos[e]
    for fname, table in (("utt2spk", u2s), ("utt2emo", u2e)):
        (data / fname).write_text("".join(f"{k} {v}\n" for k, v in sorted(table.items())))
    (dump / "utt2num_frames").write_text("".join(f"{k} {v}\n" for k, v in sorted(u2n.items())))
    make_shape_file(dump)
    return data, dump


@pytest.fixture()
def tiny(tmp_path):
    train = make_set(tmp_path, "train", 6, ["s1", "s2", "s3", "s4"])
    dev = make_set(tmp_path, "dev", 3, ["s1", "s2"])
    lang = tmp_path / "lang"
    prepare_labels_main(["--train_dir", str(train[0]), "--lang_dir", str(lang), "--names", "emotion", "speaker",
                         "--set", f"{train[0]}:{train[1]}", "--set", f"{dev[0]}:{dev[1]}"])
    conf = tmp_path / "train.yaml"
    conf.write_text(yaml.safe_dump(CONF))
    return tmp_path, conf, lang, train[1], dev[1]


def train_args(conf, lang, train, dev, out, max_epoch):
    args = ["--config", str(conf), "--emotion_list", str(lang / "emotions.txt"),
            "--output_dir", str(out), "--max_epoch", str(max_epoch), "--ngpu", "0"]
    for mode, d in (("train", train), ("valid", dev)):
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/feats.scp,speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/emotion.int,emotion,text_int",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/speaker.int,speaker,text_int",
                 f"--{mode}_shape_file", f"{d}/speech_shape"]
    return args


def test_labels_and_shape_files(tiny):
    root, _, lang, train, dev = tiny
    assert (lang / "emotions.txt").read_text().split() == ["ang", "neu", "sad"]
    assert (lang / "speakers.txt").read_text().split() == ["s1", "s2", "s3", "s4"]
    emo = dict(line.split() for line in (train / "emotion.int").read_text().splitlines())
    assert len(emo) == 24 and emo["s1-u05"] == "-1" and emo["s1-u01"] == "1"
    shape = (train / "speech_shape").read_text().splitlines()[0].split()
    assert shape[1].endswith(f",{D}")


def test_train_resume_infer(tiny, capsys):
    root, conf, lang, train, dev = tiny
    out = root / "exp"
    ser_train.main(train_args(conf, lang, train, dev, out, 2))
    for f in ("config.yaml", "checkpoint.pth", "valid.acc.best.pth", "valid.ua.best.pth", "2epoch.pth"):
        assert (out / f).exists(), f
    n_batches = 6  # 24 utterances / batch_size 4
    steps2 = int(torch.load(out / "2epoch.pth", weights_only=False)["num_updates"])
    assert steps2 == 2 * n_batches
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["emotion_list"] == ["ang", "neu", "sad"] and cfg["domain_heads"][0]["labels"][0] == "s1"

    ser_train.main(train_args(conf, lang, train, dev, out, 3) + ["--resume", "true"])
    steps3 = int(torch.load(out / "3epoch.pth", weights_only=False)["num_updates"])
    assert steps3 == 3 * n_batches  # continued from the checkpoint, not restarted

    dec = out / "decode_dev"
    ser_inference.main(["--model_file", str(out / "valid.acc.best.pth"), "--train_config", str(out / "config.yaml"),
                        "--data_path_and_name_and_type", f"{dev}/feats.scp,speech,kaldi_ark",
                        "--output_dir", str(dec)])
    post = [line.split() for line in (dec / "posteriors").read_text().splitlines()]
    utts = [line.split()[0] for line in (dev / "feats.scp").read_text().splitlines()]
    assert sorted(p[0] for p in post) == sorted(utts)
    assert all(len(p) == 4 and abs(sum(map(float, p[1:])) - 1) < 1e-4 for p in post)
    assert len((dec / "labels.txt").read_text().splitlines()) == len(utts)
    from espnet_ser.features.ark_io import load_scp

    emb = load_scp(dec / "embeddings.scp")
    assert emb[utts[0]].shape == (1, 8)

    rec = ser_inference.SpeechEmotionRecognizer.from_model_dir(out)
    res = rec.recognize_feats(np.random.default_rng(0).normal(size=(10, D)).astype(np.float32))
    assert set(res["posteriors"]) == {"ang", "neu", "sad"} and res["label"] in res["posteriors"]
    with pytest.raises(ValueError, match="feats_conf"):
        rec(np.zeros(16000, dtype=np.float32), sample_rate=16000)


def test_nan_loss_stops_training(tiny, capsys):
    root, conf, lang, train, dev = tiny
    # Replace the training features with a set holding a NaN.
    bad = make_set(root / "bad", "train", 6, ["s1", "s2", "s3", "s4"], nan_utt="s2-u00")
    for name in ("emotion.int", "speaker.int"):
        (bad[1] / name).write_text((train / name).read_text())
    with pytest.raises(SystemExit) as e:
        ser_train.main(train_args(conf, lang, bad[1], dev, root / "exp_nan", 1))
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "non-finite training loss" in err and "at step" in err


def test_unknown_choice_lists_registered(tiny):
    root, conf, lang, train, dev = tiny
    cfg = dict(CONF, encoder="transformerx")
    bad = root / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"--encoder must be one of .*conv1d"):
        ser_train.main(train_args(bad, lang, train, dev, root / "exp_bad", 1))


def test_import_and_train_step_without_network_or_preprocessor():
    code = (
        "import socket\n"
        "def _no(*a, **k): raise RuntimeError('network access attempted')\n"
        "socket.socket.connect = _no; socket.create_connection = _no; socket.getaddrinfo = _no\n"
        "import sys, argparse, torch\n"
        "from espnet_ser.tasks.ser import SERTask\n"
        "assert 'espnet2.train.preprocessor' not in sys.modules, 'preprocessor imported'\n"
        "assert not [m for m in sys.modules if m.startswith(('espnet2.tasks.asr', 'espnet2.tasks.cls', 'espnet2.tasks.spk', 'g2p_en', 'nltk'))]\n"
        "cfg = SERTask.get_default_config(); cfg.update(emotion_list=['a', 'b'], input_size=4)\n"
        "m = SERTask.build_model(argparse.Namespace(**cfg))\n"
        "loss, _, _ = m(torch.randn(2, 5, 4), torch.tensor([5, 3]), emotion=torch.tensor([0, 1]))\n"
        "loss.sum().backward(); print('OK')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-2000:]


def test_adversary_optimizer_and_steps(tiny):
    """Reversed heads get optimizer 2 (optim2, default: a copy of optim); --adversary_steps trains them more."""
    root, conf, lang, train, dev = tiny
    out = root / "exp_adv"
    ser_train.main(train_args(conf, lang, train, dev, out, 1)
                   + ["--adversary_steps", "2", "--optim2", "adam", "--optim2_conf", "lr=0.05"])
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["adversary_steps"] == 2 and cfg["optim2"] == "adam" and cfg["optim2_conf"]["lr"] == 0.05
    ckpt = torch.load(out / "checkpoint.pth", weights_only=False)
    assert len(ckpt["optimizers"]) == 2
    # The adversary optimizer holds exactly the head's parameters, optimizer 1 all the others.
    model = ser_inference.SpeechEmotionRecognizer.from_model_dir(out).model
    n_head = len(list(model.domain_heads.parameters()))
    n_opt = [sum(len(g["params"]) for g in o["param_groups"]) for o in ckpt["optimizers"]]
    assert n_opt == [len(list(model.parameters())) - n_head, n_head]
    assert ckpt["optimizers"][1]["param_groups"][0]["lr"] == 0.05
    # Resume with the two optimizers.
    ser_train.main(train_args(conf, lang, train, dev, out, 2)
                   + ["--adversary_steps", "2", "--optim2", "adam", "--optim2_conf", "lr=0.05", "--resume", "true"])
    assert (out / "2epoch.pth").exists()


def test_adversary_steps_need_an_adversary(tiny, capsys):
    root, conf, lang, train, dev = tiny
    noadv = root / "noadv.yaml"
    noadv.write_text(yaml.safe_dump(dict(CONF, domain_heads=[])))
    with pytest.raises(ValueError, match="adversary_steps 2 needs a reversed domain head"):
        ser_train.main(train_args(noadv, lang, train, dev, root / "exp_noadv", 1) + ["--adversary_steps", "2"])


def test_resume_with_changed_optimizers_is_a_clear_error(tiny):
    root, conf, lang, train, dev = tiny
    out = root / "exp_change"
    noadv = root / "noadv.yaml"
    noadv.write_text(yaml.safe_dump(dict(CONF, domain_heads=[])))
    ser_train.main(train_args(noadv, lang, train, dev, out, 1))
    with pytest.raises(ValueError, match="written by a different model/optimizer setup.*remove its output"):
        ser_train.main(train_args(conf, lang, train, dev, out, 2) + ["--resume", "true"])


def test_shuffle_within_batch_redraws_training_batches(tiny):
    """ESPnet's --shuffle_within_batch (used by the SER configs) re-draws batch composition every epoch."""
    import argparse

    from espnet_ser.tasks.ser import SERTask

    root, conf, lang, train, dev = tiny
    parser = SERTask.get_parser()
    args = parser.parse_args(train_args(conf, lang, train, dev, root / "exp_swb", 1)
                             + ["--shuffle_within_batch", "true"])
    assert isinstance(args, argparse.Namespace)
    from espnet2.train.distributed_utils import DistributedOption

    factory = SERTask.build_iter_factory(args, distributed_option=DistributedOption(distributed=False),
                                         mode="train")
    sets = [[tuple(sorted(b)) for b in factory.build_iter(epoch).batch_sampler] for epoch in (1, 2)]
    assert sorted(k for b in sets[0] for k in b) == sorted(k for b in sets[1] for k in b)
    assert set(sets[0]) != set(sets[1])
    assert sorted(map(len, sets[0])) == sorted(map(len, sets[1])) == [4] * 6


def test_reshuffled_batches_keep_sizes_no_one_utterance_batch():
    """ESPnet's shuffle_within_batch re-chunks by the first batch's size (33, 33, 32 -> 33, 33, 31+1);
    ours keeps the sampler's sizes, so batch norm never sees a 1-utterance training batch."""
    from espnet_ser.tasks.ser import ReshuffledBatches

    keys = [f"u{i:03d}" for i in range(98)]
    base = [tuple(keys[:33]), tuple(keys[33:66]), tuple(keys[66:])]
    s = ReshuffledBatches(base)
    assert len(s) == 3 and list(s) == base
    e1, e2 = s.generate(1), s.generate(2)
    for b in (e1, e2):
        assert [len(x) for x in b] == [33, 33, 32] and sorted(k for x in b for k in x) == keys
    assert e1 != e2 and s.generate(1) == e1  # new per epoch, reproducible


def test_global_mvn_statistics_travel_inside_the_checkpoint(tiny):
    """ESPnet's GlobalMVN from stage 3's stats file: trained, saved and reloaded without the file."""
    from espnet_ser.features.ark_io import load_scp

    root, conf, lang, train, dev = tiny
    x = np.concatenate(list(load_scp(train / "feats.scp").values())).astype(np.float64)
    stats = root / "stats.npz"
    np.savez(stats, count=np.array(x.shape[0]), sum=x.sum(0), sum_square=(x ** 2).sum(0))
    out = root / "exp_mvn"
    ser_train.main(train_args(conf, lang, train, dev, out, 1)
                   + ["--normalize", "global_mvn", "--normalize_conf", f"stats_file={stats}"])
    state = torch.load(out / "1epoch.pth", map_location="cpu", weights_only=False)
    np.testing.assert_allclose(state["normalize.mean"].numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(state["normalize.std"].numpy(), x.std(0), rtol=1e-5)
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["normalize"] == "global_mvn"
    stats.unlink()  # the checkpoint alone carries the statistics
    model, _ = ser_inference.load_model(out / "config.yaml", out / "1epoch.pth")
    np.testing.assert_allclose(model.normalize.mean.numpy(), x.mean(0), rtol=1e-5)
    # Padding is masked: an utterance decodes the same alone and padded in a batch.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, D)).astype(np.float32), rng.normal(size=(12, D)).astype(np.float32)
    xs = torch.zeros(2, 12, D)
    xs[0, :5], xs[1] = torch.from_numpy(a), torch.from_numpy(b)
    with torch.no_grad():
        both = model.infer(xs, torch.tensor([5, 12]))["posteriors"]
        alone = model.infer(torch.from_numpy(a)[None], torch.tensor([5]))["posteriors"]
    torch.testing.assert_close(both[0], alone[0], rtol=1e-5, atol=1e-6)
    assert torch.equal(xs[0, 5:], torch.zeros(7, D))  # the caller's batch is not normalised in place


def test_utterance_mvn_is_espnets(tiny):
    root, conf, lang, train, dev = tiny
    out = root / "exp_umvn"
    ser_train.main(train_args(conf, lang, train, dev, out, 1)
                   + ["--normalize", "utterance_mvn", "--normalize_conf", "norm_vars=true"])
    model, _ = ser_inference.load_model(out / "config.yaml", out / "1epoch.pth")
    from espnet2.layers.utterance_mvn import UtteranceMVN

    assert isinstance(model.normalize, UtteranceMVN) and model.normalize.norm_vars


def test_specaug_and_mixup_train_through_the_task(tiny):
    """specaug (ESPnet's SpecAug from the task's registry) and model_conf mixup_alpha in one run."""
    from espnet2.asr.specaug.specaug import SpecAug

    root, conf, lang, train, dev = tiny
    cfg = dict(CONF, specaug="specaug",
               specaug_conf={"time_warp_window": 2, "freq_mask_width_range": [0, 2], "num_freq_mask": 1,
                             "time_mask_width_ratio_range": [0.0, 0.2], "num_time_mask": 1},
               model_conf={"embedding_size": 8, "mixup_alpha": 0.2})
    aug = root / "aug.yaml"
    aug.write_text(yaml.safe_dump(cfg))
    out = root / "exp_aug"
    ser_train.main(train_args(aug, lang, train, dev, out, 1))
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["specaug"] == "specaug" and saved["model_conf"]["mixup_alpha"] == 0.2
    model, _ = ser_inference.load_model(out / "config.yaml", out / "1epoch.pth")
    assert isinstance(model.specaug, SpecAug) and model.mixup_alpha == 0.2 and not model.training


def test_specaug_on_functionals_is_refused_at_build(tmp_path):
    import argparse

    from espnet_ser.tasks.ser import SERTask

    shape = tmp_path / "speech_shape"
    shape.write_text("u1 1,8\nu2 1,8\n")  # utterance-level functionals: one frame each
    args = SERTask.get_default_config()
    args.update(emotion_list=["a", "b"], specaug="specaug", specaug_conf={"time_mask_width_range": [0, 2]},
                train_shape_file=[str(shape)])
    with pytest.raises(ValueError, match=rf"^specaug: SpecAugment needs frame sequences, but {shape} .*"
                                         r"remove specaug/specaug_conf from the training config"):
        SERTask.build_model(argparse.Namespace(**args))
    shape.write_text("u1 1,8\nu2 7,8\n")  # frames: built
    assert SERTask.build_model(argparse.Namespace(**args)).specaug is not None


def test_one_class_domain_stream_is_a_constant_head_not_an_error(tmp_path, caplog):
    """The language of an all-English cross-corpus fold (IEMOCAP -> MSP-IMPROV) has one class:
    prepare_labels warns and writes it, the head is built and adds zero loss and gradient; the
    task stream still needs two classes."""
    import argparse
    import logging

    from espnet_ser.tasks.ser import SERTask

    train, dump = make_set(tmp_path, "train", 3, ["s1"])
    with caplog.at_level(logging.WARNING):
        prepare_labels_main(["--train_dir", str(train), "--lang_dir", str(tmp_path / "lang"),
                             "--names", "emotion", "speaker", "--set", f"{train}:{dump}"])
    assert (tmp_path / "lang" / "speakers.txt").read_text().split() == ["s1"]
    assert any("'speaker' has one class" in r.getMessage() for r in caplog.records)
    with pytest.raises(SystemExit):
        prepare_labels_main(["--train_dir", str(train), "--lang_dir", str(tmp_path / "lang2"),
                             "--names", "emotion", "speaker", "--task", "speaker"])
    lang3 = tmp_path / "lang3"
    with pytest.raises(SystemExit):  # a task that is not one of the streams: one line naming both
        prepare_labels_main(["--train_dir", str(train), "--lang_dir", str(lang3),
                             "--names", "emotion", "speaker", "--task", "arousal"])
    assert not lang3.exists()

    cfg = SERTask.get_default_config()
    cfg.update(emotion_list=["a", "b"], input_size=4, model_conf={"embedding_size": 8},
               domain_heads=[{"name": "lang", "labels": ["en"], "coeff": 0.3}])
    with caplog.at_level(logging.WARNING):
        model = SERTask.build_model(argparse.Namespace(**cfg))
    assert any("one class ['en']" in r.getMessage() for r in caplog.records)
    x, lens = torch.randn(3, 6, 4), torch.tensor([6, 5, 4])
    torch.manual_seed(0)  # the same dropout masks in both passes
    loss, stats, _ = model(x, lens, emotion=torch.tensor([0, 1, 0]), lang=torch.tensor([0, 0, -1]))
    assert float(stats["loss_lang"]) == 0.0
    model.zero_grad()
    loss.backward()
    g_with = [p.grad.clone() for p in model.encoder.parameters()]
    model.zero_grad()
    torch.manual_seed(0)
    loss2, _, _ = model(x, lens, emotion=torch.tensor([0, 1, 0]), lang=torch.tensor([-1, -1, -1]))
    loss2.backward()  # every lang label ignored: the gradient of the emotion loss alone
    for a, p in zip(g_with, model.encoder.parameters()):
        assert torch.allclose(a, p.grad)
