"""Emo-DB (Berlin Database of Emotional Speech) preparation.

Source: Burkhardt et al., "A Database of German Emotional Speech",
Interspeech 2005; http://emodb.bilderbar.info (free for research; cite the
paper).  Ten actors (5 m, 5 f) read ten everyday German sentences in seven
emotions; 535 utterances survived the perception test.

Layout (as distributed)::

    <corpus_dir>/wav/03a01Fa.wav     speaker 03, text a01, emotion F, version a

``corpus_dir`` is the folder that holds ``wav/`` (the release also has
``labsilb/``, ``silb/``, ... which are not read).

Labels: W anger (Ärger), L boredom (Langeweile), E disgust (Ekel), A fear
(Angst), F happiness (Freude), T sadness (Trauer), N neutral; mapped to
ang bor dis fea hap sad neu by ``maps/emodb.yaml``.  Speakers: male 03 10 11 12
15, female 08 09 13 14 16.  ``text`` holds the German sentence (a01..b10).
Binary arousal/valence: Gao et al., Table 1.

Real-corpus counts (checked by the real-data test): 535 utterances:
W 127, L 81, N 79, F 71, A 69, T 62, E 46; per speaker 03:49 08:58 09:43 10:38
11:55 12:35 13:61 14:69 15:56 16:71.

Quirks: the shared copy in this project is resampled to 22.05 kHz (the original
is 16 kHz); the sample rate is read from each file, never assumed.  There is no
session structure, so no ``utt2session``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Union

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

CORPUS = "emodb"
LANG = "de"

SPEAKER_GENDER = {
    "03": "m", "10": "m", "11": "m", "12": "m", "15": "m",
    "08": "f", "09": "f", "13": "f", "14": "f", "16": "f",
}

# The ten sentences of the Emo-DB documentation, by text code.
SENTENCES = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe "
    "Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

EXPECTED_COUNTS = {
    "total": 535,
    "emotion": {"W": 127, "L": 81, "N": 79, "F": 71, "A": 69, "T": 62, "E": 46},
    "speaker": {
        "03": 49, "08": 58, "09": 43, "10": 38, "11": 55,
        "12": 35, "13": 61, "14": 69, "15": 56, "16": 71,
    },
}

FILE_RE = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])\.wav$")
_EXAMPLE = "wav/03a01Fa.wav"


def _locate(corpus_dir: Path) -> Path:
    """Return the ``wav/`` folder, or explain which level was given instead."""
    wav_dir = corpus_dir / "wav"
    if wav_dir.is_dir():
        return wav_dir
    expected = f"expected a folder containing {_EXAMPLE} (the Emo-DB root)"
    if any(FILE_RE.match(p.name) for p in corpus_dir.glob("*.wav")):
        raise CorpusError(
            f"EMODB={corpus_dir} points at the wav/ folder itself; {expected}: "
            f"pass {corpus_dir.parent}"
        )
    below = sorted(p.parent for p in corpus_dir.glob("*/wav") if p.is_dir())
    if below:
        raise CorpusError(
            f"EMODB={corpus_dir} points at the parent of the corpus folder; {expected}: "
            f"pass {below[0]}"
        )
    raise CorpusError(f"EMODB={corpus_dir} has no wav/ folder; {expected}")


def prepare_emodb(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
) -> PrepareResult:
    """Prepare Emo-DB as a Kaldi data directory.

    Args:
        corpus_dir: Folder holding ``wav/03a01Fa.wav`` ...
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/emodb.yaml``, or a YAML path / mapping.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        CorpusError: Wrong folder level, duplicate ids, or nothing usable.

    Writes ``wav.scp utt2spk spk2utt text utt2emo utt2gender utt2corpus
    utt2lang utt2dur utt2arousal utt2valence`` and ``skipped``; ids look like
    ``emodb_03-03a01Fa``.
    """
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    wav_dir = _locate(corpus_dir)
    lmap = load_label_map(label_map, CORPUS)
    skipped: Dict[str, str] = {}
    utts = []
    for path in sorted(wav_dir.iterdir()):
        if path.suffix.lower() != ".wav" or not path.is_file():
            continue
        m = FILE_RE.match(path.name)
        if not m:
            add_skip(skipped, path, "unrecognised file name (expected e.g. 03a01Fa.wav)")
            continue
        spk, text_code, emo, _version = m.groups()
        if spk not in SPEAKER_GENDER:
            add_skip(
                skipped, path,
                f"unknown speaker '{spk}' (Emo-DB speakers: {' '.join(sorted(SPEAKER_GENDER))})",
            )
            continue
        if text_code not in SENTENCES:
            add_skip(skipped, path, f"unknown text code '{text_code}'")
            continue
        utts.append(
            Utterance(
                native_spk=spk,
                native_utt=path.stem,
                wav=path,
                emo=emo,
                gender=SPEAKER_GENDER[spk],
                extra={"text": SENTENCES[text_code]},
            )
        )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped)
