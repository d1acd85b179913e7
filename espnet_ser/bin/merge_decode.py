"""Merge the decode dirs of a set split into jobs into one decode dir (stage 5, ``--inference_nj``).

Usage::

    python -m espnet_ser.bin.merge_decode --out exp/x/decode_test \\
        exp/x/decode_test/split3/1 exp/x/decode_test/split3/2 exp/x/decode_test/split3/3

Each split is an ``espnet_ser.bin.ser_inference --key_file`` output dir. The
merged dir has today's file names, so scoring and the report read it as they
read a single job's: ``posteriors``, ``labels.txt`` and ``embeddings.scp``
(sorted bytewise; ``embeddings.scp`` points into the splits'
``embeddings.ark``, which stay where they are), ``skipped`` (the splits'
lists, concatenated), ``emotions.txt`` and ``alpha`` (dialogue models with
modality weights). A missing split, a missing output of a split, an utterance
in two splits or splits with different ``emotions.txt`` are one-line errors
(exit 1) and nothing is written.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_ser.utils.data_dir import read_lines, read_table, write_table, write_text

logger = logging.getLogger("merge_decode")

# Outputs every split has (ser_inference writes them even when it decodes nothing).
REQUIRED = ("posteriors", "labels.txt", "embeddings.scp", "skipped", "emotions.txt")
TABLES = ("posteriors", "labels.txt", "embeddings.scp", "alpha")


def merge_decode(out, splits: Sequence) -> Dict[str, int]:
    """Merge ``splits`` (decode dirs) into ``out``.

    Returns:
        ``{"n": utterances decoded, "skipped": utterances skipped, "splits": N}``.

    Raises:
        FileNotFoundError: A split dir or one of its outputs is missing.
        ValueError: No splits, a split given twice, an utterance in two splits
            (decoded or skipped), or different ``emotions.txt``.
    """
    out = Path(out)
    splits = [Path(s) for s in splits]
    if not splits:
        raise ValueError("give the split decode dirs after --out")
    seen = set()
    for s in splits:
        if s.resolve() in seen:
            raise ValueError(f"split {s} is given twice (each split once)")
        seen.add(s.resolve())
    if out.resolve() in seen:
        raise ValueError(f"--out {out} is one of the splits (merge into another dir)")
    for s in splits:
        for name in REQUIRED:
            if not (s / name).is_file():
                what = "split dir" if not s.is_dir() else f"{name} of the split"
                raise FileNotFoundError(f"{s / name if s.is_dir() else s}: no such {what} (its ser_inference "
                                        "job failed or has not run: see its log)")
    labels = read_lines(splits[0] / "emotions.txt")
    for s in splits[1:]:
        if read_lines(s / "emotions.txt") != labels:
            raise ValueError(f"{s}/emotions.txt differs from {splits[0]}/emotions.txt (splits of different models)")
    merged: Dict[str, Dict[str, str]] = {name: {} for name in TABLES}
    owner: Dict[str, Path] = {}
    skipped: List[str] = []

    def claim(key: str, split: Path) -> None:
        if key in owner and owner[key] != split:
            raise ValueError(f"utterance {key} is in two splits, {owner[key]} and {split} "
                             "(the key lists overlap: split the set with split_scp)")
        owner[key] = split

    for s in splits:
        for name in TABLES:
            if not (s / name).is_file():
                continue  # alpha: only models with modality weights
            for key, value in read_table(s / name).items():
                if name == "posteriors":
                    claim(key, s)
                merged[name][key] = value
        for line in read_lines(s / "skipped"):
            if line.strip():
                claim(line.split()[0], s)
                skipped.append(line)
    decoded = set(merged["posteriors"])
    for name in ("labels.txt", "embeddings.scp"):
        if set(merged[name]) != decoded:
            raise ValueError(f"{name} of the splits does not list the utterances of their posteriors "
                             "(an interrupted job: rerun stage 5)")
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        if merged[name]:
            write_table(out / name, merged[name])
        elif name in ("posteriors", "labels.txt", "embeddings.scp"):
            write_text(out / name, "")
        else:
            (out / name).unlink(missing_ok=True)  # no stale alpha of an earlier run
    write_text(out / "skipped", "".join(line + "\n" for line in skipped))
    write_text(out / "emotions.txt", "".join(line + "\n" for line in labels))
    (out / "embeddings.ark").unlink(missing_ok=True)  # a single job's ark from an earlier run; the scp points into the splits
    logger.info(f"merged {len(decoded)} utterances of {len(splits)} splits into {out}, skipped {len(skipped)}")
    return {"n": len(decoded), "skipped": len(skipped), "splits": len(splits)}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="merged decode dir (e.g. exp/x/decode_test)")
    parser.add_argument("splits", nargs="+", help="the split decode dirs, in order")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s (merge_decode) %(levelname)s: %(message)s")
    try:
        merge_decode(args.out, args.splits)
    except (FileNotFoundError, ValueError) as e:  # DataDirError is a ValueError
        print(f"merge_decode: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
