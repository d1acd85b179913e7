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
