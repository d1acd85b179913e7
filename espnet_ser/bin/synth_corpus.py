"""Generate a synthetic emotional-speech corpus in a real corpus's exact layout.

Usage:
    python -m espnet_ser.bin.synth_corpus --layout emodb --out-dir /tmp/emodb_synth
    python -m espnet_ser.bin.synth_corpus --layout iemocap --out-dir db/iemocap \\
        --n-speakers 10 --utts-per-speaker 20 --option persist=0.8
    python -m espnet_ser.bin.synth_corpus --layout ravdess --out-dir db/ravdess \\
        --n-speakers 24 --option songs=true

``--option KEY=VALUE`` (repeatable) passes a layout option of
:func:`espnet_ser.corpora.synth.generate_corpus` (``emotions=W,N,T`` takes a
comma-separated list; ``true``/``false`` and numbers are converted).

On success prints ``generated N files (S speakers) in DIR`` and exits 0; on an
error prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any, Optional, Sequence

from espnet_ser.corpora.synth import LAYOUTS, generate_corpus, read_manifest

logger = logging.getLogger("espnet_ser.bin.synth_corpus")


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def _duration(text: str) -> Any:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--duration must be SECONDS or MIN,MAX, got {text!r}") from None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return tuple(values)
    raise argparse.ArgumentTypeError(f"--duration must be SECONDS or MIN,MAX, got {text!r}")


def _option_value(key: str, value: str) -> Any:
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if key == "emotions":
        return [v for v in value.split(",") if v]
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def get_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = _OneLineParser(
        prog="synth_corpus.py",
        description="Write a synthetic emotional-speech corpus in the exact layout of a real one.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--layout", required=True, choices=sorted(LAYOUTS), help="corpus layout")
    parser.add_argument("--out-dir", required=True, help="corpus root to create (absent or empty)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed = same bytes)")
    parser.add_argument("--n-speakers", type=int, default=None, help="speakers (default: the layout's)")
    parser.add_argument("--utts-per-speaker", type=int, default=None, help="files per speaker")
    parser.add_argument("--duration", type=_duration, default=(1.0, 2.0), help="SECONDS or MIN,MAX")
    parser.add_argument("--sample-rate", type=int, default=None, help="output rate (default: the corpus's)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="layout option, repeatable (see generate_corpus)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"synth_corpus.py: error: --option must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return 1
        options[key] = _option_value(key, value)
    start = time.time()
    try:
        root = generate_corpus(
            args.layout, args.out_dir, seed=args.seed, n_speakers=args.n_speakers,
            utts_per_speaker=args.utts_per_speaker, duration=args.duration,
            sample_rate=args.sample_rate, **options,
        )
    except (ValueError, FileExistsError, OSError) as exc:
        print(f"synth_corpus.py: error: {exc}", file=sys.stderr)
        return 1
    rows = read_manifest(root)
    n_spk = len({r["speaker"] for r in rows})
    logger.info("layout=%s seed=%d options=%s: %.1f s", args.layout, args.seed, options, time.time() - start)
    print(f"generated {len(rows)} files ({n_spk} speakers) in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
