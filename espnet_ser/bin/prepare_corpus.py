"""Prepare one emotion corpus as a Kaldi data directory (pipeline stage 1).

Usage:
    python -m espnet_ser.bin.prepare_corpus --corpus emodb \\
        --corpus-dir /corpora/emodb --out-dir data/emodb
    python -m espnet_ser.bin.prepare_corpus --corpus iemocap \\
        --corpus-dir /corpora/IEMOCAP_full_release --out-dir data/iemocap_impro \\
        --subset improvised
    python -m espnet_ser.bin.prepare_corpus --corpus iemocap ... --option classes=all

``--subset NAME`` picks a named subset of the corpus (``iemocap``: improvised;
``msp_improv``: improvised, read, natural; ``ravdess``: speech, song, all);
``--option KEY=VALUE`` (repeatable) passes any keyword option of the corpus's
``prepare_<corpus>`` function (see its docstring), e.g. ``classes=all``,
``improvised_only=true``, ``types=TS``, ``vocal_channel=all``,
``label_file=/x/Evaluation.txt``.  Unknown options are errors.
``--speakers 03,08,...`` keeps only these native speaker ids: the whole corpus is
prepared into ``<out-dir>_full`` and the speakers' utterances copied to
``<out-dir>`` (speaker ids are ``<corpus>_<native id>``); an id the corpus does not
have is an error, so a typo cannot shrink a protocol.

On success prints ``prepared N utterances (S speakers) in DIR; skipped K (see
DIR/skipped)`` and exits 0; on an error prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
from typing import Any, Dict, List, Optional

from espnet_ser.corpora import CORPORA, get_preparer
from espnet_ser.corpora import iemocap, msp_improv, ravdess

logger = logging.getLogger("espnet_ser.bin.prepare_corpus")

# Named subsets per corpus: NAME -> keyword options of prepare_<corpus>.
SUBSETS: Dict[str, Dict[str, Dict[str, Any]]] = {
    "iemocap": iemocap.SUBSETS,
    "msp_improv": msp_improv.SUBSETS,
    "ravdess": ravdess.SUBSETS,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def get_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    subsets = "; ".join(f"{c}: {', '.join(sorted(s))}" for c, s in sorted(SUBSETS.items()))
    parser = _OneLineParser(
        prog="prepare_corpus.py",
        description="Prepare an emotion corpus, as distributed, as a Kaldi data directory.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--corpus", required=True, help=f"one of: {', '.join(sorted(CORPORA))}")
    parser.add_argument("--corpus-dir", required=True, help="the corpus as distributed")
    parser.add_argument("--out-dir", required=True, help="data directory to (re)write")
    parser.add_argument(
        "--label-map", default=None,
        help="YAML label map (emotion/arousal/valence); default: the packaged maps/<corpus>.yaml",
    )
    parser.add_argument("--subset", default=None, help=f"named subset ({subsets})")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="keyword option of prepare_<corpus> (repeatable), e.g. classes=all",
    )
    parser.add_argument(
        "--speakers", default=None, metavar="ID,ID,...",
        help="keep only these native speaker ids (comma-separated; the full corpus goes to <out-dir>_full)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser


def _coerce(name: str, value: str, default: Any, corpus: str) -> Any:
    # Types follow the function's defaults, so options stay declared in one place.
    if isinstance(default, bool):
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"--option {name}={value}: {corpus} expects true or false")
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"--option {name}={value}: {corpus} expects an integer") from None
    return value


def build_options(corpus: str, subset: Optional[str], options: List[str]) -> Dict[str, Any]:
    """Turn ``--subset`` and ``--option KEY=VALUE`` into keyword arguments.

    Raises:
        ValueError: Unknown subset or option, or a value of the wrong type.
    """
    fn = get_preparer(corpus)
    params = {
        n: p.default for n, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "label_map"
    }
    kwargs: Dict[str, Any] = {}
    if subset is not None:
        known = SUBSETS.get(corpus, {})
        if subset not in known:
            choices = ", ".join(sorted(known)) or "none (this corpus has no subsets)"
            raise ValueError(f"--subset {subset}: unknown for {corpus}; choose one of: {choices}")
        kwargs.update(known[subset])
    for item in options:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ValueError(f"--option {item!r}: expected KEY=VALUE")
        if name not in params:
            accepted = ", ".join(sorted(params)) or "none"
            raise ValueError(f"--option {name}: {corpus} has no such option; accepted: {accepted}")
        kwargs[name] = _coerce(name, value, params[name], corpus)
    return kwargs


def _prepare_speakers(prepare, corpus: str, args, kwargs: Dict[str, Any]) -> str:
    """Prepare the whole corpus into ``<out-dir>_full``, then keep ``--speakers`` in ``<out-dir>``.

    Returns the two summary lines (the full corpus with its skipped list, the subset).
    """
    from espnet_ser.utils.data_dir import subset_data_dir

    native = [s.strip() for s in args.speakers.split(",") if s.strip()]
    if not native:
        raise ValueError(f"--speakers '{args.speakers}': give native speaker ids, e.g. 03,08")
    full = f"{args.out_dir.rstrip('/')}_full"
    result = prepare(args.corpus_dir, full, label_map=args.label_map, **kwargs)
    spks = [f"{corpus}_{s}" for s in native]
    n = subset_data_dir(full, args.out_dir, spks=spks)
    logger.info("kept %d utterances of speakers %s: %s -> %s", n, ",".join(native), full, args.out_dir)
    return (f"{result.summary()}\nkept {n} utterances ({len(spks)} speakers: {','.join(native)}) "
            f"in {args.out_dir}")


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    try:
        corpus = args.corpus.strip().lower().replace("-", "_")
        prepare = get_preparer(corpus)
        kwargs = build_options(corpus, args.subset, args.option)
        logger.info(
            "preparing %s from %s into %s (label map: %s, options: %s)",
            corpus, args.corpus_dir, args.out_dir, args.label_map or "packaged", kwargs,
        )
        if args.speakers is None:
            summary = prepare(args.corpus_dir, args.out_dir, label_map=args.label_map, **kwargs).summary()
        else:
            summary = _prepare_speakers(prepare, corpus, args, kwargs)
    except (ValueError, OSError) as exc:
        msg = " ".join(str(exc).split())
        print(f"prepare_corpus.py: error: {msg}", file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
