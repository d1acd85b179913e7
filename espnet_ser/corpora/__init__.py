"""Corpus preparation: each corpus as distributed -> a Kaldi data directory.

``CORPORA`` maps a corpus name to its ``prepare_<corpus>(corpus_dir, out_dir,
*, label_map=None, **options) -> PrepareResult``; ``get_preparer(name)`` looks
one up.  The command-line front end is ``python -m espnet_ser.bin.prepare_corpus``.
Label maps (emotion, binary arousal/valence) are package data in ``maps/``.

Example:
    >>> from espnet_ser.corpora import get_preparer
    >>> result = get_preparer("emodb")("/corpora/emodb", "data/emodb")  # doctest: +SKIP
    >>> result.num_utts  # doctest: +SKIP
    535
"""

from __future__ import annotations

from typing import Callable, Dict

from espnet_ser.corpora.common import PrepareResult, load_label_map, probe_audio
from espnet_ser.corpora.emodb import prepare_emodb
from espnet_ser.corpora.emovo import prepare_emovo
from espnet_ser.corpora.iemocap import prepare_iemocap
from espnet_ser.corpora.msp_improv import prepare_msp_improv
from espnet_ser.corpora.ravdess import prepare_ravdess
from espnet_ser.corpora.savee import prepare_savee
from espnet_ser.corpora.tess import prepare_tess

CORPORA: Dict[str, Callable[..., PrepareResult]] = {
    "emodb": prepare_emodb,
    "emovo": prepare_emovo,
    "iemocap": prepare_iemocap,
    "msp_improv": prepare_msp_improv,
    "ravdess": prepare_ravdess,
    "savee": prepare_savee,
    "tess": prepare_tess,
}


def get_preparer(name: str) -> Callable[..., PrepareResult]:
    """Return the ``prepare_<corpus>`` function registered as ``name``.

    ``msp-improv`` and ``MSP_IMPROV`` are accepted for ``msp_improv``.

    Raises:
        ValueError: Unknown name; the message lists the choices.
    """
    key = name.strip().lower().replace("-", "_")
    if key not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; choose one of: {', '.join(sorted(CORPORA))}")
    return CORPORA[key]


__all__ = [
    "CORPORA",
    "PrepareResult",
    "get_preparer",
    "load_label_map",
    "probe_audio",
    "prepare_emodb",
    "prepare_emovo",
    "prepare_iemocap",
    "prepare_msp_improv",
    "prepare_ravdess",
    "prepare_savee",
    "prepare_tess",
]
