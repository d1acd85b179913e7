"""Write an ESPnet shape file (``utt T,D``) from a feature directory.

ESPnet's samplers need the length of every input; ``utt2num_frames`` has T,
the feature dimension D is read from the first matrix of ``feats.scp``.  This
replaces ESPnet's collect_stats pass.

Usage::

    python -m espnet_ser.bin.make_shape_file dump/fbank/train [--out dump/fbank/train/speech_shape]
"""

import argparse
import sys
from pathlib import Path


def make_shape_file(feats_dir, out=None) -> Path:
    """Write ``<feats_dir>/speech_shape`` (or ``out``).

    Args:
        feats_dir: Directory with ``feats.scp`` and ``utt2num_frames``.
        out: Output path (default ``<feats_dir>/speech_shape``).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: A required file is missing.
        ValueError: Malformed ``utt2num_frames`` or keys that differ from feats.scp.
    """
    from espnet_ser.features.ark_io import read_matrix
    from espnet_ser.utils.data_dir import read_table, write_table

    feats_dir = Path(feats_dir)
    scp, u2n = feats_dir / "feats.scp", feats_dir / "utt2num_frames"
    for f in (scp, u2n):
        if not f.is_file():
            raise FileNotFoundError(f"make_shape_file: {f} not found (run feature extraction first)")
    frames = read_table(u2n)
    for i, (utt, n) in enumerate(frames.items(), 1):
        if not n.isdigit():
            raise ValueError(f"{u2n}:{i}: expected '<utt> <num_frames>', got {utt!r} {n!r}")
    specs = read_table(scp)
    scp_keys = list(specs)
    if set(scp_keys) != set(frames):
        diff = sorted(set(scp_keys) ^ set(frames))
        raise ValueError(
            f"make_shape_file: {scp} and {u2n} list different utterances "
            f"({len(diff)}, e.g. {diff[:3]})"
        )
    first = read_matrix(specs[scp_keys[0]])
    dim = first.shape[1] if first.ndim == 2 else first.shape[0]
    out = Path(out) if out is not None else feats_dir / "speech_shape"
    write_table(out, {k: f"{int(frames[k])},{dim}" for k in scp_keys})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("feats_dir", help="dump/<feat>/<set> with feats.scp and utt2num_frames")
    parser.add_argument("--out", default=None, help="output path (default <feats_dir>/speech_shape)")
    args = parser.parse_args(argv)
    try:
        path = make_shape_file(args.feats_dir, args.out)
    except (FileNotFoundError, ValueError) as e:
        print(f"make_shape_file: error: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"make_shape_file: wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
