"""Aggregate an experiment over folds x seeds and write its RESULTS.md section (pipeline stage 7).

Usage:
    python -m espnet_ser.bin.report --exp-dir exp/sier \\
        [--baseline exp/sier_noadv] [--paper-table conf/paper_results.yaml] \\
        [--probe-raw-feats 'dump/mfcc/{fold}/test/feats.scp'] --out RESULTS.md

Reads every ``[seed<S>/][<fold>/]decode_<set>/results.json`` under ``--exp-dir``
(discovery rule: :mod:`espnet_ser.eval.aggregate`) and writes

* ``<exp-dir>/results.json``: the aggregate (per-run numbers, mean ± std over
  folds per seed and over seeds, pooled, per-class recall, summed confusion,
  paired test, speaker probe, skipped files);
* ``<exp-dir>/plots/``: ``confusion_sum.png``, ``train_<seed>_<fold>.png`` for
  every run with a ``train.log`` beside its ``decode_<set>/``, and
  ``tsne_<seed>_<fold>.png`` (embeddings coloured by emotion and speaker);
* the section ``<!-- report:<tag> -->`` ... ``<!-- /report:<tag> -->`` of
  ``--out`` (created or replaced; text outside the markers is kept).

Speaker probe: for each run, ``decode_<set>/probe.json`` when stage 7 wrote it
with ``bin/speaker_probe.py``; otherwise, when ``decode_<set>/embeddings.scp``
and ``decode_<set>/per_utt`` (written by ``bin/score.py``) exist, a closed-set
speaker probe on the scored utterances (:func:`espnet_ser.eval.probe.speaker_probe`);
the same on the baseline's runs, and on raw features when ``--probe-raw-feats``
is given (a feats.scp path; ``{fold}`` is replaced by each fold's name; (T, D)
matrices are pooled to mean + std).
"""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from espnet_ser.eval.aggregate import (
    Run,
    aggregate_runs,
    discover_runs,
    load_paper_table,
    paired_against,
    render_markdown,
    replace_section,
)
from espnet_ser.eval.plots import parse_train_log, plot_confusion, plot_training_curves, plot_tsne
from espnet_ser.eval.probe import pool_mean_std, speaker_probe

logger = logging.getLogger("espnet_ser.bin.report")


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--exp-dir", required=True, help="experiment dir exp/<tag>")
    p.add_argument("--out", required=True, help="RESULTS.md to create or update")
    p.add_argument("--tag", default=None, help="section name (default: basename of --exp-dir)")
    p.add_argument("--decode-set", default="test", help="scored set: reads decode_<set>/results.json")
    p.add_argument("--baseline", default=None, help="baseline experiment dir for the paired test and probe")
    p.add_argument("--paper-table", default=None, help="YAML table of the paper's numbers")
    p.add_argument("--probe-raw-feats", default=None,
                   help="feats.scp of raw features for the speaker probe; '{fold}' is replaced per fold")
    p.add_argument("--no-probe", action="store_true", help="skip the speaker probe")
    p.add_argument("--tsne", choices=["first", "all", "none"], default="first",
                   help="t-SNE of the embeddings of the first run, of every run, or none")
    p.add_argument("--tsne-max-points", type=int, default=2000, help="subsample size for t-SNE")
    p.add_argument("--seed", type=int, default=0, help="seed of the probe split, MLP and t-SNE")
    return p


def git_commit() -> str:
    """Commit hash of the espnet_ser code (``-dirty`` when it has uncommitted changes), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
                               cwd=here.parent, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def read_per_utt(decode_dir: Path) -> Dict[str, tuple]:
    """Read ``per_utt`` (``utt spk ref hyp``) written by ``bin/score.py``."""
    from espnet_ser.utils.data_dir import read_table

    path = decode_dir / "per_utt"
    table = {}
    for lineno, (utt, value) in enumerate(read_table(path).items(), 1):
        f = value.split()
        if len(f) != 3:
            raise ValueError(f"{path}:{lineno}: expected 'utt spk ref hyp', got {utt} {value!r}; re-run scoring")
        table[utt] = tuple(f)
    return table


def load_vectors(scp: str | Path, utts: Sequence[str]) -> tuple:
    """Load utterance vectors of ``utts`` from an scp; (T, D) matrices with T > 1 are mean+std pooled.

    Returns:
        ``(X (N, D), kept_utts, missing_utts)``.
    """
    from espnet_ser.features.ark_io import load_scp

    table = load_scp(scp)
    rows, kept, missing = [], [], []
    for u in utts:
        if u not in table:
            missing.append(u)
            continue
        mat = np.asarray(table[u])
        if mat.ndim == 1:
            mat = mat[None, :]
        rows.append(mat[0] if mat.shape[0] == 1 else pool_mean_std(mat))
        kept.append(u)
    dims = {len(r) for r in rows}
    if len(dims) > 1:
        raise ValueError(f"{scp}: utterance vectors of different sizes {sorted(dims)}")
    X = np.stack(rows) if rows else np.zeros((0, 0))
    return X, kept, missing


def _probe_summary(items: List[dict]) -> dict:
    def ms(key):
        v = [it[key] for it in items]
        return {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None}

    return {"n": len(items), "logreg_bacc": ms("logreg_bacc"), "mlp_bacc": ms("mlp_bacc"),
            "chance": ms("chance"), "runs": items}


def probe_runs(runs: Sequence[Run], *, seed: int, skipped: List[List[str]]) -> List[dict]:
    """Speaker probe on each run's embeddings (scored utterances only)."""
    out = []
    for run in runs:
        done = run.decode_dir / "probe.json"
        if done.is_file():
            # Written by bin/speaker_probe.py in stage 7 (all utterances of the set, from its data dir).
            res = json.loads(done.read_text(encoding="utf-8"))
            lacking = [k for k in ("logreg_bacc", "mlp_bacc", "chance") if k not in res]
            if lacking:
                raise ValueError(f"{done}: lacks {lacking}; delete it or re-run bin/speaker_probe.py")
            res.update({"seed": run.seed, "fold": run.fold, "source": str(done)})
            out.append(res)
            continue
        scp = run.decode_dir / "embeddings.scp"
        if not scp.is_file() or not (run.decode_dir / "per_utt").is_file():
            skipped.append([str(run.decode_dir), "probe: no embeddings.scp or per_utt"])
            continue
        per_utt = read_per_utt(run.decode_dir)
        X, kept, missing = load_vectors(scp, sorted(per_utt))
        if missing:
            skipped.append([str(scp), f"probe: {len(missing)} scored utterances without embedding, "
                                      f"e.g. {missing[:3]}"])
        res = speaker_probe(X, [per_utt[u][0] for u in kept], seed=seed)
        res.update({"seed": run.seed, "fold": run.fold})
        logger.info("probe %s/%s: logreg %.3f, MLP %.3f, chance %.3f", run.seed, run.fold,
                    res["logreg_bacc"], res["mlp_bacc"], res["chance"])
        out.append(res)
    return out


def probe_raw(runs: Sequence[Run], template: str, *, seed: int, skipped: List[List[str]]) -> List[dict]:
    """Speaker probe on pooled raw features, once per fold, on the utterances scored in that fold."""
    out = []
    done = set()
    for run in runs:
        if run.fold in done or not (run.decode_dir / "per_utt").is_file():
            continue
        done.add(run.fold)
        scp = template.replace("{fold}", run.fold)
        if not Path(scp).is_file():
            raise FileNotFoundError(f"{scp}: raw feats.scp for fold {run.fold} not found (--probe-raw-feats)")
        per_utt = read_per_utt(run.decode_dir)
        X, kept, missing = load_vectors(scp, sorted(per_utt))
        if missing:
            skipped.append([scp, f"raw probe: {len(missing)} scored utterances without features, e.g. {missing[:3]}"])
        res = speaker_probe(X, [per_utt[u][0] for u in kept], seed=seed)
        res.update({"fold": run.fold, "feats": scp})
        out.append(res)
    return out


def make_plots(tag: str, runs: Sequence[Run], agg: dict, plot_dir: Path, *, tsne: str, max_points: int,
               seed: int, skipped: List[List[str]]) -> List[Path]:
    """Summed confusion, training curves and t-SNE plots; returns the files written."""
    written = []
    png = plot_dir / "confusion_sum.png"
    plot_confusion(agg["confusion"], agg["labels"], png, title=f"{tag}: summed over {len(runs)} runs")
    written.append(png)
    for run in runs:
        log = run.decode_dir.parent / "train.log"
        if not log.is_file():
            skipped.append([str(log), "training curves: no train.log"])
            continue
        epochs = parse_train_log(log)
        if not epochs:
            skipped.append([str(log), "training curves: no '<N>epoch results:' line"])
            continue
        png = plot_dir / f"train_{run.seed}_{run.fold}.png"
        if not png.is_file() or png.stat().st_mtime < log.stat().st_mtime:
            # A finished run's curves do not change: redraw only when the log is newer.
            plot_training_curves(epochs, png, title=f"{tag} {run.seed} {run.fold}")
        written.append(png)
    tsne_runs = {"first": list(runs[:1]), "all": list(runs), "none": []}[tsne]
    for run in tsne_runs:
        scp = run.decode_dir / "embeddings.scp"
        if not scp.is_file() or not (run.decode_dir / "per_utt").is_file():
            skipped.append([str(run.decode_dir), "t-SNE: no embeddings.scp or per_utt"])
            continue
        per_utt = read_per_utt(run.decode_dir)
        X, kept, _missing = load_vectors(scp, sorted(per_utt))
        if len(kept) < 5:
            skipped.append([str(scp), f"t-SNE: only {len(kept)} embedded utterances"])
            continue
        png = plot_dir / f"tsne_{run.seed}_{run.fold}.png"
        plot_tsne(X, [per_utt[u][1] for u in kept], [per_utt[u][0] for u in kept], png,
                  max_points=max_points, seed=seed, title=f"{tag} {run.seed} {run.fold}")
        written.append(png)
    return written


def make_report(args: argparse.Namespace, command: str) -> dict:
    """Run the whole report; returns the aggregate written to ``<exp-dir>/results.json``."""
    exp = Path(args.exp_dir)
    tag = args.tag or exp.resolve().name
    paper = load_paper_table(args.paper_table) if args.paper_table else None
    runs, skipped_files = discover_runs(exp, args.decode_set)
    skipped: List[List[str]] = [list(s) for s in skipped_files]
    agg = aggregate_runs(runs)
    agg = {"tag": tag, "decode_set": args.decode_set, **agg}
    base_runs: List[Run] = []
    baseline_tag = None
    if args.baseline:
        base_runs, _ = discover_runs(args.baseline, args.decode_set)
        baseline_tag = Path(args.baseline).resolve().name
        if base_runs[0].results["labels"] != agg["labels"]:
            raise ValueError(f"{args.baseline}: labels {base_runs[0].results['labels']} differ from {agg['labels']}")
        agg["baseline"] = baseline_tag
        agg["paired_test"] = paired_against(runs, base_runs)
    if not args.no_probe:
        probe: Dict[str, dict] = {}
        mine = probe_runs(runs, seed=args.seed, skipped=skipped)
        if mine:
            probe[f"{tag} embeddings"] = _probe_summary(mine)
        if base_runs:
            theirs = probe_runs(base_runs, seed=args.seed, skipped=skipped)
            if theirs:
                probe[f"{baseline_tag} embeddings (baseline)"] = _probe_summary(theirs)
        if args.probe_raw_feats:
            raw = probe_raw(runs, args.probe_raw_feats, seed=args.seed, skipped=skipped)
            if raw:
                probe["raw features (mean + std pooled)"] = _probe_summary(raw)
        if probe:
            agg["probe"] = probe
    plots = make_plots(tag, runs, agg, exp / "plots", tsne=args.tsne, max_points=args.tsne_max_points,
                       seed=args.seed, skipped=skipped)
    out = Path(args.out)
    # Links in RESULTS.md are relative to the file, so the recipe dir can move.
    agg["plots"] = [os.path.relpath(p.resolve(), out.resolve().parent) for p in plots]
    agg["skipped"] = skipped
    for path, reason in skipped:
        logger.warning("skipped %s: %s", path, reason)
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    commit = git_commit()
    agg["command"], agg["commit"], agg["date"] = command, commit, date
    tmp = exp / "results.json.tmp"
    tmp.write_text(json.dumps(agg, indent=2) + "\n", encoding="utf-8")
    tmp.replace(exp / "results.json")
    body = render_markdown(tag, agg, command=command, commit=commit, date=date, baseline_tag=baseline_tag,
                           paper=paper, plots=agg["plots"])
    text = out.read_text(encoding="utf-8") if out.is_file() else "# RESULTS\n\n"
    new = replace_section(text, tag, body)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_md = out.with_name(out.name + ".tmp")
    tmp_md.write_text(new, encoding="utf-8")
    tmp_md.replace(out)
    s = agg["summary"]
    logger.info("%s: %d runs; WA (accuracy) %.2f%%, UA (unweighted average recall) %.2f%%, macro-F1 %.2f%%; "
                "%d skipped; wrote %s and %s", tag, len(runs), 100 * s["wa"]["mean"], 100 * s["ua"]["mean"],
                100 * s["macro_f1"]["mean"], len(skipped), exp / "results.json", out)
    return agg


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    command = "python -m espnet_ser.bin.report " + " ".join(shlex.quote(a) for a in argv)
    try:
        make_report(args, command)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"report.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
