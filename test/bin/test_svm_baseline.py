"""Tests of the ComParE functionals + linear SVM reference system."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from espnet_ser.bin import svm_baseline
from espnet_ser.bin.svm_baseline import main, run_svm_baseline
from espnet_ser.features.ark_io import ArkWriter

# Deliberately not sorted: the posterior columns must follow this order.
EMOTIONS = ["sad", "ang", "neu", "hap"]
DIM = 24


def _write_table(path: Path, table: dict) -> None:
    path.write_text("".join(f"{k} {table[k]}\n" for k in sorted(table)), encoding="utf-8")


def _make_set(root: Path, name: str, speakers, rng, class_means, per_class=6,
              offset_scale=4.0, unlabelled=(), missing_feats=(), frame_level=False):
    """Synthetic (1, D) functionals: class effect << speaker offset and scale."""
    data_dir, dump_dir = root / "data" / name, root / "dump" / name
    data_dir.mkdir(parents=True)
    utt2spk, utt2emo = {}, {}
    with ArkWriter(dump_dir / "feats.ark", dump_dir / "feats.scp") as writer:
        for spk in speakers:
            offset = rng.normal(0.0, offset_scale, DIM)
            scale = rng.uniform(0.5, 2.0, DIM)
            for c, emo in enumerate(EMOTIONS):
                for k in range(per_class):
                    utt = f"{spk}-{emo}{k:02d}"
                    utt2spk[utt] = spk
                    if utt not in unlabelled:
                        utt2emo[utt] = emo
                    if utt in missing_feats:
                        continue
                    x = offset + scale * (class_means[c] + rng.normal(0.0, 0.5, DIM))
                    rows = 5 if frame_level else 1
                    writer[utt] = np.tile(x, (rows, 1)).astype(np.float32)
    _write_table(data_dir / "utt2spk", utt2spk)
    _write_table(data_dir / "utt2emo", utt2emo)
    return dump_dir / "feats.scp", data_dir


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("svm")
    rng = np.random.default_rng(0)
    class_means = rng.normal(0.0, 1.0, (len(EMOTIONS), DIM))
    sets = {
        "train": _make_set(root, "train", [f"s{i:02d}" for i in range(6)], rng, class_means),
        "dev": _make_set(root, "dev", ["s06", "s07"], rng, class_means),
        "test": _make_set(
            root, "test", ["s08", "s09"], rng, class_means,
            unlabelled=("s08-ang00",), missing_feats=("s09-neu03",),
        ),
    }
    emotions = root / "emotions.txt"
    emotions.write_text("".join(e + "\n" for e in EMOTIONS), encoding="utf-8")
    return root, sets, emotions


def _run(corpus, out, **kwargs):
    root, sets, emotions = corpus
    return run_svm_baseline(
        train_feats=sets["train"][0], train_dir=sets["train"][1],
        dev_feats=sets["dev"][0], dev_dir=sets["dev"][1],
        test_feats=sets["test"][0], test_dir=sets["test"][1],
        out_dir=out, emotions=emotions, **kwargs,
    )


def _read_posteriors(path: Path):
    rows = [line.split() for line in path.read_text().splitlines()]
    return [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def _ua_from_files(out: Path, test_dir: Path) -> float:
    """UA recomputed from the written files, independently of the summary."""
    utts, post = _read_posteriors(out / "posteriors")
    labels = (out / "labels.txt").read_text().split()
    ref = dict(line.split() for line in (test_dir / "utt2emo").read_text().splitlines())
    pairs = [(ref[u], labels[int(p.argmax())]) for u, p in zip(utts, post) if u in ref]
    return balanced_accuracy_score([t for t, _ in pairs], [h for _, h in pairs])


def test_speaker_normalisation_beats_global_and_none(corpus, tmp_path):
    test_dir = corpus[1]["test"][1]
    ua = {}
    for norm in ("speaker", "global", "none"):
        summary = _run(corpus, tmp_path / norm, norm=norm)
        ua[norm] = _ua_from_files(tmp_path / norm, test_dir)
        assert ua[norm] == pytest.approx(summary["test_ua"])
    chance = 1.0 / len(EMOTIONS)
    # Speaker offsets dominate the class effect: only per-speaker statistics
    # remove them, so speaker normalisation must win clearly.
    assert ua["speaker"] > ua["none"] + 0.15, ua
    assert ua["speaker"] > ua["global"] + 0.15, ua
    assert ua["speaker"] > 2 * chance, ua


def test_outputs_follow_the_contract(corpus, tmp_path):
    out = tmp_path / "exp"
    summary = _run(corpus, out, norm="speaker")
    # Class order = the given inventory, not sorted.
    assert (out / "labels.txt").read_text().split() == EMOTIONS
    utts, post = _read_posteriors(out / "posteriors")
    # Every test utterance with features, the unlabelled one included, sorted.
    assert "s08-ang00" in utts and "s09-neu03" not in utts
    assert len(utts) == 2 * len(EMOTIONS) * 6 - 1 == summary["num_test"]
    assert utts == sorted(utts)
    assert post.shape == (len(utts), len(EMOTIONS))
    assert set(np.unique(post)) <= {0.0, 1.0}
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    skipped = (out / "skipped").read_text()
    assert "test:s09-neu03" in skipped and "test:s08-ang00" not in skipped
    info = json.loads((out / "svm.json").read_text())
    assert info["chosen_c"] in info["c_grid"]
    assert [d["c"] for d in info["dev_scores"]] == info["c_grid"]
    best = max(d["ua"] for d in info["dev_scores"])
    assert [d["ua"] for d in info["dev_scores"] if d["c"] == info["chosen_c"]] == [best]
    assert info["num_skipped"]["test"] == 1


def test_softmax_posteriors_keep_the_decision(corpus, tmp_path):
    _run(corpus, tmp_path / "onehot", norm="speaker", c_grid=[0.01])
    _run(corpus, tmp_path / "soft", norm="speaker", c_grid=[0.01], posteriors="softmax")
    u1, p1 = _read_posteriors(tmp_path / "onehot" / "posteriors")
    u2, p2 = _read_posteriors(tmp_path / "soft" / "posteriors")
    assert u1 == u2
    np.testing.assert_allclose(p2.sum(axis=1), 1.0, atol=1e-4)
    assert ((p2 > 0) & (p2 < 1)).any()
    np.testing.assert_array_equal(p1.argmax(axis=1), p2.argmax(axis=1))


def test_dev_posteriors_for_late_fusion(corpus, tmp_path):
    # --dev-out-dir: the final classifier (chosen C) decodes dev too, in the test files' format.
    _run(corpus, tmp_path / "test", norm="speaker", posteriors="softmax", dev_out_dir=tmp_path / "dev")
    dev_dir = corpus[1]["dev"][1]
    utts, post = _read_posteriors(tmp_path / "dev" / "posteriors")
    assert utts == sorted((dev_dir / "utt2spk").read_text().split()[::2])
    assert (tmp_path / "dev" / "labels.txt").read_text().split() == EMOTIONS
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-4)
    info = json.loads((tmp_path / "test" / "svm.json").read_text())
    chosen = [d for d in info["dev_scores"] if d["c"] == info["chosen_c"]][0]
    assert _ua_from_files(tmp_path / "dev", dev_dir) == pytest.approx(chosen["ua"])
    root, sets, emotions = corpus
    with pytest.raises(ValueError, match="--dev-out-dir needs --dev-feats"):
        run_svm_baseline(train_feats=sets["train"][0], train_dir=sets["train"][1], test_feats=sets["test"][0],
                         test_dir=sets["test"][1], out_dir=tmp_path / "x", c_grid=[0.01],
                         dev_out_dir=tmp_path / "y")


def test_speaker_normalisation_uses_each_speakers_own_statistics(corpus):
    _, sets, _ = corpus
    loaded = [svm_baseline.load_feature_set(n, *sets[n]) for n in ("train", "test")]
    normed = svm_baseline.normalise(loaded, "speaker")
    for s, x in zip(loaded, normed):
        for spk in set(s.spks):
            rows = x[[i for i, k in enumerate(s.spks) if k == spk]]
            np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-9)
            np.testing.assert_allclose(rows.std(axis=0), 1.0, atol=1e-9)


def _cli_args(corpus, out, dev=True):
    root, sets, emotions = corpus
    args = ["--train-feats", str(sets["train"][0]), "--train-dir", str(sets["train"][1]),
            "--test-feats", str(sets["test"][0]), "--test-dir", str(sets["test"][1]),
            "--emotions", str(emotions), "--out-dir", str(out)]
    if dev:
        args += ["--dev-feats", str(sets["dev"][0]), "--dev-dir", str(sets["dev"][1])]
    return args


def test_cli_runs_and_reports_errors_in_one_line(corpus, tmp_path, capsys):
    assert main(_cli_args(corpus, tmp_path / "ok") + ["--c", "0.001,0.1"]) == 0
    assert (tmp_path / "ok" / "posteriors").is_file()

    capsys.readouterr()
    assert main(_cli_args(corpus, tmp_path / "nodev", dev=False)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no dev set" in err[0] and "--c" in err[0]

    # A single C needs no dev set.
    assert main(_cli_args(corpus, tmp_path / "single", dev=False) + ["--c", "0.01"]) == 0

    args = _cli_args(corpus, tmp_path / "missing")
    args[args.index("--train-feats") + 1] = str(tmp_path / "nope.scp")
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.scp" in err[0]

    capsys.readouterr()
    assert main(_cli_args(corpus, tmp_path / "bad") + ["--c", "0.1,abc"]) == 1
    assert "--c" in capsys.readouterr().err


def test_frame_level_features_are_rejected(tmp_path):
    rng = np.random.default_rng(1)
    means = rng.normal(size=(len(EMOTIONS), DIM))
    scp, data = _make_set(tmp_path, "train", ["s00", "s01"], rng, means, frame_level=True)
    with pytest.raises(ValueError, match=r"shape \(5, 24\).*\(1, D\)"):
        run_svm_baseline(scp, data, scp, data, tmp_path / "out", c_grid=[0.1])


def test_module_entry_point_help():
    proc = subprocess.run(
        [sys.executable, "-m", "espnet_ser.bin.svm_baseline", "--help"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--norm" in proc.stdout and "speaker" in proc.stdout


def test_output_is_scored_by_bin_score(corpus, tmp_path):
    from espnet_ser.bin.score import score_dir

    out = tmp_path / "exp"
    summary = _run(corpus, out, norm="speaker")
    # bin/score.py requires a posterior for every labelled utterance: drop the
    # one whose features are missing (listed in ``skipped``) from the data dir.
    src, data = corpus[1]["test"][1], tmp_path / "test_data"
    data.mkdir()
    for table in ("utt2spk", "utt2emo"):
        lines = (src / table).read_text().splitlines(keepends=True)
        (data / table).write_text("".join(x for x in lines if not x.startswith("s09-neu03 ")))
    res = score_dir(str(out / "posteriors"), str(out / "labels.txt"), str(data), str(out / "score"))
    assert res["labels"] == EMOTIONS
    assert res["n"] == summary["num_test"] - 1  # the unlabelled utterance is not scored
    assert res["ua"] == pytest.approx(summary["test_ua"])
    assert res["wa"] == pytest.approx(summary["test_wa"])


def test_c_path_stops_after_patience_values_below_the_best(corpus, tmp_path, monkeypatch):
    """Dev UA peaking at the 2nd C and falling: with --patience 2 the path stops 2 C later."""
    grid = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    uas = {1e-4: 0.5, 1e-3: 0.7, 1e-2: 0.6, 1e-1: 0.65, 1.0: 0.9, 10.0: 0.95}
    real = svm_baseline.wa_ua
    seen = []

    def fake_wa_ua(y_true, y_pred):
        wa, _ = real(y_true, y_pred)
        return wa, uas[seen[-1]]

    real_fit = svm_baseline._fit

    def fit(x, y, c, *a, **kw):
        seen.append(c)
        return real_fit(x, y, c, *a, **kw)

    monkeypatch.setattr(svm_baseline, "wa_ua", fake_wa_ua)
    monkeypatch.setattr(svm_baseline, "_fit", fit)
    s = _run(corpus, tmp_path / "p2", c_grid=grid, patience=2)
    assert s["c_tried"] == [1e-4, 1e-3, 1e-2, 1e-1] and s["chosen_c"] == 1e-3
    assert [d["c"] for d in s["dev_scores"]] == s["c_tried"] and s["seconds"] > 0
    seen.clear()
    s = _run(corpus, tmp_path / "p0", c_grid=grid, patience=0)  # every C: the later peak wins
    assert s["c_tried"] == grid and s["chosen_c"] == 10.0


@pytest.mark.parametrize("solver", svm_baseline.SOLVERS)
def test_every_solver_learns_the_task(corpus, tmp_path, solver):
    s = _run(corpus, tmp_path / solver, solver=solver, c_grid=[1e-3, 1e-2, 1e-1])
    assert s["solver"] == solver and s["test_ua"] > 0.6, s
    assert _ua_from_files(tmp_path / solver, corpus[1]["test"][1]) == pytest.approx(s["test_ua"])
