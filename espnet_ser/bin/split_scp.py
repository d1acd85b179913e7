"""Split an scp (or any key list) into N contiguous pieces, as Kaldi's ``utils/split_scp.pl``.

Usage (also ``utils/split_scp.pl``, Kaldi's name and argument order)::

    python -m espnet_ser.bin.split_scp dump/x/test/feats.scp keys.1.scp keys.2.scp keys.3.scp

Lines are copied unchanged and in order; piece ``i`` gets ``L // N`` lines, the
first ``L % N`` pieces one more (Kaldi's rule), so the pieces joined in order
are the input. ESPnet recipes split the key file of a decoding set this way and
give each job its piece as ``--key_file`` (``espnet_ser.bin.ser_inference``;
``ser.sh --inference_nj``).

Where it differs from Kaldi's script: only this plain form (no ``-j``,
``--utt2spk`` or ``--one-based``); the input is checked as a table first
(duplicate ids, blank lines and bad UTF-8 are one-line errors naming
``file:line``); more pieces than lines is an error that says how many pieces
the file allows (Kaldi dies with "bad remainder"). Each piece is written
atomically. Errors are one line, exit 1.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from espnet_ser.utils.data_dir import read_lines, read_table, write_text


def split_scp(scp, outputs: Sequence) -> List[int]:
    """Write the lines of ``scp`` into ``outputs`` in contiguous pieces (Kaldi's sizes).

    Args:
        scp: Input table (``key [value]`` per line).
        outputs: Output paths, one per piece.

    Returns:
        Number of lines written to each output.

    Raises:
        FileNotFoundError: ``scp`` does not exist.
        ValueError: No outputs, an empty input, fewer lines than outputs, or a
            malformed table (``DataDirError``).
    """
    if not outputs:
        raise ValueError("give at least one output file")
    read_table(scp, allow_empty_value=True)  # the checks of a table: unique ids, no blank lines, UTF-8
    lines = read_lines(scp)
    n, k = len(lines), len(outputs)
    if n == 0:
        raise ValueError(f"{scp} is empty (nothing to split)")
    if n < k:
        raise ValueError(f"{scp} has {n} line(s), fewer than the {k} outputs (split it into at most {n})")
    per, extra = divmod(n, k)
    sizes = [per + (i < extra) for i in range(k)]
    start = 0
    for out, size in zip(outputs, sizes):
        write_text(Path(out), "".join(line + "\n" for line in lines[start : start + size]))
        start += size
    return sizes


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scp", help="input scp or key list")
    parser.add_argument("outputs", nargs="+", help="output files, one per piece")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        split_scp(args.scp, args.outputs)
    except (FileNotFoundError, ValueError) as e:  # DataDirError is a ValueError
        print(f"split_scp: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
