"""Tests of ``python -m espnet_ser.bin.prepare_corpus``."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.bin.prepare_corpus import build_options, main
from espnet_ser.utils.data_dir import read_table, validate_data_dir


def write_wav(path, seconds=0.05, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * sr)) / 3.0), sr, subtype="PCM_16")


@pytest.fixture
def emodb(tmp_path):
    root = tmp_path / "emodb"
    for name in ("03a01Fa.wav", "08a02Wb.wav", "10b01Tc.wav"):
        write_wav(root / "wav" / name)
    (root / "wav" / "09a01Fa.wav").write_bytes(b"")
    return root


def test_cli_subprocess_summary_and_errors(emodb, tmp_path):
    out = tmp_path / "data"
    cmd = [sys.executable, "-m", "espnet_ser.bin.prepare_corpus", "--corpus", "emodb",
           "--corpus-dir", str(emodb), "--out-dir", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        f"prepared 3 utterances (3 speakers) in {out}; skipped 1 (see {out}/skipped)"
    )
    validate_data_dir(out)
    assert (out / "skipped").read_text().strip().endswith("09a01Fa.wav empty file (0 bytes)")
    # Wrong level: one error line, exit 1, nothing written.
    bad = cmd[:6] + [str(emodb / "wav"), "--out-dir", str(tmp_path / "bad")]
    proc = subprocess.run(bad, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1
    assert errors[0].startswith("prepare_corpus.py: error: EMODB=")
    assert "points at the wav/ folder itself" in errors[0]
    assert not (tmp_path / "bad").exists()


def test_cli_in_process(emodb, tmp_path, capsys):
    assert main(["--corpus", "emodb", "--corpus-dir", str(tmp_path / "missing"),
                 "--out-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "error: emodb: corpus directory" in err and "does not exist" in err
    assert main(["--corpus", "nope", "--corpus-dir", str(emodb),
                 "--out-dir", str(tmp_path / "d")]) == 1
    assert "unknown corpus 'nope'; choose one of:" in capsys.readouterr().err
    lm = tmp_path / "map.yaml"
    lm.write_text("emotion: {W: negative, F: positive, T: negative}\n")
    assert main(["--corpus", "emodb", "--corpus-dir", str(emodb),
                 "--out-dir", str(tmp_path / "d"), "--label-map", str(lm)]) == 0
    assert sorted(read_table(tmp_path / "d" / "utt2emo").values()) == [
        "negative", "negative", "positive",
    ]
    assert "prepared 3 utterances (3 speakers)" in capsys.readouterr().out


def test_build_options():
    assert build_options("iemocap", "improvised", []) == {"improvised_only": True}
    assert build_options("iemocap", None, ["classes=all", "improvised-only=yes"]) == {
        "classes": "all", "improvised_only": True,
    }
    assert build_options("ravdess", "song", []) == {"vocal_channel": "song"}
    assert build_options("msp_improv", None, ["types=TS"]) == {"types": "TS"}
    with pytest.raises(ValueError, match="--subset song: unknown for emodb; choose one of: none"):
        build_options("emodb", "song", [])
    with pytest.raises(ValueError, match="has no such option; accepted: classes, context, improvised_only"):
        build_options("iemocap", None, ["foo=1"])
    with pytest.raises(ValueError, match="expects true or false"):
        build_options("iemocap", None, ["improvised_only=maybe"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        build_options("iemocap", None, ["classes"])


def test_cli_subset_on_ravdess(tmp_path, capsys):
    root = tmp_path / "r" / "Actor_01"
    write_wav(root / "03-01-01-01-01-01-01.wav")
    write_wav(root / "03-02-03-01-01-01-01.wav")
    assert main(["--corpus", "ravdess", "--corpus-dir", str(tmp_path / "r"),
                 "--out-dir", str(tmp_path / "d"), "--subset", "song"]) == 0
    assert list(read_table(tmp_path / "d" / "utt2emo").values()) == ["hap"]
    assert main(["--corpus", "ravdess", "--corpus-dir", str(tmp_path / "r"),
                 "--out-dir", str(tmp_path / "d"), "--option", "vocal_channel=all"]) == 0
    assert len(read_table(tmp_path / "d" / "wav.scp")) == 2


def test_cli_speakers_keeps_listed_speakers_and_rejects_unknown(emodb, tmp_path, capsys):
    out = tmp_path / "data" / "all"
    assert main(["--corpus", "emodb", "--corpus-dir", str(emodb), "--out-dir", str(out),
                 "--speakers", "03,10"]) == 0
    validate_data_dir(out)
    assert sorted(set(read_table(out / "utt2spk").values())) == ["emodb_03", "emodb_10"]
    # The whole corpus (and its skipped list) stays beside it.
    assert len(read_table(tmp_path / "data" / "all_full" / "utt2spk")) == 3
    assert "09a01Fa.wav" in (tmp_path / "data" / "all_full" / "skipped").read_text()
    full = tmp_path / "data" / "all_full"
    assert capsys.readouterr().out.strip().splitlines() == [
        f"prepared 3 utterances (3 speakers) in {full}; skipped 1 (see {full}/skipped)",
        f"kept 2 utterances (2 speakers: 03,10) in {out}"]
    # A typo is an error, not a smaller protocol.
    assert main(["--corpus", "emodb", "--corpus-dir", str(emodb), "--out-dir", str(tmp_path / "x"),
                 "--speakers", "03,99"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "speaker id(s) not in" in err and "emodb_99" in err
    assert not (tmp_path / "x").exists()
