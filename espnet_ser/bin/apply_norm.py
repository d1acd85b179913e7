"""Pipeline stage 3: one fold's feature sets and normalisation statistics (training data only).

Usage (``egs/TEMPLATE/ser1/ser.sh``)::

    python -m espnet_ser.bin.apply_norm --mode global \\
      --feats dump/mfcc/all/feats.scp --fold-dir data/folds/emodb_l2so/fold1 \\
      --out-dir dump/mfcc_global/emodb_l2so/fold1

``--fold-dir`` holds one data directory per set (``train``, ``dev``, ``test``,
any other sub-directory with a ``utt2spk``); ``--sets`` restricts them.
``--feats`` takes one or more ``feats.scp`` (cross-corpus: one per corpus; keys
must not repeat). For each set ``S`` the output is ``<out-dir>/S/feats.scp``,
``utt2num_frames`` and ``skipped``; ``<out-dir>/norm.json`` holds the mode,
options and counts.

Modes (details in :mod:`espnet_ser.features.norm`):

* ``global``: ``<out-dir>/stats.npz`` in ESPnet's format (``count``, ``sum``,
  ``sum_square`` over all frames of the ``--train-set`` set only), for the
  model's ``--normalize global_mvn --normalize_conf stats_file=...``; the sets'
  ``feats.scp`` point into the input arks (no copies);
* ``utterance``: no statistics (the model's ``--normalize utterance_mvn``); the
  sets' ``feats.scp`` point into the input arks; refused for ``(1, D)`` features;
* ``speaker``: each speaker standardised with the statistics of its own
  utterances in the fold's sets (a test speaker from its own unlabelled audio,
  no labels used); the ONE mode that writes normalised copies
  (``<out-dir>/S/feats.ark``), since the model cannot hold a test speaker's
  statistics; ``stats.npz`` then holds ``speakers``, ``speaker_mean``,
  ``speaker_std``, ``speaker_count``;
* ``none``: the sets' ``feats.scp`` point into the input arks.

An utterance of a set that has no features is looked up in the ``skipped`` file
next to its ``feats.scp`` (stage 2) and carried into the set's ``skipped`` with
that reason; one that is in neither is an error (nothing is silently dropped).
A finished output whose options hash matches is not redone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

PROG = "apply_norm"
#: Version of what stage 3 writes; 2: global/utterance list the input features, ESPnet stats.
OUTPUT_FORMAT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        print(f"{PROG}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def get_parser() -> argparse.ArgumentParser:
    from espnet_ser.features.norm import DEFAULT_VAR_FLOOR, MODES

    p = _Parser(prog="python -m espnet_ser.bin.apply_norm",
                description="Normalise one fold's features with statistics from its training set only.")
    p.add_argument("--mode", required=True, choices=MODES, help="normalisation mode")
    p.add_argument("--feats", required=True, nargs="+", help="input feats.scp file(s) (stage 2 output)")
    p.add_argument("--fold-dir", required=True, help="directory with one data dir per set (train, dev, test)")
    p.add_argument("--out-dir", required=True, help="output directory (one sub-dir per set)")
    p.add_argument("--train-set", default="train", help="name of the set the statistics come from")
    p.add_argument("--sets", nargs="+", default=None,
                   help="sets to write (default: every sub-directory of --fold-dir with a utt2spk)")
    p.add_argument("--var-floor", type=float, default=DEFAULT_VAR_FLOOR,
                   help="variance floor before the square root")
    return p


def _read_feats(paths: Sequence[Path]):
    """Union of several scp files -> (key -> spec), (key -> skip reason)."""
    from espnet_ser.utils.data_dir import read_table

    specs: Dict[str, str] = {}
    skipped: Dict[str, str] = {}
    for path in paths:
        part = read_table(path)
        dup = set(part) & set(specs)
        if dup:
            raise ValueError(f"{path}: {len(dup)} utterance id(s) also in another --feats file, e.g. {sorted(dup)[0]}")
        specs.update(part)
        sk = path.parent / "skipped"
        if sk.is_file() and sk.stat().st_size:
            skipped.update(read_table(sk))
    return specs, skipped


def _num_frames(paths: Sequence[Path]) -> Dict[str, int]:
    """``utt2num_frames`` beside each ``feats.scp`` (stage 2 writes it), where present."""
    from espnet_ser.utils.data_dir import read_table

    frames: Dict[str, int] = {}
    for path in paths:
        table = path.parent / "utt2num_frames"
        if table.is_file():
            frames.update({u: int(n) for u, n in read_table(table).items()})
    return frames


def _options_hash(args, sets: Dict[str, Path], feats: List[Path]) -> str:
    h = hashlib.sha256()
    # OUTPUT_FORMAT: outputs of an older stage 3 (normalised copies for global) are redone.
    h.update(json.dumps([OUTPUT_FORMAT, args.mode, args.train_set, args.var_floor, sorted(sets)]).encode())
    for p in feats + [sets[s] / "utt2spk" for s in sorted(sets)]:
        h.update(str(p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def apply_norm(
    mode: str,
    feats: Sequence[Path],
    fold_dir: Path,
    out_dir: Path,
    train_set: str = "train",
    sets: Optional[Sequence[str]] = None,
    var_floor: float = 1e-10,
) -> dict:
    """Normalise the sets of one fold (see the module docstring); returns the summary.

    Raises:
        FileNotFoundError: Missing fold sets, train set or scp files.
        ValueError: Unknown mode, utterances without features or a skip reason,
            ``utterance`` mode on ``(1, D)`` features, dim mismatch.
    """
    from espnet_ser.features.ark_io import ArkWriter, load_scp
    from espnet_ser.features.norm import (
        MODES, StatsAccumulator, save_stats, speaker_stats, standardize)
    from espnet_ser.utils.data_dir import read_table, write_table

    if mode not in MODES:
        raise ValueError(f"--mode {mode}: must be one of {MODES}")
    fold_dir, out_dir = Path(fold_dir), Path(out_dir)
    feats = [Path(f) for f in feats]
    if not fold_dir.is_dir():
        raise FileNotFoundError(f"--fold-dir {fold_dir}: no such directory (run stage 1)")
    if sets is None:
        sets = sorted(p.name for p in fold_dir.iterdir() if (p / "utt2spk").is_file())
    set_dirs = {s: fold_dir / s for s in sets}
    for s, d in set_dirs.items():
        if not (d / "utt2spk").is_file():
            raise FileNotFoundError(f"{d}/utt2spk: missing: set '{s}' is not a data dir of {fold_dir}")
    if train_set not in set_dirs:
        raise FileNotFoundError(
            f"--train-set {train_set}: no data dir {fold_dir / train_set} among the sets {sorted(set_dirs)}"
        )
    args_like = argparse.Namespace(mode=mode, train_set=train_set, var_floor=var_floor)
    digest = _options_hash(args_like, set_dirs, feats)
    marker = out_dir / "norm.json"
    if marker.is_file() and all((out_dir / s / "feats.scp").is_file() for s in set_dirs):
        try:
            if json.loads(marker.read_text()).get("hash") == digest:
                print(f"{PROG}: {out_dir}: up to date (options hash {digest}), not redone", file=sys.stderr)
                return json.loads(marker.read_text())
        except json.JSONDecodeError:
            pass
    marker.unlink(missing_ok=True)

    specs, feat_skipped = _read_feats(feats)
    lazy = load_scp(feats[0]) if len(feats) == 1 else None

    def load(utt: str) -> np.ndarray:
        from espnet_ser.features.ark_io import read_matrix

        return lazy[utt] if lazy is not None else read_matrix(specs[utt])

    utt2spk: Dict[str, str] = {}
    set_utts: Dict[str, List[str]] = {}
    set_skipped: Dict[str, Dict[str, str]] = {}
    for s, d in set_dirs.items():
        table = read_table(d / "utt2spk")
        utt2spk.update(table)
        have = [u for u in sorted(table) if u in specs]
        lost = [u for u in sorted(table) if u not in specs]
        unexplained = [u for u in lost if u not in feat_skipped]
        if unexplained:
            raise ValueError(
                f"{d}: {len(unexplained)} utterance(s) have no features and no entry in the stage-2 "
                f"skipped file, e.g. {unexplained[0]} (re-run stage 2 for {', '.join(map(str, feats))})"
            )
        set_utts[s] = have
        set_skipped[s] = {u: f"no features: {feat_skipped[u]}" for u in lost}
    if not set_utts[train_set]:
        raise ValueError(f"{set_dirs[train_set]}: no training utterance has features")

    stats: Dict[str, np.ndarray] = {}
    spk_stats = {}
    frames_in = _num_frames(feats)
    if mode == "global":
        acc = StatsAccumulator(var_floor)
        for utt in set_utts[train_set]:
            acc.add(load(utt), utt)
        stats = acc.espnet_stats()
    elif mode == "utterance":
        for s in sorted(set_dirs):
            for u in set_utts[s]:
                n = frames_in[u] if u in frames_in else int(load(u).shape[0])
                if n < 2:
                    raise ValueError(
                        f"--mode utterance: {u} has {n} frame(s); utterance-level "
                        "features (1, D) would all become 0 (use --mode global or speaker)"
                    )
    elif mode == "speaker":
        all_utts = sorted({u for s in set_utts.values() for u in s})
        spk_stats = speaker_stats(_Lazy(load), utt2spk, all_utts, var_floor)
        spks = sorted(spk_stats)
        stats = {
            "speakers": np.array(spks),
            "speaker_mean": np.stack([spk_stats[k][0] for k in spks]),
            "speaker_std": np.stack([spk_stats[k][1] for k in spks]),
            "speaker_count": np.array([spk_stats[k][2] for k in spks]),
        }

    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for s in sorted(set_dirs):
        sdir = out_dir / s
        sdir.mkdir(parents=True, exist_ok=True)
        frames: Dict[str, int] = {}
        if mode != "speaker":
            # The model normalises (global_mvn / utterance_mvn) or nothing does:
            # the set is a subset of the input features, not a copy.
            (sdir / "feats.ark").unlink(missing_ok=True)  # a copy left by an older stage 3
            write_table(sdir / "feats.scp", {u: specs[u] for u in set_utts[s]})
            for u in set_utts[s]:
                frames[u] = frames_in[u] if u in frames_in else int(load(u).shape[0])
        else:
            with ArkWriter(sdir / "feats.ark", sdir / "feats.scp") as writer:
                for u in set_utts[s]:
                    mean, std, _ = spk_stats[utt2spk[u]]
                    y = standardize(load(u), mean, std)
                    writer[u] = y
                    frames[u] = int(y.shape[0])
        write_table(sdir / "utt2num_frames", frames)
        write_table(sdir / "skipped", set_skipped[s])
        counts[s] = {"written": len(frames), "skipped": len(set_skipped[s])}
        print(f"{PROG}: {mode}: {s}: {len(frames) + len(set_skipped[s])} in, {len(frames)} listed, "
              f"{len(set_skipped[s])} skipped -> {sdir}/feats.scp", file=sys.stderr)
    (out_dir / "stats.npz").unlink(missing_ok=True)
    if stats:
        save_stats(out_dir / "stats.npz", **stats)
    summary = {"hash": digest, "mode": mode, "train_set": train_set, "var_floor": var_floor,
               "feats": [str(f) for f in feats], "fold_dir": str(fold_dir), "sets": counts}
    marker.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


class _Lazy:
    """Mapping-like view ``utt -> matrix`` over a loader function."""

    def __init__(self, load):
        self._load = load

    def __getitem__(self, utt):
        return self._load(utt)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        apply_norm(args.mode, [Path(f) for f in args.feats], Path(args.fold_dir), Path(args.out_dir),
                   args.train_set, args.sets, args.var_floor)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
