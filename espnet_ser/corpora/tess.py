"""TESS (Toronto emotional speech set) preparation.

Source: Dupuis and Pichora-Fuller, "Toronto emotional speech set (TESS)",
University of Toronto, 2010; doi:10.5683/SP2/E8H2MF (CC BY-NC-ND 4.0; cite
it).  Two female English speakers, OAF (older, 64) and YAF (younger, 26), each
say 200 target words in the carrier phrase "Say the word _" in seven emotions:
2800 files, 400 per emotion, 1400 per speaker.

Layouts accepted (the file name alone names speaker, word and emotion)::

    <corpus_dir>/<SPK>_<emotion>/<SPK>_<word>_<emo>.wav   folder per emotion, e.g.
                                                          OAF_Pleasant_surprise/OAF_back_ps.wav
    <corpus_dir>/<SPK>_<word>_<emo>.wav                   flat (all files in one folder,
                                                          e.g. the Dataverse download)

Files are found in ``corpus_dir`` and up to three folder levels below it, so a copy
wrapped in one more folder (``TESS Toronto emotional speech set data/...``)
works too; a copy that holds the corpus twice stops with a duplicate-id error
naming both files.  Case is normalised, and the emotion is accepted in every
spelling seen in circulating copies: ``Fear``/``fear``,
``pleasant_surprise``/``Pleasant_surprise``/``pleasant_surprised``/``ps``
(folders spell it out, file names use ``ps``).

Labels: angry, disgust, fear, happy, neutral, ps (pleasant surprise), sad;
mapped to ang dis fea hap neu sur sad by ``maps/tess.yaml``, which also holds
the binary arousal/valence maps (TESS is not in Gao et al.'s Table 1: extended by
analogy, reasoning in the YAML).  ``text`` is ``Say the word <word>``.

Quirks of the release, handled here:

* audio is read by content, never by extension: ``.wav``, ``.flac``, ``.aif``
  and ``.aiff`` are read, and a file with AIFF data under a ``.wav`` name is
  read as AIFF (libsndfile sniffs the header).  The sample rate is read from
  each file (the release is 24,414 Hz with one 96 kHz file); feature
  extraction resamples to the recipe's rate (``features/audio.py``);
* one file is named ``OA_bite_neutral.wav`` (speaker prefix ``OA`` for
  ``OAF``): ``OA``/``YA`` are read as ``OAF``/``YAF`` and the id is spelled
  out, ``tess_OAF-OAF_bite_neutral``;
* copies that lack files (some lack one or two) are prepared as they are.

A file whose name does not parse, whose speaker or emotion disagrees with its
``<SPK>_<emotion>`` folder, whose extension is not an audio one while its name
is a TESS name, or whose audio cannot be read goes to ``skipped`` with the
reason; ``__MACOSX`` folders of zip files are skipped as a whole.  Other files
(documentation, manifests) are ignored.  Ids look like
``tess_YAF-YAF_back_ps``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

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

CORPUS = "tess"
LANG = "en"
#: Native speaker -> gender (both speakers are women).
SPEAKER_GENDER = {"OAF": "f", "YAF": "f"}
#: Misspelt speaker prefixes in file names (the release's ``OA_bite_neutral.wav``).
SPEAKER_ALIASES = {"OA": "OAF", "YA": "YAF"}
#: Native emotion codes, as the file names write them.
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")
#: Every accepted spelling (lower case) -> native code.
EMOTION_SPELLINGS = {
    **{e: e for e in EMOTIONS},
    "pleasant_surprise": "ps",
    "pleasant_surprised": "ps",
}
AUDIO_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff")
#: Counts of the complete release; copies may lack a few files.
EXPECTED_COUNTS = {
    "total": 2800,
    "per_emotion": 400,
    "per_speaker": 1400,
    "words": 200,
}
#: Folder levels below ``corpus_dir`` that are searched (flat = 0, folder per emotion = 1).
MAX_DEPTH = 3

_SPELLINGS_RE = "|".join(sorted(EMOTION_SPELLINGS, key=len, reverse=True))
FILE_RE = re.compile(rf"^(OAF|YAF|OA|YA)_([a-z]+)_({_SPELLINGS_RE})$", re.IGNORECASE)
FOLDER_RE = re.compile(rf"^(OAF|YAF)_({_SPELLINGS_RE})$", re.IGNORECASE)
_EXAMPLE = "OAF_angry/OAF_back_angry.wav (or flat: OAF_back_angry.wav)"


def parse_name(stem: str) -> Optional[Tuple[str, str, str]]:
    """``(speaker, word, emotion code)`` of a TESS file stem, or ``None``.

    Example:
        >>> parse_name("OA_bite_neutral")
        ('OAF', 'bite', 'neutral')
        >>> parse_name("yaf_Germ_Pleasant_surprise")
        ('YAF', 'germ', 'ps')
    """
    m = FILE_RE.match(stem)
    if not m:
        return None
    spk = m.group(1).upper()
    return (
        SPEAKER_ALIASES.get(spk, spk),
        m.group(2).lower(),
        EMOTION_SPELLINGS[m.group(3).lower()],
    )


def parse_folder(name: str) -> Optional[Tuple[str, str]]:
    """``(speaker, emotion code)`` of a ``<SPK>_<emotion>`` folder, or ``None``.

    Example:
        >>> parse_folder("OAF_Pleasant_surprise")
        ('OAF', 'ps')
    """
    m = FOLDER_RE.match(name)
    if not m:
        return None
    return m.group(1).upper(), EMOTION_SPELLINGS[m.group(2).lower()]


def _walk(corpus_dir: Path, skipped: Dict[str, str]) -> List[Path]:
    """Files up to :data:`MAX_DEPTH` levels below ``corpus_dir``, sorted."""
    files: List[Path] = []
    base_depth = len(corpus_dir.parts)
    for root, dirs, names in os.walk(corpus_dir, followlinks=True):
        root_path = Path(root)
        depth = len(root_path.parts) - base_depth
        keep = []
        for d in sorted(dirs):
            if d == "__MACOSX":
                add_skip(skipped, root_path / d, "macOS metadata folder of a zip file (not audio)")
            elif depth < MAX_DEPTH:
                keep.append(d)
        dirs[:] = keep
        files.extend(root_path / n for n in names)
    return sorted(files)


def prepare_tess(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
) -> PrepareResult:
    """Prepare TESS as a Kaldi data directory.

    Args:
        corpus_dir: Folder holding the ``<SPK>_<emotion>/`` folders, or the
            flat folder of ``<SPK>_<word>_<emo>.wav`` files (or a folder one
            level above either).
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/tess.yaml``, or a YAML path / mapping.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        CorpusError: No TESS file found, duplicate ids (the same utterance
            twice, e.g. in two layouts or as .wav and .flac), or nothing usable.

    Writes ``wav.scp utt2spk spk2utt text utt2emo utt2gender utt2corpus
    utt2lang utt2dur utt2arousal utt2valence spk2gender`` and ``skipped``.
    """
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    lmap = load_label_map(label_map, CORPUS)
    skipped: Dict[str, str] = {}
    utts: List[Utterance] = []
    for path in _walk(corpus_dir, skipped):
        ext = path.suffix.lower()
        parsed = parse_name(path.stem)
        if ext not in AUDIO_EXTENSIONS:
            if parsed is not None:
                add_skip(
                    skipped, path,
                    f"extension '{path.suffix}' is not read (TESS audio: "
                    f"{' '.join(AUDIO_EXTENSIONS)}); convert it or rename it if it is audio",
                )
            continue  # documentation, manifests, ...
        if parsed is None:
            add_skip(
                skipped, path,
                "unrecognised file name (expected <SPK>_<word>_<emotion>, e.g. OAF_back_angry.wav)",
            )
            continue
        spk, word, emo = parsed
        folder = parse_folder(path.parent.name) if path.parent != corpus_dir else None
        if folder is not None:
            if folder[0] != spk:
                add_skip(
                    skipped, path, f"speaker '{spk}' disagrees with folder '{path.parent.name}'"
                )
                continue
            if folder[1] != emo:
                add_skip(
                    skipped, path, f"emotion '{emo}' disagrees with folder '{path.parent.name}'"
                )
                continue
        utts.append(
            Utterance(
                native_spk=spk,
                native_utt=f"{spk}_{word}_{emo}",
                wav=path,
                emo=emo,
                gender=SPEAKER_GENDER[spk],
                extra={"text": f"Say the word {word}"},
            )
        )
    if not utts and not skipped:
        raise CorpusError(
            f"TESS={corpus_dir} holds no TESS audio file; expected a folder containing "
            f"{_EXAMPLE}"
        )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped)
