"""Plots for the report (stage 7): training curves, confusion matrices, t-SNE.

All functions write PNG files with matplotlib's non-interactive Agg backend, so
they run on headless cluster nodes.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

# ESPnet's Trainer logs one summary line per epoch:
#   ... INFO: 3epoch results: [train] iter_time=0.001, loss=2.853, acc=0.41, time=1 minute and 42.6 seconds,
#   total_count=7507, [valid] loss=2.387, acc=0.44, time=3 seconds, total_count=240, [att_plot] time=0.28 seconds
_EPOCH_RE = re.compile(r"(\d+)epoch results: (.*)$")
_SECTION_RE = re.compile(r"\[(\w+)\]")
# Statistics that are bookkeeping, not learning curves.
_SKIP_KEYS = {"time", "total_count", "iter_time", "forward_time", "backward_time", "optim_step_time",
              "train_time", "gpu_max_cached_mem_GB"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def parse_train_log(path: str | Path) -> List[Dict[str, Dict[str, float]]]:
    """Parse the per-epoch summary lines of an ESPnet ``train.log`` and its predecessors.

    A rerun of training (``--resume true``) starts the log anew; ser.sh keeps
    the earlier logs as ``train.log.1``, ``train.log.2``, ... (1 = oldest), and
    they are read first, so a resumed run keeps the epochs of its first part.

    Args:
        path: the training log (``<exp>/<fold>/train.log``).

    Returns:
        One entry per epoch summary, in epoch order (a resumed run repeats no
        epoch: a later line for the same epoch replaces the earlier one):
        ``{"epoch": {"epoch": N}, "train": {stat: value}, "valid": {...}}``.
        Non-numeric values (``time=1 minute and 3 seconds``) are left out.

    Raises:
        FileNotFoundError: if the log is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: training log not found")
    kept = [p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()]
    logs = sorted(kept, key=lambda p: int(p.suffix[1:])) + [path]
    lines = [line for log in logs for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    by_epoch: Dict[int, Dict[str, Dict[str, float]]] = {}
    for line in lines:
        m = _EPOCH_RE.search(line)
        if not m:
            continue
        epoch = int(m.group(1))
        entry: Dict[str, Dict[str, float]] = {"epoch": {"epoch": float(epoch)}}
        parts = _SECTION_RE.split(m.group(2))
        # parts = [prefix, name1, body1, name2, body2, ...]
        for name, body in zip(parts[1::2], parts[2::2]):
            stats: Dict[str, float] = {}
            for item in body.split(","):
                key, sep, value = item.strip().partition("=")
                if not sep:
                    continue
                try:
                    stats[key] = float(value)
                except ValueError:
                    continue
            entry[name] = stats
        by_epoch[epoch] = entry
    return [by_epoch[e] for e in sorted(by_epoch)]


def plot_training_curves(epochs: Sequence[Dict[str, Dict[str, float]]], out_png: str | Path,
                         title: str = "") -> List[str]:
    """Plot train/valid curves of every statistic found in the epoch summaries.

    Args:
        epochs: output of :func:`parse_train_log`.
        out_png: output image.
        title: figure title.

    Returns:
        The statistic names plotted (one panel each).

    Raises:
        ValueError: if there is no epoch summary or no numeric statistic.
    """
    if not epochs:
        raise ValueError(f"{out_png}: no '<N>epoch results:' lines to plot (training has not finished an epoch?)")
    keys: List[str] = []
    for ep in epochs:
        for section in ("train", "valid"):
            for k in ep.get(section, {}):
                if k not in _SKIP_KEYS and not k.startswith("lr_") and k not in keys:
                    keys.append(k)
    if not keys:
        raise ValueError(f"{out_png}: epoch summaries hold no learning statistic")
    plt = _pyplot()
    ncol = min(3, len(keys))
    nrow = (len(keys) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for section, style in (("train", "-o"), ("valid", "-s")):
            pts = [(ep["epoch"]["epoch"], ep[section][key]) for ep in epochs if key in ep.get(section, {})]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, style, markersize=3, label=section)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return keys


def plot_confusion(confusion: Sequence[Sequence[float]], labels: Sequence[str], out_png: str | Path,
                   title: str = "") -> None:
    """Draw a confusion matrix (rows = reference) as row-normalised colours with counts.

    Args:
        confusion: (C, C) counts.
        labels: (C,) label names.
        out_png: output image.
        title: figure title.
    """
    conf = np.asarray(confusion, dtype=float)
    if conf.shape != (len(labels), len(labels)):
        raise ValueError(f"{out_png}: confusion shape {conf.shape} does not match {len(labels)} labels")
    support = conf.sum(axis=1, keepdims=True)
    norm = np.divide(conf, support, out=np.zeros_like(conf), where=support > 0)
    plt = _pyplot()
    size = 1.0 + 0.7 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_xlabel("hypothesis")
    ax.set_ylabel("reference")
    for i in range(len(labels)):
        for j in range(len(labels)):
            count = conf[i, j]
            text = f"{int(count)}" if float(count).is_integer() else f"{count:.1f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, label="recall (row-normalised)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def _scatter_by_category(plt, ax, Y: np.ndarray, values: np.ndarray, title: str, *, size: float,
                         alpha: float = 1.0, markerscale: float = 1.5, fontsize=None) -> None:
    """Scatter 2-D points ``Y`` (N, 2) on ``ax``, one colour per category of ``values`` (N,)."""
    cats = sorted(set(values.tolist()))
    cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
    for k, cat in enumerate(cats):
        sel = values == cat
        ax.scatter(Y[sel, 0], Y[sel, 1], s=size, alpha=alpha, color=cmap(k % cmap.N), label=cat)
    ax.set_title(title, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    if len(cats) <= 20:
        ax.legend(fontsize=7, markerscale=markerscale, loc="best")


def _save(plt, fig, out_png, title: Optional[str], *, dpi: int) -> None:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=dpi)
    plt.close(fig)


def plot_tsne(X: np.ndarray, emotions: Sequence[str], speakers: Sequence[str], out_png: str | Path, *,
              max_points: int = 2000, seed: int = 0, title: str = "") -> int:
    """t-SNE of utterance embeddings, coloured by emotion (left) and by speaker (right).

    Args:
        X: (N, D) embeddings.
        emotions: (N,) reference emotion per row.
        speakers: (N,) speaker per row.
        out_png: output image.
        max_points: random subsample size when N is larger (t-SNE is O(N log N) but slow on 2 CPUs).
        seed: seed of the subsample and of t-SNE.
        title: figure title.

    Returns:
        The number of points drawn.

    Raises:
        ValueError: on mismatched lengths or fewer than 5 points.
    """
    from sklearn.manifold import TSNE

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if X.ndim != 2 or len(emotions) != n or len(speakers) != n:
        raise ValueError(f"{out_png}: X {X.shape} vs {len(emotions)} emotions / {len(speakers)} speakers")
    if n < 5:
        raise ValueError(f"{out_png}: t-SNE needs at least 5 points, got {n}")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    Xs = X[idx]
    emo = np.asarray(emotions)[idx]
    spk = np.asarray(speakers)[idx]
    # Perplexity must stay below the number of points.
    perplexity = float(min(30.0, max(2.0, (len(idx) - 1) / 3.0)))
    Y = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(Xs)
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, values, name in ((axes[0], emo, "emotion"), (axes[1], spk, "speaker")):
        _scatter_by_category(plt, ax, Y, values, f"coloured by {name}", size=8, markerscale=1.5)
    _save(plt, fig, out_png, title, dpi=100)
    return len(idx)


def plot_embedding_map(systems: Sequence[tuple], colourings: Sequence[str], out_png: str | Path, *,
                       method: str = "pca", max_points: int = 2000, seed: int = 0, title: str = "") -> int:
    """2-D map (PCA or t-SNE) of several systems' embeddings, one row per system, one column per colouring.

    The domain-adaptation picture: the same utterances embedded by a baseline and by a
    domain-adversarial model, coloured by corpus and by emotion (well mixed corpora,
    separated emotions = domain-invariant and discriminative).

    Args:
        systems: ``(name, X (N, D), {colouring: (N,) labels})`` per system.
        colourings: Colouring names, one column each (keys of the label dicts).
        out_png: Output image.
        method: ``pca`` or ``tsne``.
        max_points: Random subsample size per system (same seed for every system).
        seed: Seed of the subsample and of t-SNE.
        title: Figure title.

    Returns:
        Points drawn per system.

    Raises:
        ValueError: Unknown method, mismatched lengths, or fewer than 5 points.
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"{out_png}: method must be pca or tsne, got {method!r}")
    if not systems or not colourings:
        raise ValueError(f"{out_png}: nothing to draw ({len(systems)} systems, colourings {list(colourings)})")
    plt = _pyplot()
    fig, axes = plt.subplots(len(systems), len(colourings), figsize=(5.5 * len(colourings), 5 * len(systems)),
                             squeeze=False)
    drawn = 0
    for r, (name, X, labels) in enumerate(systems):
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        if X.ndim != 2 or n < 5 or any(len(labels[c]) != n for c in colourings):
            raise ValueError(f"{out_png}: {name}: X {X.shape} needs >= 5 rows and one label per row for "
                             f"{list(colourings)}")
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
        Xs = X[idx] - X[idx].mean(0)
        if method == "pca":
            Y = Xs @ np.linalg.svd(Xs, full_matrices=False)[2][:2].T
        else:
            from sklearn.manifold import TSNE

            perplexity = float(min(30.0, max(2.0, (len(idx) - 1) / 3.0)))
            Y = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(Xs)
        drawn = len(idx)
        for c, colouring in enumerate(colourings):
            ax = axes[r][c]
            values = np.asarray(labels[colouring])[idx]
            _scatter_by_category(plt, ax, Y, values, f"{name}: by {colouring} ({method.upper()})",
                                 size=6, alpha=0.7, markerscale=2, fontsize=9)
    _save(plt, fig, out_png, title, dpi=90)
    return drawn


def plot_band_weights(bands_hz: Sequence[Sequence[float]], groups: Dict[str, Dict], out_png: str | Path, *,
                      title: str = "", ylabel: str = "attention weight") -> None:
    """Weights per frequency band, one line (mean +- std band) per group.

    Args:
        bands_hz: ``[lo, hi]`` of each band.
        groups: ``{name: {"n": count, "mean": [...], "std": [...]}}`` (ADARL: per gender).
        out_png: Output PNG.
        title: Figure title.
        ylabel: y-axis label.
    """
    plt = _pyplot()
    centers = [(lo + hi) / 2 for lo, hi in bands_hz]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, g in groups.items():
        m, sd = np.asarray(g["mean"], dtype=float), np.asarray(g["std"], dtype=float)
        ax.plot(centers, m, marker="o", label=f"{name} (n={g['n']})")
        ax.fill_between(centers, m - sd, m + sd, alpha=0.2)
    ax.set_xlabel("frequency band centre (Hz)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
