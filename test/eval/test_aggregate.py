"""Tests of espnet_ser.eval.aggregate: discovery, mean/std, paired tests, RESULTS.md sections."""
import json
import math

import numpy as np
import pytest

from espnet_ser.eval.aggregate import (
    aggregate_runs,
    discover_runs,
    load_paper_table,
    paired_against,
    paired_test,
    render_markdown,
    replace_section,
    summarise,
)


def _res(wa, ua, f1=0.5, pc_b=0.5):
    return {"wa": wa, "ua": ua, "macro_f1": f1, "n": 4, "per_class": {"a": 1.0, "b": pc_b},
            "per_speaker": {}, "labels": ["a", "b"], "confusion": [[2, 0], [1, 1]]}


def _write(path, res):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res))


def test_discover_and_aggregate_seed_fold_tree(tmp_path):
    vals = {("seed0", "fold1"): 0.6, ("seed0", "fold2"): 0.8, ("seed1", "fold1"): 0.5, ("seed1", "fold2"): 0.7,
            ("seed0", "fold10"): 0.7, ("seed1", "fold10"): 0.6}
    for (s, f), v in vals.items():
        _write(tmp_path / s / f / "decode_test" / "results.json", _res(v, v - 0.1))
    _write(tmp_path / "seed0" / "fold1" / "decode_dev" / "results.json", _res(0.0, 0.0))  # other set: ignored
    _write(tmp_path / "a" / "b" / "c" / "decode_test" / "results.json", _res(0.0, 0.0))  # outside layout
    runs, skipped = discover_runs(tmp_path)
    assert [(r.seed, r.fold) for r in runs] == [("seed0", "fold1"), ("seed0", "fold2"), ("seed0", "fold10"),
                                                ("seed1", "fold1"), ("seed1", "fold2"), ("seed1", "fold10")]
    assert len(skipped) == 1 and "a/b/c" in skipped[0][0]
    agg = aggregate_runs(runs)
    s0, s1 = np.mean([0.6, 0.8, 0.7]), np.mean([0.5, 0.7, 0.6])
    wa = agg["summary"]["wa"]
    assert wa["per_seed"]["seed0"]["mean"] == pytest.approx(s0)
    assert wa["per_seed"]["seed0"]["std"] == pytest.approx(np.std([0.6, 0.8, 0.7], ddof=1))
    assert wa["mean"] == pytest.approx((s0 + s1) / 2)
    assert wa["std"] == pytest.approx(np.std([s0, s1], ddof=1))
    assert wa["pooled_mean"] == pytest.approx(np.mean(list(vals.values())))
    assert wa["pooled_std"] == pytest.approx(np.std(list(vals.values()), ddof=1))
    assert agg["summary"]["ua"]["pooled_mean"] == pytest.approx(np.mean(list(vals.values())) - 0.1)
    assert agg["confusion"] == [[12, 0], [6, 6]]
    assert agg["seeds"] == ["seed0", "seed1"] and agg["folds"] == ["fold1", "fold2", "fold10"]


def test_single_seed_layout_std_over_folds(tmp_path):
    for f, v in (("fold1", 0.5), ("fold2", 0.9)):
        _write(tmp_path / f / "decode_test" / "results.json", _res(v, v))
    runs, _ = discover_runs(tmp_path)
    assert [(r.seed, r.fold) for r in runs] == [("seed0", "fold1"), ("seed0", "fold2")]
    wa = aggregate_runs(runs)["summary"]["wa"]
    assert wa["mean"] == pytest.approx(0.7)
    assert wa["std"] == pytest.approx(math.sqrt(0.08))


def test_mixed_layout_and_empty_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .*results.json found"):
        discover_runs(tmp_path)
    _write(tmp_path / "fold1" / "decode_test" / "results.json", _res(0.5, 0.5))
    _write(tmp_path / "seed1" / "fold1" / "decode_test" / "results.json", _res(0.5, 0.5))
    with pytest.raises(ValueError, match="layouts"):
        discover_runs(tmp_path)


def test_undefined_per_class_counted_not_averaged():
    s = summarise({("seed0", "f1"): 0.4, ("seed0", "f2"): None, ("seed0", "f3"): 0.8})
    assert s["mean"] == pytest.approx(0.6)
    assert s["n"] == 2 and s["n_undefined"] == 1


def test_paired_test_known_values():
    a = [0.70, 0.72, 0.68, 0.75, 0.71, 0.74]
    b = [0.60, 0.70, 0.65, 0.70, 0.69, 0.66]
    res = paired_test(a, b)
    d = np.subtract(a, b)
    assert res["n"] == 6
    assert res["mean_diff"] == pytest.approx(d.mean())
    # all 6 differences positive: exact two-sided Wilcoxon p = 2 / 2**6
    assert res["wilcoxon_p"] == pytest.approx(2 / 2 ** 6)
    assert res["wilcoxon_stat"] == pytest.approx(0.0)
    t = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    assert res["ttest_stat"] == pytest.approx(t)
    assert res["ttest_p"] < 0.05
    same = paired_test([0.5, 0.6], [0.5, 0.6])
    assert same["wilcoxon_p"] is None and same["mean_diff"] == 0.0


def test_paired_against_matches_seed_fold(tmp_path):
    for exp, offs in (("sys", 0.1), ("base", 0.0)):
        for i, f in enumerate(("fold1", "fold2", "fold3")):
            _write(tmp_path / exp / "seed0" / f / "decode_test" / "results.json", _res(0.5 + offs + 0.01 * i, 0.5))
    _write(tmp_path / "base" / "seed0" / "fold4" / "decode_test" / "results.json", _res(0.1, 0.1))
    runs, _ = discover_runs(tmp_path / "sys")
    base, _ = discover_runs(tmp_path / "base")
    res = paired_against(runs, base)
    assert res["wa"]["n"] == 3
    assert res["wa"]["mean_diff"] == pytest.approx(0.1)
    assert res["unpaired"] == [["seed0", "fold4", "only in baseline"]]


def test_replace_section_keeps_other_text():
    text = "# RESULTS\n\nhand-written notes\n\n<!-- report:x -->\nold\n<!-- /report:x -->\n\ntail text\n"
    new = replace_section(text, "x", "new body\n")
    assert new == "# RESULTS\n\nhand-written notes\n\n<!-- report:x -->\nnew body\n<!-- /report:x -->\n\ntail text\n"
    appended = replace_section(new, "y", "other\n")
    assert appended.startswith(new)
    assert appended.endswith("<!-- report:y -->\nother\n<!-- /report:y -->\n")
    assert replace_section(appended, "x", "again") .count("<!-- report:y -->") == 1
    with pytest.raises(ValueError, match="unbalanced"):
        replace_section("<!-- report:x -->\n", "x", "b")


def test_render_markdown_spells_out_metrics(tmp_path):
    for f, v in (("fold1", 0.5), ("fold2", 0.9)):
        _write(tmp_path / f / "decode_test" / "results.json", _res(v, v - 0.2))
    runs, _ = discover_runs(tmp_path)
    agg = aggregate_runs(runs)
    paper = tmp_path / "paper.yaml"
    paper.write_text("source: Leow et al. Table 3\nrows:\n  - system: CNN-biGRU + AL\n    ua: '73.6 ± 7.1'\n")
    md = render_markdown("sier", agg, command="python -m x", commit="abc", date="2025-01-01",
                         paper=load_paper_table(paper))
    assert "WA (accuracy)" in md and "UA (unweighted average recall)" in md and "macro-F1" in md
    assert "| seed0 | fold1 | 4 | 50.00 | 30.00 |" in md
    assert "**70.00 ± 28.28**" in md
    assert "73.6 ± 7.1" in md and "`abc`" in md
    paper.write_text("rows:\n  - system: s\n    acc: 1\n")
    with pytest.raises(ValueError, match="unknown keys"):
        load_paper_table(paper)
