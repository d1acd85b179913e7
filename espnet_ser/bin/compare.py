"""Print one table comparing experiments aggregated by the report stage.

Reads ``exp/<tag>/results.json`` (written by ``espnet_ser.bin.report``) of each
experiment and prints, per experiment, WA (accuracy), UA (unweighted average
recall) and macro-F1 as mean ± std over folds × seeds, and the speaker-probe
balanced accuracy of its embeddings (logistic regression and MLP) next to
chance. The demo recipe (``egs/mini_ser/ser1``) ends with it.

With ``--per-fold`` the table is instead UA per fold (mean ± std over seeds;
a fold is named after the corpora of its test set when ``--fold-root`` holds
``<fold>/test/utt2corpus``, e.g. the target corpus of a cross-corpus fold), the
mean over folds, and each experiment's paired test against its baseline
(``paired_test`` of ``results.json``: mean UA difference and Wilcoxon p).  A
fold whose test set mixes corpora (``per_corpus`` in its results, e.g. the
multi_corpus protocol) gets one column per corpus, and the mean column is then
the mean over those columns per seed (Gao et al.'s "average"), mean ± std over
seeds; the paired test stays the one over the pooled test sets.

Usage::

    python -m espnet_ser.bin.compare exp/baseline exp/adversarial [--markdown]
    python -m espnet_ser.bin.compare exp/baseline exp/dann --per-fold --fold-root data/folds/cross_corpus
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence


def _pct(stat: Optional[dict]) -> str:
    if not stat or stat.get("mean") is None:
        return "n/a"
    mean = 100.0 * stat["mean"]
    std = stat.get("std")
    return f"{mean:.1f}" if std is None else f"{mean:.1f} ± {100.0 * std:.1f}"


def _mean_std_pct(vals: Sequence[float]) -> str:
    """``mean ± std`` (sample std; none for one value) of fractions, in %; ``n/a`` if empty."""
    import numpy as np

    if not vals:
        return "n/a"
    return _pct({"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None})


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


def _fold_name(fold: str, fold_root: Optional[Path]) -> str:
    """``fold1`` -> its name in ``protocol.json`` ``fold_names`` (an iemocap_ts setting, ``TS_23``),
    else the corpora of its test set (``tess``) when known, else ``fold1``."""
    meta = Path(fold_root) / "protocol.json" if fold_root is not None else None
    if meta is not None and meta.is_file():
        name = json.loads(meta.read_text()).get("fold_names", {}).get(fold)
        if name:
            return name
    if fold_root is not None and (Path(fold_root) / fold / "test" / "utt2corpus").is_file():
        from espnet_ser.utils.data_dir import read_table

        corpora = sorted(set(read_table(Path(fold_root) / fold / "test" / "utt2corpus").values()))
        return "+".join(corpora)
    return fold


def _fold_names(folds: Sequence[str], fold_root: Optional[Path]) -> Dict[str, str]:
    """:func:`_fold_name` of each fold, or the fold ids where two folds would get the same name
    (a one-corpus protocol: every test set is ``emodb``)."""
    names = {f: _fold_name(f, fold_root) for f in folds}
    return names if len(set(names.values())) == len(names) else {f: f for f in folds}


def per_fold_rows(exp_dirs: List[Path], fold_root: Optional[Path] = None,
                  metrics: Sequence[str] = ("ua",)) -> List[List[str]]:
    """Header row, then per experiment: each of ``metrics`` per fold (mean ± std over seeds),
    the mean UA, and the paired test.

    Raises:
        FileNotFoundError: An experiment has no ``results.json``.
    """
    import numpy as np

    aggs = []
    for exp in exp_dirs:
        path = Path(exp) / "results.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (run stage 7 of the recipe for {exp} first)")
        aggs.append(json.loads(path.read_text()))
    folds = sorted({r["fold"] for a in aggs for r in a.get("runs", [])},
                   key=lambda f: (len(f), f))
    # A fold whose test set mixes corpora (multi_corpus) gets one column per corpus.
    cols = []
    for f in folds:
        corpora = sorted({c for a in aggs for r in a.get("runs", []) if r["fold"] == f
                          for c in (r.get("per_corpus") or {})})
        cols += [(f, c) for c in corpora] or [(f, None)]
    by_corpus = any(c is not None for _, c in cols)

    fold_names = _fold_names(folds, fold_root)

    def _name(f, c):
        return fold_names[f] if c is None else (c if len(folds) == 1 else f"{f} {c}")

    def _value(r, m, f, c):
        if r["fold"] != f:
            return None
        return r.get(m) if c is None else ((r.get("per_corpus") or {}).get(c) or {}).get(m)

    header = ["experiment", "runs"] + [f"{m.upper()} {_name(f, c)} %" for m in metrics for f, c in cols] + [
        "UA mean over corpora %" if by_corpus else "UA mean %", "ΔUA vs baseline (Wilcoxon p)"]
    rows = [header]
    for exp, agg in zip(exp_dirs, aggs):
        row = [agg.get("tag", Path(exp).name), str(agg.get("n_runs", "?"))]
        for m, (f, c) in [(m, fc) for m in metrics for fc in cols]:
            vals = [v for v in (_value(r, m, f, c) for r in agg.get("runs", [])) if v is not None]
            row.append(_mean_std_pct(vals))
        if by_corpus:
            # Per seed, the mean UA of the columns; then mean ± std over seeds (the paper's "average").
            per_seed = {}
            for r in agg.get("runs", []):
                for f, c in cols:
                    v = _value(r, "ua", f, c)
                    if v is not None:
                        per_seed.setdefault(r["seed"], []).append(v)
            means = [float(np.mean(v)) for v in per_seed.values()]
            row.append(_mean_std_pct(means))
        else:
            row.append(_pct(agg.get("summary", {}).get("ua")))
        pt = (agg.get("paired_test") or {}).get("ua")
        if pt and pt.get("mean_diff") is not None:
            p = pt.get("wilcoxon_p")
            row.append(f"{100.0 * pt['mean_diff']:+.1f} ({'n/a' if p is None else f'p={p:.3f}'}, n={pt['n']}) "
                       f"vs {agg.get('baseline', '?')}")
        else:
            row.append("")
        rows.append(row)
    return rows


def per_fold_paired_rows(exp_dirs: List[Path], fold_root: Optional[Path] = None,
                         metrics: Sequence[str] = ("wa", "ua")) -> List[List[str]]:
    """Header row, then per experiment with a baseline: per fold and metric, the mean paired
    difference over the seeds both ran and its two-sided Wilcoxon p
    (:func:`espnet_ser.eval.aggregate.paired_test`; with 3 seeds p cannot go below 0.25).
    """
    from espnet_ser.eval.aggregate import paired_test

    rows, folds = [], None
    for exp in exp_dirs:
        agg = json.loads((Path(exp) / "results.json").read_text())
        base_path = Path(exp).parent / str(agg.get("baseline")) / "results.json"
        if not agg.get("baseline") or not base_path.is_file():
            continue
        base = {(r["seed"], r["fold"]): r for r in json.loads(base_path.read_text()).get("runs", [])}
        mine = {(r["seed"], r["fold"]): r for r in agg.get("runs", [])}
        folds = folds or sorted({f for _, f in mine}, key=lambda f: (len(f), f))
        row = [f"{agg.get('tag', Path(exp).name)} vs {agg['baseline']}"]
        for m, f in [(m, f) for m in metrics for f in folds]:
            keys = sorted(k for k in mine if k[1] == f and k in base
                          and mine[k].get(m) is not None and base[k].get(m) is not None)
            if not keys:
                row.append("n/a")
                continue
            t = paired_test([mine[k][m] for k in keys], [base[k][m] for k in keys])
            p = t["wilcoxon_p"]
            row.append(f"{100.0 * t['mean_diff']:+.1f} ({'n/a' if p is None else f'p={p:.2f}'}, n={t['n']})")
        rows.append(row)
    if not rows:
        return []
    fold_names = _fold_names(folds, fold_root)
    return [["paired test"] + [f"Δ{m.upper()} {fold_names[f]}" for m in metrics for f in folds]] + rows


def format_table(rows: List[List[str]], markdown: bool = False, header: Optional[List[str]] = None) -> str:
    """Aligned text table (or Markdown) of :func:`compare_rows` output (or rows under ``header``)."""
    header = header or HEADER
    table = [header] + rows
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in table]
        lines.insert(1, "|" + "---|" * len(header))
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(table[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exp_dirs", nargs="+", type=Path, help="exp/<tag> directories")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--per-fold", action="store_true",
                        help="UA per fold, mean over folds and the paired test against the baseline")
    parser.add_argument("--fold-root", type=Path, default=None,
                        help="data/folds/<protocol>: names each fold (protocol.json fold_names, else "
                        "its test corpora from utt2corpus)")
    parser.add_argument("--metrics", nargs="+", choices=["wa", "ua", "macro_f1"], default=["ua"],
                        help="--per-fold: metrics shown per fold (e.g. wa ua)")
    args = parser.parse_args(argv)
    try:
        if args.per_fold:
            header, *rows = per_fold_rows(args.exp_dirs, args.fold_root, args.metrics)
            print(format_table(rows, markdown=args.markdown, header=header))
            print(f"({'/'.join(m.upper() for m in args.metrics)} per fold: mean ± std over seeds; "
                  "ΔUA: mean paired difference over folds x seeds)")
            paired = per_fold_paired_rows(args.exp_dirs, args.fold_root, args.metrics)
            if paired:
                print(format_table(paired[1:], markdown=args.markdown, header=paired[0]))
                print("(per fold: mean paired difference over seeds, two-sided Wilcoxon p, n seeds)")
            return 0
        rows = compare_rows(args.exp_dirs)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1
    print(format_table(rows, markdown=args.markdown))
    print("(WA, UA, macro-F1: mean ± std over folds with one seed, over the per-seed means with "
          "several, as the report stage; probe: mean ± std over runs; speaker probe = balanced accuracy of a "
          "closed-set speaker classifier on the embeddings of the recipe's --probe_sets, "
          "held-out speakers by default; lower = less speaker information)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
