"""Late fusion of systems and seed ensembles: posterior averages scored as one more system.

Two modes, both on the per-run posteriors that stage 5 writes (``[seed<S>/]<fold>/decode_<set>/posteriors``,
columns in the order of the run's ``decode_test/results.json`` ``labels``; systems whose columns
come in another order are matched by label name):

* **late fusion** (two or more experiment dirs on the same folds, e.g. a deep model and the
  ComParE + SVM reference): ``p = sum_i w_i p_i`` with the weights chosen **per fold on the dev
  speakers only** (grid over the simplex, step ``--step``; the best dev UA, ties broken towards
  equal weights, then towards the first system), then applied unchanged to the test set.  The test
  labels are read only by the scoring after the weights are fixed.  ``--weights equal``: the plain
  posterior average instead (no choice; on Emo-DB, weights chosen on one dev speaker transferred
  worse to the other dev speaker than equal weights, egs/emodb/sier/RESULTS.md).  A seeded system
  (``seed<S>/<fold>``) is paired with the same seed of the other seeded systems; an unseeded one
  (the SVM: ``<fold>/``) is used for every seed.  Beside the weights, ``fusion.json`` records a
  **dev-speaker check** (:func:`dev_speaker_check`: weights chosen on all dev speakers but one,
  scored on that one, against equal weights; dev data only) and the log sums it over the folds, so
  a user sees whether the dev-chosen weights carry to a new speaker before reading any test score.
* **ensemble** (``--ensemble``, one experiment dir): per fold, the mean of the posteriors of all
  its seeds (equal weights), written as one unseeded run per fold.

Output, under ``--out`` (default ``exp/<tagA>+<tagB>`` or ``exp/<tag>_ens`` beside the first
system): per run ``decode_test/`` as stage 6 writes it (``posteriors``, ``results.json``,
``per_utt``, ``confusion.{txt,png}``; ``labels.txt``), ``decode_dev/posteriors`` (fused with the
same weights, so a fused system can be fused again), ``fusion.json`` (systems, chosen weights,
dev UA of every grid point); then stage 7's aggregation (``espnet_ser.bin.report --no-probe``):
``<out>/results.json`` and the section ``<tag>`` of ``--report``, so ``espnet_ser.bin.compare``
lists the fused system like any other.  A fusion is reported against its first system (paired
test over the shared seeds x folds) unless ``--baseline`` says otherwise.

Usage (in a recipe, after stages 5-6 of both systems)::

    python -m espnet_ser.bin.fuse exp/train_mfcc_speaker exp/svm_compare_2016_speaker \\
        --fold-root data/folds/emodb_l2so                       # -> exp/train_mfcc_speaker+svm_...
    python -m espnet_ser.bin.fuse --ensemble exp/train_mfcc_speaker --fold-root data/folds/emodb_l2so
    python -m espnet_ser.bin.compare exp/train_mfcc_speaker exp/train_mfcc_speaker_ens \\
        exp/train_mfcc_speaker+svm_compare_2016_speaker

Bad input (one line on stderr, exit status 1): systems scored on different utterance sets (both
files and the counts), different label inventories, a fold missing in one system, no dev
posteriors for a late fusion.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.eval.metrics import read_posteriors, wa_ua
from espnet_ser.utils.data_dir import read_table

logger = logging.getLogger("espnet_ser.bin.fuse")

_SEED_RE = re.compile(r"^seed\d+$")
#: A run: (seed directory name or None for an unseeded layout, fold directory name).
RunKey = Tuple[Optional[str], str]


class FusionError(ValueError):
    """Input that cannot be fused (printed as one line by :func:`main`)."""


def _natural(name: Optional[str]):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name or "")]


def find_runs(exp: Path) -> Dict[RunKey, Path]:
    """Run directories of one experiment that have ``decode_test/posteriors``.

    Returns:
        ``{(seed or None, fold): run dir}``.

    Raises:
        FusionError: the directory is missing, holds no run, or mixes seeded and unseeded runs.
    """
    exp = Path(exp)
    if not exp.is_dir():
        raise FusionError(f"fuse: {exp}: experiment directory not found")
    runs: Dict[RunKey, Path] = {}
    for post in sorted(exp.glob("*/*/decode_test/posteriors")):
        seed = post.parents[2].name
        if _SEED_RE.match(seed):
            runs[(seed, post.parents[1].name)] = post.parents[1]
    for post in sorted(exp.glob("*/decode_test/posteriors")):
        if not _SEED_RE.match(post.parents[1].name):
            runs[(None, post.parents[1].name)] = post.parents[1]
    if not runs:
        raise FusionError(f"fuse: {exp}: no [seed<S>/]<fold>/decode_test/posteriors; run stages 5-6 first")
    if len({seed is None for seed, _ in runs}) > 1:
        raise FusionError(f"fuse: {exp}: both seed<S>/<fold>/ and <fold>/ runs; keep one layout per experiment")
    return runs


def run_labels(run: Path) -> List[str]:
    """The label inventory of a run (the columns of its posteriors), from ``decode_test/results.json``."""
    path = run / "decode_test" / "results.json"
    if not path.is_file():
        raise FusionError(f"fuse: {path}: not found; score the run first (stage 6)")
    return list(json.loads(path.read_text(encoding="utf-8"))["labels"])


def load_set(run: Path, decode_set: str, n_classes: int) -> Tuple[Path, Dict[str, np.ndarray]]:
    """Posteriors of one decoded set of a run.

    Raises:
        FusionError: the posterior file is missing.
    """
    path = run / f"decode_{decode_set}" / "posteriors"
    if not path.is_file():
        why = ("late fusion chooses its weights on dev: decode dev too (ser.sh stage 5 decodes "
               "--probe_sets, default \"dev test\"; svm.sh stage 5 writes decode_dev)"
               if decode_set == "dev" else "run stage 5 first")
        raise FusionError(f"fuse: {path}: not found; {why}")
    return path, read_posteriors(path, n_classes)


def _reorder(loaded: Tuple[Path, Dict[str, np.ndarray]], order: List[int]) -> Tuple[Path, Dict[str, np.ndarray]]:
    path, post = loaded
    return path, {u: p[order] for u, p in post.items()}


def check_same_utts(sets: Sequence[Tuple[Path, Dict[str, np.ndarray]]]) -> List[str]:
    """The sorted utterance ids shared by every set.

    Raises:
        FusionError: two files hold different utterance sets (both files and the counts are named).
    """
    first_path, first = sets[0]
    for path, post in sets[1:]:
        if set(post) != set(first):
            diff = sorted(set(post) ^ set(first), key=str.encode)
            raise FusionError(
                f"fuse: {first_path} has {len(first)} utterances, {path} has {len(post)}, {len(diff)} "
                f"differ (e.g. {diff[0]}): the systems were scored on different utterance sets; "
                "decode both on the same fold lists")
    return sorted(first, key=str.encode)


def weight_grid(n_systems: int, step: float) -> np.ndarray:
    """Every weight vector on the simplex with the given step, closest-to-equal first among ties.

    Returns:
        ``(G, n_systems)`` weights summing to 1, ordered by distance to equal weights, then
        lexicographically by decreasing weight of the first system.
    """
    if not 0 < step <= 1:
        raise FusionError(f"fuse: --step {step}: must be in (0, 1]")
    n = int(round(1 / step))
    if abs(n * step - 1) > 1e-9:
        raise FusionError(f"fuse: --step {step}: 1 must be a whole number of steps (e.g. 0.05, 0.1)")
    points = [c for c in itertools.product(range(n + 1), repeat=n_systems) if sum(c) == n]
    grid = np.array(points, dtype=np.float64) / n
    dist = np.linalg.norm(grid - 1.0 / n_systems, axis=1)
    order = sorted(range(len(grid)), key=lambda i: (round(dist[i], 9), [-v for v in grid[i]]))
    return grid[order]


def _labelled(utts: Sequence[str], ref: Dict[str, str], labels: Sequence[str]) -> Tuple[List[int], np.ndarray]:
    index = {lab: i for i, lab in enumerate(labels)}
    rows = [i for i, u in enumerate(utts) if ref.get(u) in index]
    return rows, np.array([index[ref[utts[i]]] for i in rows], dtype=int)


def choose_weights(dev_posts: Sequence[np.ndarray], dev_ref: np.ndarray, grid: np.ndarray) -> Tuple[np.ndarray, list]:
    """The weights with the best dev UA (the first such grid point: the grid is ordered for ties).

    Args:
        dev_posts: per system ``(N, C)`` posteriors of the labelled dev utterances.
        dev_ref: ``(N,)`` reference class indices.
        grid: ``(G, S)`` candidate weights (:func:`weight_grid`).

    Returns:
        ``(weights (S,), [{"weights": [...], "ua": ..., "wa": ...}, ...])`` per grid point.
    """
    stack = np.stack(dev_posts)  # (S, N, C)
    scores, best, best_ua = [], None, -1.0
    for w in grid:
        pred = np.tensordot(w, stack, axes=1).argmax(axis=1)
        wa, ua = wa_ua(dev_ref, pred)
        scores.append({"weights": [round(float(v), 6) for v in w], "ua": ua, "wa": wa})
        if ua > best_ua + 1e-12:
            best, best_ua = w, ua
    return best, scores


def dev_speaker_check(dev_posts: Sequence[np.ndarray], dev_ref: np.ndarray, speakers: Sequence[str],
                      grid: np.ndarray, train_speakers: Optional[set] = None) -> Optional[dict]:
    """Do weights chosen on dev carry to a speaker they were not chosen on?  Dev data only.

    Leave one dev speaker out: choose the weights (:func:`choose_weights`, the ``dev`` rule's grid
    and tie order) on the other dev speakers' utterances, score UA on the held-out speaker, and
    score equal weights on the same speaker beside them.  The test set is never read.  On Emo-DB
    (2 dev speakers per fold) the chosen weights lost to equal weights on the held-out dev
    speaker (egs/emodb/sier/RESULTS.md), the evidence behind ``--weights equal``.

    Args:
        dev_posts: per system ``(N, C)`` posteriors of the labelled dev utterances.
        dev_ref: ``(N,)`` reference class indices.
        speakers: ``(N,)`` speaker of each utterance.
        grid: ``(G, S)`` candidate weights (:func:`weight_grid`).
        train_speakers: the fold's training speakers, when known.

    Returns:
        ``{"held_out": [{"speaker", "n", "weights", "ua", "equal_ua"}, ...], "ua": mean, "equal_ua":
        mean}``, or None with fewer than two dev speakers.  With ``train_speakers`` also
        ``"dev_speakers_in_train"``: with a speaker-dependent dev set (EMOVO's ``--dev-mode utts``)
        the held-out dev speaker was trained on, and the check favoured the chosen weights on EMOVO
        while equal weights won on its unseen test speakers (egs/emovo/sier/RESULTS.md).
    """
    spk = np.asarray(speakers)
    names = sorted(set(spk.tolist()), key=str.encode)
    if len(names) < 2:
        return None
    stack = np.stack(dev_posts)  # (S, N, C)
    equal = np.full(stack.shape[0], 1.0 / stack.shape[0])
    held = []
    for name in names:
        out = spk == name
        w, _ = choose_weights([p[~out] for p in dev_posts], dev_ref[~out], grid)
        ua = wa_ua(dev_ref[out], np.tensordot(w, stack[:, out], axes=1).argmax(axis=1))[1]
        equal_ua = wa_ua(dev_ref[out], np.tensordot(equal, stack[:, out], axes=1).argmax(axis=1))[1]
        held.append({"speaker": name, "n": int(out.sum()), "weights": [round(float(v), 6) for v in w],
                     "ua": ua, "equal_ua": equal_ua})
    check = {"held_out": held, "ua": float(np.mean([h["ua"] for h in held])),
             "equal_ua": float(np.mean([h["equal_ua"] for h in held]))}
    if train_speakers is not None:
        check["dev_speakers_in_train"] = any(name in train_speakers for name in names)
    return check


def _log_dev_speaker_check(records: Sequence[dict]) -> None:
    pairs = [h for r in records if r.get("dev_speaker_check") for h in r["dev_speaker_check"]["held_out"]]
    if not pairs:
        logger.info("dev-speaker check: not made (fewer than two dev speakers per fold, or no dev utt2spk)")
        return
    seen = any(r["dev_speaker_check"].get("dev_speakers_in_train") for r in records if r.get("dev_speaker_check"))
    chosen = np.array([h["ua"] for h in pairs])
    equal = np.array([h["equal_ua"] for h in pairs])
    logger.info("dev-speaker check (dev data only; fusion.json \"dev_speaker_check\"): weights chosen on the "
                "other dev speakers give UA %.2f%% on the held-out dev speaker, equal weights %.2f%% "
                "(%d held-out speaker runs: chosen better in %d, equal better in %d)%s",
                100 * chosen.mean(), 100 * equal.mean(), len(pairs), int((chosen > equal).sum()),
                int((equal > chosen).sum()),
                "; the dev speakers are training speakers (speaker-dependent dev), so this does not tell how "
                "the weights carry to an unseen speaker" if seen else
                "; the dev-chosen weights did not carry to a new speaker: consider --weights equal"
                if equal.mean() > chosen.mean() else "")


def _write_posteriors(path: Path, utts: Sequence[str], post: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(u + " " + " ".join(f"{v:.6g}" for v in p) + "\n" for u, p in zip(utts, post)),
                    encoding="utf-8")


def _score(out_run: Path, utts, post, labels, fold_root: Path, fold: str, ref: str, tag: str) -> dict:
    from espnet_ser.bin.score import score_dir

    dec = out_run / "decode_test"
    _write_posteriors(dec / "posteriors", utts, post)
    (dec / "labels.txt").write_text("".join(lab + "\n" for lab in labels), encoding="utf-8")
    return score_dir(str(dec / "posteriors"), str(dec / "labels.txt"), str(fold_root / fold / "test"), str(dec),
                     ref=ref, tag=tag)


def _out_run(out: Path, key: RunKey) -> Path:
    seed, fold = key
    return out / seed / fold if seed else out / fold


def late_fusion(systems: Sequence[Path], out: Path, fold_root: Path, *, ref: str = "utt2emo",
                step: float = 0.05, weights: str = "dev") -> List[dict]:
    """Fuse the runs of several systems with weights chosen on dev per fold (module docstring).

    ``weights="equal"`` fixes every weight to 1 / (number of systems) instead of choosing them.

    Returns:
        One ``fusion.json`` record per fused run.

    Raises:
        FusionError: on any input that cannot be fused.
    """
    if len(systems) < 2:
        raise FusionError("fuse: late fusion needs two or more experiment dirs (or --ensemble for one)")
    all_runs = [find_runs(s) for s in systems]
    seeded = [{seed for seed, _ in r} != {None} for r in all_runs]
    folds = [{f for _, f in r} for r in all_runs]
    shared_folds = set.intersection(*folds)
    for s, f in zip(systems, folds):
        if f != shared_folds:
            raise FusionError(f"fuse: {s} has folds {sorted(f, key=_natural)}, the systems share only "
                              f"{sorted(shared_folds, key=_natural)}: fuse systems run on the same folds")
    seed_sets = [{seed for seed, _ in r} for r, sd in zip(all_runs, seeded) if sd]
    seeds: List[Optional[str]] = sorted(set.intersection(*seed_sets), key=_natural) if seed_sets else [None]
    if seed_sets and not seeds:
        raise FusionError(f"fuse: the seeded systems share no seed ({[sorted(s) for s in seed_sets]})")
    if weights not in ("dev", "equal"):
        raise FusionError(f"fuse: --weights {weights}: expected dev (chosen per fold on dev UA) or equal")
    dev_grid = weight_grid(len(systems), step)   # the dev rule's grid; the dev-speaker check uses it either way
    grid = dev_grid if weights == "dev" else np.full((1, len(systems)), 1.0 / len(systems))
    records = []
    speakers: Dict[str, tuple] = {}   # fold -> (dev utt2spk, train utt2spk), read once for all seeds
    for seed in seeds:
        for fold in sorted(shared_folds, key=_natural):
            key = (seed, fold)
            runs = []
            for s, r, sd in zip(systems, all_runs, seeded):
                k = (seed, fold) if sd else (None, fold)
                if k not in r:
                    raise FusionError(f"fuse: {s}: no run {'/'.join(x for x in k if x)} (the other systems have it)")
                runs.append(r[k])
            labels = run_labels(runs[0])
            orders = []   # each system's columns in the first system's label order
            for run in runs:
                theirs = run_labels(run)
                if sorted(theirs) != sorted(labels):
                    raise FusionError(f"fuse: {run}/decode_test/results.json: labels {theirs} differ "
                                      f"from {labels} of {runs[0]}; fuse systems of the same task")
                orders.append([theirs.index(lab) for lab in labels])
            dev = [_reorder(load_set(run, "dev", len(labels)), o) for run, o in zip(runs, orders)]
            test = [_reorder(load_set(run, "test", len(labels)), o) for run, o in zip(runs, orders)]
            dev_utts, test_utts = check_same_utts(dev), check_same_utts(test)
            dev_ref = read_table(fold_root / fold / "dev" / ref)
            rows, y = _labelled(dev_utts, dev_ref, labels)
            if not rows:
                raise FusionError(f"fuse: {fold_root / fold / 'dev' / ref}: no labelled dev utterance among "
                                  f"{dev[0][0]}; the weights are chosen on dev")
            dev_mats = [np.stack([p[u] for u in dev_utts]) for _, p in dev]
            w, scores = choose_weights([m[rows] for m in dev_mats], y, grid)
            check = None
            if fold not in speakers:
                files = (fold_root / fold / "dev" / "utt2spk", fold_root / fold / "train" / "utt2spk")
                speakers[fold] = tuple(read_table(f) if f.is_file() else None for f in files)
            dev_spk, train_spk = speakers[fold]
            if dev_spk is not None:
                check = dev_speaker_check([m[rows] for m in dev_mats], y,
                                          [dev_spk.get(dev_utts[i], "") for i in rows], dev_grid,
                                          None if train_spk is None else set(train_spk.values()))
            # The weights are fixed; only now is the test set read (through scoring).
            test_mats = [np.stack([p[u] for u in test_utts]) for _, p in test]
            out_run = _out_run(out, key)
            _write_posteriors(out_run / "decode_dev" / "posteriors", dev_utts,
                              np.tensordot(w, np.stack(dev_mats), axes=1))
            res = _score(out_run, test_utts, np.tensordot(w, np.stack(test_mats), axes=1), labels, fold_root,
                         fold, ref, f"{out.name}/{'/'.join(x for x in key if x)}")
            best = max(s["ua"] for s in scores)
            record = {"mode": "late", "systems": [str(r) for r in runs], "weights": [float(v) for v in w],
                      "dev_ua": best, "dev_n": len(rows), "rule": weights, "step": step, "grid": scores,
                      "dev_speaker_check": check, "test_ua": res["ua"], "test_wa": res["wa"]}
            (out_run / "fusion.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            logger.info("%s: weights %s (dev UA %.2f%% on %d utterances) -> test UA %.2f%%, WA %.2f%%",
                        out_run, [round(float(v), 3) for v in w], 100 * best, len(rows), 100 * res["ua"],
                        100 * res["wa"])
            records.append(record)
    _log_dev_speaker_check(records)
    return records


def ensemble(system: Path, out: Path, fold_root: Path, *, ref: str = "utt2emo") -> List[dict]:
    """Average the posteriors of every seed of each fold (equal weights; module docstring).

    Raises:
        FusionError: on an unseeded system, or seeds that do not cover the same folds/utterances.
    """
    runs = find_runs(system)
    if {seed for seed, _ in runs} == {None}:
        raise FusionError(f"fuse: --ensemble {system}: no seed<S>/ runs to average (one run per fold)")
    seeds = sorted({seed for seed, _ in runs}, key=_natural)
    folds = sorted({f for _, f in runs}, key=_natural)
    records = []
    for fold in folds:
        missing = [s for s in seeds if (s, fold) not in runs]
        if missing:
            raise FusionError(f"fuse: --ensemble {system}: {fold} lacks {missing} (seeds {seeds}); "
                              "run every seed on every fold, or give --folds/--seeds runs only")
        members = [runs[(s, fold)] for s in seeds]
        labels = run_labels(members[0])
        for run in members[1:]:
            if run_labels(run) != labels:
                raise FusionError(f"fuse: {run}/decode_test/results.json: labels differ from {members[0]}")
        out_run = out / fold
        test = [load_set(run, "test", len(labels)) for run in members]
        utts = check_same_utts(test)
        mean = np.mean([np.stack([p[u] for u in utts]) for _, p in test], axis=0)
        if all((run / "decode_dev" / "posteriors").is_file() for run in members):
            dev = [load_set(run, "dev", len(labels)) for run in members]
            dev_utts = check_same_utts(dev)
            _write_posteriors(out_run / "decode_dev" / "posteriors", dev_utts,
                              np.mean([np.stack([p[u] for u in dev_utts]) for _, p in dev], axis=0))
        res = _score(out_run, utts, mean, labels, fold_root, fold, ref, f"{out.name}/{fold}")
        record = {"mode": "ensemble", "systems": [str(r) for r in members],
                  "weights": [1.0 / len(members)] * len(members), "test_ua": res["ua"], "test_wa": res["wa"]}
        (out_run / "fusion.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        logger.info("%s: mean of %d seeds -> test UA %.2f%%, WA %.2f%%", out_run, len(members),
                    100 * res["ua"], 100 * res["wa"])
        records.append(record)
    return records


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("systems", nargs="+", type=Path, help="experiment dirs exp/<tag> (one with --ensemble)")
    p.add_argument("--fold-root", type=Path, required=True,
                   help="data/folds/<protocol>: <fold>/{dev,test}/<ref> hold the references")
    p.add_argument("--ensemble", action="store_true", help="average the seeds of one system per fold")
    p.add_argument("--out", type=Path, default=None,
                   help="output experiment dir (default exp/<tagA>+<tagB>, or exp/<tag>_ens)")
    p.add_argument("--ref", default="utt2emo", help="reference table of the fold data dirs")
    p.add_argument("--step", type=float, default=0.05, help="weight grid step (late fusion)")
    p.add_argument("--weights", choices=("dev", "equal"), default="dev",
                   help="late-fusion weights: chosen per fold on dev UA, or all equal (no choice)")
    p.add_argument("--report", default="RESULTS.md",
                   help="RESULTS.md whose section <tag> the aggregation writes (as stage 7)")
    p.add_argument("--baseline", default=None,
                   help="experiment the fused system is tested against (default: the first system for "
                   "late fusion, none for --ensemble; \"\" for none)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    systems = [Path(s) for s in args.systems]
    try:
        if args.ensemble and len(systems) != 1:
            raise FusionError(f"fuse: --ensemble takes one experiment dir, got {len(systems)}")
        if not args.ensemble and len(systems) < 2:
            raise FusionError("fuse: late fusion needs two or more experiment dirs (or --ensemble for one)")
        if args.out is None:
            name = (systems[0].name + "_ens" if args.ensemble else "+".join(s.resolve().name for s in systems))
            args.out = systems[0].resolve().parent / name
        if any(args.out.resolve() == s.resolve() for s in systems):
            raise FusionError(f"fuse: --out {args.out} is one of the inputs")
        fold_root = args.fold_root
        if not fold_root.is_dir():
            raise FusionError(f"fuse: --fold-root {fold_root}: not a directory (data/folds/<protocol>)")
        if args.ensemble:
            ensemble(systems[0], args.out, fold_root, ref=args.ref)
        else:
            late_fusion(systems, args.out, fold_root, ref=args.ref, step=args.step, weights=args.weights)
        baseline = args.baseline
        if baseline is None:
            baseline = "" if args.ensemble else str(systems[0])
        from espnet_ser.bin.report import get_parser as report_parser, make_report

        rargs = ["--exp-dir", str(args.out), "--out", args.report, "--no-probe", "--tsne", "none"]
        if baseline:
            rargs += ["--baseline", baseline]
        make_report(report_parser().parse_args(rargs),
                    "python -m espnet_ser.bin.fuse " + " ".join(shlex.quote(a) for a in argv))
    except (FusionError, ValueError, FileNotFoundError) as exc:
        msg = str(exc).replace("\n", " ")
        print(msg if msg.startswith("fuse") else f"fuse: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
