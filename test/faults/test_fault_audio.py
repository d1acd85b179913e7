"""Fault matrix, audio rows: one bad file among good ones through stage 2's CLI.

Each row runs ``extract_feats`` (one job, then ``--merge``, as stage 2 does) on a data
dir of 20 good 16 kHz utterances plus one faulty entry ``spkB-fault``, and asserts the
exact outcome: an accounted skip (the utterance in ``skipped`` with its reason, the
count in the job's and the merge's accounting lines) or a written utterance whose
conversion is counted (downmixed, resampled), never a silent drop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from espnet_ser.bin.extract_feats import main
from espnet_ser.features.ark_io import load_scp
from espnet_ser.utils.data_dir import read_table

from fault_utils import FEATS_CONF, data_dir, env, write_wav

N_GOOD = 20
FBANK = FEATS_CONF / "fbank.yaml"   # 16 kHz, 25 ms window


def _zero_byte(wavs: Path) -> str:
    (wavs / "fault.wav").write_bytes(b"")
    return str(wavs / "fault.wav")


def _truncated_header(wavs: Path) -> str:
    good = write_wav(wavs / "full.wav").read_bytes()
    (wavs / "fault.wav").write_bytes(good[:30])   # RIFF/WAVE, cut inside the fmt chunk
    return str(wavs / "fault.wav")


def _short(wavs: Path) -> str:
    return str(write_wav(wavs / "fault.wav", seconds=0.02))


def _stereo(wavs: Path) -> str:
    return str(write_wav(wavs / "fault.wav", channels=2))


def _rate48k(wavs: Path) -> str:
    return str(write_wav(wavs / "fault.wav", sr=48000))


def _unreadable(wavs: Path) -> str:
    path = write_wav(wavs / "fault.wav")
    path.chmod(0)
    return str(path)


def _pipe_fails(wavs: Path) -> str:
    return f"sox {wavs}/absent.sph -t wav - 2>/dev/null || exit 3 |"


# row id -> (make the faulty wav.scp value, expected: None = written, else (kind, reason part))
ROWS = {
    "zero-byte wav": (_zero_byte, ("empty file", "empty file (0 bytes)")),
    "truncated wav header": (_truncated_header, ("unreadable audio", "unreadable audio: ")),
    "20 ms file": (_short, ("too short", "fbank: 0.020 s of audio is shorter than one 0.025 s "
                                         "analysis window")),
    "stereo file": (_stereo, None),
    "48 kHz file in a 16 kHz recipe": (_rate48k, None),
    "unreadable (permission) file": (_unreadable, ("permission denied",
                                                   "permission denied (not readable by this user)")),
    "wav.scp pipe that fails": (_pipe_fails, ("pipe failed", "exited with 3")),
}
CONVERTED = {"stereo file": "downmixed from 2 channels: 1",
             "48 kHz file in a 16 kHz recipe": "resampled 48000 -> 16000 Hz: 1"}


@pytest.fixture(scope="module")
def good_wavs(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    return {f"spkA-g{i:02d}": str(write_wav(d / f"g{i:02d}.wav", seed=i)) for i in range(N_GOOD)}


def _as_nobody(args, cwd: Path) -> subprocess.CompletedProcess:
    """Run the job CLI as user nobody: root reads a chmod-000 file, nobody does not."""
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "espnet_ser.bin.extract_feats", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, env=env(HOME="/tmp"), timeout=300)


@pytest.fixture
def work_dir(tmp_path):
    """tmp_path; as root, a world-searchable directory in /tmp ('nobody' runs a job there)."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="espnet_ser_fault_"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("row", list(ROWS))
def test_audio_fault(row, good_wavs, work_dir, capsys):
    make, expected = ROWS[row]
    tmp_path = work_dir
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    d = data_dir(tmp_path / "data", dict(good_wavs, **{"spkB-fault": make(wavs)}))
    out = tmp_path / "dump"
    job = ["--feats-conf", FBANK, "--data-dir", d, "--out-dir", out, "--job", 1, "--no-progress"]
    if row.startswith("unreadable") and os.geteuid() == 0:
        # Root reads any file whatever its mode: run the job as 'nobody' instead.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv is missing: root reads a chmod-000 file")
        # 'nobody' must reach this checkout's code (an editable install): a clone under a
        # private directory (mktemp -d makes mode 0700) stops it before the fault is seen.
        blocked = [p for p in Path(__file__).resolve().parents if not os.stat(p).st_mode & 0o001]
        if blocked:
            pytest.skip(f"running as root in a checkout under {blocked[-1]} (no search permission for "
                        "other users): user nobody cannot import espnet_ser from it")
        # The good wavs live in a root-only pytest dir: copy them beside the fault.
        job_dir = data_dir(tmp_path / "data", {
            **{u: shutil.copy(w, wavs / Path(w).name) for u, w in good_wavs.items()},
            "spkB-fault": str(wavs / "fault.wav")})
        assert job_dir == d
        for p in (wavs, d, *d.iterdir(), *wavs.glob("g*.wav")):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        out.mkdir()
        os.chmod(out, 0o777)
        res = _as_nobody(job, tmp_path)
        assert res.returncode == 0, res.stderr
        err = res.stderr
    else:
        if row.startswith("unreadable"):
            assert not os.access(wavs / "fault.wav", os.R_OK)
        assert main([str(a) for a in job]) == 0
        err = capsys.readouterr().err
    assert main(["--merge", "--nj", "1", "--feats-conf", str(FBANK), "--data-dir", str(d),
                 "--out-dir", str(out)]) == 0
    merge_err = capsys.readouterr().err
    skipped = read_table(out / "skipped") if (out / "skipped").stat().st_size else {}
    feats = load_scp(out / "feats.scp")
    n = N_GOOD + 1
    if expected is None:
        conv = CONVERTED[row]
        assert f"job 1: {n} in, {n} written, 0 skipped (reasons: none); converted: {conv}" in err
        assert f"merge: {n} in, {n} written, 0 skipped (reasons: none); converted: {conv}" in merge_err
        assert not skipped and "spkB-fault" in feats
        if row == "stereo file":
            # The channel mean: the same features as the mono file of that mean.
            mono = write_wav(tmp_path / "mono.wav", channels=1)
            d2 = data_dir(tmp_path / "data2", {"spkB-fault": str(mono)})
            assert main(["--feats-conf", str(FBANK), "--data-dir", str(d2), "--out-dir",
                         str(tmp_path / "dump2"), "--no-progress"]) == 0
            ref = load_scp(tmp_path / "dump2" / "feats.1.scp")["spkB-fault"]
            # Stereo channels are 0.5x and 1x the tone: their mean is 0.75x (log-mel + log 0.5625).
            np.testing.assert_allclose(feats["spkB-fault"], ref + 2 * np.log(0.75), atol=0.05)
        else:
            assert feats["spkB-fault"].shape[1] == 80
    else:
        kind, reason = expected
        assert f"job 1: {n} in, {N_GOOD} written, 1 skipped (reasons: {kind}: 1)" in err, err
        assert f"merge: {n} in, {N_GOOD} written, 1 skipped (reasons: {kind}: 1)" in merge_err
        assert list(skipped) == ["spkB-fault"] and "spkB-fault" not in feats
        assert reason in skipped["spkB-fault"], skipped
        assert len(feats) == N_GOOD
