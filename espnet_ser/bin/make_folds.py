"""Write the fold lists and fold data directories of an evaluation protocol (stage 1).

Usage:
    python -m espnet_ser.bin.make_folds --protocol emodb_l2so \\
        --data-dir data/all --out-dir data/folds [--seed 0]
    python -m espnet_ser.bin.make_folds --protocol iemocap_ts --setting TS_123 \\
        --data-dir data/all --out-dir data/folds_ts123
    python -m espnet_ser.bin.make_folds --protocol cross_corpus \\
        --train-corpora emodb,emovo --test-corpora iemocap --data-dir data/all --out-dir data/cc
    python -m espnet_ser.bin.make_folds --protocol tess_loso --data-dir data/tess --out-dir data/folds

Options other than --protocol/--data-dir/--out-dir/--seed are passed only when
given; a protocol that does not take one is an error (see
``espnet_ser.corpora.protocols``). Writes ``OUT/fold{1..K}/{train,dev,test}.spk``
(``.utt`` where a split is by utterance), ``OUT/fold{k}/{train,dev,test}/`` data
dirs and ``OUT/protocol.json``. Prints ``wrote K folds of PROTOCOL in OUT`` and
exits 0; on an error prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from espnet_ser.corpora.protocols import PROTOCOLS, ProtocolError, make_folds
from espnet_ser.utils.data_dir import DataDirError

logger = logging.getLogger("espnet_ser.bin.make_folds")


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


#: CLI flag -> protocol option name.
_OPTIONS = {
    "setting": str,
    "test_session": int,
    "n_folds": int,
    "dev_mode": str,
    "dev_fraction": float,
    "test_fraction": float,
    "train_corpora": str,
    "test_corpora": str,
    "unlabelled_target": bool,
    "unlabelled_heldout": bool,
}


def get_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = _OneLineParser(
        prog="make_folds.py",
        description="Write the folds of a leakage-free evaluation protocol as lists and Kaldi data dirs.",
    )
    parser.add_argument("--protocol", required=True, choices=sorted(PROTOCOLS), help="protocol name")
    parser.add_argument("--data-dir", required=True, help="prepared source data dir (e.g. data/all)")
    parser.add_argument("--out-dir", required=True, help="output folder (fold1, fold2, ...)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--setting", help="iemocap_ts: TS_1234, TS_123, TS_134, TS_234 or TS_23 (default TS_1234); "
                        "several (TS_1234,TS_23) or all: one fold each")
    parser.add_argument("--test-session", type=int, help="iemocap_ts: evaluated session (default 5)")
    parser.add_argument("--n-folds", type=int, help="emodb_l2so (5), ravdess_l2so (12), emovo_l2so (3), multi_corpus (1)")
    parser.add_argument("--dev-mode", choices=["dialogs", "utts", "speaker"],
                        help="iemocap_loso / iemocap_ts (dialogs); iemocap_impro_loso (utts; speaker: the test "
                             "speaker's session partner); emodb_l2so, emovo_l2so, ravdess_l2so (speaker: the next "
                             "fold's pair; utts: --dev-fraction of each non-test speaker's utterances, no dev pair)")
    parser.add_argument("--dev-fraction", type=float,
                        help="iemocap_* (0.1 of dialogues/utterances), tess_loso and *_l2so --dev-mode utts (0.2 of utterances), "
                             "cross_corpus / multi_corpus (0.2 of speakers; of utterances in a corpus "
                             "with fewer than 3 speakers)")
    parser.add_argument("--test-fraction", type=float, help="multi_corpus: speakers per corpus in test (0.2)")
    parser.add_argument("--train-corpora", help="cross_corpus: comma-separated (default: all but the test corpus)")
    parser.add_argument("--test-corpora", help="cross_corpus: comma-separated, one fold each (default: each corpus)")
    parser.add_argument("--unlabelled-target", type=lambda x: {"true": True, "false": False}[x.lower()],
                        metavar="true|false",
                        help="cross_corpus: add the test corpus, labels removed, as train_unlab (DANN; default false)")
    parser.add_argument("--unlabelled-heldout", type=lambda x: {"true": True, "false": False}[x.lower()],
                        metavar="true|false",
                        help="emodb_l2so, emovo_l2so: add the test speakers' utterances, labels removed, as "
                        "train_unlab (transductive speaker adversary; default false)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = {k: getattr(args, k) for k in _OPTIONS if getattr(args, k) is not None}
    try:
        folds = make_folds(args.protocol, args.data_dir, args.out_dir, seed=args.seed, **options)
    except (ProtocolError, DataDirError, FileNotFoundError, FileExistsError) as exc:
        print(f"make_folds.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(folds)} folds of {args.protocol} in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
