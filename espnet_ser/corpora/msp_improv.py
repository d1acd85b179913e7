"""MSP-IMPROV preparation.

Source: Busso et al., "MSP-IMPROV: An acted corpus of dyadic interactions to
study emotion perception", IEEE Trans. Affective Computing 8(1), 2017;
https://ecs.utdallas.edu/research/researchlabs/msp-lab/ (academic licence
from UT Dallas).  Six sessions, each one male and one female actor (12
speakers); 8438 speaking turns; audio 44.1 kHz.

Layout: audio anywhere below ``corpus_dir`` (found recursively; the release
has ``Audio/session1/S01A/P/...``), named::

    MSP-IMPROV-S01A-F01-P-FM01.wav
      S01A  sentence 01 + target emotion (A angry, H happy, S sad, N neutral)
      F01   speaker: gender + session 01..06
      P     recording type: T target sentence (improvised), R read,
            S other improvised turns, P natural interaction
      FM01  turn

Labels: one ``Evaluation.txt`` (some copies are spelled ``Evalution.txt``)
below ``corpus_dir`` (or ``label_file=``); its summary lines read::

    UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:2.40; V:3.00; D:2.60; N:3.20;

with the consensus category A/H/S/N/O(other)/X(no agreement); the per-rater
lines below each summary line are not read.  A/H/S/N map to ang hap sad neu
(``maps/msp_improv.yaml``); O and X are listed in ``skipped`` with the reason.
Binary arousal/valence: Gao et al., Table 1.

Tables: speaker ids ``msp_improv_F01``, utterance ids
``msp_improv_F01-MSP-IMPROV-S01A-F01-P-FM01``; ``utt2session`` (Ses01..Ses06),
``utt2dialog`` (the file name without the turn, ``MSP-IMPROV-S01A-F01-P``: the
recording the turn was cut from), ``utt2type`` (T/R/S/P).  No ``text``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from espnet_ser.corpora.common import (
    CorpusError,
    LabelMapLike,
    PrepareResult,
    Utterance,
    add_skip,
    check_corpus_dir,
    finalize,
    load_label_map,
)

CORPUS = "msp_improv"
LANG = "en"
LABEL_FILE_NAMES = ("Evaluation.txt", "Evalution.txt")
TYPES = "TRSP"
EXPECTED_COUNTS = {"total": 8438, "speakers": 12}
SUBSETS = {
    "improvised": {"types": "TS"},
    "read": {"types": "R"},
    "natural": {"types": "P"},
}

FILE_RE = re.compile(r"^MSP-IMPROV-(S\d\d[A-Z])-([FM])(0[1-6])-([A-Z])-([A-Z]+\d+)\.wav$")
LABEL_RE = re.compile(r"^\s*UTD-IMPROV-(\S+?)\.avi\s*;\s*([A-Za-z])\s*;")


def _find_label_file(corpus_dir: Path) -> Path:
    found = sorted(p for name in LABEL_FILE_NAMES for p in corpus_dir.rglob(name) if p.is_file())
    if not found:
        raise CorpusError(
            f"MSP_IMPROV={corpus_dir}: no Evaluation.txt (or Evalution.txt) below it; "
            "pass the MSP-IMPROV root or label_file=/path/to/Evaluation.txt"
        )
    if len(found) > 1:
        raise CorpusError(
            f"MSP_IMPROV={corpus_dir}: several label files {[str(p) for p in found]}; "
            "choose one with label_file=..."
        )
    return found[0]


def read_evaluation(path: Union[str, os.PathLike]) -> Dict[str, str]:
    """Read the consensus categories of an MSP-IMPROV ``Evaluation.txt``.

    Args:
        path: The label file.

    Returns:
        ``{"S01A-F01-S-FM01": "N", ...}`` (the part after ``UTD-IMPROV-``).

    Raises:
        CorpusError: The same turn has two different consensus labels.
    """
    path = Path(path)
    labels: Dict[str, Tuple[str, int]] = {}
    text = path.read_text(encoding="utf-8", errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        m = LABEL_RE.match(line)
        if not m:
            continue  # per-rater lines and blanks
        key, label = m.group(1), m.group(2).upper()
        if key in labels and labels[key][0] != label:
            raise CorpusError(
                f"{path}:{lineno}: UTD-IMPROV-{key} labelled '{label}' but '{labels[key][0]}' "
                f"at line {labels[key][1]}; fix the duplicate"
            )
        labels.setdefault(key, (label, lineno))
    return {k: v[0] for k, v in labels.items()}


def prepare_msp_improv(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
    label_file: Optional[Union[str, os.PathLike]] = None,
    types: str = TYPES,
) -> PrepareResult:
    """Prepare MSP-IMPROV as a Kaldi data directory.

    Args:
        corpus_dir: The MSP-IMPROV root (audio is found recursively).
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/msp_improv.yaml``, or a YAML path / mapping.
        label_file: ``Evaluation.txt`` to use (default: the one below corpus_dir).
        types: Recording types to keep, a subset of ``"TRSP"``; turns of other
            types are counted in ``excluded``.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` or ``label_file`` does not exist.
        ValueError: Bad ``types``.
        CorpusError: No or several label files, duplicate ids, nothing usable.
    """
    if not types or set(types) - set(TYPES):
        raise ValueError(f"msp_improv: types={types!r} must be letters from {TYPES!r}")
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    if label_file is not None:
        label_path = Path(label_file)
        if not label_path.is_file():
            raise FileNotFoundError(f"msp_improv: label_file {label_path} does not exist")
    else:
        label_path = _find_label_file(corpus_dir)
    lmap = load_label_map(label_map, CORPUS)
    labels = read_evaluation(label_path)

    skipped: Dict[str, str] = {}
    excluded: Dict[str, int] = {}
    audio: Dict[str, Path] = {}
    for path in sorted(corpus_dir.rglob("*.wav")):
        if not path.is_file() or path.name.startswith("._"):
            continue
        m = FILE_RE.match(path.name)
        if not m:
            add_skip(
                skipped, path,
                "unrecognised file name (expected e.g. MSP-IMPROV-S01A-F01-P-FM01.wav)",
            )
            continue
        key = path.stem[len("MSP-IMPROV-"):]
        if key in audio:
            raise CorpusError(
                f"msp_improv: duplicate audio for {path.stem}: {audio[key]} and {path}; "
                "remove one copy"
            )
        audio[key] = path
    if not audio and not skipped:
        raise CorpusError(
            f"MSP_IMPROV={corpus_dir}: no MSP-IMPROV-*.wav below it; expected the "
            "MSP-IMPROV root holding e.g. Audio/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav"
        )

    utts = []
    for key in sorted(set(audio) | set(labels)):
        path = audio.get(key)
        if path is None:
            add_skip(skipped, f"UTD-IMPROV-{key}", f"label without audio (in {label_path.name})")
            continue
        _sent, gender, session, rtype, _turn = FILE_RE.match(path.name).groups()
        if rtype not in TYPES:
            add_skip(skipped, path, f"unknown recording type '{rtype}' (expected T R S P)")
            continue
        if rtype not in types:
            what = f"turns of type {rtype} (types={types})"
            excluded[what] = excluded.get(what, 0) + 1
            continue
        if key not in labels:
            add_skip(skipped, path, f"no label (not in {label_path.name})")
            continue
        utts.append(
            Utterance(
                native_spk=f"{gender}{session}",
                native_utt=path.stem,
                wav=path,
                emo=labels[key],
                gender=gender.lower(),
                extra={
                    "utt2session": f"Ses{session}",
                    "utt2dialog": path.stem.rsplit("-", 1)[0],
                    "utt2type": rtype,
                },
            )
        )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped, excluded)
