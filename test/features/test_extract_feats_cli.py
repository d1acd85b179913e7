"""bin/extract_feats: jobs, merge, skipped accounting, skip-if-done, real corpora."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from espnet_ser.bin.extract_feats import main
from espnet_ser.features.ark_io import load_scp
from espnet_ser.utils.data_dir import read_table

from feat_testutils import make_data_dir, write_wav

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ESPNET_SER_SHARED", REPO.parent / "shared"))
CONF_DIR = REPO / "egs" / "TEMPLATE" / "ser1" / "conf" / "feats"


def _conf(tmp_path, text: str) -> Path:
    path = tmp_path / "feats.yaml"
    path.write_text(text)
    return path


def _run(*args) -> int:
    return main([str(a) for a in args])


def test_two_jobs_merge_and_corrupt_wav_skipped(tiny_corpus, tmp_path, capsys):
    out = tmp_path / "dump"
    conf = CONF_DIR / "fbank.yaml"
    for job in (1, 2):
        assert _run("--feats-conf", conf, "--data-dir", tiny_corpus, "--out-dir", out,
                    "--job", job, "--nj", 2, "--no-progress") == 0
    err = capsys.readouterr().err
    # Sorted ids: spkA-u0 spkA-u1 spkA-u2 spkB-bad | spkB-u3 spkB-u4 spkB-u5.
    assert "job 1: 4 in, 3 written, 1 skipped (reasons: unreadable audio: 1)" in err
    assert "job 2: 3 in, 3 written, 0 skipped (reasons: none)" in err

    # 1 of 7 skipped is above the default 5 %: the merge writes its files, then fails.
    assert _run("--merge", "--nj", 2, "--feats-conf", conf, "--data-dir", tiny_corpus,
                "--out-dir", out) == 1
    assert "1 of 7 utterances skipped (> --max-skip-frac 0.05)" in capsys.readouterr().err
    assert _run("--merge", "--nj", 2, "--feats-conf", conf, "--data-dir", tiny_corpus,
                "--out-dir", out, "--max-skip-frac", 0.2) == 0
    assert "merge: 7 in, 6 written, 1 skipped" in capsys.readouterr().err

    skipped = read_table(out / "skipped")
    assert list(skipped) == ["spkB-bad"] and "unreadable audio" in skipped["spkB-bad"]
    feats = load_scp(out / "feats.scp")
    frames = read_table(out / "utt2num_frames")
    assert sorted(feats) == sorted(frames) == sorted(u for u in read_table(tiny_corpus / "utt2spk")
                                                      if u != "spkB-bad")
    for utt, mat in feats.items():
        assert mat.shape == (int(frames[utt]), 80) and mat.dtype == np.float32
    keys = [line.split()[0] for line in (out / "feats.scp").read_text().splitlines()]
    assert keys == sorted(keys)
    assert "name: fbank" in (out / "feats_conf.yaml").read_text()


def test_split_dirs_and_skip_if_done(tiny_corpus, tmp_path, capsys):
    from espnet_ser.utils.data_dir import split_data

    parts = split_data(tiny_corpus, 2)
    out = tmp_path / "dump"
    conf = _conf(tmp_path, "name: logspec\nconf: {}\n")
    for j, part in enumerate(parts, 1):
        assert _run("--feats-conf", conf, "--data-dir", part, "--out-dir", out, "--job", j,
                    "--no-progress") == 0
    ark_mtime = (out / "feats.1.ark").stat().st_mtime_ns
    capsys.readouterr()
    # --split-dir names the same job input as --data-dir <split>: same hash, up to date.
    assert _run("--feats-conf", conf, "--data-dir", tiny_corpus, "--split-dir", parts[0],
                "--out-dir", out, "--job", 1) == 0
    assert "up to date" in capsys.readouterr().err
    assert (out / "feats.1.ark").stat().st_mtime_ns == ark_mtime
    # A changed option changes the hash: the job is redone.
    conf.write_text("name: logspec\nconf: {hop_length: 64}\n")
    assert _run("--feats-conf", conf, "--data-dir", parts[0], "--out-dir", out, "--job", 1,
                "--no-progress") == 0
    assert "up to date" not in capsys.readouterr().err
    # Job 2 still has the old config: the merge refuses to mix them.
    assert _run("--merge", "--nj", 2, "--feats-conf", conf, "--data-dir", tiny_corpus,
                "--out-dir", out, "--max-skip-frac", 1) == 1
    assert "job 2 used logspec" in capsys.readouterr().err


def test_merge_detects_missing_utterances_and_jobs(tiny_corpus, tmp_path, capsys):
    out = tmp_path / "dump"
    conf = CONF_DIR / "fbank.yaml"
    assert _run("--feats-conf", conf, "--data-dir", tiny_corpus, "--out-dir", out, "--job", 1,
                "--nj", 2, "--no-progress") == 0
    assert _run("--merge", "--nj", 1, "--feats-conf", conf, "--data-dir", tiny_corpus,
                "--out-dir", out) == 1
    assert "3 utterance(s) neither written nor skipped" in capsys.readouterr().err
    assert _run("--merge", "--nj", 2, "--feats-conf", conf, "--data-dir", tiny_corpus,
                "--out-dir", out) == 1
    assert "job 2 of 2 did not finish" in capsys.readouterr().err
    assert not (out / "feats.scp").exists()


def test_opensmile_short_clip_is_skipped_with_reason(tmp_path, capsys):
    wavs = tmp_path / "w"
    utts = {"s1-long": ("s1", write_wav(wavs / "a.wav", 16000, 1.0)),
            "s1-tiny": ("s1", write_wav(wavs / "b.wav", 16000, 0.02))}
    d = make_data_dir(tmp_path / "data", utts)
    out = tmp_path / "dump"
    assert _run("--feats-conf", CONF_DIR / "egemaps_v02.yaml", "--data-dir", d, "--out-dir", out,
                "--no-progress") == 0
    assert "1 skipped (reasons: non-finite output: 1)" in capsys.readouterr().err
    assert list(read_table(out / "skipped.1")) == ["s1-tiny"]
    assert load_scp(out / "feats.1.scp")["s1-long"].shape == (1, 88)


def test_text_extractor_reads_text_and_skips_empty(tmp_path, capsys):
    from espnet_ser.features.lexical import train_bpe

    wavs = tmp_path / "w"
    utts = {f"s1-u{i}": ("s1", write_wav(wavs / f"{i}.wav", 16000, 0.1)) for i in range(3)}
    text = {"s1-u0": "hello there my friend", "s1-u1": "", "s1-u2": "goodbye my friend"}
    d = make_data_dir(tmp_path / "data", utts, text=text)
    (d / "text").write_text("s1-u0 hello there my friend\ns1-u1\ns1-u2 goodbye my friend\n")
    model = train_bpe(d / "text", tmp_path / "bpe", vocab_size=30)
    conf = _conf(tmp_path, f"name: bpe_ids\nconf: {{bpe_model: {model}}}\n")
    out = tmp_path / "dump"
    assert _run("--feats-conf", conf, "--data-dir", d, "--out-dir", out, "--no-progress") == 0
    assert "empty transcript: 1" in capsys.readouterr().err
    feats = load_scp(out / "feats.1.scp")
    assert sorted(feats) == ["s1-u0", "s1-u2"] and feats["s1-u0"].shape[1] == 1


def test_merge_accepts_null_options_resolved_by_the_job(tmp_path, capsys):
    """model_path: null (the packaged sentence model) is resolved to a path in the job: merge accepts it."""
    wavs = tmp_path / "w"
    utts = {f"s1-u{i}": ("s1", write_wav(wavs / f"{i}.wav", 16000, 0.1)) for i in range(2)}
    d = make_data_dir(tmp_path / "data", utts, text={"s1-u0": "hello there", "s1-u1": "<unk>"})
    conf = _conf(tmp_path, "name: sentence_embedding\nconf: {model_path: null, device: cpu}\n")
    out = tmp_path / "dump"
    assert _run("--feats-conf", conf, "--data-dir", d, "--out-dir", out, "--no-progress") == 0
    assert _run("--merge", "--nj", "1", "--feats-conf", conf, "--data-dir", d, "--out-dir", out,
                "--max-skip-frac", "0.6") == 0
    assert "empty transcript: 1" in capsys.readouterr().err  # <unk> = empty transcript: accounted skip


def test_bad_config_is_one_line_error(tiny_corpus, tmp_path, capsys):
    conf = _conf(tmp_path, "name: mfcc\nconf: {n_mfc: 3}\n")
    assert _run("--feats-conf", conf, "--data-dir", tiny_corpus, "--out-dir", tmp_path / "o") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("extract_feats: error:") and "n_mfc" in err and "\n" not in err


@pytest.mark.skipif(not (SHARED / "corpora" / "emodb" / "wav").is_dir(),
                    reason="real Emo-DB not found (set ESPNET_SER_SHARED to the folder holding corpora/)")
def test_real_emodb_mfcc(tmp_path):
    wavs = sorted((SHARED / "corpora" / "emodb" / "wav").glob("*.wav"))[:4]
    utts = {f"emodb_{p.stem[:2]}-{p.stem}": (f"emodb_{p.stem[:2]}", p) for p in wavs}
    d = make_data_dir(tmp_path / "data", utts)
    out = tmp_path / "dump"
    assert _run("--feats-conf", CONF_DIR / "mfcc.yaml", "--data-dir", d, "--out-dir", out,
                "--no-progress") == 0
    assert _run("--merge", "--nj", 1, "--feats-conf", CONF_DIR / "mfcc.yaml", "--data-dir", d,
                "--out-dir", out) == 0
    feats = load_scp(out / "feats.scp")
    assert len(feats) == 4
    for utt, path in utts.items():
        import soundfile as sf

        mat = feats[utt]
        seconds = sf.info(str(path[1])).duration
        # Trimming only shortens; 22.05 kHz / 512 hop = 43 frames per second.
        assert mat.shape[1] == 20 and 5 < mat.shape[0] <= 1 + seconds * 22050 / 512 + 1
    info = json.loads((out / "extract.1.json").read_text())
    assert info["written"] == 4 and info["sample_rate"] == 22050


@pytest.mark.skipif(not (SHARED / "corpora" / "emovo" / "f1").is_dir(),
                    reason="real EMOVO not found (set ESPNET_SER_SHARED to the folder holding corpora/)")
def test_real_emovo_logspec(tmp_path):
    wavs = sorted((SHARED / "corpora" / "emovo" / "f1").glob("*.wav"))[:3]
    utts = {f"emovo_f1-{p.stem}": ("emovo_f1", p) for p in wavs}
    d = make_data_dir(tmp_path / "data", utts)
    out = tmp_path / "dump"
    assert _run("--feats-conf", CONF_DIR / "logspec.yaml", "--data-dir", d, "--out-dir", out,
                "--no-progress") == 0
    feats = load_scp(out / "feats.1.scp")
    assert len(feats) == 3 and all(m.shape[1] == 129 and m.shape[0] > 32 for m in feats.values())


def test_segments_cut_utterances_from_a_recording(tmp_path):
    from feat_testutils import write_table

    rec = write_wav(tmp_path / "w" / "rec.wav", 16000, 2.0)
    d = tmp_path / "data"
    write_table(d / "wav.scp", {"rec1": str(rec)})
    write_table(d / "segments", {"s1-a": "rec1 0.0 0.5", "s1-b": "rec1 0.5 1.5", "s1-c": "rec1 3.0 4.0"})
    write_table(d / "utt2spk", {"s1-a": "s1", "s1-b": "s1", "s1-c": "s1"})
    out = tmp_path / "dump"
    assert _run("--feats-conf", CONF_DIR / "fbank.yaml", "--data-dir", d, "--out-dir", out,
                "--no-progress") == 0
    frames = {u: int(v) for u, v in read_table(out / "utt2num_frames.1").items()}
    assert frames == {"s1-a": 1 + 8000 // 160, "s1-b": 1 + 16000 // 160}
    assert "outside" in read_table(out / "skipped.1")["s1-c"]


def test_dimension_mismatch_is_an_error_naming_both_dims(tiny_corpus, tmp_path, capsys, monkeypatch):
    from espnet_ser import features
    from espnet_ser.features.fbank import FbankExtractor

    class Drifting(FbankExtractor):
        calls = 0

        def __call__(self, wav, sr):
            Drifting.calls += 1
            feats = super().__call__(wav, sr)
            return feats if Drifting.calls < 3 else feats[:, :40]

    monkeypatch.setitem(features.EXTRACTORS, "fbank", Drifting)
    assert _run("--feats-conf", CONF_DIR / "fbank.yaml", "--data-dir", tiny_corpus, "--out-dir",
                tmp_path / "o", "--no-progress") == 1
    err = capsys.readouterr().err
    assert "feature dim 40 != 80" in err and "spkA-u1" in err
    assert not (tmp_path / "o" / "feats.1.scp").exists()
