"""bin/apply_norm: statistics from train only; global / utterance / speaker / none modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from espnet_ser.bin.apply_norm import main
from espnet_ser.features.ark_io import ArkWriter, load_scp
from espnet_ser.utils.data_dir import read_table
from espnet_ser.features.norm import load_stats

from feat_testutils import write_table

SETS = {"train": ["spkA", "spkB"], "dev": ["spkC"], "test": ["spkD"]}
OFFSET = {"spkA": 0.0, "spkB": 3.0, "spkC": -2.0, "spkD": 10.0}


def _make(tmp_path, test_scale: float = 1.0, dim: int = 4, frames=(5, 9), name="raw"):
    """Raw feats with speaker offsets (+ a constant dim) and a fold dir of 3 sets."""
    rng = np.random.default_rng(0)
    raw = tmp_path / name
    fold = tmp_path / "fold1"
    mats = {}
    for s, spks in SETS.items():
        utt2spk = {}
        for spk in spks:
            for i in range(3):
                utt = f"{spk}-u{i}"
                utt2spk[utt] = spk
                x = rng.standard_normal((rng.integers(*frames), dim)) * (1 + i) + OFFSET[spk]
                if s == "test":
                    x = x * test_scale
                x[:, -1] = 7.0  # a constant dimension must not give NaN
                mats[utt] = x.astype(np.float32)
        write_table(fold / s / "utt2spk", utt2spk)
    with ArkWriter(raw / "feats.1.ark", raw / "feats.scp") as w:
        for utt in sorted(mats):
            w[utt] = mats[utt]
    return raw / "feats.scp", fold, mats


def _run(mode, scp, fold, out, *extra) -> int:
    return main(["--mode", mode, "--feats", str(scp), "--fold-dir", str(fold), "--out-dir", str(out),
                 *map(str, extra)])


def _frames(mats, utts):
    return np.concatenate([mats[u] for u in utts]).astype(np.float64)


def _global_mvn(stats_file, x):
    """ESPnet's GlobalMVN (what the model applies) on one (T, D) matrix."""
    from espnet2.layers.global_mvn import GlobalMVN

    y, _ = GlobalMVN(stats_file)(torch.from_numpy(x.copy())[None], torch.tensor([x.shape[0]]))
    return y[0].numpy()


def test_global_writes_espnet_stats_from_train_only_and_no_copies(tmp_path):
    scp, fold, mats = _make(tmp_path)
    assert _run("global", scp, fold, tmp_path / "out1") == 0
    stats = load_stats(tmp_path / "out1" / "stats.npz")
    assert set(stats) == {"count", "sum", "sum_square"}  # ESPnet's stats_file format
    train = _frames(mats, [u for u in mats if u.split("-")[0] in SETS["train"]])
    np.testing.assert_allclose(stats["sum"], train.sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(stats["sum_square"], (train ** 2).sum(axis=0), rtol=1e-9)
    assert int(stats["count"]) == train.shape[0]
    # No normalised copy: every set's scp points into the stage-2 ark.
    assert not list((tmp_path / "out1").rglob("*.ark"))
    for s in SETS:
        specs = read_table(tmp_path / "out1" / s / "feats.scp")
        assert all(v.startswith(str(scp.parent / "feats.1.ark")) for v in specs.values()), specs
    out = load_scp(tmp_path / "out1" / "train" / "feats.scp")
    for utt, mat in out.items():
        np.testing.assert_array_equal(mat, mats[utt])
    # What the model does with the statistics: zero mean, unit variance on train.
    normed = np.concatenate([_global_mvn(tmp_path / "out1" / "stats.npz", out[u]) for u in sorted(out)])
    np.testing.assert_allclose(normed[:, :-1].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(normed[:, :-1].std(axis=0), 1, atol=1e-4)
    assert np.isfinite(normed).all() and np.all(normed[:, -1] == 0)

    # Change only the test set's data: train statistics stay exactly the same.
    scp2, fold2, mats2 = _make(tmp_path / "b", test_scale=5.0)
    assert _run("global", scp2, fold2, tmp_path / "out2") == 0
    stats2 = load_stats(tmp_path / "out2" / "stats.npz")
    for k in stats:
        np.testing.assert_array_equal(stats[k], stats2[k])


def test_speaker_mode_zero_mean_unit_variance_per_speaker(tmp_path):
    scp, fold, mats = _make(tmp_path)
    assert _run("speaker", scp, fold, tmp_path / "out") == 0
    for s, spks in SETS.items():
        out = load_scp(tmp_path / "out" / s / "feats.scp")
        for spk in spks:
            x = np.concatenate([out[u] for u in sorted(out) if u.startswith(spk + "-")])
            np.testing.assert_allclose(x[:, :-1].mean(axis=0), 0, atol=1e-5)
            np.testing.assert_allclose(x[:, :-1].std(axis=0), 1, atol=1e-4)
            assert np.all(x[:, -1] == 0)
    stats = load_stats(tmp_path / "out" / "stats.npz")
    assert list(stats["speakers"]) == ["spkA", "spkB", "spkC", "spkD"]
    # The test speaker's statistics are its own (offset 10), not the training ones.
    assert abs(stats["speaker_mean"][3, 0] - 10) < 2


def test_utterance_mode_writes_no_copies_and_refuses_functionals(tmp_path, capsys):
    scp, fold, mats = _make(tmp_path)
    assert _run("utterance", scp, fold, tmp_path / "out") == 0
    assert not list((tmp_path / "out").rglob("*.ark")) and not (tmp_path / "out" / "stats.npz").exists()
    out = load_scp(tmp_path / "out" / "dev" / "feats.scp")
    for utt, mat in out.items():
        np.testing.assert_array_equal(mat, mats[utt])  # the model's utterance_mvn normalises
    scp1, fold1, _ = _make(tmp_path / "f", frames=(1, 2))
    assert _run("utterance", scp1, fold1, tmp_path / "out1") == 1
    assert "utterance-level features (1, D)" in capsys.readouterr().err


def test_none_mode_passes_through(tmp_path):
    scp, fold, mats = _make(tmp_path)
    assert _run("none", scp, fold, tmp_path / "out") == 0
    out = load_scp(tmp_path / "out" / "test" / "feats.scp")
    for utt, mat in out.items():
        np.testing.assert_array_equal(mat, mats[utt])
    assert not (tmp_path / "out" / "stats.npz").exists()
    frames = read_table(tmp_path / "out" / "test" / "utt2num_frames")
    assert {u: int(v) for u, v in frames.items()} == {u: mats[u].shape[0] for u in out}


def test_missing_features_need_a_stage2_reason(tmp_path, capsys):
    scp, fold, mats = _make(tmp_path)
    lines = [ln for ln in scp.read_text().splitlines() if not ln.startswith("spkD-u1 ")]
    scp.write_text("\n".join(lines) + "\n")
    assert _run("global", scp, fold, tmp_path / "out") == 1
    assert "no features and no entry in the stage-2 skipped file, e.g. spkD-u1" in capsys.readouterr().err
    (scp.parent / "skipped").write_text("spkD-u1 too short, gave 0 frames\n")
    assert _run("global", scp, fold, tmp_path / "out") == 0
    skipped = read_table(tmp_path / "out" / "test" / "skipped")
    assert skipped == {"spkD-u1": "no features: too short, gave 0 frames"}
    assert "spkD-u1" not in load_scp(tmp_path / "out" / "test" / "feats.scp")


def test_skip_if_done_and_cli_errors(tmp_path, capsys):
    scp, fold, _ = _make(tmp_path)
    assert _run("global", scp, fold, tmp_path / "out") == 0
    capsys.readouterr()
    assert _run("global", scp, fold, tmp_path / "out") == 0
    assert "up to date" in capsys.readouterr().err
    assert _run("speaker", scp, fold, tmp_path / "out") == 0
    assert "up to date" not in capsys.readouterr().err
    assert _run("global", scp, fold, tmp_path / "out2", "--train-set", "training") == 1
    assert "--train-set training: no data dir" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        _run("zscore", scp, fold, tmp_path / "out3")
    assert info.value.code == 2


def test_an_older_stage3_output_is_redone(tmp_path, capsys):
    """A dump from before normalisation moved into the model (copies, mean/std stats) is not reused."""
    import json

    scp, fold, _ = _make(tmp_path)
    assert _run("global", scp, fold, tmp_path / "out") == 0
    marker = tmp_path / "out" / "norm.json"
    old = json.loads(marker.read_text())
    old["hash"] = "0123456789abcdef"  # what the previous format's hash would be
    marker.write_text(json.dumps(old))
    (tmp_path / "out" / "train" / "feats.ark").write_bytes(b"old copy")
    capsys.readouterr()
    assert _run("global", scp, fold, tmp_path / "out") == 0
    assert "up to date" not in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("*.ark"))
    assert set(load_stats(tmp_path / "out" / "stats.npz")) == {"count", "sum", "sum_square"}
