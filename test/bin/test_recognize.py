"""Using a trained model: recognise wav files from a packed zip (CLI and Python API).

Two tiny models are trained on fbank features of generated wav files (one
epoch): one with global normalisation inside the model (ESPnet's GlobalMVN),
one on per-speaker-normalised features. Both are packed as stage 8 does, and
the wav files are recognised from the zips directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_ser.bin import pack_model, recognize, ser_train
from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.bin.prepare_labels import main as prepare_labels_main
from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer, infer_scp, load_model
from espnet_ser.features import build_extractor, load_feats_conf
from espnet_ser.features.ark_io import ArkWriter
from espnet_ser.features.norm import StatsAccumulator, speaker_stats, standardize, utterance_normalize

REPO = Path(__file__).resolve().parents[2]
FEATS_CONF = REPO / "egs" / "mini_ser" / "ser1" / "conf" / "feats" / "fbank.yaml"
EMOS = ["ang", "neu", "sad"]
CONF = {
    "encoder": "conv1d",
    "encoder_conf": {"channels": [8], "kernel_sizes": [3], "strides": [1], "dropout": 0.0},
    "pooling": "stats", "classifier": "mlp", "classifier_conf": {"hidden_sizes": [8]},
    "model_conf": {"embedding_size": 8}, "domain_heads": [],
    "optim": "adam", "optim_conf": {"lr": 0.01}, "batch_type": "unsorted", "batch_size": 4,
    "num_workers": 0, "num_att_plot": 0, "use_matplotlib": False,
    "best_model_criterion": [["valid", "acc", "max"], ["valid", "ua", "max"]], "keep_nbest_models": 1,
}


def _wav(path: Path, emo: int, spk: int, rng) -> Path:
    t = np.arange(int(0.4 * 16000)) / 16000
    x = 0.3 * np.sin(2 * np.pi * (150 + 60 * emo + 20 * spk) * t) + 0.02 * rng.standard_normal(t.size)
    sf.write(path, x.astype(np.float32), 16000)
    return path


def _write_set(root: Path, name: str, feats: dict, u2s: dict, u2e: dict) -> Path:
    data, dump = root / "data" / name, root / "dump" / name
    data.mkdir(parents=True)
    with ArkWriter(dump / "feats.ark", dump / "feats.scp") as w:
        for utt in sorted(feats):
            w[utt] = feats[utt]
    for fname, table in (("utt2spk", u2s), ("utt2emo", u2e),
                         ("utt2num_frames", {u: f.shape[0] for u, f in feats.items()})):
        target = dump if fname == "utt2num_frames" else data
        (target / fname).write_text("".join(f"{k} {v}\n" for k, v in sorted(table.items())))
    make_shape_file(dump)
    return data


def _train_and_pack(root: Path, norm: str, raw: dict, u2s: dict, u2e: dict) -> Path:
    """Train one epoch on (normalised per ``norm``) features; pack as stage 8 does."""
    feats = dict(raw)
    extra = []
    if norm == "speaker":
        stats = speaker_stats(raw, u2s, sorted(raw))
        feats = {u: standardize(x, *stats[u2s[u]][:2]) for u, x in raw.items()}
    sets = {"train": [u for u in feats if not u.startswith("s3")], "dev": [u for u in feats if u.startswith("s3")]}
    dirs = {s: _write_set(root, s, {u: feats[u] for u in us}, {u: u2s[u] for u in us}, {u: u2e[u] for u in us})
            for s, us in sets.items()}
    lang = root / "lang"
    prepare_labels_main(["--train_dir", str(dirs["train"]), "--lang_dir", str(lang), "--names", "emotion",
                         "--set", f"{dirs['train']}:{root / 'dump' / 'train'}",
                         "--set", f"{dirs['dev']}:{root / 'dump' / 'dev'}"])
    if norm == "global":
        acc = StatsAccumulator()
        for u in sets["train"]:
            acc.add(raw[u])
        np.savez(root / "stats.npz", **acc.espnet_stats())
        extra = ["--normalize", "global_mvn", "--normalize_conf", f"stats_file={root / 'stats.npz'}"]
    (root / "train.yaml").write_text(yaml.safe_dump(CONF))
    exp = root / "exp"
    args = ["--config", str(root / "train.yaml"), "--emotion_list", str(lang / "emotions.txt"),
            "--output_dir", str(exp), "--max_epoch", "1", "--ngpu", "0", "--seed", "0", *extra]
    for mode, s in (("train", "train"), ("valid", "dev")):
        d = root / "dump" / s
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/feats.scp,speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/emotion.int,emotion,text_int",
                 f"--{mode}_shape_file", f"{d}/speech_shape"]
    ser_train.main(args)
    # What stages 4-6 leave beside the checkpoint.
    (exp / "feats_conf.yaml").write_text(FEATS_CONF.read_text())
    (exp / "emotions.txt").write_text((lang / "emotions.txt").read_text())
    (exp / "norm.json").write_text(json.dumps({"mode": norm}))
    model, _ = load_model(exp / "config.yaml", exp / pack_model.DEFAULT_INFERENCE_MODEL)
    infer_scp(model, root / "dump" / "dev" / "feats.scp", exp / "decode_test")
    (exp / "decode_test" / "results.json").write_text(json.dumps(
        {"wa": 0.5, "ua": 0.5, "macro_f1": 0.5, "n": len(sets["dev"]), "labels": EMOS}))
    if norm == "global":
        (root / "stats.npz").unlink()  # the packed model must not need it
    assert pack_model.main(["--exp-dir", str(exp), "--out", str(root / "model.zip")]) == 0
    return root / "model.zip"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("recognize")
    rng = np.random.default_rng(0)
    extractor = build_extractor(*load_feats_conf(FEATS_CONF))
    wavs, raw, u2s, u2e = {}, {}, {}, {}
    (root / "wav").mkdir()
    for spk in range(4):
        for i in range(6):
            utt = f"s{spk}-u{i}"
            wavs[utt] = _wav(root / "wav" / f"{utt}.wav", i % 3, spk, rng)
            audio, sr = sf.read(wavs[utt], dtype="float32")
            raw[utt] = np.asarray(extractor(audio, sr), dtype=np.float32)
            u2s[utt], u2e[utt] = f"s{spk}", EMOS[i % 3]
    zips = {norm: _train_and_pack(root / norm, norm, raw, u2s, u2e) for norm in ("global", "speaker")}
    return zips, wavs, raw


def _post(out) -> np.ndarray:
    return np.array([out["posteriors"][e] for e in EMOS])


@pytest.mark.slow
def test_python_api_reads_the_zip_and_matches_the_feature_path(models):
    zips, wavs, raw = models
    rec = SpeechEmotionRecognizer.from_packed(zips["global"])
    assert rec.norm == "global" and rec.model_file == pack_model.DEFAULT_INFERENCE_MODEL
    out = rec(str(wavs["s3-u0"]))
    assert out["label"] in EMOS and abs(sum(out["posteriors"].values()) - 1) < 1e-5
    # Raw features in, normalisation inside the model: the same as recognising the features.
    np.testing.assert_allclose(_post(out), _post(rec.recognize_feats(raw["s3-u0"])), atol=1e-6)
    # from_model_dir accepts the zip too; a waveform array works as a file does.
    audio, sr = sf.read(wavs["s3-u0"], dtype="float32")
    np.testing.assert_allclose(_post(SpeechEmotionRecognizer.from_model_dir(zips["global"])(audio, sr)),
                               _post(out), atol=1e-6)


@pytest.mark.slow
def test_speaker_model_single_file_uses_its_own_statistics(models):
    zips, wavs, raw = models
    rec = SpeechEmotionRecognizer.from_packed(zips["speaker"])
    assert rec.norm == "speaker"
    one = rec(str(wavs["s3-u1"]))
    np.testing.assert_allclose(_post(one), _post(rec.recognize_feats(utterance_normalize(raw["s3-u1"]))),
                               atol=1e-6)
    # Several files of one speaker: their pooled statistics, as stage 3 computes them.
    utts = ["s3-u0", "s3-u1", "s3-u2"]
    group = rec.recognize_speaker([str(wavs[u]) for u in utts])
    mean, std, _ = speaker_stats(raw, {u: "s3" for u in utts}, utts)["s3"]
    for u, out in zip(utts, group):
        np.testing.assert_allclose(_post(out), _post(rec.recognize_feats(standardize(raw[u], mean, std))),
                                   atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 files"):
        rec.speaker_normalize([np.ones((1, 80), np.float32)])


@pytest.mark.slow
def test_cli_prints_label_and_posteriors_per_file(models, capsys):
    zips, wavs, _ = models
    files = [str(wavs["s3-u0"]), str(wavs["s3-u1"])]
    assert recognize.main(["--model", str(zips["global"]), *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == files
    rec = SpeechEmotionRecognizer.from_packed(zips["global"])
    for line, f in zip(lines, files):
        name, label, *pairs = line.split()
        post = dict(p.split(":") for p in pairs)
        assert list(post) == EMOS and label == rec(f)["label"]
        np.testing.assert_allclose([float(post[e]) for e in EMOS], _post(rec(f)), atol=1e-6)
    assert recognize.main(["--model", str(zips["speaker"]), "--one-speaker", "--json", *files]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == files and all(r["label"] in EMOS for r in rows)


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "model.zip"
    bad.write_text("not a zip")
    for model, message in ((tmp_path / "missing.zip", "missing.zip: no such file"),
                           (bad, "not a zip file")):
        proc = subprocess.run([sys.executable, "-m", "espnet_ser.bin.recognize", "--model", str(model), "a.wav"],
                              capture_output=True, text=True)
        err = [ln for ln in proc.stderr.splitlines() if "Flash Attention" not in ln]
        assert proc.returncode == 1 and len(err) == 1 and message in err[0], proc.stderr


def test_corrupt_zip_member_is_refused(models, tmp_path):
    zips, _, _ = models
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(zips["global"]) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data + b"x" if name == "emotions.txt" else data)
    with pytest.raises(ValueError, match="emotions.txt is missing or does not match MANIFEST"):
        SpeechEmotionRecognizer.from_packed(bad)


def test_old_global_run_is_a_clear_error(models, tmp_path, capsys):
    """A run from before normalisation moved into the model: one line saying to re-run stages 3-4."""
    from espnet_ser.bin import ser_inference

    zips, _, _ = models
    old = tmp_path / "old"
    with zipfile.ZipFile(zips["speaker"]) as zf:
        zf.extractall(old)
    (old / "model.json").unlink()
    np.savez(old / "norm_stats.npz", mean=np.zeros(80), std=np.ones(80), count=np.array(1))
    with pytest.raises(ValueError, match="re-run its stages 3-4"):
        SpeechEmotionRecognizer.from_model_dir(old)
    scp = tmp_path / "feats.scp"
    with ArkWriter(tmp_path / "feats.ark", scp) as w:
        w["u1"] = np.zeros((5, 80), np.float32)
    with pytest.raises(SystemExit):
        ser_inference.main(["--model_file", str(old / pack_model.DEFAULT_INFERENCE_MODEL),
                            "--train_config", str(old / "config.yaml"), "--output_dir", str(tmp_path / "dec"),
                            "--data_path_and_name_and_type", f"{scp},speech,kaldi_ark"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "re-run its stages 3-4" in err[0]
