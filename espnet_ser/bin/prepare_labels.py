"""Label inventories and per-set integer label files (pipeline stage 3).

Inventories (``emotions.txt``, ``speakers.txt``, ``genders.txt``, ...: one
label per line, line number from 0 = class index) are built from the TRAINING
data directory (sorted bytewise) or copied from a fixed list, and written once
per experiment into ``--lang_dir``.  For every ``--set <data_dir>:<out_dir>``
the file ``<out_dir>/<name>.int`` (``utt int``) is written for every utterance
of the data dir, with ``-1`` where the label is absent (unlabelled utterance)
or not in the inventory (e.g. a test speaker); the latter are counted in the
log, never dropped.

The task stream (``--task``, the one the model classifies) needs two classes in
the training data.  Another stream with ONE class there (the language of a
cross-corpus fold whose corpora all speak English: Gao et al.'s IEMOCAP ->
MSP-IMPROV) gets a one-label inventory and a warning: a domain head reading it
is constant, its loss and gradient are zero, so that adversary does nothing in
that fold (rather than stopping a recipe whose other folds need it).

The streams and their file names are ``espnet_ser.labels.LABEL_SOURCES``.

Usage::

    python -m espnet_ser.bin.prepare_labels --train_dir data/train \\
        --lang_dir exp/x/labels --names emotion speaker gender \\
        --inventory emotion=conf/emotions.txt \\
        --set data/train:dump/fbank/train --set data/test:dump/fbank/test
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_ser.labels import LABEL_SOURCES, read_label_list, write_label_list
from espnet_ser.utils.data_dir import read_table, write_table

logger = logging.getLogger("prepare_labels")


def _utts(data_dir: Path) -> List[str]:
    for name in ("utt2spk", "wav.scp"):
        if (data_dir / name).is_file():
            return list(read_table(data_dir / name))
    raise FileNotFoundError(f"prepare_labels: {data_dir} has neither utt2spk nor wav.scp")


def make_inventory(
    train_dir, lang_dir, name: str, fixed_list: Optional[str] = None, min_classes: int = 2
) -> List[str]:
    """Write ``<lang_dir>/<inventory>`` for one data name and return the labels.

    ``min_classes``: fewest labels accepted (2 for the task stream; 1 for a
    domain stream, with a warning when it has one).

    Raises:
        FileNotFoundError: The training label file is missing.
        ValueError: A training label is missing from ``fixed_list``, or an
            existing inventory in ``lang_dir`` differs (inventories are written
            once per experiment; remove the old one to change it).
    """
    if name not in LABEL_SOURCES:
        raise ValueError(f"prepare_labels: unknown label name '{name}'; choose from {sorted(LABEL_SOURCES)}")
    src, inv_name = LABEL_SOURCES[name]
    src_path = Path(train_dir) / src
    if not src_path.is_file():
        raise FileNotFoundError(f"prepare_labels: {src_path} not found (needed for '{name}')")
    train_labels = set(read_table(src_path).values())
    if fixed_list is not None:
        labels = read_label_list(fixed_list, f"--inventory {name}")
        missing = sorted(train_labels - set(labels))
        if missing:
            raise ValueError(f"prepare_labels: training labels {missing} of '{name}' are not in {fixed_list}")
    else:
        labels = sorted(train_labels, key=lambda x: x.encode("utf-8"))
    if len(labels) < min_classes:
        raise ValueError(f"prepare_labels: '{name}' has fewer than {min_classes} classes in {src_path}: {labels}")
    if len(labels) < 2:
        logger.warning(f"'{name}' has one class in {src_path} ({labels}): a domain head reading it is "
                       "constant (zero loss and gradient) in this experiment")
    out = Path(lang_dir) / inv_name
    if out.is_file():
        old = read_label_list(out, str(out))
        if old != labels:
            raise ValueError(
                f"prepare_labels: {out} exists with different labels; inventories are written "
                "once per experiment (remove it to rebuild)"
            )
    write_label_list(out, labels)
    return labels


def write_int_labels(data_dir, out_dir, name: str, labels: Sequence[str]) -> Dict[str, int]:
    """Write ``<out_dir>/<name>.int`` for every utterance of ``data_dir``.

    Returns:
        Counts: ``n`` utterances, ``absent`` (no label), ``unknown`` (label
        not in the inventory); both written as -1.
    """
    data_dir = Path(data_dir)
    src = data_dir / LABEL_SOURCES[name][0]
    table = read_table(src) if src.is_file() else {}
    index = {lab: i for i, lab in enumerate(labels)}
    out, absent, unknown = {}, 0, 0
    for utt in _utts(data_dir):
        lab = table.get(utt)
        if lab is None:
            absent += 1
            idx = -1
        elif lab not in index:
            unknown += 1
            idx = -1
        else:
            idx = index[lab]
        out[utt] = str(idx)
    write_table(Path(out_dir) / f"{name}.int", out)
    return {"n": len(out), "absent": absent, "unknown": unknown}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_dir", required=True, help="training data dir (inventories come from it)")
    parser.add_argument("--lang_dir", required=True, help="where emotions.txt, speakers.txt, ... go")
    parser.add_argument("--names", nargs="+", default=["emotion"], help=f"label names from {sorted(LABEL_SOURCES)}")
    parser.add_argument("--task", default="emotion",
                        help="the stream the model classifies: it needs 2 classes in training; the others 1 "
                        "(default emotion)")
    parser.add_argument("--inventory", action="append", default=[], metavar="NAME=FILE",
                        help="fixed inventory for a name (e.g. emotion=conf/emotions.txt)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="DATA_DIR:OUT_DIR",
                        help="write OUT_DIR/<name>.int for the utterances of DATA_DIR (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (prepare_labels) %(levelname)s: %(message)s")
    try:
        fixed = {}
        for item in args.inventory:
            if "=" not in item:
                raise ValueError(f"--inventory expects NAME=FILE, got {item!r}")
            k, v = item.split("=", 1)
            fixed[k] = v
        if args.task not in args.names:
            raise ValueError(f"--task {args.task} is not among --names {' '.join(args.names)}: "
                             f"add it to --names (its stream is the one the model classifies)")
        unknown_fixed = set(fixed) - set(args.names)
        if unknown_fixed:
            raise ValueError(f"--inventory given for {sorted(unknown_fixed)} which are not in --names")
        for name in args.names:
            labels = make_inventory(args.train_dir, args.lang_dir, name, fixed.get(name),
                                    min_classes=2 if name == args.task else 1)
            logger.info(f"{name}: {len(labels)} classes -> {args.lang_dir}/{LABEL_SOURCES[name][1]}")
            for spec in args.sets:
                if ":" not in spec:
                    raise ValueError(f"--set expects DATA_DIR:OUT_DIR, got {spec!r}")
                data_dir, out_dir = spec.split(":", 1)
                c = write_int_labels(data_dir, out_dir, name, labels)
                logger.info(
                    f"{out_dir}/{name}.int: {c['n']} utterances, {c['absent']} without label, "
                    f"{c['unknown']} with a label outside the inventory (both -1)"
                )
    except (FileNotFoundError, ValueError) as e:
        print(f"prepare_labels: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
