"""Closed-set speaker probe on utterance embeddings or pooled raw features (espnet_ser.eval.probe).

Usage:
    python -m espnet_ser.bin.speaker_probe \\
        --embeddings exp/sier/seed0/fold1/decode_test/embeddings.scp \\
        --data-dir data/fold1/test --out probe.json
    python -m espnet_ser.bin.speaker_probe \\
        --feats dump/mfcc/fold1/test/feats.scp --data-dir data/fold1/test --out probe_raw.json

``--embeddings`` expects (1, D) vectors; ``--feats`` takes (T, D) matrices and
pools each utterance to its mean and standard deviation over T (2 D values).
Speakers come from ``--data-dir/utt2spk``; every utterance of the scp must be
in it (error otherwise); utt2spk entries without a vector are counted, listed
in ``skipped`` of the output, and left out.  Output: the dict of
:func:`espnet_ser.eval.probe.speaker_probe` as JSON, plus ``input`` and ``n_missing``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np

from espnet_ser.eval.probe import pool_mean_std, speaker_probe
from espnet_ser.utils.data_dir import read_table

logger = logging.getLogger("espnet_ser.bin.speaker_probe")


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--embeddings", help="scp of (1, D) utterance embeddings")
    src.add_argument("--feats", help="scp of (T, D) frame features, mean+std pooled per utterance")
    p.add_argument("--data-dir", required=True, help="data dir with utt2spk")
    p.add_argument("--out", required=True, help="output JSON")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the MLP")
    p.add_argument("--n-folds", type=int, default=5, help="cross-validation folds over each speaker's utterances")
    return p


def run_probe(scp: str, data_dir: str, *, pool: bool, seed: int = 0, n_folds: int = 5) -> dict:
    """Load vectors and speakers, run :func:`speaker_probe`.

    Args:
        scp: embeddings.scp or feats.scp.
        data_dir: data directory with ``utt2spk``.
        pool: mean+std pool (T, D) matrices (raw features); otherwise expect (1, D).
        seed: probe seed.
        n_folds: cross-validation folds.
    """
    from espnet_ser.features.ark_io import load_scp

    utt2spk = read_table(Path(data_dir) / "utt2spk")
    table = load_scp(scp)
    keys = sorted(table.keys())
    unknown = [u for u in keys if u not in utt2spk]
    if unknown:
        raise ValueError(f"{scp}: {len(unknown)} utterances not in {data_dir}/utt2spk (e.g. {unknown[:3]}); "
                         "wrong --data-dir?")
    rows = []
    for u in keys:
        mat = np.asarray(table[u])
        if mat.ndim == 1:
            mat = mat[None, :]
        if pool:
            rows.append(pool_mean_std(mat))
        else:
            if mat.shape[0] != 1:
                raise ValueError(f"{scp}: {u} has shape {mat.shape}, expected (1, D); use --feats for frame features")
            rows.append(mat[0])
    missing = sorted(set(utt2spk) - set(keys))
    res = speaker_probe(np.stack(rows), [utt2spk[u] for u in keys], seed=seed, n_folds=n_folds)
    res["skipped"] += [[u, "no vector in the scp"] for u in missing]
    res["input"] = str(scp)
    res["n_missing"] = len(missing)
    return res


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    try:
        scp = args.embeddings or args.feats
        res = run_probe(scp, args.data_dir, pool=args.feats is not None, seed=args.seed, n_folds=args.n_folds)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"speaker_probe.py: error: {exc}", file=sys.stderr)
        return 1
    logger.info("%s: %d speakers, %d utterances in %d-fold cross-validation (%d in utt2spk without vector): "
                "logistic regression %.1f%%, MLP %.1f%%, chance %.1f%% balanced accuracy -> %s",
                scp, res["n_speakers"], res["n_utts"], res["n_folds"], res["n_missing"],
                100 * res["logreg_bacc"], 100 * res["mlp_bacc"], 100 * res["chance"], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
