"""Classical reference system: ComParE_2016 functionals + linear SVM.

The usual speaker-independent SER baseline (Schuller et al.'s challenge
baselines): one (1, 6373) ComParE_2016 functional vector per utterance,
per-speaker z-normalisation, a linear SVM whose complexity C is chosen on a
dev split of training speakers (never on test), then posteriors for the test
set in the format of neural inference, so ``bin/score.py`` scores it.

Normalisation (``--norm``):
    speaker  each speaker standardised with the mean / population std of its
             OWN utterances (all of them, labelled or not).  A test speaker is
             normalised from its own unlabelled test features: this is the
             classical speaker compensation and uses no test labels.
    global   mean / std of the training set, applied to every set.
    none     raw features: only a contrast; on raw ComParE scales (up to ~1e4)
             LinearSVC hits ``--max-iter`` without converging and is slow
             (minutes per C value on Emo-DB).
Statistics and standardisation are :mod:`espnet_ser.features.norm`'s, shared
with the deep path (variance floored: a constant dimension becomes 0).

Classifier: ``sklearn.svm.LinearSVC`` (one-vs-rest, squared hinge,
``class_weight="balanced"`` by default because UA is the main metric),
trained on the training set only with the C chosen on dev by UA (ties go to
the smaller C).  The C grid is walked upwards and stops once dev UA has been
below its best for ``--patience`` consecutive values (default 2): larger C
means slower LinearSVC fits (minutes per fold at C = 1 on RAVDESS-sized folds)
and, past the peak, over-fitting.  ``--solver`` picks another linear
classifier for the same search (forced dual/primal LinearSVC, SGD on the
hinge loss, logistic regression); ``tools/benchmark_svm.py`` times them per fold.  LinearSVC gives no probabilities: ``--posteriors onehot``
(default) writes 1 for the SVM's decision and 0 elsewhere; ``softmax`` writes
the softmax of the decision scores (same argmax; NOT calibrated probabilities).

Outputs in ``--out-dir``:
    posteriors     ``utt p_0 ... p_{C-1}`` for every test utterance with
                   features, in the order of ``labels.txt``
    labels.txt     the class order (``--emotions`` inventory, or the sorted
                   training labels)
    svm.json       options, dev UA/WA and seconds per C tried, chosen C, counts,
                   seconds for the whole fold, versions
    skipped        ``<set>:<utt> <reason>`` for every utterance left out
With ``--dev-out-dir`` the final classifier (the chosen C) also writes the dev
set's ``posteriors`` and ``labels.txt`` there (``svm.sh``: ``decode_dev/``), which
late fusion (``espnet_ser.bin.fuse``) needs to choose its weights on dev.

Example:
    python -m espnet_ser.bin.svm_baseline \\
        --train-feats dump/compare_2016/fold1/train/feats.scp --train-dir data/fold1/train \\
        --dev-feats dump/compare_2016/fold1/dev/feats.scp --dev-dir data/fold1/dev \\
        --test-feats dump/compare_2016/fold1/test/feats.scp --test-dir data/fold1/test \\
        --emotions exp/svm/emotions.txt --norm speaker --out-dir exp/svm/fold1/decode_test
    python -m espnet_ser.bin.score --posteriors exp/svm/fold1/decode_test/posteriors ...
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.eval.metrics import wa_ua
from espnet_ser.features.ark_io import load_scp
from espnet_ser.labels import read_label_list
from espnet_ser.utils.data_dir import read_table

logger = logging.getLogger("espnet_ser.bin.svm_baseline")

NORM_MODES = ("speaker", "global", "none")
POSTERIOR_MODES = ("onehot", "softmax")
DEFAULT_C_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
SOLVERS = ("linearsvc", "linearsvc_dual", "linearsvc_primal", "sgd", "logreg")


@dataclass
class FeatureSet:
    """Utterance-level features of one data set.

    Attributes:
        name: ``train``, ``dev`` or ``test`` (used in messages and ``skipped``).
        utts: Utterance ids, sorted bytewise, (N,).
        feats: Features (N, D) float64.
        spks: Speaker of each utterance, (N,).
        labels: Emotion label of each utterance, ``None`` when unlabelled.
        skipped: ``(utt, reason)`` for every utterance left out.
    """

    name: str
    utts: List[str]
    feats: np.ndarray
    spks: List[str]
    labels: List[Optional[str]]
    skipped: List[Tuple[str, str]] = field(default_factory=list)


def load_feature_set(name: str, feats_scp: Path, data_dir: Path, ref: str = "utt2emo") -> FeatureSet:
    """Read (1, D) functionals and the speaker / emotion tables of one set.

    Utterances without features, without a speaker, or with non-finite
    features are left out and listed in ``skipped``; utterances absent from
    ``utt2emo`` are kept as unlabelled (they still count for speaker
    statistics and get test posteriors).

    Args:
        name: Set name for messages.
        feats_scp: ``feats.scp`` of the functionals.
        data_dir: Kaldi data directory with ``utt2spk`` and ``ref``.
        ref: Label table (``utt2emo``; ``utt2arousal`` for binary arousal).

    Returns:
        The loaded set.

    Raises:
        FileNotFoundError: If a required file is missing.
        ValueError: If a feature is not (1, D), dimensions differ, or no
            utterance is left.
    """
    data_dir = Path(data_dir)
    for table in ("utt2spk", ref):
        if not (data_dir / table).is_file():
            raise FileNotFoundError(
                f"svm_baseline: {data_dir / table} not found (--{name}-dir must "
                f"be a Kaldi data directory with utt2spk and {ref})"
            )
    utt2spk = read_table(data_dir / "utt2spk")
    utt2emo = read_table(data_dir / ref)
    feats = load_scp(feats_scp)

    skipped: List[Tuple[str, str]] = []
    for utt in sorted(set(utt2emo) - set(feats), key=lambda u: u.encode()):
        skipped.append((utt, f"labelled in {data_dir}/{ref} but not in {feats_scp}"))

    utts, rows, spks, labels = [], [], [], []
    dim = None
    for utt in sorted(feats.keys(), key=lambda u: u.encode()):
        if utt not in utt2spk:
            skipped.append((utt, f"in {feats_scp} but not in {data_dir}/utt2spk"))
            continue
        mat = np.asarray(feats[utt], dtype=np.float64)
        if mat.ndim == 1:
            mat = mat[None, :]
        if mat.ndim != 2 or mat.shape[0] != 1:
            raise ValueError(
                f"svm_baseline: {feats_scp}: {utt} has shape {mat.shape}; the SVM "
                "baseline needs utterance-level functionals (1, D), e.g. "
                "--feats_type compare_2016 in stage 2"
            )
        if dim is None:
            dim = mat.shape[1]
        elif mat.shape[1] != dim:
            raise ValueError(
                f"svm_baseline: {feats_scp}: {utt} has dimension {mat.shape[1]}, "
                f"earlier utterances {dim}; re-extract the features"
            )
        if not np.all(np.isfinite(mat)):
            skipped.append((utt, "non-finite feature values"))
            continue
        utts.append(utt)
        rows.append(mat[0])
        spks.append(utt2spk[utt])
        labels.append(utt2emo.get(utt))
    if not utts:
        raise ValueError(
            f"svm_baseline: no usable utterance in {feats_scp} with {data_dir} "
            f"({len(skipped)} skipped, first: {skipped[:1]})"
        )
    return FeatureSet(name, utts, np.stack(rows), spks, labels, skipped)


def normalise(sets: Sequence[FeatureSet], mode: str) -> List[np.ndarray]:
    """Normalise the features of several sets (the first is the training set).

    The statistics are those of the deep path (:mod:`espnet_ser.features.norm`,
    one implementation): population mean / std with the variance floored, so a
    constant dimension becomes 0.

    Args:
        sets: Training set first, then any others (dev, test).
        mode: ``speaker`` (each speaker with its own statistics, over all of
            its utterances in all given sets), ``global`` (training statistics)
            or ``none``.

    Returns:
        Normalised copies of each set's features, (N_i, D) each.

    Raises:
        ValueError: On an unknown mode.
    """
    from espnet_ser.features.norm import StatsAccumulator, speaker_stats, standardize

    if mode == "none":
        return [s.feats.copy() for s in sets]
    if mode == "global":
        acc = StatsAccumulator()
        acc.add(sets[0].feats, sets[0].name)
        mean, std = acc.mean_std()
        return [standardize(s.feats, mean, std, np.float64) for s in sets]
    if mode == "speaker":
        rows = {(i, j): s.feats[j:j + 1] for i, s in enumerate(sets) for j in range(len(s.utts))}
        row2spk = {(i, j): spk for i, s in enumerate(sets) for j, spk in enumerate(s.spks)}
        stats = speaker_stats(rows, row2spk, sorted(rows))
        for spk, (_, _, n) in sorted(stats.items()):
            if n < 2:
                logger.warning("speaker %s has 1 utterance: its normalised features are 0", spk)
        return [np.concatenate([standardize(s.feats[j:j + 1], *stats[s.spks[j]][:2], np.float64)
                                for j in range(len(s.utts))])
                for s in sets]
    raise ValueError(f"svm_baseline: --norm {mode!r}; choose one of {NORM_MODES}")


def _classifier(solver: str, c: float, class_weight, seed: int, max_iter: int, n: int):
    """The linear classifier of ``solver`` with complexity ``c`` (see ``SOLVERS``)."""
    if solver in ("linearsvc", "linearsvc_dual", "linearsvc_primal"):
        from sklearn.svm import LinearSVC

        dual = {"linearsvc": "auto", "linearsvc_dual": True, "linearsvc_primal": False}[solver]
        return LinearSVC(C=c, class_weight=class_weight, dual=dual, max_iter=max_iter,
                         random_state=seed)
    if solver == "sgd":
        from sklearn.linear_model import SGDClassifier

        # The same objective as the hinge SVM: alpha = 1 / (C n).
        return SGDClassifier(loss="hinge", alpha=1.0 / (c * n), class_weight=class_weight,
                             max_iter=max_iter, tol=1e-4, random_state=seed)
    if solver == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, class_weight=class_weight, max_iter=max_iter)
    raise ValueError(f"svm_baseline: --solver {solver!r}; choose one of {SOLVERS}")


def _fit(x: np.ndarray, y: np.ndarray, c: float, class_weight, seed: int, max_iter: int,
         solver: str = "linearsvc"):
    from sklearn.exceptions import ConvergenceWarning

    clf = _classifier(solver, c, class_weight, seed, max_iter, x.shape[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        logger.warning("%s(C=%g) did not converge in %d iterations", solver, c, max_iter)
    return clf


def _decision_matrix(clf, x: np.ndarray, num_classes: int) -> np.ndarray:
    """Decision scores (N, C) in inventory order; -inf for classes never trained."""
    scores = np.asarray(clf.decision_function(x), dtype=np.float64)
    if scores.ndim == 1:  # binary: sklearn gives the score of classes_[1]
        scores = np.stack([-scores, scores], axis=1)
    full = np.full((x.shape[0], num_classes), -np.inf)
    full[:, clf.classes_] = scores
    return full


def _parse_grid(text: str) -> List[float]:
    try:
        grid = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(
            f"svm_baseline: --c {text!r} is not a comma-separated list of numbers"
        ) from None
    if not grid or any(not math.isfinite(c) or c <= 0 for c in grid):
        raise ValueError(f"svm_baseline: --c {text!r} must list positive numbers")
    return sorted(set(grid))


def run_svm_baseline(
    train_feats: Path,
    train_dir: Path,
    test_feats: Path,
    test_dir: Path,
    out_dir: Path,
    dev_feats: Optional[Path] = None,
    dev_dir: Optional[Path] = None,
    norm: str = "speaker",
    c_grid: Sequence[float] = DEFAULT_C_GRID,
    emotions: Optional[Path] = None,
    posteriors: str = "onehot",
    class_weight: Optional[str] = "balanced",
    seed: int = 0,
    max_iter: int = 10000,
    ref: str = "utt2emo",
    solver: str = "linearsvc",
    patience: int = 2,
    dev_out_dir: Optional[Path] = None,
) -> dict:
    """Train the SVM baseline and write test posteriors.

    Args:
        train_feats / train_dir: Training functionals and data directory.
        test_feats / test_dir: Test functionals and data directory.
        out_dir: Output directory (``posteriors``, ``labels.txt``,
            ``svm.json``, ``skipped``).
        dev_feats / dev_dir: Dev set for choosing C (both or neither).
        norm: ``speaker``, ``global`` or ``none``.
        c_grid: Candidate C values; more than one needs a dev set.
        emotions: Label inventory (``emotions.txt``); default: sorted labels
            of the training set.
        posteriors: ``onehot`` or ``softmax``.
        class_weight: ``"balanced"`` or ``None``.
        seed: Random state of LinearSVC.
        max_iter: Iteration limit of LinearSVC (a warning is logged when hit).
        ref: Label table of the data directories (``utt2emo``, ``utt2arousal``, ...).
        solver: Linear classifier (``SOLVERS``; default LinearSVC, dual or primal as
            scikit-learn's ``dual="auto"`` picks).
        patience: The C path (ascending) stops once dev UA has been below its best
            for this many consecutive values (0: try every C).
        dev_out_dir: Where the final classifier writes the dev set's posteriors
            (and ``labels.txt``); None: not written.

    Returns:
        The summary written to ``svm.json`` (chosen C, dev scores per C,
        counts, and ``test_ua`` / ``test_wa`` over labelled test utterances
        whose label is in the inventory, for logging; scoring proper is
        ``bin/score.py``).

    Raises:
        FileNotFoundError, ValueError: On missing inputs or bad options.
    """
    if norm not in NORM_MODES:
        raise ValueError(f"svm_baseline: --norm {norm!r}; choose one of {NORM_MODES}")
    if posteriors not in POSTERIOR_MODES:
        raise ValueError(
            f"svm_baseline: --posteriors {posteriors!r}; choose one of {POSTERIOR_MODES}"
        )
    if max_iter < 1:
        raise ValueError(f"svm_baseline: --max-iter {max_iter} must be >= 1")
    if solver not in SOLVERS:
        raise ValueError(f"svm_baseline: --solver {solver!r}; choose one of {SOLVERS}")
    if patience < 0:
        raise ValueError(f"svm_baseline: --patience {patience} must be >= 0")
    t_start = time.perf_counter()
    if dev_out_dir is not None and dev_feats is None:
        raise ValueError("svm_baseline: --dev-out-dir needs --dev-feats/--dev-dir (the dev set to decode)")
    if (dev_feats is None) != (dev_dir is None):
        raise ValueError("svm_baseline: give both --dev-feats and --dev-dir, or neither")
    c_grid = sorted(set(float(c) for c in c_grid))
    if len(c_grid) > 1 and dev_feats is None:
        raise ValueError(
            f"svm_baseline: {len(c_grid)} C values but no dev set to choose among "
            "them; give --dev-feats/--dev-dir or a single --c"
        )

    train = load_feature_set("train", Path(train_feats), Path(train_dir), ref)
    sets = [train]
    dev = None
    if dev_feats is not None:
        dev = load_feature_set("dev", Path(dev_feats), Path(dev_dir), ref)
        sets.append(dev)
    test = load_feature_set("test", Path(test_feats), Path(test_dir), ref)
    sets.append(test)
    dims = {s.name: s.feats.shape[1] for s in sets}
    if len(set(dims.values())) != 1:
        raise ValueError(f"svm_baseline: feature dimensions differ between sets: {dims}")

    if emotions is not None:
        classes = read_label_list(emotions, "--emotions")
    else:
        classes = sorted(
            {lab for lab in train.labels if lab is not None}, key=lambda s: s.encode()
        )
    index = {lab: i for i, lab in enumerate(classes)}

    train_rows = []
    for i, (utt, lab) in enumerate(zip(train.utts, train.labels)):
        if lab is None:
            train.skipped.append((utt, f"unlabelled (no {ref} entry): not trained on"))
        elif lab not in index:
            raise ValueError(
                f"svm_baseline: training label {lab!r} of {utt} is not in {emotions}; "
                "the inventory must cover the training labels"
            )
        else:
            train_rows.append(i)
    if len({train.labels[i] for i in train_rows}) < 2:
        raise ValueError(
            "svm_baseline: the training set has fewer than 2 labelled classes; "
            f"check {train_dir}/{ref}"
        )

    normed = normalise(sets, norm)
    x_train = normed[0][train_rows]
    y_train = np.array([index[train.labels[i]] for i in train_rows])
    cw = class_weight if class_weight else None

    dev_scores = []
    if dev is not None:
        dev_rows = []
        for i, (utt, lab) in enumerate(zip(dev.utts, dev.labels)):
            if lab is None:
                dev.skipped.append((utt, "unlabelled: not used to choose C"))
            elif lab not in index:
                dev.skipped.append((utt, f"label {lab!r} not in the inventory"))
            else:
                dev_rows.append(i)
        if not dev_rows:
            raise ValueError(
                f"svm_baseline: no labelled dev utterance in {dev_dir} to choose C"
            )
        x_dev = normed[1][dev_rows]
        y_dev = np.array([index[dev.labels[i]] for i in dev_rows])
        for c in c_grid:
            t0 = time.perf_counter()
            clf = _fit(x_train, y_train, c, cw, seed, max_iter, solver)
            pred = _decision_matrix(clf, x_dev, len(classes)).argmax(axis=1)
            wa, ua = wa_ua(y_dev, pred)
            seconds = round(time.perf_counter() - t0, 3)
            dev_scores.append({"c": c, "ua": ua, "wa": wa, "seconds": seconds})
            logger.info("C=%g: dev UA %.4f WA %.4f (%.2f s)", c, ua, wa, seconds)
            best_ua = max(d["ua"] for d in dev_scores)
            if patience and len(dev_scores) > patience and all(
                    d["ua"] < best_ua for d in dev_scores[-patience:]):
                # Larger C: slower fits (LinearSVC) and, past the peak, over-fitting.
                logger.info("dev UA below its best (%.4f) for %d C values: C path stopped at "
                            "C=%g", best_ua, patience, c)
                break
        # max() keeps the first maximum: the smallest C among ties.
        best_c = max(dev_scores, key=lambda d: d["ua"])["c"]
    else:
        best_c = c_grid[0]
    logger.info("chosen C=%g (norm=%s)", best_c, norm)

    clf = _fit(x_train, y_train, best_c, cw, seed, max_iter, solver)

    def _posteriors(x: np.ndarray) -> np.ndarray:
        scores = _decision_matrix(clf, x, len(classes))
        if posteriors == "onehot":
            out = np.zeros_like(scores)
            out[np.arange(len(scores)), scores.argmax(axis=1)] = 1.0
            return out
        finite = np.where(np.isfinite(scores), scores, -1e30)
        e = np.exp(finite - finite.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    post = _posteriors(normed[-1])
    pred = post.argmax(axis=1)

    test_rows = [i for i, lab in enumerate(test.labels) if lab in index]
    test_ua = test_wa = None
    if test_rows:
        y_test = np.array([index[test.labels[i]] for i in test_rows])
        test_wa, test_ua = wa_ua(y_test, pred[test_rows])
        logger.info(
            "test UA (unweighted average recall) %.4f, WA (accuracy) %.4f on %d "
            "labelled utterances",
            test_ua,
            test_wa,
            len(test_rows),
        )

    out_dir = Path(out_dir)
    written = [(out_dir, test.utts, post)]
    if dev_out_dir is not None:
        written.append((Path(dev_out_dir), dev.utts, _posteriors(normed[1])))
    for where, utts, rows in written:
        where.mkdir(parents=True, exist_ok=True)
        with open(where / "posteriors", "w", encoding="utf-8") as f:
            for utt, p in zip(utts, rows):
                f.write(utt + " " + " ".join(f"{v:.6g}" for v in p) + "\n")
        (where / "labels.txt").write_text("".join(c + "\n" for c in classes), encoding="utf-8")
    with open(out_dir / "skipped", "w", encoding="utf-8") as f:
        for s in sets:
            for utt, reason in s.skipped:
                f.write(f"{s.name}:{utt} {reason}\n")

    import sklearn

    seconds = round(time.perf_counter() - t_start, 3)
    summary = {
        "seconds": seconds,
        "solver": solver,
        "patience": patience,
        "c_tried": [d["c"] for d in dev_scores],
        "norm": norm,
        "posteriors": posteriors,
        "class_weight": cw,
        "max_iter": max_iter,
        "c_grid": c_grid,
        "dev_scores": dev_scores,
        "chosen_c": best_c,
        "classes": classes,
        "feature_dim": int(train.feats.shape[1]),
        "num_train": len(train_rows),
        "num_dev": 0 if dev is None else len(dev.utts),
        "num_test": len(test.utts),
        "num_skipped": {s.name: len(s.skipped) for s in sets},
        "test_ua": test_ua,
        "test_wa": test_wa,
        "inputs": {
            "train_feats": str(train_feats),
            "train_dir": str(train_dir),
            "dev_feats": None if dev_feats is None else str(dev_feats),
            "dev_dir": None if dev_dir is None else str(dev_dir),
            "test_feats": str(test_feats),
            "test_dir": str(test_dir),
        },
        "sklearn_version": sklearn.__version__,
    }
    (out_dir / "svm.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    logger.info("%s: %.1f s (loading, normalisation, %d of %d C values on dev, final fit; solver %s)",
                out_dir, seconds, len(dev_scores), len(c_grid), solver)
    for s in sets:
        if s.skipped:
            logger.warning(
                "%s: %d utterance(s) skipped (see %s)", s.name, len(s.skipped),
                out_dir / "skipped",
            )
    return summary


def get_parser() -> argparse.ArgumentParser:
    """Command-line options (``--help`` prints them with defaults)."""
    p = argparse.ArgumentParser(
        description="ComParE_2016 functionals + linear SVM reference system "
        "(per-speaker z-normalisation, C chosen on dev)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--train-feats", type=Path, required=True, help="training feats.scp (1, D) per utt")
    p.add_argument("--train-dir", type=Path, required=True, help="training data dir (utt2spk, utt2emo)")
    p.add_argument("--dev-feats", type=Path, default=None, help="dev feats.scp for choosing C")
    p.add_argument("--dev-dir", type=Path, default=None, help="dev data dir")
    p.add_argument("--test-feats", type=Path, required=True, help="test feats.scp")
    p.add_argument("--test-dir", type=Path, required=True, help="test data dir")
    p.add_argument("--out-dir", type=Path, required=True, help="output directory")
    p.add_argument("--dev-out-dir", type=Path, default=None,
                   help="also write the dev set's posteriors here (late fusion chooses its weights on them)")
    p.add_argument("--norm", choices=NORM_MODES, default="speaker", help="feature normalisation")
    p.add_argument(
        "--c",
        default=",".join(f"{c:g}" for c in DEFAULT_C_GRID),
        help="comma-separated C grid (one value: no dev set needed)",
    )
    p.add_argument("--emotions", type=Path, default=None, help="label inventory emotions.txt")
    p.add_argument("--ref", default="utt2emo", help="label table of the data dirs (utt2arousal for binary arousal)")
    p.add_argument("--posteriors", choices=POSTERIOR_MODES, default="onehot", help="posterior format")
    p.add_argument(
        "--class-weight", choices=("balanced", "none"), default="balanced", help="SVM class weights"
    )
    p.add_argument("--seed", type=int, default=0, help="LinearSVC random state")
    p.add_argument("--max-iter", type=int, default=10000, help="solver iteration limit")
    p.add_argument("--solver", choices=SOLVERS, default="linearsvc",
                   help="linear classifier: LinearSVC (dual as scikit-learn's 'auto' picks, or "
                   "forced), SGD on the hinge loss (alpha = 1 / (C n)), logistic regression")
    p.add_argument("--patience", type=int, default=2,
                   help="stop the ascending C path once dev UA has been below its best for this "
                   "many consecutive C values (0: every C)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point; errors are printed as one line and give exit status 1."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"
    )
    logger.info("command: %s", " ".join(sys.argv))
    try:
        run_svm_baseline(
            train_feats=args.train_feats,
            train_dir=args.train_dir,
            test_feats=args.test_feats,
            test_dir=args.test_dir,
            out_dir=args.out_dir,
            dev_feats=args.dev_feats,
            dev_dir=args.dev_dir,
            norm=args.norm,
            c_grid=_parse_grid(args.c),
            emotions=args.emotions,
            posteriors=args.posteriors,
            class_weight=None if args.class_weight == "none" else args.class_weight,
            seed=args.seed,
            max_iter=args.max_iter,
            ref=args.ref,
            solver=args.solver,
            patience=args.patience,
            dev_out_dir=args.dev_out_dir,
        )
    except (FileNotFoundError, ValueError) as e:
        msg = str(e).replace("\n", " ")
        print(msg if msg.startswith("svm_baseline") else f"svm_baseline: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
