"""Closed-set speaker probe on frozen utterance embeddings (DESIGN.md section 5).

How much speaker identity is left in an embedding: each speaker's utterances
are split into probe-train / probe-test, the embeddings standardised with
probe-train statistics, and a logistic regression and a one-hidden-layer MLP
predict the speaker.  Balanced accuracy near chance (1 / n_speakers) means the
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

logger = logging.getLogger(__name__)


def split_per_speaker(speakers: Sequence[str], *, seed: int = 0, test_frac: float = 0.3):
    """Split each speaker's utterances into probe-train / probe-test.

    Args:
        speakers: (N,) speaker of each row.
        seed: shuffling seed.
        test_frac: fraction of each speaker's utterances held out (at least one,
            and at least one left for training).

    Returns:
        ``(train_idx, test_idx, skipped)``: sorted index arrays, and
        ``[(speaker, reason)]`` for speakers with fewer than 2 utterances (left out).
    """
    if not 0.0 < test_frac < 1.0:
        raise ValueError(f"test_frac={test_frac} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    spk = np.asarray(speakers)
    train: List[int] = []
    test: List[int] = []
    skipped = []
    for s in sorted(set(spk.tolist())):
        idx = np.flatnonzero(spk == s)
        if len(idx) < 2:
            skipped.append((s, f"only {len(idx)} utterance(s); a closed-set probe needs 2"))
            continue
        idx = rng.permutation(idx)
        n_test = min(len(idx) - 1, max(1, int(round(test_frac * len(idx)))))
        test.extend(idx[:n_test].tolist())
        train.extend(idx[n_test:].tolist())
    return np.sort(np.array(train, dtype=int)), np.sort(np.array(test, dtype=int)), skipped


def speaker_probe(X: np.ndarray, speakers: Sequence[str], *, seed: int = 0, test_frac: float = 0.3,
                  mlp_hidden: int = 256) -> Dict:
    """Train and evaluate the closed-set speaker probes.

    Args:
        X: (N, D) utterance embeddings (or pooled features).
        speakers: (N,) speaker ids.
        seed: seed of the split and of the MLP.
        test_frac: held-out fraction per speaker.
        mlp_hidden: units of the MLP's hidden layer.

    Returns:
        ``{"logreg_bacc", "mlp_bacc", "chance", "n_speakers", "n_train", "n_test",
        "dim", "seed", "test_frac", "skipped": [[speaker, reason], ...]}``;
        balanced accuracies are fractions in [0, 1], chance = 1 / n_speakers.

    Raises:
        ValueError: on shape mismatch, non-finite values or fewer than 2 usable speakers.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != len(speakers):
        raise ValueError(f"speaker_probe: X has shape {X.shape}, expected ({len(speakers)}, D)")
    if not np.all(np.isfinite(X)):
        raise ValueError("speaker_probe: embeddings contain nan/inf")
    tr, te, skipped = split_per_speaker(speakers, seed=seed, test_frac=test_frac)
    spk = np.asarray(speakers)
    n_spk = len(set(spk[tr].tolist()))
    if n_spk < 2:
        raise ValueError(f"speaker_probe: need >= 2 speakers with >= 2 utterances each, got {n_spk}")
    for s, reason in skipped:
        logger.warning("speaker probe: speaker %s left out: %s", s, reason)
    scaler = StandardScaler().fit(X[tr])
    Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
    out: Dict = {}
    with warnings.catch_warnings():
        # Small probe sets rarely reach the tolerance; the score is still the probe's answer.
        warnings.simplefilter("ignore")
        logreg = LogisticRegression(max_iter=2000, C=1.0).fit(Xtr, spk[tr])
        out["logreg_bacc"] = float(balanced_accuracy_score(spk[te], logreg.predict(Xte)))
        # L-BFGS converges faster and better than Adam on small probe sets (sklearn's advice);
        # Adam for large ones, where L-BFGS's full-batch steps get slow.
        solver = "lbfgs" if len(tr) <= 2000 else "adam"
        mlp = MLPClassifier(hidden_layer_sizes=(mlp_hidden,), solver=solver, max_iter=500, alpha=1e-3,
                            random_state=seed).fit(Xtr, spk[tr])
        out["mlp_bacc"] = float(balanced_accuracy_score(spk[te], mlp.predict(Xte)))
    out.update({
        "chance": 1.0 / n_spk,
        "n_speakers": n_spk,
        "n_train": int(len(tr)),
        "n_test": int(len(te)),
        "dim": int(X.shape[1]),
        "seed": seed,
        "test_frac": test_frac,
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
