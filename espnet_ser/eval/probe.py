"""Closed-set speaker probe on frozen utterance embeddings.

How much speaker identity is left in an embedding: each speaker's utterances
are dealt into cross-validation folds; for each fold a logistic regression
and a one-hidden-layer MLP, trained on the other folds (embeddings
standardised with their statistics), predict the speaker of every utterance.  Balanced accuracy near chance (1 / n_speakers) means the
representation carries little speaker information; compare the adversarial
model with the same model without adversary and with raw features.

Example:
    >>> X = np.random.default_rng(0).normal(size=(60, 8)); X[:30] += 3
    >>> spk = ["a"] * 30 + ["b"] * 30
    >>> speaker_probe(X, spk)["logreg_bacc"] > 0.9
    True
"""
from __future__ import annotations

import logging
import warnings
from typing import Dict, List, Sequence

import numpy as np

from espnet_ser.eval.metrics import wa_ua

logger = logging.getLogger(__name__)


def cv_folds_per_speaker(speakers: Sequence[str], *, seed: int = 0, n_folds: int = 5):
    """Assign each speaker's utterances to cross-validation folds.

    Each speaker's utterances are shuffled and dealt round-robin to the folds,
    so every fold's test part holds about 1 / n_folds of every speaker and each
    utterance is tested exactly once.

    Args:
        speakers: (N,) speaker of each row.
        seed: shuffling seed.
        n_folds: number of folds (>= 2).

    Returns:
        ``(fold, skipped)``: (N,) fold index per row (-1 = left out), and
        ``[(speaker, reason)]`` for speakers with fewer than 2 utterances.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds={n_folds} must be >= 2")
    rng = np.random.default_rng(seed)
    spk = np.asarray(speakers)
    fold = np.full(len(spk), -1, dtype=int)
    skipped = []
    for s in sorted(set(spk.tolist())):
        idx = np.flatnonzero(spk == s)
        if len(idx) < 2:
            skipped.append((s, f"only {len(idx)} utterance(s); a closed-set probe needs 2"))
            continue
        idx = rng.permutation(idx)
        fold[idx] = np.arange(len(idx)) % n_folds
    return fold, skipped


def speaker_probe(X: np.ndarray, speakers: Sequence[str], *, seed: int = 0, n_folds: int = 5,
                  mlp_hidden: int = 256) -> Dict:
    """Cross-validated closed-set speaker probes.

    ``n_folds``-fold cross-validation over each speaker's utterances: every
    utterance is predicted once by probes trained on the other folds
    (standardised with their statistics), and the balanced accuracy is taken
    over all predictions.  Scoring every utterance instead of one 30 % split
    makes the number far less noisy on the small held-out sets of SER folds
    (e.g. 4 speakers x 32 utterances: one split scores 40 of them).

    Args:
        X: (N, D) utterance embeddings (or pooled features).
        speakers: (N,) speaker ids.
        seed: seed of the fold assignment and of the MLP.
        n_folds: cross-validation folds.
        mlp_hidden: units of the MLP's hidden layer.

    Returns:
        ``{"logreg_bacc", "mlp_bacc", "chance", "n_speakers", "n_utts", "n_folds",
        "dim", "seed", "skipped": [[speaker, reason], ...]}``; balanced
        accuracies are fractions in [0, 1], chance = 1 / n_speakers.

    Raises:
        ValueError: on shape mismatch, non-finite values or fewer than 2 usable speakers.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != len(speakers):
        raise ValueError(f"speaker_probe: X has shape {X.shape}, expected ({len(speakers)}, D)")
    if not np.all(np.isfinite(X)):
        raise ValueError("speaker_probe: embeddings contain nan/inf")
    fold, skipped = cv_folds_per_speaker(speakers, seed=seed, n_folds=n_folds)
    spk = np.asarray(speakers)
    used = fold >= 0
    n_spk = len(set(spk[used].tolist()))
    if n_spk < 2:
        raise ValueError(f"speaker_probe: need >= 2 speakers with >= 2 utterances each, got {n_spk}")
    for s, reason in skipped:
        logger.warning("speaker probe: speaker %s left out: %s", s, reason)
    hyp = {"logreg": np.empty(len(spk), dtype=object), "mlp": np.empty(len(spk), dtype=object)}
    # L-BFGS converges faster and better than Adam on small probe sets (sklearn's advice);
    # Adam for large ones, where L-BFGS's full-batch steps get slow.
    solver = "lbfgs" if used.sum() <= 2500 else "adam"
    with warnings.catch_warnings():
        # Small probe sets rarely reach the tolerance; the score is still the probe's answer.
        warnings.simplefilter("ignore")
        for k in sorted(set(fold[used].tolist())):
            tr, te = used & (fold != k), fold == k
            scaler = StandardScaler().fit(X[tr])
            Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
            logreg = LogisticRegression(max_iter=2000, C=1.0).fit(Xtr, spk[tr])
            hyp["logreg"][te] = logreg.predict(Xte)
            mlp = MLPClassifier(hidden_layer_sizes=(mlp_hidden,), solver=solver, max_iter=500, alpha=1e-3,
                                random_state=seed).fit(Xtr, spk[tr])
            hyp["mlp"][te] = mlp.predict(Xte)
    out: Dict = {f"{name}_bacc": wa_ua(spk[used], h[used].astype(spk.dtype))[1] for name, h in hyp.items()}
    out.update({
        "chance": 1.0 / n_spk,
        "n_speakers": n_spk,
        "n_utts": int(used.sum()),
        "n_folds": int(n_folds),
        "dim": int(X.shape[1]),
        "seed": seed,
        "skipped": [list(s) for s in skipped],
    })
    return out


def pool_mean_std(mat: np.ndarray) -> np.ndarray:
    """Pool a (T, D) feature matrix into a (2 D,) utterance vector: mean and (population) std over T.

    One frame gives std 0, not nan.
    """
    mat = np.asarray(mat, dtype=np.float64)
    if mat.ndim != 2 or mat.shape[0] == 0:
        raise ValueError(f"pool_mean_std: expected a (T, D) matrix with T >= 1, got shape {mat.shape}")
    return np.concatenate([mat.mean(axis=0), mat.std(axis=0)])
