"""Download, verify and extract a freely downloadable emotion corpus (recipe stage 1).

Usage:
    python -m espnet_ser.bin.download_corpus --corpus emodb --download-dir downloads
    python -m espnet_ser.bin.download_corpus --corpus ravdess --download-dir downloads \\
        --url file:///data/archives/Audio_Speech_Actors_01-24.zip

Corpora: ``emodb``, ``ravdess`` (speech), ``tess``; ``emovo``, ``iemocap``,
``msp_improv`` and ``savee`` have no free download, and without ``--url`` the
command says in one line where to get them. ``--url`` defaults to the
environment variable ``<VAR>_URL`` (``EMODB_URL``, ``RAVDESS_URL``, ``TESS_URL``,
...), ``--md5`` to ``<VAR>_MD5``, then to the checksum published with the
release (RAVDESS); ``--md5 none`` checks the SHA-256 recorded in
``<download-dir>/CHECKSUMS`` instead. More in ``espnet_ser/corpora/download.py``.

Logs go to stderr; on success the corpus root (the folder to give as
``--corpus-dir`` to ``prepare_corpus``) is the only line on stdout. On an error
prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

from espnet_ser.corpora.download import SOURCES, DownloadError, download_corpus, get_source


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def get_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = _OneLineParser(
        prog="download_corpus.py",
        description="Download, verify and extract an emotion corpus; prints its root folder.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--corpus", required=True, help=f"one of: {', '.join(sorted(SOURCES))}")
    parser.add_argument("--download-dir", default="downloads",
                        help="archive, CHECKSUMS and the extracted <corpus>/ go here")
    parser.add_argument("--url", default=None,
                        help="archive URL (http, https, file); default: $<VAR>_URL, then the release URL")
    parser.add_argument("--md5", default=None,
                        help="expected MD5 of the archive, or 'none'; default: $<VAR>_MD5, then the "
                             "published one (if any)")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    try:
        source = get_source(args.corpus)
        url = args.url or os.environ.get(f"{source.db_var}_URL") or None
        md5_arg = args.md5 or os.environ.get(f"{source.db_var}_MD5") or None
        kwargs = {}
        if md5_arg is not None:
            kwargs["md5"] = None if md5_arg.strip().lower() == "none" else md5_arg
        root = download_corpus(source.corpus, args.download_dir, url=url, **kwargs)
    except (DownloadError, OSError) as exc:
        msg = " ".join(str(exc).split())
        print(f"download_corpus.py: error: {msg}", file=sys.stderr)
        return 1
    print(root.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
