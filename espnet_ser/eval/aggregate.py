"""Aggregation of per-fold results over folds x seeds, paired tests and RESULTS.md sections.

Discovery rule (:func:`discover_runs`): under ``exp/<tag>/`` every file
``[seed<S>/][<fold>/]decode_<set>/results.json`` is one run:

* ``seed<S>/<fold>/decode_<set>/results.json``  -> seed ``seed<S>``, fold ``<fold>``
* ``<fold>/decode_<set>/results.json``          -> one seed (``seed0``), fold ``<fold>``
* ``seed<S>/decode_<set>/results.json``         -> seed ``seed<S>``, one fold (``all``)
* ``decode_<set>/results.json``                 -> one seed, one fold

Mixing a seeded and an unseeded layout in one experiment is an error
(ambiguous pairing); ``results.json`` files deeper than that are reported as
skipped (named in the log and in the aggregate), never silently used or lost.

Statistics: ``mean`` / ``std`` of a metric are first taken over the folds of
each seed, then the headline is the mean and std over the per-seed means
(``std`` = sample standard deviation, ddof = 1; ``None`` when only one value);
``pooled_mean`` / ``pooled_std`` are over all folds x seeds. With one seed the
headline std is therefore the std over folds (as in the papers).
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

logger = logging.getLogger(__name__)

_SEED_RE = re.compile(r"^seed\d+$")
#: Metrics aggregated and reported, with their spelled-out names.
METRIC_NAMES = {
    "wa": "WA (accuracy)",
    "ua": "UA (unweighted average recall)",
    "macro_f1": "macro-F1",
}


@dataclass
class Run:
    """One scored fold of one seed."""

    seed: str
    fold: str
    path: Path
    results: dict = field(repr=False)

    @property
    def key(self) -> Tuple[str, str]:
        return (self.seed, self.fold)

    @property
    def decode_dir(self) -> Path:
        return self.path.parent


def _natural_key(name: str):
    # fold2 < fold10; seed names likewise
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def discover_runs(exp_dir: str | Path, decode_set: str = "test") -> Tuple[List[Run], List[Tuple[str, str]]]:
    """Find the per-fold ``results.json`` files of one experiment.

    Args:
        exp_dir: ``exp/<tag>``.
        decode_set: the scored set (``decode_<set>`` directories).

    Returns:
        ``(runs, skipped)``: runs sorted by (seed, fold) naturally; skipped =
        ``[(path, reason)]`` for result files outside the layout.

    Raises:
        FileNotFoundError: if ``exp_dir`` is missing or holds no run.
        ValueError: on mixed seeded/unseeded layouts or inconsistent label lists.
    """
    exp = Path(exp_dir)
    if not exp.is_dir():
        raise FileNotFoundError(f"{exp}: experiment directory not found (--exp-dir)")
    runs: List[Run] = []
    skipped: List[Tuple[str, str]] = []
    layouts = set()
    decode_name = f"decode_{decode_set}"
    for path in sorted(exp.rglob("results.json")):
        rel = path.relative_to(exp).parts
        if path.parent == exp:
            continue  # the aggregate this module writes
        if len(rel) < 2 or rel[-2] != decode_name:
            if rel[-2].startswith("decode_"):
                continue  # another scored set (e.g. decode_dev): not part of this report
            skipped.append((str(path), f"not inside a {decode_name}/ directory"))
            continue
        parents = rel[:-2]
        if len(parents) == 0:
            seed, fold, seeded = "seed0", "all", False
        elif len(parents) == 1:
            seeded = bool(_SEED_RE.match(parents[0]))
            seed, fold = (parents[0], "all") if seeded else ("seed0", parents[0])
        elif len(parents) == 2 and _SEED_RE.match(parents[0]):
            seed, fold, seeded = parents[0], parents[1], True
        else:
            skipped.append((str(path), "outside the layout [seed<S>/][<fold>/]decode_<set>/results.json"))
            continue
        layouts.add(seeded)
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc}); re-run scoring (stage 6)") from None
        runs.append(Run(seed, fold, path, results))
    if len(layouts) > 1:
        raise ValueError(f"{exp}: both seed<S>/<fold>/ and <fold>/ layouts found; keep one layout per experiment")
    if not runs:
        raise FileNotFoundError(
            f"{exp}: no [seed<S>/][<fold>/]{decode_name}/results.json found; run scoring (stage 6) first"
        )
    labels = runs[0].results.get("labels")
    for run in runs:
        if run.results.get("labels") != labels:
            raise ValueError(f"{run.path}: labels {run.results.get('labels')} differ from {labels} of {runs[0].path}")
    runs.sort(key=lambda r: (_natural_key(r.seed), _natural_key(r.fold)))
    for p, reason in skipped:
        logger.warning("skipped %s: %s", p, reason)
    return runs, skipped


def _std(values: Sequence[float]) -> Optional[float]:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def summarise(values_by_run: Mapping[Tuple[str, str], Optional[float]]) -> dict:
    """Mean/std of one metric over folds per seed, over seeds, and pooled.

    Args:
        values_by_run: (seed, fold) -> value; ``None`` values (a class absent from
            a fold's reference) are left out and counted in ``n_undefined``.

    Returns:
        ``{"mean", "std", "pooled_mean", "pooled_std", "n", "n_undefined",
        "per_seed": {seed: {"mean", "std", "n"}}}``.
    """
    by_seed: Dict[str, List[float]] = {}
    pooled: List[float] = []
    undefined = 0
    for (seed, _fold), v in values_by_run.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            undefined += 1
            continue
        by_seed.setdefault(seed, []).append(float(v))
        pooled.append(float(v))
    per_seed = {s: {"mean": float(np.mean(v)), "std": _std(v), "n": len(v)}
                for s, v in sorted(by_seed.items(), key=lambda kv: _natural_key(kv[0]))}
    seed_means = [d["mean"] for d in per_seed.values()]
    if len(seed_means) == 1:
        # One seed: the spread of interest is the one over folds.
        mean, std = seed_means[0], next(iter(per_seed.values()))["std"]
    else:
        mean = float(np.mean(seed_means)) if seed_means else None
        std = _std(seed_means)
    return {
        "mean": mean,
        "std": std,
        "pooled_mean": float(np.mean(pooled)) if pooled else None,
        "pooled_std": _std(pooled),
        "n": len(pooled),
        "n_undefined": undefined,
        "per_seed": per_seed,
    }


def aggregate_runs(runs: Sequence[Run]) -> dict:
    """Aggregate WA, UA, macro-F1 and per-class recall over runs.

    Returns:
        ``{"labels", "n_runs", "seeds", "folds", "runs": [...], "summary": {metric: summarise()},
        "per_class": {label: summarise()}, "confusion": summed (C, C)}``.
    """
    labels = list(runs[0].results["labels"])
    summary = {m: summarise({r.key: r.results[m] for r in runs}) for m in METRIC_NAMES}
    per_class = {lab: summarise({r.key: r.results["per_class"].get(lab) for r in runs}) for lab in labels}
    conf = np.zeros((len(labels), len(labels)), dtype=int)
    for r in runs:
        conf += np.asarray(r.results["confusion"], dtype=int)
    return {
        "labels": labels,
        "n_runs": len(runs),
        "seeds": sorted({r.seed for r in runs}, key=_natural_key),
        "folds": sorted({r.fold for r in runs}, key=_natural_key),
        "runs": [{"seed": r.seed, "fold": r.fold, "n": r.results["n"],
                  **{m: r.results[m] for m in METRIC_NAMES}, "per_class": r.results["per_class"],
                  **({"per_corpus": r.results["per_corpus"]} if "per_corpus" in r.results else {})}
                 for r in runs],
        "summary": summary,
        "per_class": per_class,
        "confusion": conf.tolist(),
    }


def paired_test(a: Sequence[float], b: Sequence[float]) -> dict:
    """Paired comparison of a system (``a``) with a baseline (``b``) on the same folds x seeds.

    Args:
        a: (n,) metric of the system per run.
        b: (n,) metric of the baseline on the same runs, same order.

    Returns:
        ``{"n", "mean_diff", "wilcoxon_stat", "wilcoxon_p", "ttest_stat", "ttest_p"}``
        (two-sided; Wilcoxon signed-rank from scipy, exact for small n; p values
        are ``None`` where the test is undefined: n < 2, or all differences zero).
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_test: shapes {a.shape} and {b.shape} differ")
    d = a - b
    out = {"n": int(len(d)), "mean_diff": float(d.mean()) if len(d) else None,
           "wilcoxon_stat": None, "wilcoxon_p": None, "ttest_stat": None, "ttest_p": None}
    if len(d) < 2 or np.all(d == 0):
        return out
    w = stats.wilcoxon(a, b, alternative="two-sided")
    out["wilcoxon_stat"], out["wilcoxon_p"] = float(w.statistic), float(w.pvalue)
    if np.std(d) > 0:
        t = stats.ttest_rel(a, b)
        out["ttest_stat"], out["ttest_p"] = float(t.statistic), float(t.pvalue)
    return out


def paired_against(runs: Sequence[Run], base_runs: Sequence[Run]) -> dict:
    """Paired tests of WA, UA and macro-F1 against a baseline, matched on (seed, fold).

    Returns:
        ``{metric: paired_test(...), "paired": [[seed, fold], ...],
        "unpaired": [[seed, fold, "only in system"|"only in baseline"], ...]}``.

    Raises:
        ValueError: when no (seed, fold) is shared.
    """
    mine = {r.key: r for r in runs}
    base = {r.key: r for r in base_runs}
    shared = sorted(set(mine) & set(base), key=lambda k: (_natural_key(k[0]), _natural_key(k[1])))
    if not shared:
        raise ValueError(f"baseline shares no (seed, fold) with the experiment: {sorted(mine)} vs {sorted(base)}")
    unpaired = [[s, f, "only in system"] for s, f in sorted(set(mine) - set(base))]
    unpaired += [[s, f, "only in baseline"] for s, f in sorted(set(base) - set(mine))]
    for s, f, why in unpaired:
        logger.warning("paired test: %s/%s %s, left out of the test", s, f, why)
    out: Dict = {m: paired_test([mine[k].results[m] for k in shared], [base[k].results[m] for k in shared])
                 for m in METRIC_NAMES}
    out["paired"] = [list(k) for k in shared]
    out["unpaired"] = unpaired
    return out


# ---------------------------------------------------------------- Markdown

def _pct(v: Optional[float]) -> str:
    return "—" if v is None else f"{100 * v:.2f}"


def _pm(stats: Mapping, scale: float = 100.0, mean_key: str = "mean", std_key: str = "std") -> str:
    mean, std = stats.get(mean_key), stats.get(std_key)
    if mean is None:
        return "—"
    return f"{scale * mean:.2f} ± {scale * std:.2f}" if std is not None else f"{scale * mean:.2f}"


def _p(v: Optional[float]) -> str:
    return "—" if v is None else (f"{v:.4f}" if v >= 1e-4 else f"{v:.1e}")


def render_markdown(tag: str, agg: Mapping, *, command: str, commit: str, date: str,
                    baseline_tag: Optional[str] = None, paper: Optional[Mapping] = None,
                    plots: Sequence[str] = ()) -> str:
    """Render the RESULTS.md section body of one experiment (without the markers).

    Args:
        tag: experiment tag.
        agg: the aggregate dict (:func:`aggregate_runs` plus optional ``paired_test``,
            ``probe`` entries as written by ``bin/report.py``).
        command: the command line that produced the report.
        commit: git commit hash of the code.
        date: ISO date.
        baseline_tag: name of the baseline experiment of the paired test.
        paper: parsed paper table (see ``bin/report.py``), or None.
        plots: plot paths relative to the RESULTS.md file.
    """
    lines = [f"## {tag}", "",
             f"- date: {date}",
             f"- commit: `{commit}`",
             f"- command: `{command}`",
             f"- scored set: `{agg.get('decode_set', 'test')}`; runs: {agg['n_runs']} "
             f"(seeds: {', '.join(agg['seeds'])}; folds: {', '.join(agg['folds'])})",
             "- all numbers in %; mean ± std over folds (one seed) or over the per-seed means (several seeds); "
             "std is the sample std (ddof = 1)", ""]
    head = "| seed | fold | n | " + " | ".join(METRIC_NAMES.values()) + " |"
    lines += [head, "|" + "---|" * (3 + len(METRIC_NAMES))]
    for r in agg["runs"]:
        lines.append(f"| {r['seed']} | {r['fold']} | {r['n']} | " + " | ".join(_pct(r[m]) for m in METRIC_NAMES) + " |")
    s = agg["summary"]
    lines.append("| **mean ± std** | | | " + " | ".join(f"**{_pm(s[m])}**" for m in METRIC_NAMES) + " |")
    if len(agg["seeds"]) > 1:
        lines.append("| pooled folds × seeds | | | "
                     + " | ".join(_pm(s[m], mean_key="pooled_mean", std_key="pooled_std") for m in METRIC_NAMES) + " |")
    lines += ["", "Per-class recall (mean ± std over runs; — where a class is absent from a fold's reference):", "",
              "| class | recall |", "|---|---|"]
    for lab in agg["labels"]:
        pc = agg["per_class"][lab]
        lines.append(f"| {lab} | {_pm(pc, mean_key='pooled_mean', std_key='pooled_std')} |")
    pt = agg.get("paired_test")
    if pt:
        lines += ["", f"Paired test against `{baseline_tag}` (same seeds × folds, two-sided):", "",
                  "| metric | n | mean difference | Wilcoxon signed-rank p | paired t-test p |", "|---|---|---|---|---|"]
        for m, name in METRIC_NAMES.items():
            t = pt[m]
            diff = "—" if t["mean_diff"] is None else f"{100 * t['mean_diff']:+.2f}"
            lines.append(f"| {name} | {t['n']} | {diff} | {_p(t['wilcoxon_p'])} | {_p(t['ttest_p'])} |")
        if pt.get("unpaired"):
            lines.append("")
            lines.append("Left out of the test (no partner): "
                         + ", ".join(f"{s}/{f} ({why})" for s, f, why in pt["unpaired"]))
    probe = agg.get("probe")
    if probe:
        lines += ["", "Speaker probe (closed set, balanced accuracy in %, mean ± std over runs; lower = more "
                  "speaker-invariant):", "",
                  "| representation | runs | logistic regression | MLP (1 hidden layer) | chance |",
                  "|---|---|---|---|---|"]
        for name, p in probe.items():
            lines.append(f"| {name} | {p['n']} | {_pm(p['logreg_bacc'])} | {_pm(p['mlp_bacc'])} | "
                         f"{_pm(p['chance'])} |")
    if paper:
        lines += ["", f"Paper: {paper.get('source', '')}".rstrip(), ""]
        cols = [c for c in ("wa", "ua", "macro_f1") if any(c in row for row in paper["rows"])]
        lines.append("| system | " + " | ".join(METRIC_NAMES[c] for c in cols) + " | note |")
        lines.append("|" + "---|" * (len(cols) + 2))
        for row in paper["rows"]:
            lines.append(f"| {row['system']} | " + " | ".join(str(row.get(c, "—")) for c in cols)
                         + f" | {row.get('note', '')} |")
    if plots:
        lines += ["", "Plots: " + ", ".join(f"[{Path(p).name}]({p})" for p in plots)]
    return "\n".join(lines) + "\n"


def replace_section(text: str, tag: str, body: str) -> str:
    """Replace (or append) the ``<!-- report:<tag> -->`` ... ``<!-- /report:<tag> -->`` section.

    Text outside the markers is kept byte for byte.

    Raises:
        ValueError: on unbalanced or repeated markers.
    """
    start, end = f"<!-- report:{tag} -->", f"<!-- /report:{tag} -->"
    n_start, n_end = text.count(start), text.count(end)
    section = f"{start}\n{body.rstrip()}\n{end}"
    if n_start == 0 and n_end == 0:
        if not text:
            return section + "\n"
        # One blank line between the existing text and the new section.
        sep = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{sep}{section}\n"
    if n_start != 1 or n_end != 1 or text.index(start) > text.index(end):
        raise ValueError(f"RESULTS.md: markers for {tag!r} are unbalanced or repeated "
                         f"({n_start} x '{start}', {n_end} x '{end}'); fix them by hand")
    i, j = text.index(start), text.index(end) + len(end)
    return text[:i] + section + text[j:]


def load_paper_table(path: str | Path) -> dict:
    """Load a paper table (YAML).

    Format::

        source: "Leow et al. (2023), Table 3; Emo-DB, 5-fold LOSO-2"
        rows:
          - system: "CNN-biGRU + adversarial"
            ua: "73.6 ± 7.1"          # any of wa / ua / macro_f1, as printed in the paper (%)
            note: "speaker adversary"
          - system: "CNN-biGRU"
            ua: 67.3
            config: train_cnn1_noadv  # optional: the recipe config the number belongs to
                                      # (make_grid copies it into conf/tuning/GRID.md)

    Raises:
        FileNotFoundError / ValueError naming the file and the problem.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: paper table not found (--paper-table)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
        raise ValueError(f"{path}: expected a mapping with a non-empty 'rows' list (see load_paper_table docs)")
    for i, row in enumerate(data["rows"]):
        if not isinstance(row, dict) or "system" not in row:
            raise ValueError(f"{path}: rows[{i}] needs a 'system' name")
        extra = set(row) - {"system", "wa", "ua", "macro_f1", "note", "config"}
        if extra:
            raise ValueError(f"{path}: rows[{i}] has unknown keys {sorted(extra)}; "
                             "allowed: system, wa, ua, macro_f1, note, config")
    return data
