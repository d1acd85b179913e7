"""Print one table comparing experiments aggregated by the report stage.

Reads ``exp/<tag>/results.json`` (written by ``espnet_ser.bin.report``) of each
experiment and prints, per experiment, WA (accuracy), UA (unweighted average
recall) and macro-F1 as mean ± std over folds × seeds, and the speaker-probe
balanced accuracy of its embeddings (logistic regression and MLP) next to
chance. The demo recipe (``egs/mini_ser/ser1``) ends with it.

Usage::

    python -m espnet_ser.bin.compare exp/baseline exp/adversarial [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional


def _pct(stat: Optional[dict]) -> str:
    if not stat or stat.get("mean") is None:
        return "n/a"
    mean = 100.0 * stat["mean"]
    std = stat.get("std")
    return f"{mean:.1f}" if std is None else f"{mean:.1f} ± {100.0 * std:.1f}"


def _own_probe(agg: dict) -> Optional[dict]:
    """The probe entry of the experiment's own embeddings (not baseline/raw)."""
    probe = agg.get("probe") or {}
    tag = agg.get("tag", "")
    for key, value in probe.items():
        if key == f"{tag} embeddings":
            return value
    return None


def compare_rows(exp_dirs: List[Path]) -> List[List[str]]:
    """One row per experiment: tag, runs, WA, UA, macro-F1, probe LR, probe MLP, chance."""
    rows = []
    for exp in exp_dirs:
        path = Path(exp) / "results.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: not found (run stage 7 of the recipe for {exp} first)"
            )
        agg = json.loads(path.read_text())
        summary = agg.get("summary", {})
        probe = _own_probe(agg) or {}
        rows.append(
            [
                agg.get("tag", Path(exp).name),
                str(agg.get("n_runs", "?")),
                _pct(summary.get("wa")),
                _pct(summary.get("ua")),
                _pct(summary.get("macro_f1")),
                _pct(probe.get("logreg_bacc")),
                _pct(probe.get("mlp_bacc")),
                _pct(probe.get("chance")),
            ]
        )
    return rows


HEADER = [
    "experiment",
    "runs",
    "WA (accuracy) %",
    "UA (unweighted avg recall) %",
    "macro-F1 %",
    "speaker probe LR %",
    "speaker probe MLP %",
    "probe chance %",
]


def format_table(rows: List[List[str]], markdown: bool = False) -> str:
    """Aligned text table (or Markdown) of :func:`compare_rows` output."""
    table = [HEADER] + rows
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in table]
        lines.insert(1, "|" + "---|" * len(HEADER))
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(table[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exp_dirs", nargs="+", type=Path, help="exp/<tag> directories")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    try:
        rows = compare_rows(args.exp_dirs)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1
    print(format_table(rows, markdown=args.markdown))
    print("(mean ± std over folds x seeds; speaker probe = balanced accuracy of a "
          "closed-set speaker classifier on the embeddings of the recipe's --probe_sets, "
          "held-out speakers by default; lower = less speaker information)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
