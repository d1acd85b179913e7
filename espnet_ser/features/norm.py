"""Feature normalisation statistics, from training data only: the one implementation.

Modes (``ser.sh --norm``, ``bin/apply_norm --mode``):

``global``
    Mean and standard deviation per dimension over ALL FRAMES of the training
    set's utterances. Stage 3 writes only the statistics, in ESPnet's format
    (``stats.npz`` with ``count``, ``sum``, ``sum_square``:
    :meth:`StatsAccumulator.espnet_stats`), and the model applies them
    (``--normalize global_mvn --normalize_conf stats_file=stats.npz``, ESPnet's
    ``GlobalMVN``), so they travel inside the checkpoint. Dev/test data never
    enter them.
``utterance``
    Each utterance standardised with its own frame statistics, inside the model
    (``--normalize utterance_mvn``, ESPnet's ``UtteranceMVN``). Needs
    frame-level features: for ``(1, D)`` functionals every value would become
    0, so stage 3 refuses it there.
``speaker``
    Each speaker standardised with the statistics of that speaker's own
    features (all of that speaker's utterances in the fold's sets; no labels are
    used). A test speaker is normalised from its own, unlabelled test audio
    only, the classical speaker compensation (as in Schuller et al.'s challenge
    baselines). It needs the test speaker's statistics, so it stays a pipeline
    stage: stage 3 writes normalised copies (:func:`speaker_stats` + :func:`standardize`), and the
    SVM reference (``bin/svm_baseline.py``) uses the same two functions.
``none``
    Features are passed through unchanged.

Statistics are accumulated in float64 as sums and sums of squares; the
population variance is clamped to ``var_floor`` (default 1e-10) before the
square root, so a constant dimension (or a speaker with one frame) gives 0, not
NaN or inf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Mapping, Tuple, Union

import numpy as np

__all__ = [
    "DEFAULT_VAR_FLOOR",
    "MODES",
    "StatsAccumulator",
    "load_stats",
    "save_stats",
    "speaker_stats",
    "standardize",
    "utterance_normalize",
]

MODES = ("global", "utterance", "speaker", "none")
DEFAULT_VAR_FLOOR = 1e-10


class StatsAccumulator:
    """Running per-dimension mean/std over the frames of ``(T, D)`` matrices.

    Args:
        var_floor: Lower bound of the variance before the square root.
    """

    def __init__(self, var_floor: float = DEFAULT_VAR_FLOOR):
        if var_floor <= 0:
            raise ValueError(f"StatsAccumulator: var_floor={var_floor} must be > 0")
        self.var_floor = var_floor
        self.count = 0
        self._sum: np.ndarray | None = None
        self._sumsq: np.ndarray | None = None

    def add(self, feats: np.ndarray, key: str = "?") -> None:
        """Add the frames of one ``(T, D)`` matrix (``key`` names it in errors)."""
        if feats.ndim != 2:
            raise ValueError(f"stats: {key}: expected a (T, D) matrix, got shape {feats.shape}")
        x = feats.astype(np.float64)
        if self._sum is None:
            self._sum = np.zeros(x.shape[1])
            self._sumsq = np.zeros(x.shape[1])
        elif x.shape[1] != self._sum.shape[0]:
            raise ValueError(
                f"stats: {key}: feature dim {x.shape[1]} differs from the previous {self._sum.shape[0]}"
            )
        self._sum += x.sum(axis=0)
        self._sumsq += (x * x).sum(axis=0)
        self.count += x.shape[0]

    def mean_std(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(mean (D,), std (D,))`` as float64.

        Raises:
            ValueError: If no frame was added.
        """
        if self.count == 0 or self._sum is None:
            raise ValueError("stats: no frames accumulated (empty training set?)")
        mean = self._sum / self.count
        var = self._sumsq / self.count - mean * mean
        return mean, np.sqrt(np.maximum(var, self.var_floor))

    def espnet_stats(self) -> Dict[str, np.ndarray]:
        """The sums in ESPnet's ``stats_file`` format (what ``GlobalMVN`` reads).

        Returns:
            ``{"count": () int64, "sum": (D,) float64, "sum_square": (D,) float64}``.

        Raises:
            ValueError: If no frame was added.
        """
        if self.count == 0 or self._sum is None:
            raise ValueError("stats: no frames accumulated (empty training set?)")
        return {"count": np.array(self.count, dtype=np.int64), "sum": self._sum.copy(),
                "sum_square": self._sumsq.copy()}


def standardize(feats: np.ndarray, mean: np.ndarray, std: np.ndarray, dtype=np.float32) -> np.ndarray:
    """``(T, D) -> (T, D)`` ``(x - mean) / std``, computed in float64, returned as ``dtype``."""
    if feats.shape[-1] != mean.shape[-1]:
        raise ValueError(f"standardize: feature dim {feats.shape[-1]} != stats dim {mean.shape[-1]}")
    return ((feats.astype(np.float64) - mean) / std).astype(dtype)


def utterance_normalize(feats: np.ndarray, var_floor: float = DEFAULT_VAR_FLOOR) -> np.ndarray:
    """Standardise a ``(T, D)`` matrix with its own frame statistics."""
    acc = StatsAccumulator(var_floor)
    acc.add(feats)
    return standardize(feats, *acc.mean_std())


def speaker_stats(
    feats: Mapping[str, np.ndarray],
    utt2spk: Mapping[str, str],
    utts: Iterable[str],
    var_floor: float = DEFAULT_VAR_FLOOR,
) -> Dict[str, Tuple[np.ndarray, np.ndarray, int]]:
    """Per-speaker ``(mean, std, frame count)`` from each speaker's own utterances.

    Args:
        feats: ``utt -> (T, D)`` (a lazy scp mapping is fine).
        utt2spk: ``utt -> speaker``.
        utts: Utterances to use (must be keys of both mappings).
        var_floor: Variance floor.
    """
    accs: Dict[str, StatsAccumulator] = {}
    for utt in utts:
        spk = utt2spk[utt]
        accs.setdefault(spk, StatsAccumulator(var_floor)).add(feats[utt], utt)
    return {spk: (*acc.mean_std(), acc.count) for spk, acc in accs.items()}


def save_stats(path: Union[str, Path], **arrays) -> None:
    """Write statistics to an ``.npz`` file (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_stats(path: Union[str, Path]) -> Dict[str, np.ndarray]:
    """Read a ``stats.npz`` written by :func:`save_stats`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_stats: no statistics file {path} (run stage 3)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
