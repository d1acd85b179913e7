"""Embeddings of several systems on one 2-D map, coloured by corpus and by emotion.

The picture of a domain-adaptation experiment (Gao et al.): the same held-out
utterances (e.g. the source corpora's dev set and the target corpus) embedded by
the baseline and by the domain-adversarial models.  Reads each run's
``decode_<set>/embeddings.scp`` (stage 5) and the labels of ``--data-dir``.

Usage::

    python -m espnet_ser.bin.plot_domains --data-dir data/<pool>_<task>/all \\
        --run baseline=exp/<pool>/cross_corpus/train_cnn_blstm_logspec_global_arousal/seed0/fold1 \\
        --run dann2_center=exp/<pool>/cross_corpus/dann2_center_arousal/seed0/fold1 \\
        --sets dev test --colour corpus=utt2corpus --colour emotion=utt2emo --method pca --out map.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from espnet_ser.bin.report import load_vectors
from espnet_ser.eval.plots import plot_embedding_map
from espnet_ser.features.ark_io import load_scp
from espnet_ser.utils.data_dir import read_table


def _pair(value: str) -> tuple:
    name, sep, rest = value.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name, rest


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True, help="data dir with the colouring tables")
    p.add_argument("--run", type=_pair, action="append", required=True, metavar="NAME=RUN_DIR",
                   help="a run (seed/fold dir with decode_<set>/embeddings.scp); one row each")
    p.add_argument("--sets", nargs="+", default=["dev", "test"], help="decoded sets to draw")
    p.add_argument("--colour", type=_pair, action="append", metavar="NAME=TABLE",
                   help="colouring: a table of --data-dir (default corpus=utt2corpus emotion=utt2emo)")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca")
    p.add_argument("--max-points", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; errors are one line, exit status 1."""
    args = get_parser().parse_args(argv)
    colours = args.colour or [("corpus", "utt2corpus"), ("emotion", "utt2emo")]
    try:
        tables = {name: read_table(args.data_dir / table) for name, table in colours}
        systems = []
        for name, run in args.run:
            X_parts, utts = [], []
            for s in args.sets:
                scp = Path(run) / f"decode_{s}" / "embeddings.scp"
                if not scp.is_file():
                    raise FileNotFoundError(f"{scp}: not found (stage 5 decodes --probe_sets and test)")
                X, kept, _ = load_vectors(scp, sorted(load_scp(scp)))
                X_parts.append(X)
                utts += kept
            X = np.concatenate(X_parts)
            labels = {c: [tables[c].get(u, "unlabelled") for u in utts] for c, _ in colours}
            systems.append((name, X, labels))
        n = plot_embedding_map(systems, [c for c, _ in colours], args.out, method=args.method,
                               max_points=args.max_points, seed=args.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f"plot_domains: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"plot_domains: {args.out}: {len(systems)} systems x {n} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
