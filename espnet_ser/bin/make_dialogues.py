"""Pipeline stage 3 for dialogue models (``ser.sh --example_unit dialogue``): one example = one dialogue.

Usage (``egs/TEMPLATE/ser1/ser.sh``)::

    python -m espnet_ser.bin.make_dialogues --fold-dir data/folds/iemocap_ts/fold1 \\
      --feats dump/compare_2016/all/feats.scp --feats dump/sentence_embedding/all/feats.scp \\
      --out-dir dump/compare_2016_global/iemocap_ts/fold1 --norm global --names emotion speaker

Each utterance vector is the concatenation of its ``(1, D_i)`` vectors from the
``--feats`` files, in the order given (Lian et al.: ComParE_2016 functionals, then
the lexical sentence vector; the model's ``encoder_conf.modality_dims`` names the
split).  Utterances are grouped by ``utt2dialog`` and ordered by ``utt2start``
(turn start; utterance id where the table is absent).  Sets:

* ``train``: the dialogues of the fold's ``train`` (labelled sessions) AND of its
  ``train_unlab`` (the other sessions, emotions unknown) -- the speaker head
  trains on both;
* ``dev``, ``test``: the fold's ``dev`` and ``test`` dialogues.

Per set ``<out-dir>/<set>/``: ``feats.{ark,scp}`` (one ``(U, D)`` matrix per
dialogue, utterances in time order), ``speech_shape`` (``dialog U,D``),
``<name>.int`` for each ``--names`` stream (``dialog l_1 ... l_U``; ``-1`` =
unknown, e.g. every emotion of ``train_unlab`` and the turns outside the class
set), ``dialogues`` (``dialog utt_1 ... utt_U``: how stage 5 unrolls posteriors
back to utterances) and ``skipped`` (``<utt or dialog> <reason>``).  Also
``<out-dir>/labels/`` (inventories: emotions from the labelled training
utterances, every other stream from train + train_unlab, so the speaker head
knows the unlabelled sessions' speakers), ``stats.npz`` (``--norm global``:
ESPnet's count/sum/sum_square over the utterance vectors of the fold's
``train`` set only, for the model's ``global_mvn``) and ``norm.json``.

Accounting, never silent: an utterance without features in one of the files
(stage 2 skipped it, e.g. an empty transcript) is left out of its dialogue and
listed in ``skipped`` with the stage-2 reason; one with no features and no
stage-2 reason is an error.  A dev/test dialogue without any labelled utterance
is listed in ``skipped`` (nothing to score or select on); a train dialogue
without one is kept (its speakers still train the speaker head) and counted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

PROG = "make_dialogues"
#: Output sets -> the fold data dirs they are made of.
SETS = {"train": ("train", "train_unlab"), "dev": ("dev",), "test": ("test",)}
OUTPUT_FORMAT = 1


def _read_feats(paths: Sequence[Path]):
    """Per file: (utt -> spec, utt -> stage-2 skip reason)."""
    from espnet_ser.utils.data_dir import read_table

    out = []
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"--feats {p}: no such file (run stage 2 for it)")
        sk = p.parent / "skipped"
        out.append((read_table(p), read_table(sk) if sk.is_file() and sk.stat().st_size else {}))
    return out


def _hash(args: dict, paths: Sequence[Path]) -> str:
    h = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode())
    for p in paths:
        if p.is_file():
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _order(utts: List[str], utt2start: Dict[str, str]) -> List[str]:
    def key(u):
        try:
            return (float(utt2start[u]), u)
        except (KeyError, ValueError):
            return (float("inf"), u)
    return sorted(utts, key=key)


def make_dialogues(
    fold_dir: Path, feats: Sequence[Path], out_dir: Path, norm: str = "global",
    names: Sequence[str] = ("emotion", "speaker"), var_floor: float = 1e-10,
) -> dict:
    """Write the dialogue sets of one fold (see the module docstring); returns the summary.

    Raises:
        FileNotFoundError: Missing fold sets, tables or feature files.
        ValueError: Bad ``norm``, utterances without features and without a stage-2
            reason, a feature that is not ``(1, D)``, or no labelled training utterance.
    """
    from espnet_ser.features.ark_io import ArkWriter, read_matrix
    from espnet_ser.features.norm import StatsAccumulator, save_stats
    from espnet_ser.labels import LABEL_SOURCES, write_label_list
    from espnet_ser.utils.data_dir import read_table, write_table

    if norm not in ("global", "none"):
        raise ValueError(f"--norm {norm}: dialogue examples support global or none (per-speaker or "
                         "per-utterance normalisation of (1, D) vectors is not defined here)")
    bad = [n for n in names if n not in LABEL_SOURCES]
    if bad or "emotion" not in names:
        raise ValueError(f"--names {list(names)}: need emotion and streams from {sorted(LABEL_SOURCES)}")
    fold_dir, out_dir = Path(fold_dir), Path(out_dir)
    feats = [Path(f) for f in feats]
    for need in ("train", "dev", "test"):
        if not (fold_dir / need / "utt2spk").is_file():
            raise FileNotFoundError(f"{fold_dir / need}/utt2spk: missing (run stage 1 for this protocol)")
    dirs = {d: fold_dir / d for s in SETS.values() for d in s if (fold_dir / d / "utt2spk").is_file()}
    inputs = [p for d in dirs.values() for p in sorted(d.iterdir())] + feats
    digest = _hash({"v": OUTPUT_FORMAT, "norm": norm, "names": list(names), "feats": [str(f) for f in feats],
                    "var_floor": var_floor}, inputs)
    marker = out_dir / "norm.json"
    if marker.is_file():
        try:
            prev = json.loads(marker.read_text())
            if prev.get("hash") == digest and all((out_dir / s / "feats.scp").is_file() for s in SETS):
                print(f"{PROG}: {out_dir}: up to date (options hash {digest}), not redone", file=sys.stderr)
                return prev
        except json.JSONDecodeError:
            pass
    marker.unlink(missing_ok=True)

    tables = {d: {t: (read_table(p / t) if (p / t).is_file() else {})
                  for t in ["utt2spk", "utt2dialog", "utt2start"] + [LABEL_SOURCES[n][0] for n in names]}
              for d, p in dirs.items()}
    for d, t in tables.items():
        if not t["utt2dialog"]:
            raise FileNotFoundError(f"{dirs[d]}/utt2dialog: missing; dialogue examples need the dialogue of "
                                    "every utterance (prepare_iemocap writes it)")
    specs = _read_feats(feats)

    # Inventories: emotion from the labelled training utterances, the rest from train + train_unlab.
    lang = out_dir / "labels"
    inventories = {}
    for n in names:
        src = LABEL_SOURCES[n][0]
        pool = ["train"] if n == "emotion" else [d for d in SETS["train"] if d in tables]
        labels = sorted({v for d in pool for v in tables[d][src].values()}, key=lambda x: x.encode("utf-8"))
        if len(labels) < 2:
            raise ValueError(f"{PROG}: '{n}' has fewer than 2 classes in {', '.join(str(dirs[d]) for d in pool)}")
        write_label_list(lang / LABEL_SOURCES[n][1], labels)
        inventories[n] = {lab: i for i, lab in enumerate(labels)}

    def vector(utt: str):
        """(1, sum D) or the reason it is missing."""
        parts = []
        for path, (table, skipped) in zip(feats, specs):
            if utt not in table:
                if utt in skipped:
                    return f"no {path.parent.parent.name} features: {skipped[utt]}"
                raise ValueError(f"{path}: no features for {utt} and no entry in {path.parent / 'skipped'} "
                                 "(re-run stage 2)")
            m = np.asarray(read_matrix(table[utt]), dtype=np.float32)
            if m.ndim != 2 or m.shape[0] != 1:
                raise ValueError(f"{path}: {utt} has shape {m.shape}; dialogue examples need utterance-level "
                                 "(1, D) features (functionals, sentence embeddings)")
            parts.append(m)
        return np.concatenate(parts, axis=1)

    acc = StatsAccumulator(var_floor) if norm == "global" else None
    summary_sets = {}
    dim = None
    for s, parts in SETS.items():
        sdir = out_dir / s
        sdir.mkdir(parents=True, exist_ok=True)
        skipped: Dict[str, str] = {}
        shape, dlg_utts = {}, {}
        ints = {n: {} for n in names}
        n_unlab_dialogs = n_utts = n_lab = 0
        with ArkWriter(sdir / "feats.ark", sdir / "feats.scp") as writer:
            for d in parts:
                if d not in tables:
                    continue
                t = tables[d]
                by_dialog = defaultdict(list)
                for u in t["utt2spk"]:
                    if u not in t["utt2dialog"]:
                        raise ValueError(f"{dirs[d]}/utt2dialog: no dialogue for {u}")
                    by_dialog[t["utt2dialog"][u]].append(u)
                for dialog in sorted(by_dialog):
                    key = dialog
                    if key in shape:
                        raise ValueError(f"{dirs[d]}: dialogue {key} is also in another part of set {s}")
                    rows, kept = [], []
                    for u in _order(by_dialog[dialog], t["utt2start"]):
                        v = vector(u)
                        if isinstance(v, str):
                            skipped[u] = v
                            continue
                        if dim is not None and v.shape[1] != dim:
                            raise ValueError(f"{u}: feature dim {v.shape[1]} differs from {dim}")
                        dim = v.shape[1]
                        rows.append(v)
                        kept.append(u)
                        if acc is not None and d == "train":
                            acc.add(v, u)
                    if not kept:
                        skipped[key] = "dialogue without any utterance that has features"
                        continue
                    emo = t[LABEL_SOURCES["emotion"][0]]
                    labelled = sum(emo.get(u) in inventories["emotion"] for u in kept)
                    if not labelled and s != "train":
                        skipped[key] = f"dialogue without a labelled utterance in {s} (nothing to score)"
                        continue
                    n_unlab_dialogs += not labelled
                    n_utts += len(kept)
                    n_lab += labelled
                    writer[key] = np.concatenate(rows, axis=0)
                    shape[key] = f"{len(kept)},{dim}"
                    dlg_utts[key] = " ".join(kept)
                    for n in names:
                        tab, inv = t[LABEL_SOURCES[n][0]], inventories[n]
                        ints[n][key] = " ".join(str(inv.get(tab.get(u), -1)) for u in kept)
        if not shape:
            raise ValueError(f"{PROG}: set {s} of {fold_dir} has no dialogue left (see {sdir}/skipped)")
        write_table(sdir / "speech_shape", shape)
        write_table(sdir / "dialogues", dlg_utts)
        write_table(sdir / "skipped", skipped)
        for n in names:
            write_table(sdir / f"{n}.int", ints[n])
        summary_sets[s] = {"dialogues": len(shape), "utterances": n_utts, "labelled": n_lab,
                           "dialogues_without_label": n_unlab_dialogs, "skipped": len(skipped)}
        print(f"{PROG}: {s}: {len(shape)} dialogues, {n_utts} utterances ({n_lab} labelled), "
              f"{n_unlab_dialogs} dialogues without a label, {len(skipped)} skipped -> {sdir}", file=sys.stderr)
    if summary_sets["train"]["labelled"] == 0:
        raise ValueError(f"{PROG}: {fold_dir}/train has no labelled utterance with features")
    (out_dir / "stats.npz").unlink(missing_ok=True)
    if acc is not None:
        save_stats(out_dir / "stats.npz", **acc.espnet_stats())
    summary = {"hash": digest, "mode": norm, "example_unit": "dialogue", "train_set": "train",
               "feats": [str(f) for f in feats], "fold_dir": str(fold_dir), "dim": dim, "sets": summary_sets}
    marker.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog=f"python -m espnet_ser.bin.{PROG}",
                                description="Dialogue examples of one fold (stage 3, --example_unit dialogue).")
    p.add_argument("--fold-dir", required=True, help="data/folds/<protocol>/fold<k>")
    p.add_argument("--feats", action="append", required=True,
                   help="feats.scp of one modality ((1, D) per utterance); repeat, in modality order")
    p.add_argument("--out-dir", required=True, help="dump/<feat>_<norm>/<protocol>/fold<k>")
    p.add_argument("--norm", default="global", help="global (stats.npz for the model's global_mvn) or none")
    p.add_argument("--names", nargs="+", default=["emotion", "speaker"], help="label streams to write")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        make_dialogues(Path(args.fold_dir), [Path(f) for f in args.feats], Path(args.out_dir), args.norm,
                       args.names)
    except (FileNotFoundError, ValueError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
