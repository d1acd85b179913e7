"""IEMOCAP (Interactive Emotional Dyadic Motion Capture) preparation.

Source: Busso et al., "IEMOCAP: Interactive emotional dyadic motion capture
database", Language Resources and Evaluation 42(4), 2008;
https://sail.usc.edu/iemocap/ (licence agreement with USC SAIL required).
Five sessions, each a dyad of one male and one female actor, improvised and
scripted dialogues, 16 kHz.

Layout (``IEMOCAP_full_release/``)::

    Session{1..5}/sentences/wav/<dialog>/<utt>.wav
    Session{N}/dialog/EmoEvaluation/<dialog>.txt     (also has sub-folders: only regular files are read)
        [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]
    Session{N}/dialog/transcriptions/<dialog>.txt
        Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.

Speaker: ``Ses`` + session + the FIRST LETTER OF THE LAST FIELD of the
utterance id (``Ses01F_impro01_M000`` is spoken by ``Ses01M``; the F/M after
the session number names the actor wearing the motion-capture markers, i.e.
belongs to the dialog).  Speaker ids ``iemocap_Ses01M``, utterance ids
``iemocap_Ses01M-Ses01F_impro01_M000``.  Transcription lines whose id contains
``XX`` (non-speech/overlap fragments without audio) are not utterances.

Labels: neu hap exc ang sad fru sur fea dis oth xxx (xxx = no majority).
Default (``classes="4"``, ``maps/iemocap.yaml``): neu, hap + exc -> hap, ang,
sad; every other label is listed in ``skipped`` with its reason.
``classes="all"`` keeps every native label unmerged; ``xxx`` utterances are then
kept as UNLABELLED data (present in every table except ``utt2emo``, as
CONTRIBUTING.md, "Data directory", defines unlabelled data), and ``utt2arousal`` /
``utt2valence`` are not written (no binary value for fru, oth, ...).
Binary arousal/valence (4-class): Gao et al., Table 1.

``context=True`` (Lian et al.'s dialogue context): an utterance whose label is
outside the class set (fru, sur, xxx, ...) is kept as UNLABELLED data with its
speaker, text and dialogue instead of being skipped, so a dialogue keeps all its
turns; it is absent from ``utt2emo`` only (and ``utt2arousal``/``utt2valence``
are then not written).

Extra tables: ``text``, ``utt2session`` (Ses01..Ses05), ``utt2dialog``
(``Ses01F_impro01``), ``utt2start`` (turn start in seconds within the dialog,
so context models can order turns), ``utt2type`` (``impro``/``script``).

Real-corpus counts (4-class): 5531 = neu 1708, hap 1636, ang 1103, sad 1084;
per session 1085/1023/1151/1031/1241; per speaker see :data:`EXPECTED_COUNTS`;
improvised 2943.
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

CORPUS = "iemocap"
LANG = "en"
NATIVE_LABELS = ("neu", "hap", "exc", "ang", "sad", "fru", "sur", "fea", "dis", "oth", "xxx")
CLASSES = ("4", "all")
SUBSETS = {"improvised": {"improvised_only": True}}

EXPECTED_COUNTS = {
    "total": 5531,
    "emotion": {"neu": 1708, "hap": 1636, "ang": 1103, "sad": 1084},
    "session": {"Ses01": 1085, "Ses02": 1023, "Ses03": 1151, "Ses04": 1031, "Ses05": 1241},
    "speaker": {
        "Ses01F": 528, "Ses01M": 557, "Ses02F": 481, "Ses02M": 542, "Ses03F": 522,
        "Ses03M": 629, "Ses04F": 528, "Ses04M": 503, "Ses05F": 590, "Ses05M": 651,
    },
    "improvised": 2943,
}

UTT_RE = re.compile(r"^(Ses(\d\d))[FM]_(.+)_([FM])[^_]*$")
LABEL_RE = re.compile(
    r"^\[\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*\]\s+(Ses\S+)\s+(\S+)\s+\["
)
TRANS_RE = re.compile(r"^(Ses\S+)\s+\[\s*[\d.]+\s*-\s*[\d.]+\s*\]:\s?(.*)$")


def parse_utt_id(utt: str) -> Tuple[str, str, str, str]:
    """Split an IEMOCAP utterance id.

    Args:
        utt: e.g. ``Ses05M_script01_1b_M003``.

    Returns:
        ``(session, speaker, dialog, gender)``, e.g.
        ``("Ses05", "Ses05M", "Ses05M_script01_1b", "m")``.

    Raises:
        ValueError: ``utt`` is not an IEMOCAP utterance id.
    """
    m = UTT_RE.match(utt)
    if not m:
        raise ValueError(f"not an IEMOCAP utterance id: {utt!r} (expected e.g. Ses01F_impro01_M000)")
    session, _num, _middle, letter = m.groups()
    dialog = utt.rsplit("_", 1)[0]
    return session, f"{session}{letter}", dialog, letter.lower()


def _regular_txt(folder: Path, skipped: Dict[str, str]):
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix != ".txt":
            continue  # EmoEvaluation/ has Attribute/, Categorical/, ... sub-folders
        if p.name.startswith("._"):
            add_skip(skipped, p, "macOS resource-fork file, not a label file")
            continue
        out.append(p)
    return out


def _read_lines(path: Path):
    # The release is ASCII; be lenient so one odd byte does not stop everything.
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def prepare_iemocap(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
    classes: str = "4",
    improvised_only: bool = False,
    context: bool = False,
) -> PrepareResult:
    """Prepare IEMOCAP as a Kaldi data directory.

    Args:
        corpus_dir: ``IEMOCAP_full_release/`` (holding ``Session1/`` ...).
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for the map chosen by ``classes``, or a YAML path /
            mapping (then ``classes`` must stay ``"4"``).
        classes: ``"4"`` (neu, hap+exc, ang, sad) or ``"all"`` (every native
            label; ``xxx`` kept unlabelled).
        improvised_only: Keep only ``*_impro*`` dialogues (scripted ones are
            counted in ``excluded``).
        context: Keep utterances outside the class set as unlabelled context.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        ValueError: Bad ``classes`` or a conflicting ``label_map``.
        CorpusError: No Session folder, duplicate ids, or nothing usable.
    """
    if classes not in CLASSES:
        raise ValueError(f"iemocap: classes={classes!r} is not one of {list(CLASSES)}")
    if classes == "all" and label_map is not None:
        raise ValueError(
            "iemocap: give either label_map or classes='all', not both "
            "(classes only chooses the default map)"
        )
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    sessions = sorted(
        p for p in corpus_dir.iterdir() if p.is_dir() and re.fullmatch(r"Session[1-5]", p.name)
    )
    if not sessions:
        below = sorted(p.parent for p in corpus_dir.glob("*/Session1") if p.is_dir())
        hint = f": pass {below[0]}" if below else ""
        raise CorpusError(
            f"IEMOCAP={corpus_dir} has no Session1..Session5 folders; expected "
            f"IEMOCAP_full_release/ containing Session1/sentences/wav/{hint}"
        )
    if classes == "all":
        lmap = load_label_map(
            {"emotion": {c: c for c in NATIVE_LABELS if c != "xxx"}}, CORPUS
        )
        lmap.source = "classes=all"
    else:
        lmap = load_label_map(label_map, CORPUS)

    skipped: Dict[str, str] = {}
    excluded: Dict[str, int] = {}
    labels: Dict[str, Tuple[str, str, Path]] = {}  # utt -> (label, start, file)
    texts: Dict[str, str] = {}
    audio: Dict[str, Path] = {}
    for sess_dir in sessions:
        for path in _regular_txt(sess_dir / "dialog" / "EmoEvaluation", skipped):
            for line in _read_lines(path):
                m = LABEL_RE.match(line)
                if not m:
                    continue  # per-evaluator lines (C-E1: ..., A-E2: ...) and blanks
                start, _end, utt, label = m.groups()
                if utt in labels:
                    raise CorpusError(
                        f"iemocap: utterance {utt} is labelled twice ({labels[utt][2]} "
                        f"and {path}); fix or remove the duplicate label file"
                    )
                labels[utt] = (label, f"{float(start):.4f}", path)
        for path in _regular_txt(sess_dir / "dialog" / "transcriptions", skipped):
            for line in _read_lines(path):
                m = TRANS_RE.match(line.strip())
                if not m:
                    continue
                if "XX" in m.group(1):  # overlap/non-speech fragment: no audio, not an utterance
                    key = "transcription lines with an XX id (no audio, not utterances)"
                    excluded[key] = excluded.get(key, 0) + 1
                    continue
                texts[m.group(1)] = " ".join(m.group(2).split())
        wav_root = sess_dir / "sentences" / "wav"
        if wav_root.is_dir():
            for path in sorted(wav_root.glob("*/*.wav")):
                if path.name.startswith("._"):
                    add_skip(skipped, path, "macOS resource-fork file, not audio")
                    continue
                utt = path.stem
                if utt in audio:
                    raise CorpusError(
                        f"iemocap: duplicate audio for {utt}: {audio[utt]} and {path}; "
                        "remove one copy"
                    )
                audio[utt] = path

    utts = []
    for utt in sorted(set(labels) | set(audio) | set(texts)):
        try:
            session, spk, dialog, gender = parse_utt_id(utt)
        except ValueError as exc:
            add_skip(skipped, audio.get(utt, utt), str(exc))
            continue
        if improvised_only and "_impro" not in dialog:
            excluded["scripted utterances (improvised_only)"] = (
                excluded.get("scripted utterances (improvised_only)", 0) + 1
            )
            continue
        wav = audio.get(utt)
        if utt not in labels:
            if wav is not None:
                add_skip(skipped, wav, "no label")
            else:
                add_skip(skipped, utt, "transcription without audio or label")
            continue
        label, start, label_file = labels[utt]
        if wav is None:
            add_skip(skipped, utt, f"label without audio (labelled in {label_file.name})")
            continue
        expected_dir = f"Session{int(session[3:])}/sentences/wav/{dialog}"
        if wav.parent.name != dialog or wav.parents[3].name != expected_dir.split("/")[0]:
            add_skip(skipped, wav, f"misplaced: expected under {expected_dir}/")
            continue
        if utt not in texts:
            add_skip(skipped, wav, "no transcription line")
            continue
        emo: Optional[str] = label
        if classes == "all" and label == "xxx":
            emo = None  # no majority label: kept as unlabelled data
        elif context and lmap.emotion.get(label) is None:
            emo = None  # outside the class set: unlabelled dialogue context
        utts.append(
            Utterance(
                native_spk=spk,
                native_utt=utt,
                wav=wav,
                emo=emo,
                gender=gender,
                extra={
                    # An empty transcription would make an empty Kaldi text entry; the
                    # sentence_embedding extractor skips <unk> as an empty transcript.
                    "text": texts[utt] if texts[utt] else "<unk>",
                    "utt2session": session,
                    "utt2dialog": dialog,
                    "utt2start": start,
                    "utt2type": "impro" if "_impro" in dialog else "script",
                },
            )
        )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped, excluded)
