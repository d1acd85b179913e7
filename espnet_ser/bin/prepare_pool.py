"""Prepare a pool of corpora (sources + targets) as one data directory for a task.

Usage (``egs/cross_corpus/dann/local/data.sh``)::

    python -m espnet_ser.bin.prepare_pool --sources emodb,emovo --targets tess \\
        --task arousal --corpus emodb=/c/emodb --corpus emovo=/c/emovo --corpus tess=/c/tess \\
        --out-dir data

writes ``data/corpora/<corpus>/`` per corpus and their union ``data/all``
(:mod:`espnet_ser.corpora.pool`).  Errors are one line on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Optional, Sequence

from espnet_ser.corpora.pool import DEFAULT_EMOTIONS, TASKS, PoolError, check_pool, prepare_pool


def _csv(value: str) -> list:
    return [v for v in value.replace(",", " ").split() if v]


def _pairs(items: Sequence[str], flag: str) -> dict:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise PoolError(f"prepare_pool: {flag} {item!r}: expected NAME=PATH")
        out[name.strip().lower().replace("-", "_")] = path
    return out


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sources", type=_csv, required=True, help="source corpora, comma- or space-separated")
    p.add_argument("--targets", type=_csv, default=[], help="target corpora (empty: every corpus in turn)")
    p.add_argument("--task", choices=sorted(TASKS), default="emotion", help="label of the experiment")
    p.add_argument("--emotions", type=_csv, default=list(DEFAULT_EMOTIONS),
                   help="task emotion: classes kept (default: %(default)s)")
    p.add_argument("--corpus", action="append", default=[], metavar="NAME=DIR", help="corpus folder (repeat)")
    p.add_argument("--label-map", action="append", default=[], metavar="NAME=YAML",
                   help="replace a corpus's packaged label map")
    p.add_argument("--out-dir", default="data", help="data root (corpora/<corpus>, all)")
    p.add_argument("--check", action="store_true",
                   help="only check the names (unknown, repeated, source and target) and print the pool")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (prepare_pool) %(levelname)s: %(message)s")
    try:
        if args.check:
            print(" ".join(check_pool(args.sources, args.targets)))
            return 0
        summary = prepare_pool(
            _pairs(args.corpus, "--corpus"), sources=args.sources, targets=args.targets, task=args.task,
            out_dir=args.out_dir, emotions=args.emotions, label_maps=_pairs(args.label_map, "--label-map"))
    except (PoolError, ValueError, FileNotFoundError, OSError) as exc:
        msg = " ".join(str(exc).split())
        print(msg if msg.startswith("prepare_pool") else f"prepare_pool: {msg}", file=sys.stderr)
        return 1
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
