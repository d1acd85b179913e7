"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song) preparation.

Source: Livingstone and Russo, PLoS ONE 13(5) e0196391, 2018;
https://zenodo.org/record/1188976 (CC BY-NC-SA 4.0).  24 actors (12 m, 12 f)
speak two statements in 8 emotions (neutral only at normal intensity), twice:
1440 speech files, 60 per actor, 48 kHz (a few files are stereo; channels are
logged here and downmixed by the feature reader).

Layouts accepted::

    <corpus_dir>/Audio_Speech_Actors_01-24/Actor_01/03-01-05-01-02-01-01.wav
    <corpus_dir>/Actor_01/03-01-05-01-02-01-01.wav   (corpus_dir = the release folder)
    <corpus_dir>/Audio_Song_Actors_01-24/Actor_01/03-02-...wav   (song release, read for
                                                     vocal_channel song/all)

File name ``MM-VV-EE-II-SS-RR-AA.wav``: modality (03 audio-only), vocal channel
(01 speech, 02 song), emotion (01 neutral 02 calm 03 happy 04 sad 05 angry
06 fearful 07 disgust 08 surprised), intensity (01 normal, 02 strong),
statement (01 "Kids are talking by the door", 02 "Dogs are sitting by the
door"), repetition, actor (odd = male, even = female).  Emotions map to
neu cal hap sad ang fea dis sur (``maps/ravdess.yaml``); binary
arousal/valence extend Gao et al.'s Table 1 by analogy (the map says how).

Song files: the speech set (``vocal_channel="speech"``, the default) leaves
the song files (vocal channel 02, e.g. when the song zip was unpacked into the
same Actor_XX folders) out BY DESIGN: they are not speech, so they are counted
in ``PrepareResult.excluded`` and the log, not in ``skipped`` (which lists
failures).  ``vocal_channel="song"`` or ``"all"`` selects them.

Extra tables: ``utt2intensity`` (normal/strong), ``text`` (the statement).
Ids look like ``ravdess_01-03-01-05-01-02-01-01``.
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

CORPUS = "ravdess"
LANG = "en"
RELEASE_DIR = "Audio_Speech_Actors_01-24"
SONG_RELEASE_DIR = "Audio_Song_Actors_01-24"
STATEMENTS = {
    "01": "Kids are talking by the door",
    "02": "Dogs are sitting by the door",
}
INTENSITY = {"01": "normal", "02": "strong"}
VOCAL_CHANNELS = {"speech": ("01",), "song": ("02",), "all": ("01", "02")}
EXPECTED_COUNTS = {"total": 1440, "per_actor": 60, "actors": 24}
SUBSETS = {name: {"vocal_channel": name} for name in VOCAL_CHANNELS}

FILE_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav$")
ACTOR_RE = re.compile(r"^Actor_(\d\d)$")


def _actor_dirs(corpus_dir: Path) -> List[Path]:
    # The speech and song zips unpack to separate top folders, or both into
    # one set of Actor_XX folders; every Actor_XX folder found is read.
    dirs: List[Path] = []
    for root in (corpus_dir, corpus_dir / RELEASE_DIR, corpus_dir / SONG_RELEASE_DIR):
        if root.is_dir():
            dirs += sorted(p for p in root.iterdir() if p.is_dir() and ACTOR_RE.match(p.name))
    return dirs


def prepare_ravdess(
    corpus_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    *,
    label_map: LabelMapLike = None,
    vocal_channel: str = "speech",
) -> PrepareResult:
    """Prepare RAVDESS (audio-only files) as a Kaldi data directory.

    Args:
        corpus_dir: Folder holding ``Audio_Speech_Actors_01-24/`` or the
            ``Actor_XX/`` folders directly.
        out_dir: Data directory to write (replaced atomically).
        label_map: ``None`` for ``maps/ravdess.yaml``, or a YAML path / mapping.
        vocal_channel: ``speech`` (default), ``song`` or ``all``.

    Returns:
        :class:`~espnet_ser.corpora.common.PrepareResult`; song files left out
        by ``vocal_channel`` are counted in ``excluded``.

    Raises:
        FileNotFoundError: ``corpus_dir`` does not exist.
        ValueError: Unknown ``vocal_channel``.
        CorpusError: No Actor_XX folder, duplicate ids, or nothing usable.
    """
    if vocal_channel not in VOCAL_CHANNELS:
        raise ValueError(
            f"ravdess: vocal_channel={vocal_channel!r} is not one of {sorted(VOCAL_CHANNELS)}"
        )
    corpus_dir = check_corpus_dir(CORPUS, corpus_dir)
    actor_dirs = _actor_dirs(corpus_dir)
    if not actor_dirs:
        raise CorpusError(
            f"RAVDESS={corpus_dir} has no Actor_XX/ folders (directly or under "
            f"{RELEASE_DIR}/); expected a folder containing "
            f"{RELEASE_DIR}/Actor_01/03-01-01-01-01-01-01.wav or Actor_01/ directly"
        )
    lmap = load_label_map(label_map, CORPUS)
    wanted = VOCAL_CHANNELS[vocal_channel]
    skipped: Dict[str, str] = {}
    excluded: Dict[str, int] = {}
    utts = []
    for actor_dir in actor_dirs:
        folder_actor = ACTOR_RE.match(actor_dir.name).group(1)
        for path in sorted(actor_dir.iterdir()):
            if path.suffix.lower() != ".wav" or not path.is_file():
                continue
            m = FILE_RE.match(path.name)
            if not m:
                add_skip(
                    skipped, path,
                    "unrecognised file name (expected e.g. 03-01-05-01-02-01-01.wav)",
                )
                continue
            modality, channel, emo, intensity, statement, _rep, actor = m.groups()
            if modality != "03":
                add_skip(skipped, path, f"modality '{modality}' is not audio-only (03)")
                continue
            if channel not in ("01", "02"):
                add_skip(skipped, path, f"unknown vocal channel '{channel}'")
                continue
            if channel not in wanted:
                what = "song files (vocal channel 02)" if channel == "02" else (
                    "speech files (vocal channel 01)"
                )
                excluded[what] = excluded.get(what, 0) + 1
                continue
            if actor != folder_actor:
                add_skip(
                    skipped, path,
                    f"actor field '{actor}' disagrees with folder '{actor_dir.name}'",
                )
                continue
            if intensity not in INTENSITY:
                add_skip(skipped, path, f"unknown intensity code '{intensity}'")
                continue
            if statement not in STATEMENTS:
                add_skip(skipped, path, f"unknown statement code '{statement}'")
                continue
            utts.append(
                Utterance(
                    native_spk=actor,
                    native_utt=path.stem,
                    wav=path,
                    emo=emo,
                    gender="m" if int(actor) % 2 == 1 else "f",
                    extra={
                        "text": STATEMENTS[statement],
                        "utt2intensity": INTENSITY[intensity],
                    },
                )
            )
    return finalize(CORPUS, LANG, corpus_dir, out_dir, utts, lmap, skipped, excluded)
