"""Scoring of utterance-level emotion posteriors (pipeline stage 6): the one WA/UA.

Definitions (used by scoring, the trainer's epoch ``wa``/``ua``, the SVM
reference and the speaker probe: all call :func:`wa_ua` or
:func:`wa_ua_from_confusion`):

* WA (weighted accuracy) = plain accuracy over utterances
  (= scikit-learn's ``accuracy_score``);
* UA (unweighted average recall) = the mean of the per-class recalls over the
  classes present in the reference (= scikit-learn's
  ``balanced_accuracy_score``; a class that is predicted but never true does
  not enter it);
* macro-F1 = the unweighted mean of per-class F1 over the classes that occur in
  the reference or in the hypothesis (scikit-learn's default label set; a class
  that is predicted but never true counts with F1 = 0).

A class absent from the reference has no recall: its ``per_class`` entry is
``None`` (JSON ``null``), never a made-up 0 or 1, and it does not enter UA.

``results.json`` (one per decode directory) holds the keys of
:data:`RESULTS_KEYS`: ``wa``, ``ua``, ``macro_f1`` (fractions in [0, 1]),
``n`` (scored utterances), ``per_class`` (label -> recall or null),
``per_speaker`` (speaker -> UA over that speaker's utterances), ``labels``
(the inventory order) and ``confusion`` (rows = reference, columns =
hypothesis, in ``labels`` order), and, when the scored set mixes corpora
(a multi-corpus test set, ``utt2corpus`` with 2+ corpora), the optional
``per_corpus`` (corpus -> ``{"n", "wa", "ua", "macro_f1"}`` over that corpus's
utterances: Gao et al.'s multi-corpus table scores each corpus's test split).

Example:
    >>> res = compute_metrics(["a", "a", "a", "b"], ["a", "a", "b", "b"], ["a", "b"])
    >>> round(res["wa"], 3), round(res["ua"], 3)
    (0.75, 0.833)
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

logger = logging.getLogger(__name__)

#: Keys of a per-fold ``results.json``, in file order.
RESULTS_KEYS = ("wa", "ua", "macro_f1", "n", "per_class", "per_speaker", "labels", "confusion")
#: Keys a ``results.json`` may hold besides those.
OPTIONAL_RESULTS_KEYS = ("per_corpus",)


def read_posteriors(path: str | Path, num_classes: int) -> Dict[str, np.ndarray]:
    """Read a text posterior file ``utt p_0 ... p_{C-1}``.

    Args:
        path: posterior file written by inference (stage 5).
        num_classes: C, the number of labels in the inventory.

    Returns:
        utt -> (C,) float64 posteriors (or scores; only the argmax is used).

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: on a wrong column count, a non-number, a non-finite value,
            a duplicate utterance or an empty file.
    """
    from espnet_ser.utils.data_dir import read_table

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: posterior file not found (stage 5 writes decode_<set>/posteriors)")
    post: Dict[str, np.ndarray] = {}
    # read_table rejects blank lines, so line i of the file is entry i.
    for lineno, (utt, value) in enumerate(read_table(path).items(), 1):
        fields = value.split()
        if len(fields) != num_classes:
            raise ValueError(
                f"{path}:{lineno}: expected utt + {num_classes} posteriors (one per line of the "
                f"label inventory), got {len(fields)} values"
            )
        try:
            vec = np.array([float(v) for v in fields], dtype=np.float64)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: non-numeric posterior in {value!r}") from None
        if not np.all(np.isfinite(vec)):
            raise ValueError(f"{path}:{lineno}: non-finite posterior for {utt!r} (nan/inf from the model?)")
        post[utt] = vec
    if not post:
        raise ValueError(f"{path}: no posteriors in file")
    return post


def _recalls(confusion: np.ndarray) -> List[Optional[float]]:
    """Per-class recall from a (C, C) confusion matrix (rows = true); None where no support."""
    support = confusion.sum(axis=1)
    return [float(confusion[i, i] / support[i]) if support[i] > 0 else None for i in range(len(support))]


def wa_ua_from_confusion(confusion) -> Tuple[Optional[float], Optional[float]]:
    """WA and UA from a confusion matrix: the project's one definition of both.

    Args:
        confusion: (C, C) counts, rows = reference, columns = hypothesis (numpy
            array, nested lists or a CPU torch tensor).

    Returns:
        ``(wa, ua)``: accuracy, and the mean recall over the classes with a
        non-zero row (classes present in the reference); ``(None, None)`` for
        an empty matrix.
    """
    conf = np.asarray(confusion, dtype=np.float64)
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1]:
        raise ValueError(f"wa_ua_from_confusion: expected a (C, C) matrix, got shape {conf.shape}")
    total = conf.sum()
    if total == 0:
        return None, None
    recalls = [r for r in _recalls(conf) if r is not None]
    return float(np.trace(conf) / total), float(np.mean(recalls))


def wa_ua(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> Tuple[float, float]:
    """WA and UA of a reference/hypothesis pair (equal to scikit-learn's
    ``accuracy_score`` and ``balanced_accuracy_score``).

    Args:
        y_true: (N,) reference labels (any hashable, e.g. str or int).
        y_pred: (N,) hypothesis labels.

    Returns:
        ``(wa, ua)``, fractions in [0, 1].

    Raises:
        ValueError: on empty input or a length mismatch.
    """
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = list(y_true), list(y_pred)
    if not y_true or len(y_true) != len(y_pred):
        raise ValueError(f"wa_ua: need equally long non-empty sequences, got {len(y_true)} and {len(y_pred)}")
    labels = sorted(set(y_true) | set(y_pred), key=repr)
    return wa_ua_from_confusion(confusion_matrix(y_true, y_pred, labels=labels))


def compute_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    speakers: Optional[Sequence[str]] = None,
) -> dict:
    """Compute the per-fold result dictionary (``results.json``, see the module docstring).

    Args:
        y_true: (N,) reference labels, each in ``labels``.
        y_pred: (N,) hypothesis labels, each in ``labels``.
        labels: (C,) label inventory; fixes the order of ``confusion``.
        speakers: (N,) speaker of each utterance; ``per_speaker`` is empty without it.

    Returns:
        ``{"wa", "ua", "macro_f1", "n", "per_class": {label: recall or None},
        "per_speaker": {spk: ua}, "labels": [...], "confusion": [[...]]}``;
        ``confusion[i][j]`` counts utterances of true label i predicted as j.

    Raises:
        ValueError: on empty input, length mismatch or a label outside ``labels``.
    """
    from sklearn.metrics import confusion_matrix, f1_score

    labels = list(labels)
    n = len(y_true)
    if n == 0:
        raise ValueError("compute_metrics: no utterances to score")
    if len(y_pred) != n or (speakers is not None and len(speakers) != n):
        raise ValueError(
            f"compute_metrics: length mismatch: {n} references, {len(y_pred)} hypotheses, "
            f"{len(speakers) if speakers is not None else '-'} speakers"
        )
    known = set(labels)
    for name, seq in (("reference", y_true), ("hypothesis", y_pred)):
        bad = sorted(set(seq) - known)
        if bad:
            raise ValueError(f"compute_metrics: {name} label(s) {bad[:5]} not in the inventory {labels}")
    y_true = list(y_true)
    y_pred = list(y_pred)
    conf = confusion_matrix(y_true, y_pred, labels=labels)
    recalls = _recalls(conf)
    per_speaker: Dict[str, float] = {}
    if speakers is not None:
        index = {lab: i for i, lab in enumerate(labels)}
        by_spk: Dict[str, np.ndarray] = {}
        for spk, t, p in zip(speakers, y_true, y_pred):
            by_spk.setdefault(spk, np.zeros_like(conf))[index[t], index[p]] += 1
        per_speaker = {spk: wa_ua_from_confusion(by_spk[spk])[1] for spk in sorted(by_spk)}
    wa, ua = wa_ua_from_confusion(conf)
    return {
        "wa": wa,
        "ua": ua,
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "n": n,
        "per_class": {lab: rec for lab, rec in zip(labels, recalls)},
        "per_speaker": per_speaker,
        "labels": labels,
        "confusion": conf.astype(int).tolist(),
    }


def per_group_metrics(per_utt: Sequence[Tuple[str, str, str, str]], utt2group: Mapping[str, str],
                      labels: Sequence[str], what: str = "utt2group") -> Dict[str, dict]:
    """``{group: {"n", "wa", "ua", "macro_f1"}}`` of the scored utterances ``(utt, spk, ref, hyp)``
    split by ``utt2group`` (e.g. ``utt2corpus``, named ``what`` in the error); an utterance without
    a group is an error."""
    missing = [u for u, *_ in per_utt if u not in utt2group]
    if missing:
        raise ValueError(f"{what}: {len(missing)} scored utterance(s) have no entry, e.g. {missing[:3]}; "
                         "give every utterance of the set its group")
    groups: Dict[str, List[Tuple[str, str]]] = {}
    for u, _, ref, hyp in per_utt:
        groups.setdefault(utt2group[u], []).append((ref, hyp))
    out = {}
    for g in sorted(groups):
        ref, hyp = zip(*groups[g])
        m = compute_metrics(ref, hyp, labels)
        out[g] = {k: m[k] for k in ("n", "wa", "ua", "macro_f1")}
    return out


def score_posteriors(
    posteriors: Mapping[str, np.ndarray],
    labels: Sequence[str],
    utt2ref: Mapping[str, str],
    utt2spk: Mapping[str, str],
    *,
    ref_name: str = "utt2emo",
) -> Tuple[dict, List[Tuple[str, str, str, str]], dict]:
    """Match posteriors to references and score them.

    Every labelled reference utterance must have a posterior; posteriors of
    utterances without a reference label (unlabelled data) are ignored and counted.

    Args:
        posteriors: utt -> (C,) scores in the order of ``labels``.
        labels: (C,) label inventory.
        utt2ref: utt -> reference label (e.g. the data dir's utt2emo).
        utt2spk: utt -> speaker; must cover every scored utterance.
        ref_name: name of the reference table, for messages.

    Returns:
        ``(results, per_utt, counts)``: the results dict of :func:`compute_metrics`;
        per-utterance rows ``(utt, spk, ref, hyp)`` sorted by utt; and
        ``{"scored": N, "ignored_unlabelled": M}``.

    Raises:
        ValueError: a reference label outside ``labels``, labelled utterances
            without posterior or without speaker.
    """
    labels = list(labels)
    bad = sorted({lab for lab in utt2ref.values() if lab not in set(labels)})
    if bad:
        examples = [u for u, lab in sorted(utt2ref.items()) if lab in bad][:3]
        raise ValueError(
            f"{ref_name}: label(s) {bad} not in the label inventory {labels} (e.g. {examples}); "
            "score with the inventory the model was trained with, or fix the label mapping"
        )
    missing = sorted(set(utt2ref) - set(posteriors))
    if missing:
        raise ValueError(
            f"{len(missing)} of {len(utt2ref)} labelled utterances in {ref_name} have no posterior "
            f"(e.g. {missing[:3]}); inference must cover the whole set"
        )
    no_spk = sorted(set(utt2ref) - set(utt2spk))
    if no_spk:
        raise ValueError(f"{len(no_spk)} labelled utterances have no entry in utt2spk (e.g. {no_spk[:3]})")
    ignored = len(set(posteriors) - set(utt2ref))
    utts = sorted(utt2ref)
    ref = [utt2ref[u] for u in utts]
    hyp = [labels[int(np.argmax(posteriors[u]))] for u in utts]
    spk = [utt2spk[u] for u in utts]
    results = compute_metrics(ref, hyp, labels, spk)
    per_utt = list(zip(utts, spk, ref, hyp))
    return results, per_utt, {"scored": len(utts), "ignored_unlabelled": ignored}


def format_confusion(confusion: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    """Render a confusion matrix as an aligned text table (rows = reference, columns = hypothesis).

    Args:
        confusion: (C, C) counts.
        labels: (C,) label names.

    Returns:
        The table, with a per-row recall column, ending in a newline.
    """
    conf = np.asarray(confusion, dtype=int)
    recalls = _recalls(conf)
    corner = "ref\\hyp"
    rows = [[corner] + list(labels) + ["recall"]]
    for lab, row, rec in zip(labels, conf, recalls):
        rows.append([lab] + [str(v) for v in row] + ["-" if rec is None else f"{100 * rec:.1f}%"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [rows[0][0].ljust(widths[0]) + "  " + "  ".join(c.rjust(w) for c, w in zip(rows[0][1:], widths[1:]))]
    for r in rows[1:]:
        lines.append(r[0].ljust(widths[0]) + "  " + "  ".join(c.rjust(w) for c, w in zip(r[1:], widths[1:])))
    return "\n".join(lines) + "\n"


def check_results(res: Mapping) -> None:
    """Validate a per-fold results dict against the ``results.json`` schema (module docstring).

    Raises:
        ValueError: naming the first offending key.
    """
    keys = set(res) - set(OPTIONAL_RESULTS_KEYS)
    if tuple(sorted(keys)) != tuple(sorted(RESULTS_KEYS)):
        raise ValueError(f"results.json: keys {sorted(res)} differ from the schema {sorted(RESULTS_KEYS)} "
                         f"(optional: {list(OPTIONAL_RESULTS_KEYS)})")
    for key in ("wa", "ua", "macro_f1"):
        v = res[key]
        if not isinstance(v, (int, float)) or math.isnan(v) or not 0.0 <= v <= 1.0:
            raise ValueError(f"results.json: {key}={v!r} is not a fraction in [0, 1]")
    labels = res["labels"]
    if list(res["per_class"]) != list(labels):
        raise ValueError("results.json: per_class keys differ from labels")
    conf = np.asarray(res["confusion"])
    if conf.shape != (len(labels), len(labels)) or int(conf.sum()) != int(res["n"]):
        raise ValueError(f"results.json: confusion of shape {conf.shape} / sum {conf.sum()} does not match "
                         f"{len(labels)} labels and n={res['n']}")
