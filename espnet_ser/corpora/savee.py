"""SAVEE (Surrey Audio-Visual Expressed Emotion) preparation.

Source: Haq and Jackson, "Speaker-dependent audio-visual emotion recognition",
AVSP 2009; http://kahlan.eps.surrey.ac.uk/savee/ (free for research after
registration).  Four male British-English speakers (DC, JE, JK, KL), 120
utterances each: 15 per emotion and 30 neutral; 480 in all, 44.1 kHz mono.

Layouts accepted::

    <corpus_dir>/AudioData/{DC,JE,JK,KL}/<code><NN>.wav   (release), e.g. AudioData/DC/sa03.wav
    <corpus_dir>/{DC,JE,JK,KL}/<code><NN>.wav             (corpus_dir = AudioData)
    <corpus_dir>/DC_a01.wav or <corpus_dir>/ALL/DC_a01.wav (flattened copies, e.g. Kaggle)

Labels (file-name prefix): a anger, d disgust, f fear, h happiness, n neutral,
sa sadness, su surprise; mapped to ang dis fea hap neu sad sur by
``maps/savee.yaml``.  Binary arousal/valence: Gao et al., Table 1.

``text`` holds the sentence code (``a01``: sentence 1 of the anger list); the
texts themselves are per-emotion lists in the SAVEE documentation that we do
not copy.  All speakers are male.  Ids look like ``savee_DC-a01`` in both
layouts; the same utterance in two layouts is a duplicate-id error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Union

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

CORPUS = "savee"
LANG = "en"
SPEAKERS = ("DC", "JE", "JK", "KL")
EXPECTED_COUNTS = {"total": 480, "per_speaker": 120}

UTT_RE = re.compile(r"^([a-z]+?)(\d\d)\.wav$")
FLAT_RE = re.compile(r"^([A-Z]{2})_([a-z]+?)(\d\d)\.wav$")


def _speaker_dirs(corpus_dir: Path) -> List[Path]:
    for root in (corpus_dir / "AudioData", corpus_dir):
        dirs = [root / s for s in SPEAKERS if (root / s).is_dir()]
        if dirs:
            return dirs
    return []


def prepare_savee(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
) -> PrepareResult:
    """Prepare SAVEE as a Kaldi data directory.

    Args:
        corpus_dir: The SAVEE root (holding ``AudioData/``), ``AudioData``
            itself, or a folder of flattened ``DC_a01.wav`` files (directly or
            in ``ALL/``).
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/savee.yaml``, or a YAML path / mapping.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        CorpusError: Neither layout found, duplicate ids, or nothing usable.
    """
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    lmap = load_label_map(label_map, CORPUS)
    skipped: Dict[str, str] = {}
    candidates = []  # (speaker, code, number, path)
    for spk_dir in _speaker_dirs(corpus_dir):
        for path in sorted(spk_dir.iterdir()):
            if path.suffix.lower() != ".wav" or not path.is_file():
                continue
            m = UTT_RE.match(path.name)
            if not m:
                add_skip(skipped, path, "unrecognised file name (expected e.g. sa03.wav)")
                continue
            candidates.append((spk_dir.name, m.group(1), m.group(2), path))
    flat = sorted(corpus_dir.glob("*_*.wav")) + sorted((corpus_dir / "ALL").glob("*_*.wav"))
    for path in flat:
        m = FLAT_RE.match(path.name)
        if not m:
            add_skip(skipped, path, "unrecognised file name (expected e.g. DC_sa03.wav)")
            continue
        if m.group(1) not in SPEAKERS:
            add_skip(
                skipped, path,
                f"unknown speaker '{m.group(1)}' (SAVEE speakers: {' '.join(SPEAKERS)})",
            )
            continue
        candidates.append((m.group(1), m.group(2), m.group(3), path))
    if not candidates and not skipped:
        raise CorpusError(
            f"SAVEE={corpus_dir} has neither AudioData/{{DC,JE,JK,KL}}/ nor flattened "
            "DC_a01.wav files (in it or in ALL/); expected the SAVEE root holding "
            "AudioData/DC/a01.wav"
        )
    utts = [
        Utterance(
            native_spk=spk,
            native_utt=f"{code}{num}",
            wav=path,
            emo=code,
            gender="m",
            extra={"text": f"{code}{num}"},
        )
        for spk, code, num, path in candidates
    ]
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped)
