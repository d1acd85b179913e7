"""EMOVO (Italian emotional speech) preparation.

Source: Costantini, Iaderola, Paoloni, Todisco, "EMOVO Corpus: an Italian
Emotional Speech Database", LREC 2014 (free for research from Fondazione Ugo
Bordoni; cite the paper).  Six actors (3 f, 3 m) read 14 sentences in the
"big six" emotions plus neutral: 588 files, 98 per speaker, 84 per emotion.

Layout (as distributed)::

    <corpus_dir>/{f1,f2,f3,m1,m2,m3}/<emo>-<spk>-<sentence>.wav   e.g. f1/dis-f1-b1.wav

Labels: dis disgusto (disgust), gio gioia (joy), neu neutro, pau paura (fear),
rab rabbia (anger), sor sorpresa (surprise), tri tristezza (sadness); mapped to
dis hap neu fea ang sur sad by ``maps/emovo.yaml``.  Speaker gender is the
first letter of the speaker folder.

Sentences: codes b1 b2 b3 (short), l1..l4 (long), n1..n5 (nonsense), d1 d2
(questions).  ``text`` holds the sentence CODE, not the Italian text: the texts
are printed in the LREC paper and we did not transcribe them here (a lexical
model must not use EMOVO ``text``).

Binary arousal/valence: EMOVO is not in Gao et al.'s Table 1; the map extends it
by analogy (surprise: high arousal, positive valence) and says so.

Quirks: the original files are 48 kHz stereo; the copy shared in this project
is downmixed to 16 kHz mono.  The sample rate is read from each file.  A file
whose speaker field disagrees with its folder is skipped with that reason.
"""

from __future__ import annotations

import os
import re
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

CORPUS = "emovo"
LANG = "it"
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
SENTENCE_CODES = (
    "b1", "b2", "b3", "l1", "l2", "l3", "l4",
    "n1", "n2", "n3", "n4", "n5", "d1", "d2",
)
EXPECTED_COUNTS = {
    "total": 588,
    "per_speaker": 98,
    "per_emotion": 84,
}

FILE_RE = re.compile(r"^([a-z]+)-([a-z]\d)-([a-z]\d)\.wav$")


def prepare_emovo(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
) -> PrepareResult:
    """Prepare EMOVO as a Kaldi data directory.

    Args:
        corpus_dir: Folder holding the speaker folders ``f1/ ... m3/``.
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/emovo.yaml``, or a YAML path / mapping.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        CorpusError: No speaker folder, duplicate ids, or nothing usable.

    Ids look like ``emovo_f1-dis-f1-b1``.
    """
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    spk_dirs = [corpus_dir / s for s in SPEAKERS if (corpus_dir / s).is_dir()]
    if not spk_dirs:
        below = sorted(p.parent for p in corpus_dir.glob("*/f1") if p.is_dir())
        hint = f": pass {below[0]}" if below else ""
        raise CorpusError(
            f"EMOVO={corpus_dir} has none of the speaker folders {' '.join(SPEAKERS)}; "
            f"expected a folder containing f1/dis-f1-b1.wav{hint}"
        )
    lmap = load_label_map(label_map, CORPUS)
    skipped: Dict[str, str] = {}
    utts = []
    for spk_dir in spk_dirs:
        spk = spk_dir.name
        for path in sorted(spk_dir.iterdir()):
            if path.suffix.lower() != ".wav" or not path.is_file():
                continue
            m = FILE_RE.match(path.name)
            if not m:
                add_skip(
                    skipped, path, "unrecognised file name (expected e.g. dis-f1-b1.wav)"
                )
                continue
            emo, file_spk, sentence = m.groups()
            if file_spk != spk:
                add_skip(
                    skipped, path,
                    f"speaker field '{file_spk}' disagrees with folder '{spk}'",
                )
                continue
            if sentence not in SENTENCE_CODES:
                add_skip(skipped, path, f"unknown sentence code '{sentence}'")
                continue
            utts.append(
                Utterance(
                    native_spk=spk,
                    native_utt=path.stem,
                    wav=path,
                    emo=emo,
                    gender=spk[0],
                    extra={"text": sentence},
                )
            )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped)
