"""Tests of bin/pack_model.py (stage 8)."""
import hashlib
import json
import os
import zipfile

import pytest

from espnet_ser.bin import pack_model


def make_run(root):
    run = root / "exp" / "sier" / "seed0" / "fold1"
    (run / "decode_test").mkdir(parents=True)
    (run / "config.yaml").write_text("best_model_criterion:\n- [valid, acc, max]\n- [valid, ua, max]\n"
                                     "encoder: cnn_bigru\nnormalize: global_mvn\n")
    (run / "3epoch.pth").write_bytes(b"weights-3")
    (run / "2epoch.pth").write_bytes(b"weights-2")
    os.symlink("3epoch.pth", run / "valid.ua.best.pth")
    os.symlink("2epoch.pth", run / "valid.acc.best.pth")
    (run / "emotions.txt").write_text("ang\nhap\n")
    (run / "speakers.txt").write_text("s1\ns2\n")
    (run / "feats_conf.yaml").write_text("type: mfcc\n")
    (run / "norm.json").write_text('{"mode": "global"}')
    res = {"wa": 0.5, "ua": 0.5, "macro_f1": 0.5, "n": 2, "per_class": {"ang": 1.0, "hap": 0.0},
           "per_speaker": {}, "labels": ["ang", "hap"], "confusion": [[1, 0], [1, 0]]}
    (run / "decode_test" / "results.json").write_text(json.dumps(res))
    return run


def test_pack_contents_and_manifest(tmp_path):
    run = make_run(tmp_path)
    out = tmp_path / "model.zip"
    assert pack_model.main(["--exp-dir", str(run), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert names == {"config.yaml", "valid.ua.best.pth", "emotions.txt", "speakers.txt", "feats_conf.yaml",
                         "model.json", "results.json", "README.md", "MANIFEST.sha256"}
        # The dev-UA checkpoint (the one stage 5 decodes), the link's target, not the link.
        assert zf.read("valid.ua.best.pth") == b"weights-3"
        assert json.loads(zf.read("model.json")) == {"format": 1, "checkpoint": "valid.ua.best.pth",
                                                     "norm": "global"}
        manifest = dict(reversed(line.split("  ")) for line in zf.read("MANIFEST.sha256").decode().splitlines())
        assert set(manifest) == names - {"MANIFEST.sha256"}
        for name, digest in manifest.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest, name
        readme = zf.read("README.md").decode()
        assert "UA (unweighted average recall): 50.00%" in readme


def test_checkpoint_is_the_inference_model_not_the_first_criterion(tmp_path):
    run = make_run(tmp_path)
    (run / "valid.acc.ave.pth").write_bytes(b"avg")  # first criterion's average: not taken
    out = tmp_path / "m.zip"
    pack_model.pack(str(run), str(out))
    names = zipfile.ZipFile(out).namelist()
    assert pack_model.DEFAULT_INFERENCE_MODEL == "valid.ua.best.pth"
    assert "valid.ua.best.pth" in names and "valid.acc.ave.pth" not in names
    pack_model.pack(str(run), str(out), checkpoint="valid.acc.ave.pth")  # ser.sh --inference_model
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("model.json"))["checkpoint"] == "valid.acc.ave.pth"
        assert [n for n in zf.namelist() if n.endswith(".pth")] == ["valid.acc.ave.pth"]


@pytest.mark.parametrize("victim, message", [
    ("feats_conf.yaml", "feats_conf.yaml: feature config"),
    ("decode_test/results.json", "results.json: scores"),
    ("emotions.txt", "emotions.txt not found"),
    ("valid.ua.best.pth", "checkpoint --checkpoint valid.ua.best.pth"),
])
def test_refuses_when_required_file_missing(tmp_path, capsys, victim, message):
    run = make_run(tmp_path)
    (run / victim).unlink()
    out = tmp_path / "model.zip"
    assert pack_model.main(["--exp-dir", str(run), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_inventory_falls_back_to_decode_inventory(tmp_path):
    run = make_run(tmp_path)
    (run / "emotions.txt").unlink()
    (run / "decode_test" / "labels.txt").write_text("u1 ang\nu2 hap\n")   # predictions: not an inventory
    (run / "decode_test" / "emotions.txt").write_text("ang\nhap\n")
    out = tmp_path / "m.zip"
    pack_model.pack(str(run), str(out))
    with zipfile.ZipFile(out) as zf:
        assert zf.read("emotions.txt") == b"ang\nhap\n" and "speakers.txt" not in zf.namelist()


def test_binary_task_packs_its_inventory_and_the_domains(tmp_path):
    """An arousal run has arousals.txt (config.yaml's emotion_list), no emotions.txt."""
    run = make_run(tmp_path)
    (run / "emotions.txt").unlink()
    (run / "arousals.txt").write_text("high\nlow\n")
    with open(run / "config.yaml", "a") as f:
        f.write("emotion_list:\n- high\n- low\n")
    out = tmp_path / "m.zip"
    pack_model.pack(str(run), str(out))
    with zipfile.ZipFile(out) as zf:
        assert {"arousals.txt", "speakers.txt"} <= set(zf.namelist())
        assert zf.read("arousals.txt") == b"high\nlow\n" and "emotions.txt" not in zf.namelist()


def test_norm_mode_must_match_the_models_normalisation(tmp_path, capsys):
    run = make_run(tmp_path)
    out = tmp_path / "model.zip"
    # An old global-norm run normalised outside the model: one clear line, nothing packed.
    (run / "config.yaml").write_text("encoder: cnn_bigru\n")
    assert pack_model.main(["--exp-dir", str(run), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "normalize: global_mvn" in err and "re-run its stages 3-4" in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert pack_model.main(["--exp-dir", str(run), "--out", str(out), "--norm", "speaker"]) == 0
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("model.json"))["norm"] == "speaker"
        assert not [n for n in zf.namelist() if n.endswith(".npz")]  # no stats file travels


def test_every_training_config_writes_the_inference_model():
    """ESPnet writes <phase>.<crit>.best.pth only for a listed criterion: every config lists dev UA."""
    import pathlib

    import yaml

    repo = pathlib.Path(__file__).resolve().parents[2]
    phase, crit = pack_model.DEFAULT_INFERENCE_MODEL.split(".")[:2]
    checked = 0
    for path in sorted(repo.glob("egs/*/*/conf/**/*.yaml")):
        conf = yaml.safe_load(path.read_text()) or {}
        if isinstance(conf, dict) and "best_model_criterion" in conf:
            assert [phase, crit, "max"] in conf["best_model_criterion"], path
            checked += 1
    assert checked > 10
    # ser.sh's --help names the one default (its --inference_model is empty by default).
    ser_sh = (repo / "egs" / "TEMPLATE" / "ser1" / "ser.sh").read_text().splitlines()
    line = next(ln for ln in ser_sh if ln.startswith("inference_model="))
    assert line.startswith("inference_model= ")
    assert f"DEFAULT_INFERENCE_MODEL = {pack_model.DEFAULT_INFERENCE_MODEL}" in line
