"""Shared helpers of the corpus preparation modules.

Every ``prepare_<corpus>`` follows the same three steps:

1. walk the corpus exactly as distributed and turn each audio file into an
   :class:`Utterance` (native ids and codes, no mapping yet); inputs that cannot
   become an utterance go to a ``skipped`` dict ``{path-or-id: reason}``;
2. :func:`finalize` maps the native emotion codes through a :class:`LabelMap`
   (``maps/<corpus>.yaml`` or a user file), probes every kept audio file with
   soundfile (header only, plus a one-frame read at the end to catch truncated
   files), builds the Kaldi tables and writes them with
   :func:`espnet_ser.utils.data_dir.write_data_dir` (validate, then replace the
   directory atomically);
3. it returns a :class:`PrepareResult`.

Ids follow CONTRIBUTING.md: speaker id ``<corpus>_<native speaker>``, utterance
id ``<speaker id>-<native utterance id>``.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Union

import soundfile
import yaml

logger = logging.getLogger(__name__)

MAPS_DIR = Path(__file__).resolve().parent / "maps"

AROUSAL_VALUES = ("high", "low")
VALENCE_VALUES = ("negative", "positive")

LabelMapLike = Union[None, str, os.PathLike, Mapping[str, Any], "LabelMap"]


class CorpusError(ValueError):
    """A corpus cannot be prepared (wrong folder, nothing usable, duplicate ids).

    Subclasses ``ValueError`` so callers may catch either; the message is one
    line that names the corpus, the offending path or option and the fix.
    """


@dataclass
class PrepareResult:
    """What one ``prepare_<corpus>`` call produced.

    Attributes:
        out_dir: The data directory that was written.
        num_utts: Number of utterances in ``wav.scp``.
        num_speakers: Number of speakers in ``spk2utt``.
        emotion_counts: Utterances per mapped emotion label (``utt2emo``).
        skipped: ``{path-or-id: reason}`` for every input that was left out
            (also written to ``<out_dir>/skipped``).
        excluded: ``{what: count}`` for inputs left out by design and not by
            failure (e.g. RAVDESS song files in the speech set); logged only.
    """

    out_dir: Path
    num_utts: int
    num_speakers: int
    emotion_counts: Dict[str, int]
    skipped: Dict[str, str] = field(default_factory=dict)
    excluded: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One-line summary, as printed by ``bin/prepare_corpus.py``."""
        return (
            f"prepared {self.num_utts} utterances ({self.num_speakers} speakers) "
            f"in {self.out_dir}; skipped {len(self.skipped)} "
            f"(see {Path(self.out_dir) / 'skipped'})"
        )


@dataclass
class Utterance:
    """One candidate utterance, with native (unmapped) labels.

    Attributes:
        native_spk: Speaker as the corpus names it (``03``, ``Ses01M``, ``f1``).
        native_utt: Utterance id as the corpus names it (``03a01Fa``).
        wav: Path to the audio file.
        emo: Native emotion code (``W``, ``neu``, ``dis``); ``None`` when the
            utterance is deliberately unlabelled (kept, absent from ``utt2emo``).
        gender: ``m`` or ``f``.
        extra: Further tables, ``{table name: value}`` (``text``,
            ``utt2session``, ``utt2dialog``, ...).
    """

    native_spk: str
    native_utt: str
    wav: Path
    emo: Optional[str]
    gender: str
    extra: Dict[str, str] = field(default_factory=dict)


@dataclass
class AudioInfo:
    """Header facts of one audio file (no samples are decoded)."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.frames / float(self.sample_rate)


class AudioError(Exception):
    """An audio file is empty, corrupt or has no samples; str() is the reason."""


def _riff_truncation(path: Path, size: int) -> Optional[str]:
    """Reason if a RIFF/WAVE file's data chunk is longer than the file, else None.

    libsndfile silently shortens such files to the bytes present, so a file cut
    by an interrupted copy or unzip would otherwise pass as a short utterance.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            cid, clen = chunk[:4], int.from_bytes(chunk[4:], "little")
            if cid == b"data":
                # 0 and 0xFFFFFFFF are streaming placeholders, not real sizes.
                if clen not in (0, 0xFFFFFFFF) and pos + 8 + clen > size:
                    return (
                        f"corrupt: truncated (data chunk declares {clen} bytes, "
                        f"file holds {size - pos - 8})"
                    )
                return None
            pos += 8 + clen + (clen & 1)
    return None


def probe_audio(path: Union[str, os.PathLike]) -> AudioInfo:
    """Read an audio file's header and check that it is usable.

    Only the header is parsed plus one frame at the very end, so a truncated
    data chunk is caught without decoding the file (probing ~1000 files takes
    well under a second).

    Args:
        path: Audio file.

    Returns:
        :class:`AudioInfo` with sample rate, channels and frames.

    Raises:
        AudioError: With the reason as message: ``missing``, ``empty file
            (0 bytes)``, ``corrupt: soundfile could not open (...)``,
            ``zero-length audio (0 samples)``, ``corrupt: truncated (...)``
            (a WAV whose data chunk is longer than the file).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(f"unreadable: {exc.strerror or exc}") from None
    if size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        with soundfile.SoundFile(str(path)) as f:
            info = AudioInfo(int(f.samplerate), int(f.channels), int(f.frames))
            last_ok = True
            if info.frames > 0 and f.seekable():
                # Reading the last frame catches truncation in non-WAV formats.
                f.seek(info.frames - 1)
                last_ok = f.read(1, dtype="int16", always_2d=True).shape[0] == 1
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        msg = " ".join(str(exc).split())
        raise AudioError(f"corrupt: soundfile could not open ({msg})") from None
    truncated = _riff_truncation(path, size)
    if truncated:
        raise AudioError(truncated)
    if info.frames <= 0:
        raise AudioError("zero-length audio (0 samples)")
    if not last_ok:
        raise AudioError(
            f"corrupt: truncated (header says {info.frames} frames, last frame unreadable)"
        )
    if info.sample_rate <= 0:
        raise AudioError(f"corrupt: sample rate {info.sample_rate}")
    return info


@dataclass
class LabelMap:
    """Native emotion code -> label, and label -> binary arousal/valence.

    Attributes:
        emotion: ``{native code: label or None}``; ``None`` marks a code that is
            known but left out of the class set (goes to ``skipped``).
        arousal: ``{label: "high"|"low"}`` or ``None`` (no ``utt2arousal``).
        valence: ``{label: "positive"|"negative"}`` or ``None``.
        source: Where the map came from (for messages).
    """

    emotion: Dict[str, Optional[str]]
    arousal: Optional[Dict[str, str]] = None
    valence: Optional[Dict[str, str]] = None
    source: str = "<dict>"

    @property
    def labels(self) -> list:
        """Sorted distinct target labels."""
        return sorted({v for v in self.emotion.values() if v is not None})


def _check_binary(
    name: str, table: Any, allowed: Iterable[str], labels: list, source: str
) -> Optional[Dict[str, str]]:
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ValueError(f"label map {source}: '{name}' must be a mapping label -> value")
    table = {str(k): str(v) for k, v in table.items()}
    allowed = tuple(allowed)
    bad = {k: v for k, v in table.items() if v not in allowed}
    if bad:
        raise ValueError(
            f"label map {source}: '{name}' values must be one of {list(allowed)}, got {bad}"
        )
    missing = [lab for lab in labels if lab not in table]
    if missing:
        raise ValueError(
            f"label map {source}: '{name}' has no value for emotion label(s) {missing}; "
            f"add them or remove the '{name}' section"
        )
    return table


def load_label_map(spec: LabelMapLike, corpus: str) -> LabelMap:
    """Load a label map.

    Args:
        spec: ``None`` (the packaged ``maps/<corpus>.yaml``), a YAML file path,
            a mapping with the YAML's structure, or a :class:`LabelMap`.
        corpus: Corpus name, used for the default file and in messages.

    Returns:
        The validated :class:`LabelMap`.

    Raises:
        FileNotFoundError: The YAML file does not exist.
        ValueError: The map is malformed (one line naming the file and key).

    The YAML has three sections::

        emotion:   {native code: label | null}   # null: known, left out
        arousal:   {label: high | low}           # optional
        valence:   {label: positive | negative}  # optional
    """
    if isinstance(spec, LabelMap):
        return spec
    if spec is None:
        path = MAPS_DIR / f"{corpus}.yaml"
        if not path.is_file():
            raise FileNotFoundError(
                f"{corpus}: packaged label map {path} is missing; reinstall espnet_ser "
                "or pass --label-map FILE"
            )
        spec = path
    if isinstance(spec, Mapping):
        data, source = dict(spec), "<dict>"
    else:
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"label map {path} does not exist; check --label-map")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(
                f"label map {path} is not valid YAML: {' '.join(str(exc).split())}"
            ) from None
        source = str(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("emotion"), Mapping):
        raise ValueError(
            f"label map {source} needs an 'emotion' mapping (native code -> label or null)"
        )
    emotion = {
        str(k): (None if v is None else str(v)) for k, v in data["emotion"].items()
    }
    for label in emotion.values():
        if label is not None and (not label or any(c.isspace() for c in label)):
            raise ValueError(
                f"label map {source}: emotion label {label!r} must be one word "
                "without spaces"
            )
    labels = sorted({v for v in emotion.values() if v is not None})
    if not labels:
        raise ValueError(f"label map {source}: every emotion code maps to null")
    unknown_keys = set(data) - {"emotion", "arousal", "valence", "corpus", "notes"}
    if unknown_keys:
        raise ValueError(
            f"label map {source}: unknown section(s) {sorted(unknown_keys)}; "
            "allowed: emotion, arousal, valence, corpus, notes"
        )
    arousal = _check_binary("arousal", data.get("arousal"), AROUSAL_VALUES, labels, source)
    valence = _check_binary("valence", data.get("valence"), VALENCE_VALUES, labels, source)
    return LabelMap(emotion=emotion, arousal=arousal, valence=valence, source=source)


def check_corpus_dir(corpus: str, corpus_dir: Union[str, os.PathLike]) -> Path:
    """Return ``corpus_dir`` as a resolved Path, or raise a one-line error."""
    path = Path(corpus_dir).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{corpus}: corpus directory {path} does not exist; set it in db.sh "
            "or pass --corpus-dir"
        )
    if not path.is_dir():
        raise NotADirectoryError(f"{corpus}: corpus directory {path} is not a directory")
    return path.resolve()


def add_skip(skipped: Dict[str, str], key: Union[str, os.PathLike], reason: str) -> None:
    """Record a skipped input; the first reason for a key wins."""
    key = str(key)
    # Keys are written as the first field of a whitespace-separated file.
    key = key.replace(" ", "%20")
    skipped.setdefault(key, " ".join(reason.split()))


def _write_data_dir(out_dir: Path, tables: Dict[str, Dict[str, str]], skipped: Dict[str, str]):
    # Imported late so that parsing a corpus does not depend on the writer.
    from espnet_ser.utils.data_dir import write_data_dir

    write_data_dir(out_dir, tables, skipped=skipped)


def finalize(
    corpus: str,
    lang: str,
    corpus_dir: Path,
    out_dir: Union[str, os.PathLike],
    utts: Iterable[Utterance],
    label_map: LabelMap,
    skipped: Dict[str, str],
    excluded: Optional[Dict[str, int]] = None,
) -> PrepareResult:
    """Map labels, probe audio, build the tables and write the data directory.

    Args:
        corpus: Corpus name (``utt2corpus`` value and speaker-id prefix).
        lang: ISO 639-1 language (``utt2lang``).
        corpus_dir: The corpus root (for messages).
        out_dir: Data directory to (re)write.
        utts: Candidate utterances with native labels.
        label_map: Emotion/arousal/valence map.
        skipped: Inputs already left out while walking the corpus; extended here.
        excluded: ``{what: count}`` left out by design (logged, not skipped).

    Returns:
        :class:`PrepareResult`.

    Raises:
        CorpusError: Duplicate utterance ids, or nothing usable was found.
    """
    out_dir = Path(out_dir)
    excluded = dict(excluded or {})
    kept = []
    seen: Dict[str, Path] = {}
    n_candidates = 0
    for u in utts:
        n_candidates += 1
        spk = f"{corpus}_{u.native_spk}"
        utt = f"{spk}-{u.native_utt}"
        if utt in seen:
            raise CorpusError(
                f"{corpus}: duplicate utterance id {utt} from {seen[utt]} and {u.wav}; "
                f"remove one copy from {corpus_dir}"
            )
        seen[utt] = u.wav
        if u.emo is not None:
            if u.emo not in label_map.emotion:
                add_skip(
                    skipped, u.wav,
                    f"unknown emotion code '{u.emo}' (not in label map {label_map.source})",
                )
                continue
            if label_map.emotion[u.emo] is None:
                add_skip(
                    skipped, u.wav,
                    f"emotion '{u.emo}' not in the class set (null in {label_map.source})",
                )
                continue
        try:
            info = probe_audio(u.wav)
        except AudioError as exc:
            add_skip(skipped, u.wav, str(exc))
            continue
        kept.append((utt, spk, u, info))

    if not kept:
        reasons = Counter(r for r in skipped.values())
        top = "; ".join(f"{n}x {r}" for r, n in reasons.most_common(3))
        raise CorpusError(
            f"{corpus}: nothing usable in {corpus_dir}: {n_candidates} candidate "
            f"utterance(s), {len(skipped)} skipped"
            + (f" ({top})" if top else "")
            + "; check --corpus-dir and the corpus layout in the module docstring"
        )

    unlabelled = any(u.emo is None for _, _, u, _ in kept)
    write_av = not unlabelled
    tables: Dict[str, Dict[str, str]] = {
        "wav.scp": {}, "utt2spk": {}, "utt2emo": {}, "utt2gender": {},
        "utt2corpus": {}, "utt2lang": {}, "utt2dur": {},
    }
    if write_av and label_map.arousal is not None:
        tables["utt2arousal"] = {}
    if write_av and label_map.valence is not None:
        tables["utt2valence"] = {}
    if unlabelled and (label_map.arousal or label_map.valence):
        logger.warning(
            "%s: some utterances are unlabelled, so utt2arousal/utt2valence are not "
            "written (every utt2* file must cover the same utterances)", corpus,
        )
    rates: Counter = Counter()
    for utt, spk, u, info in kept:
        tables["wav.scp"][utt] = str(u.wav)
        tables["utt2spk"][utt] = spk
        tables["utt2gender"][utt] = u.gender
        tables["utt2corpus"][utt] = corpus
        tables["utt2lang"][utt] = lang
        tables["utt2dur"][utt] = f"{info.duration:.4f}"
        rates[(info.sample_rate, info.channels)] += 1
        if u.emo is not None:
            label = label_map.emotion[u.emo]
            tables["utt2emo"][utt] = label
            if "utt2arousal" in tables:
                tables["utt2arousal"][utt] = label_map.arousal[label]
            if "utt2valence" in tables:
                tables["utt2valence"][utt] = label_map.valence[label]
        for name, value in u.extra.items():
            tables.setdefault(name, {})[utt] = value
    spk2gender: Dict[str, str] = {}
    for spk, gender in zip(tables["utt2spk"].values(), tables["utt2gender"].values()):
        if spk2gender.setdefault(spk, gender) != gender:
            raise CorpusError(
                f"{corpus}: speaker {spk} has utterances of gender {spk2gender[spk]} and "
                f"{gender}; the corpus files disagree about this speaker"
            )
    tables["spk2gender"] = spk2gender
    for name, table in tables.items():
        if name.startswith("spk2"):
            continue
        if name != "utt2emo" and len(table) != len(kept):
            # A module bug, not a data problem: every table covers every utterance.
            raise AssertionError(
                f"{corpus}: table {name} covers {len(table)} of {len(kept)} utterances"
            )

    _write_data_dir(out_dir, tables, skipped)
    emotion_counts = dict(sorted(Counter(tables["utt2emo"].values()).items()))
    result = PrepareResult(
        out_dir=out_dir,
        num_utts=len(kept),
        num_speakers=len(set(tables["utt2spk"].values())),
        emotion_counts=emotion_counts,
        skipped=dict(skipped),
        excluded=excluded,
    )
    logger.info("%s: %s", corpus, result.summary())
    logger.info(
        "%s: emotions %s; audio (rate, channels) %s",
        corpus, emotion_counts, dict(sorted(rates.items())),
    )
    if excluded:
        logger.info("%s: excluded by design (not in skipped): %s", corpus, excluded)
    if skipped:
        reasons = Counter(r.split(" (")[0] for r in skipped.values())
        logger.warning(
            "%s: skipped %d input(s): %s", corpus, len(skipped),
            "; ".join(f"{n}x {r}" for r, n in reasons.most_common(5)),
        )
    return result
