"""End-to-end test of bin/report.py (stage 7) on a generated exp tree scored by bin/score.py."""
import json

import numpy as np
import pytest

from espnet_ser.bin import report, score
from espnet_ser.features.ark_io import ArkWriter

LABELS = ["ang", "hap", "neu"]
TRAIN_LOG = ("x INFO: 1epoch results: [train] loss=1.2, acc=0.4, time=2 seconds, [valid] loss=1.3, acc=0.35\n"
             "x INFO: 2epoch results: [train] loss=1.0, acc=0.5, time=2 seconds, [valid] loss=1.1, acc=0.45\n")


def make_run(run_dir, data_dir, *, acc, seed, speaker_info):
    """One fold: decode_test/{posteriors,labels.txt,embeddings.scp} + train.log, scored by score.py."""
    rng = np.random.default_rng(seed)
    dec = run_dir / "decode_test"
    dec.mkdir(parents=True)
    (dec / "labels.txt").write_text("".join(f"{lab}\n" for lab in LABELS))
    (run_dir / "train.log").write_text(TRAIN_LOG)
    utt2emo = dict(line.split() for line in (data_dir / "utt2emo").read_text().splitlines())
    lines = []
    with ArkWriter(dec / "emb.ark", dec / "embeddings.scp") as w:
        for u, e in sorted(utt2emo.items()):
            c = LABELS.index(e) if rng.random() < acc else (LABELS.index(e) + 1) % 3
            p = np.full(3, 0.1)
            p[c] = 0.8
            lines.append(f"{u} " + " ".join(map(str, p)) + "\n")
            spk = int(u[3])
            w[u] = (rng.normal(size=(1, 6)) + speaker_info * 4 * spk).astype(np.float32)
    (dec / "posteriors").write_text("".join(lines))
    assert score.main(["--posteriors", str(dec / "posteriors"), "--labels", str(dec / "labels.txt"),
                       "--data-dir", str(data_dir), "--out-dir", str(dec)]) == 0


@pytest.fixture
def exp_tree(tmp_path):
    folds = ("fold1", "fold2")
    for k, fold in enumerate(folds):
        d = tmp_path / "data" / fold / "test"
        d.mkdir(parents=True)
        utts = [f"spk{s}-{fold}-u{i:02d}" for s in range(3) for i in range(15)]
        (d / "utt2emo").write_text("".join(f"{u} {LABELS[i % 3]}\n" for i, u in enumerate(utts)))
        (d / "utt2spk").write_text("".join(f"{u} {u[:4]}\n" for u in utts))
        with ArkWriter(tmp_path / "dump" / fold / "feats.ark", tmp_path / "dump" / fold / "feats.scp") as w:
            for u in utts:
                w[u] = np.random.default_rng(k).normal(size=(10, 4)).astype(np.float32) + int(u[3])
        for s in (0, 1):
            make_run(tmp_path / "exp" / "adv" / f"seed{s}" / fold, d, acc=0.9, seed=10 * s + k, speaker_info=0)
            make_run(tmp_path / "exp" / "base" / f"seed{s}" / fold, d, acc=0.5, seed=100 + 10 * s + k,
                     speaker_info=1)
    return tmp_path


def test_report_end_to_end(exp_tree):
    out = exp_tree / "RESULTS.md"
    out.write_text("# RESULTS\n\nhand-written intro\n\n<!-- report:adv -->\nstale\n<!-- /report:adv -->\n\nfooter\n")
    paper = exp_tree / "paper.yaml"
    paper.write_text("source: Leow et al. (2023) Table 3\nrows:\n  - system: CNN-biGRU + AL\n    ua: 73.6\n")
    argv = ["--exp-dir", str(exp_tree / "exp" / "adv"), "--baseline", str(exp_tree / "exp" / "base"),
            "--paper-table", str(paper), "--probe-raw-feats", str(exp_tree / "dump" / "{fold}" / "feats.scp"),
            "--out", str(out), "--tsne-max-points", "200"]
    assert report.main(argv) == 0
    agg = json.loads((exp_tree / "exp" / "adv" / "results.json").read_text())
    assert agg["n_runs"] == 4 and agg["seeds"] == ["seed0", "seed1"]
    per_run = {(r["seed"], r["fold"]): r["wa"] for r in agg["runs"]}
    fold_res = json.loads((exp_tree / "exp/adv/seed1/fold2/decode_test/results.json").read_text())
    assert per_run[("seed1", "fold2")] == fold_res["wa"]
    seed_means = [np.mean([per_run[(s, f)] for f in ("fold1", "fold2")]) for s in ("seed0", "seed1")]
    assert agg["summary"]["wa"]["mean"] == pytest.approx(np.mean(seed_means))
    pt = agg["paired_test"]["wa"]
    assert pt["n"] == 4 and pt["mean_diff"] > 0.2 and pt["wilcoxon_p"] == pytest.approx(2 / 2 ** 4)
    probe = agg["probe"]
    assert probe["base embeddings (baseline)"]["logreg_bacc"]["mean"] > 0.9
    assert probe["adv embeddings"]["logreg_bacc"]["mean"] < 0.75
    assert probe["raw features (mean + std pooled)"]["n"] == 2
    plots = exp_tree / "exp" / "adv" / "plots"
    for name in ("confusion_sum.png", "train_seed0_fold1.png", "train_seed1_fold2.png", "tsne_seed0_fold1.png"):
        assert (plots / name).read_bytes()[:4] == b"\x89PNG", name
    md = out.read_text()
    assert md.startswith("# RESULTS\n\nhand-written intro\n\n<!-- report:adv -->\n## adv")
    assert md.endswith("<!-- /report:adv -->\n\nfooter\n")
    assert "stale" not in md
    assert "WA (accuracy)" in md and "UA (unweighted average recall)" in md and "macro-F1" in md
    assert "Wilcoxon" in md and "Leow et al." in md and "plots/confusion_sum.png" in md
    assert agg["commit"] in md and "python -m espnet_ser.bin.report --exp-dir" in md
    # a probe.json written by stage 7 (bin/speaker_probe.py) takes precedence over the report's own probe
    for s in ("seed0", "seed1"):
        for f in ("fold1", "fold2"):
            (exp_tree / "exp" / "adv" / s / f / "decode_test" / "probe.json").write_text(
                json.dumps({"logreg_bacc": 0.125, "mlp_bacc": 0.25, "chance": 0.5}))
    assert report.main(argv + ["--tsne", "none"]) == 0
    agg = json.loads((exp_tree / "exp" / "adv" / "results.json").read_text())
    assert agg["probe"]["adv embeddings"]["logreg_bacc"] == {"mean": 0.125, "std": 0.0}
    assert out.read_text().count("<!-- report:adv -->") == 1
    md = out.read_text()
    # a second report of another experiment appends its own section and keeps the first
    assert report.main(["--exp-dir", str(exp_tree / "exp" / "base"), "--out", str(out), "--no-probe",
                        "--tsne", "none"]) == 0
    md2 = out.read_text()
    assert md2.startswith(md.rstrip("\n").rsplit("\n", 2)[0]) and "<!-- report:base -->" in md2


def test_report_missing_exp_is_one_line_error(tmp_path, capsys):
    assert report.main(["--exp-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "R.md")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "experiment directory not found" in err
