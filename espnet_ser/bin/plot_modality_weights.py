"""AT-Fusion modality weights of an experiment (Lian et al.): a table and a plot (stage 7).

Usage::

    python -m espnet_ser.bin.plot_modality_weights --exp-dir exp/dann [--fold-root data/folds/iemocap_ts]

Reads ``<exp-dir>/seed<S>/<fold>/decode_<set>/alpha`` (``utt a_1 ... a_M``, written by
``ser_inference --utt_map`` for a model whose encoder is AT-Fusion) and ``per_utt``
(``utt spk ref hyp``, written by stage 6) beside it, and writes

* ``<exp-dir>/modality_weights.json``: per fold (named by ``protocol.json``
  ``fold_names`` when ``--fold-root`` is given) and reference emotion, the mean
  weight of each modality over seeds and scored utterances, and ``n``;
* ``<exp-dir>/plots/modality_weights.png``: one group of bars per fold and emotion
  (the weight of the first modality; the others sum to one minus it).

Modality names come from ``config.yaml`` (``encoder_conf.modalities`` or
``modality_names``).  Exit status 1 with one line when no ``alpha`` file exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np


def collect(exp_dir: Path, decode_set: str = "test", fold_root: Optional[Path] = None) -> Dict:
    """Mean modality weights per fold and reference emotion (see the module docstring).

    Raises:
        FileNotFoundError: No ``alpha`` file under ``exp_dir``.
    """
    import yaml

    from espnet_ser.utils.data_dir import read_table

    files = sorted(Path(exp_dir).glob(f"seed*/*/decode_{decode_set}/alpha"))
    if not files:
        raise FileNotFoundError(f"{exp_dir}: no seed<S>/<fold>/decode_{decode_set}/alpha (stage 5 of a "
                                "dialogue model with an AT-Fusion encoder writes it)")
    names: List[str] = []
    fold_names = {}
    if fold_root is not None and (Path(fold_root) / "protocol.json").is_file():
        fold_names = json.loads((Path(fold_root) / "protocol.json").read_text()).get("fold_names", {})
    sums: Dict[str, Dict[str, List[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    for path in files:
        run = path.parent.parent
        cfg_path = run / "config.yaml"
        if not names and cfg_path.is_file():
            enc = (yaml.safe_load(cfg_path.read_text()) or {}).get("encoder_conf") or {}
            names = list(enc.get("modalities") or enc.get("modality_names") or [])
        per_utt = path.parent / "per_utt"
        refs = {u: v.split()[1] for u, v in read_table(per_utt).items()} if per_utt.is_file() else {}
        fold = fold_names.get(run.name, run.name)
        for utt, vals in read_table(path).items():
            if utt in refs:  # scored (labelled) utterances only
                sums[fold][refs[utt]].append(np.array([float(x) for x in vals.split()]))
    out = {"modalities": names, "folds": {}}
    for fold, by_emo in sums.items():
        out["folds"][fold] = {e: {"mean": np.mean(v, axis=0).round(4).tolist(), "n": len(v)}
                              for e, v in sorted(by_emo.items())}
    return out


def plot(table: Dict, out_png: Path) -> None:
    """Bars of the first modality's mean weight per fold and emotion."""
    from espnet_ser.eval.plots import _pyplot

    plt = _pyplot()
    folds = list(table["folds"])
    emotions = sorted({e for f in folds for e in table["folds"][f]})
    name = (table.get("modalities") or ["modality 1"])[0]
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(folds) * max(1, len(emotions)) / 2), 3.5))
    width = 0.8 / max(1, len(emotions))
    for i, e in enumerate(emotions):
        vals = [table["folds"][f].get(e, {}).get("mean", [np.nan])[0] for f in folds]
        ax.bar(np.arange(len(folds)) + i * width, vals, width, label=e)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2)
    ax.set_xticklabels(folds)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"AT-Fusion weight of {name}")
    ax.legend(fontsize=8, ncol=len(emotions))
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exp-dir", required=True, type=Path, help="exp/<tag>")
    p.add_argument("--decode-set", default="test", help="reads decode_<set>/alpha")
    p.add_argument("--fold-root", type=Path, default=None, help="data/folds/<protocol> (fold names)")
    args = p.parse_args(argv)
    try:
        table = collect(args.exp_dir, args.decode_set, args.fold_root)
    except FileNotFoundError as e:
        print(f"plot_modality_weights: {e}", file=sys.stderr)
        return 1
    (args.exp_dir / "modality_weights.json").write_text(json.dumps(table, indent=1) + "\n")
    plot(table, args.exp_dir / "plots" / "modality_weights.png")
    for fold, by_emo in table["folds"].items():
        cells = ", ".join(f"{e} {v['mean'][0]:.2f}" for e, v in by_emo.items())
        print(f"modality weight of {(table['modalities'] or ['modality 1'])[0]} on {fold}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
