"""espnet_ser.bin.compare: the demo's closing table."""

import json

import pytest

from espnet_ser.bin import compare


def _write(exp, tag, wa, ua, probe_lr):
    exp.mkdir(parents=True)
    stat = lambda m, s: {"mean": m, "std": s}  # noqa: E731
    agg = {
        "tag": tag,
        "n_runs": 2,
        "summary": {"wa": stat(wa, 0.01), "ua": stat(ua, 0.02), "macro_f1": stat(0.5, None)},
        "probe": {
            f"{tag} embeddings": {"logreg_bacc": stat(probe_lr, 0.0), "mlp_bacc": stat(0.7, 0.0),
                                  "chance": stat(0.25, 0.0)},
            "base embeddings (baseline)": {"logreg_bacc": stat(0.99, 0.0)},
        },
    }
    (exp / "results.json").write_text(json.dumps(agg))


def test_rows_use_own_probe_and_percentages(tmp_path):
    _write(tmp_path / "base", "base", 0.6, 0.55, 0.95)
    _write(tmp_path / "adv", "adv", 0.62, 0.57, 0.40)
    rows = compare.compare_rows([tmp_path / "base", tmp_path / "adv"])
    assert rows[0][:6] == ["base", "2", "60.0 ± 1.0", "55.0 ± 2.0", "50.0", "95.0 ± 0.0"]
    # the adversarial row must show its own probe, not the baseline entry it also holds
    assert rows[1][5] == "40.0 ± 0.0"
    text = compare.format_table(rows)
    assert "UA (unweighted avg recall) %" in text and "WA (accuracy) %" in text
    md = compare.format_table(rows, markdown=True)
    assert md.splitlines()[1].startswith("|---|")


def test_missing_results_is_one_line_error(tmp_path, capsys):
    assert compare.main([str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("compare: ") and "run stage 7" in err and "\n" not in err


def test_per_fold_names_folds_by_test_corpus_and_shows_paired_test(tmp_path, capsys):
    for tag, uas in (("base", [0.5, 0.6, 0.7, 0.8]), ("dann", [0.6, 0.6, 0.9, 0.8])):
        _write(tmp_path / tag, tag, 0.6, 0.6, 0.5)
        agg = json.loads((tmp_path / tag / "results.json").read_text())
        agg["runs"] = [{"seed": s, "fold": f, "ua": u} for (s, f), u in
                       zip([("seed0", "fold1"), ("seed1", "fold1"), ("seed0", "fold2"), ("seed1", "fold2")], uas)]
        if tag == "dann":
            agg["baseline"] = "base"
            agg["paired_test"] = {"ua": {"n": 4, "mean_diff": 0.075, "wilcoxon_p": 0.5}}
        (tmp_path / tag / "results.json").write_text(json.dumps(agg))
    (tmp_path / "folds" / "fold2" / "test").mkdir(parents=True)
    (tmp_path / "folds" / "fold2" / "test" / "utt2corpus").write_text("tess_OAF-a tess\n")
    header, base, dann = compare.per_fold_rows([tmp_path / "base", tmp_path / "dann"], tmp_path / "folds")
    assert header[2:4] == ["UA fold1 %", "UA tess %"]
    assert base[2] == "55.0 ± 7.1" and dann[3] == "85.0 ± 7.1" and base[-1] == ""
    assert dann[-1] == "+7.5 (p=0.500, n=4) vs base"
    assert compare.main([str(tmp_path / "base"), str(tmp_path / "dann"), "--per-fold", "--markdown"]) == 0
    assert "| dann | 2 |" in capsys.readouterr().out
    # One corpus in every test set (emodb_l2so): the corpus would name every fold alike, so fold ids.
    (tmp_path / "folds" / "fold1" / "test").mkdir(parents=True)
    (tmp_path / "folds" / "fold1" / "test" / "utt2corpus").write_text("tess_YAF-a tess\n")
    header, _, _ = compare.per_fold_rows([tmp_path / "base", tmp_path / "dann"], tmp_path / "folds")
    assert header[2:4] == ["UA fold1 %", "UA fold2 %"]
    assert compare.per_fold_paired_rows([tmp_path / "base", tmp_path / "dann"], tmp_path / "folds")[0][1:] == \
        ["ΔWA fold1", "ΔWA fold2", "ΔUA fold1", "ΔUA fold2"]


def test_per_fold_setting_names_metrics_and_paired_per_fold(tmp_path, capsys):
    """iemocap_ts: folds named by their setting, WA and UA per fold, a paired test per fold."""
    runs = {"cmp": [0.5, 0.6, 0.7, 0.6], "dann": [0.6, 0.7, 0.7, 0.8]}
    for tag, was in runs.items():
        _write(tmp_path / tag, tag, 0.6, 0.6, 0.5)
        agg = json.loads((tmp_path / tag / "results.json").read_text())
        agg["runs"] = [{"seed": s, "fold": f, "wa": w, "ua": w - 0.1} for (s, f), w in
                       zip([("seed0", "fold1"), ("seed1", "fold1"), ("seed0", "fold2"), ("seed1", "fold2")], was)]
        if tag == "dann":
            agg["baseline"] = "cmp"
        (tmp_path / tag / "results.json").write_text(json.dumps(agg))
    (tmp_path / "folds").mkdir()
    (tmp_path / "folds" / "protocol.json").write_text(json.dumps({"fold_names": {"fold1": "TS_1234", "fold2": "TS_23"}}))
    exps = [tmp_path / "cmp", tmp_path / "dann"]
    header, _, dann = compare.per_fold_rows(exps, tmp_path / "folds", ["wa", "ua"])
    assert header[2:6] == ["WA TS_1234 %", "WA TS_23 %", "UA TS_1234 %", "UA TS_23 %"]
    assert dann[2] == "65.0 ± 7.1"
    paired = compare.per_fold_paired_rows(exps, tmp_path / "folds", ["wa"])
    assert paired[0] == ["paired test", "ΔWA TS_1234", "ΔWA TS_23"]
    assert paired[1][0] == "dann vs cmp" and paired[1][1].startswith("+10.0 (") and paired[1][2].startswith("+10.0")
    assert compare.main([str(e) for e in exps] + ["--per-fold", "--fold-root", str(tmp_path / "folds"),
                                                  "--metrics", "wa", "ua"]) == 0
    assert "ΔWA TS_23" in capsys.readouterr().out


def test_per_fold_splits_a_mixed_corpus_fold_into_corpora(tmp_path):
    """multi_corpus (one fold, test = every corpus's held-out speakers): one column per corpus and
    the mean over corpora per seed, then mean ± std over seeds."""
    _write(tmp_path / "base", "base", 0.6, 0.6, 0.5)
    agg = json.loads((tmp_path / "base" / "results.json").read_text())
    agg["runs"] = [{"seed": s, "fold": "fold1", "ua": 0.7,
                    "per_corpus": {"emodb": {"ua": e}, "tess": {"ua": t}}}
                   for s, e, t in (("seed0", 0.6, 0.9), ("seed1", 0.8, 0.9))]
    (tmp_path / "base" / "results.json").write_text(json.dumps(agg))
    header, row = compare.per_fold_rows([tmp_path / "base"])
    assert header[2:5] == ["UA emodb %", "UA tess %", "UA mean over corpora %"]
    assert row[2:5] == ["70.0 ± 14.1", "90.0 ± 0.0", "80.0 ± 7.1"]
