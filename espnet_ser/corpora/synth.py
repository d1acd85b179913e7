"""Synthetic emotional speech written in the exact layout of each real corpus.

The generator exists so that every corpus preparer, protocol and recipe can be
run end to end without the licensed corpora (IEMOCAP, MSP-IMPROV, RAVDESS,
SAVEE are not redistributable), and so that the mini recipe has a task where
speaker compensation visibly matters.

Signal model (source-filter, numpy/scipy only, deterministic by seed):

* source: glottal pulse train following an F0 contour (declination over the
  utterance, pitch accents on some syllables), with cycle-to-cycle period
  jitter and amplitude shimmer, shaped by a two-pole glottal low-pass, plus
  pulse-synchronous aspiration noise (breathiness);
* spectral tilt: first-order emphasis filter (tense voice = flatter spectrum);
* vocal tract: cascade of four Klatt resonators following vowel-like targets,
  one per syllable, scaled by the speaker's vocal-tract length and the
  speaker's own formant offsets; unvoiced onsets are high-passed noise;
* prosody: syllable energy envelope at the speaking rate, pauses;
* channel (per corpus): high/low-pass, one peaking EQ band, additive coloured
  noise at a given SNR, optional mains hum, sample rate, some stereo files.

Speaker factors (gender, base F0, vocal-tract length, breathiness, formant
offsets, rate, loudness, tilt, jitter) and emotion factors (F0 level and range,
rate, energy, tilt, jitter, shimmer, breathiness, formant shift) are drawn so
that their effects on simple features are of comparable size: a classifier on
raw utterance statistics is confused by the speaker, and per-speaker feature
normalisation helps, as on the real corpora.

Layouts (``generate_corpus(layout, ...)``; paths relative to the returned root):

=========== ============================================================= =======
layout      files                                                         rate
=========== ============================================================= =======
emodb       ``wav/03a01Wa.wav``                                           16 kHz
emovo       ``f1/rab-f1-b1.wav``                                          48 kHz
iemocap     ``Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav`` 16 kHz
            ``Session1/dialog/EmoEvaluation/<dialog>.txt`` (+ Categorical/,
            Attribute/), ``Session1/dialog/transcriptions/<dialog>.txt``
msp_improv  ``Audio/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav``,      44.1 kHz
            ``Evaluation.txt``
ravdess     ``Audio_Speech_Actors_01-24/Actor_01/03-01-05-02-01-01-01.wav`` 48 kHz
savee       ``AudioData/DC/a01.wav`` (``flat=True``: ``ALL/DC_a01.wav``)  44.1 kHz
tess        ``OAF_Fear/OAF_back_fear.wav`` (``flat=True``:                24.414 kHz
            ``OAF_back_fear.wav``); quirks: ``OA_<word>_neutral.wav``,
            one AIFF file under a ``.wav`` name, one 96 kHz file
=========== ============================================================= =======

Every generated tree also holds ``SYNTH_MANIFEST.tsv`` at its root (one row per
audio file: path, native utterance id, speaker, gender, label code, generic
emotion, duration, sample rate, channels, kind, text), so tests know exactly
what was generated. Real corpora have no such file; preparers ignore it.

Example:
    >>> from espnet_ser.corpora.synth import generate_corpus
    >>> root = generate_corpus("emodb", "/tmp/emodb_synth", seed=0)
    >>> sorted(p.name for p in (root / "wav").iterdir())[:2]
    ['03a01Fa.wav', '03a01Wa.wav']
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import math
import shutil
import tempfile
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import soundfile
from scipy import signal
from scipy.io import wavfile

__all__ = [
    "EmotionPrototype",
    "EMOTION_PROTOTYPES",
    "CORPUS_EMOTIONS",
    "CORPUS_DEFAULTS",
    "LAYOUTS",
    "SpeakerProfile",
    "ChannelProfile",
    "CHANNELS",
    "make_speaker",
    "synthesize",
    "apply_channel",
    "make_sentence",
    "generate_corpus",
    "read_manifest",
    "MANIFEST_NAME",
]

MANIFEST_NAME = "SYNTH_MANIFEST.tsv"
_INTERNAL_RATE = 16000  # synthesis rate; higher output rates are resampled
_FRAME = 0.01  # control-parameter frame period in seconds
_REF_DB = -26.0  # RMS level of a neutral utterance of an average speaker (dBFS)


# --------------------------------------------------------------------------
# Emotion and speaker factors
# --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EmotionPrototype:
    """Acoustic and perceptual profile of one generic emotion.

    Attributes:
        f0_level: multiplier of the speaker's base F0.
        f0_range: multiplier of the pitch-accent size.
        rate: multiplier of the speaker's syllable rate.
        energy_db: level change in dB.
        tilt: spectral tilt in [-1, 1]; positive = flatter (tense), negative =
            steeper (lax, dark).
        jitter: added relative period jitter (standard deviation).
        shimmer: added relative amplitude shimmer (standard deviation).
        breath: added aspiration-noise level (0..1 scale of the source).
        formant_shift: relative shift of all formants (smiling raises them).
        valence: rating on the 1..5 scale of IEMOCAP / MSP-IMPROV.
        arousal: rating on the 1..5 scale.
        dominance: rating on the 1..5 scale.
    """

    f0_level: float
    f0_range: float
    rate: float
    energy_db: float
    tilt: float
    jitter: float
    shimmer: float
    breath: float
    formant_shift: float
    valence: float
    arousal: float
    dominance: float


def _proto(*values: float) -> EmotionPrototype:
    return EmotionPrototype(*values)


#: Generic emotion prototypes.  Sizes follow the usual acoustic correlates
#: (Scherer 2003; Banse & Scherer 1996): high arousal = higher, wider F0,
#: faster, louder, flatter spectrum; sadness/boredom the reverse.
#: Columns: f0_level f0_range rate energy_db tilt jitter shimmer breath
#: formant_shift valence arousal dominance.
EMOTION_PROTOTYPES: dict[str, EmotionPrototype] = {
    "neutral": _proto(1.00, 1.0, 1.00, 0.0, 0.0, 0.000, 0.00, 0.00, 0.00, 3.0, 2.5, 2.5),
    "anger": _proto(1.22, 1.6, 1.12, 6.0, 0.6, 0.010, 0.06, 0.00, 0.02, 1.5, 4.2, 4.0),
    "happiness": _proto(1.28, 1.9, 1.08, 3.5, 0.3, 0.004, 0.03, 0.02, 0.05, 4.3, 3.6, 3.3),
    "excited": _proto(1.32, 2.1, 1.18, 5.0, 0.4, 0.006, 0.04, 0.02, 0.04, 4.0, 4.3, 3.6),
    "sadness": _proto(0.90, 0.45, 0.80, -5.0, -0.6, 0.015, 0.05, 0.12, -0.02, 1.7, 1.8, 2.0),
    "fear": _proto(1.35, 1.3, 1.22, 0.5, 0.1, 0.025, 0.08, 0.10, 0.02, 1.8, 3.8, 1.8),
    "disgust": _proto(0.94, 1.1, 0.84, 1.0, -0.2, 0.012, 0.05, 0.05, -0.04, 1.8, 3.0, 3.5),
    "boredom": _proto(0.88, 0.35, 0.84, -3.5, -0.4, 0.004, 0.02, 0.06, -0.02, 2.5, 1.6, 2.2),
    "surprise": _proto(1.40, 2.4, 1.02, 3.0, 0.3, 0.006, 0.03, 0.03, 0.03, 3.6, 4.0, 3.0),
    "calm": _proto(0.95, 0.7, 0.90, -2.0, -0.3, 0.000, 0.00, 0.08, 0.00, 3.6, 1.9, 2.6),
    "frustration": _proto(1.08, 1.1, 1.05, 3.0, 0.3, 0.012, 0.05, 0.03, -0.01, 2.0, 3.3, 3.2),
}

#: Each layout's native label codes -> generic emotion.  ``other`` means an
#: ambiguous or unlisted emotion: a random prototype at half intensity.
CORPUS_EMOTIONS: dict[str, dict[str, str]] = {
    "emodb": {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
              "F": "happiness", "T": "sadness", "N": "neutral"},
    "emovo": {"dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear",
              "rab": "anger", "sor": "surprise", "tri": "sadness"},
    "iemocap": {"neu": "neutral", "hap": "happiness", "exc": "excited", "ang": "anger",
                "sad": "sadness", "fru": "frustration", "sur": "surprise", "fea": "fear",
                "dis": "disgust", "oth": "other", "xxx": "other"},
    "msp_improv": {"A": "anger", "H": "happiness", "S": "sadness", "N": "neutral",
                   "O": "other", "X": "other"},
    "ravdess": {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness",
                "05": "anger", "06": "fear", "07": "disgust", "08": "surprise"},
    "savee": {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness",
              "n": "neutral", "sa": "sadness", "su": "surprise"},
    "tess": {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
             "neutral": "neutral", "ps": "surprise", "sad": "sadness"},
}

#: Long names used in IEMOCAP's and MSP-IMPROV's evaluator lines.
_LONG_NAMES = {
    "neutral": "Neutral", "anger": "Angry", "happiness": "Happy", "excited": "Excited",
    "sadness": "Sad", "fear": "Fear", "disgust": "Disgust", "surprise": "Surprise",
    "frustration": "Frustration", "other": "Other", "boredom": "Other", "calm": "Other",
}


@dataclasses.dataclass(frozen=True)
class SpeakerProfile:
    """Voice of one synthetic speaker.

    Attributes:
        speaker_id: native speaker id of the corpus (e.g. ``"03"``, ``"Ses01F"``).
        gender: ``"m"`` or ``"f"``.
        f0: base F0 in Hz.
        vtl: formant scale (1.0 = average male vocal tract; shorter tract = larger).
        breathiness: aspiration-noise level of the voice (0..1).
        formant_offsets: per-formant relative multipliers (F1, F2, F3, F4).
        rate: syllables per second in neutral speech.
        loudness_db: level offset in dB.
        tilt: habitual spectral tilt in [-1, 1].
        jitter: habitual relative period jitter.
        shimmer: habitual relative amplitude shimmer.
        accent: habitual pitch-accent size in semitones.
    """

    speaker_id: str
    gender: str
    f0: float
    vtl: float
    breathiness: float
    formant_offsets: tuple[float, float, float, float]
    rate: float
    loudness_db: float
    tilt: float
    jitter: float
    shimmer: float
    accent: float


def make_speaker(speaker_id: str, gender: str, rng: np.random.Generator) -> SpeakerProfile:
    """Draws a random speaker of the given gender.

    The spreads are set so that between-speaker differences of simple features
    (mean F0, level, rate, tilt) are as large as between-emotion ones.

    Args:
        speaker_id: native speaker id.
        gender: ``"m"`` or ``"f"``.
        rng: random generator (the caller seeds it per speaker).

    Returns:
        The speaker profile.
    """
    if gender not in ("m", "f"):
        raise ValueError(f"make_speaker: gender must be 'm' or 'f', got {gender!r} for speaker {speaker_id!r}")
    male = gender == "m"
    return SpeakerProfile(
        speaker_id=speaker_id,
        gender=gender,
        f0=float((115.0 if male else 205.0) * math.exp(rng.normal(0.0, 0.16))),
        vtl=float((1.0 if male else 1.16) * math.exp(rng.normal(0.0, 0.05))),
        breathiness=float(rng.uniform(0.02, 0.22) + (0.0 if male else 0.04)),
        formant_offsets=tuple(float(math.exp(v)) for v in rng.normal(0.0, 0.04, size=4)),
        rate=float(4.6 * math.exp(rng.normal(0.0, 0.14))),
        loudness_db=float(rng.normal(0.0, 3.5)),
        tilt=float(np.clip(rng.normal(0.0, 0.35), -0.8, 0.8)),
        jitter=float(rng.uniform(0.004, 0.02)),
        shimmer=float(rng.uniform(0.02, 0.08)),
        accent=float(rng.uniform(1.8, 3.8)),
    )


@dataclasses.dataclass(frozen=True)
class ChannelProfile:
    """Recording channel of one corpus.

    Attributes:
        highpass_hz: cut-off of a 2nd-order high-pass (0 = none).
        lowpass_hz: cut-off of a 4th-order low-pass (0 = none; clipped below Nyquist).
        eq_hz: centre of one peaking EQ band.
        eq_db: gain of that band in dB.
        snr_db: signal-to-noise ratio of the additive noise.
        noise_color: one-pole low-pass coefficient of the noise (0 = white).
        hum_hz: mains hum frequency (0 = none), 30 dB below the signal.
        stereo_every: every n-th file is written as 2 channels (0 = never).
    """

    highpass_hz: float
    lowpass_hz: float
    eq_hz: float
    eq_db: float
    snr_db: float
    noise_color: float
    hum_hz: float = 0.0
    stereo_every: int = 0


#: Per-corpus channels (the corpus factor of a cross-corpus task).
CHANNELS: dict[str, ChannelProfile] = {
    "emodb": ChannelProfile(60.0, 7600.0, 2500.0, 2.0, 40.0, 0.0),
    "emovo": ChannelProfile(100.0, 11000.0, 1200.0, -3.0, 32.0, 0.6),
    "iemocap": ChannelProfile(120.0, 7000.0, 3000.0, 4.0, 25.0, 0.9, hum_hz=60.0),
    "msp_improv": ChannelProfile(80.0, 9000.0, 800.0, 3.0, 28.0, 0.8),
    "ravdess": ChannelProfile(40.0, 0.0, 5000.0, 2.5, 45.0, 0.3, stereo_every=7),
    "savee": ChannelProfile(150.0, 8000.0, 1800.0, -2.0, 30.0, 0.5, hum_hz=50.0),
    "tess": ChannelProfile(70.0, 10000.0, 2200.0, 1.5, 45.0, 0.2),
}

#: Default output sample rate and channel count of each layout.
CORPUS_DEFAULTS: dict[str, dict[str, int]] = {
    "emodb": {"sample_rate": 16000},
    "emovo": {"sample_rate": 48000},
    "iemocap": {"sample_rate": 16000},
    "msp_improv": {"sample_rate": 44100},
    "ravdess": {"sample_rate": 48000},
    "savee": {"sample_rate": 44100},
    "tess": {"sample_rate": 24414},
}


# --------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------
#: Vowel formant targets (F1..F4, Hz) of an average adult male (Peterson & Barney).
_VOWELS = np.array(
    [
        [730.0, 1090.0, 2440.0, 3400.0],  # a
        [530.0, 1840.0, 2480.0, 3500.0],  # e
        [270.0, 2290.0, 3010.0, 3700.0],  # i
        [570.0, 840.0, 2410.0, 3300.0],  # o
        [300.0, 870.0, 2240.0, 3300.0],  # u
        [490.0, 1350.0, 1690.0, 3300.0],  # schwa-like (er)
    ]
)
_BANDWIDTHS = np.array([70.0, 100.0, 140.0, 200.0])


def _blend(emotion: str, intensity: float, rng: np.random.Generator) -> EmotionPrototype:
    """Prototype for ``emotion`` with its deviation from neutral scaled by ``intensity``."""
    if emotion == "other":
        # Ambiguous material: some prototype, half-strength.
        names = sorted(n for n in EMOTION_PROTOTYPES if n != "neutral")
        emotion = names[int(rng.integers(len(names)))]
        intensity *= 0.5
    if emotion not in EMOTION_PROTOTYPES:
        raise ValueError(
            f"synthesize: unknown emotion {emotion!r}; use one of "
            f"{sorted(EMOTION_PROTOTYPES) + ['other']}"
        )
    neu, p = EMOTION_PROTOTYPES["neutral"], EMOTION_PROTOTYPES[emotion]
    vals = {}
    for field in dataclasses.fields(EmotionPrototype):
        a, b = getattr(neu, field.name), getattr(p, field.name)
        if field.name in ("f0_level", "f0_range", "rate"):
            vals[field.name] = a * (b / a) ** intensity  # multiplicative: blend in log domain
        else:
            vals[field.name] = a + intensity * (b - a)
    return EmotionPrototype(**vals)


def _resonator_coeffs(freq: float, bw: float, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """Klatt resonator with unit gain at DC: b, a for ``scipy.signal.lfilter``."""
    r = math.exp(-math.pi * bw / fs)
    c1 = 2.0 * r * math.cos(2.0 * math.pi * freq / fs)
    c2 = -r * r
    return np.array([1.0 - c1 - c2]), np.array([1.0, -c1, -c2])


def _syllables(
    duration: float, rate: float, rng: np.random.Generator
) -> list[tuple[float, float, int, bool]]:
    """Syllable timeline: (start s, length s, vowel index, accented)."""
    t = float(rng.uniform(0.04, 0.12))
    end = duration - float(rng.uniform(0.05, 0.12))
    out = []
    first = True
    while t < end - 0.06:
        length = min(float(np.exp(rng.normal(0.0, 0.22))) / rate, end - t)
        if length < 0.06:
            break
        accented = first or bool(rng.random() < 0.3)
        out.append((t, length, int(rng.integers(len(_VOWELS))), accented))
        first = False
        t += length
        if rng.random() < 0.12:  # phrase pause
            t += float(rng.uniform(0.05, 0.18))
    return out


def synthesize(
    speaker: SpeakerProfile,
    emotion: str,
    *,
    rng: np.random.Generator,
    duration: float,
    sample_rate: int,
    intensity: float = 1.0,
) -> np.ndarray:
    """Synthesises one utterance of ``speaker`` speaking with ``emotion``.

    No channel is applied (see :func:`apply_channel`).

    Args:
        speaker: the voice.
        emotion: a key of :data:`EMOTION_PROTOTYPES` or ``"other"``.
        rng: random generator (seed it per utterance for order-free determinism).
        duration: length in seconds (> 0.2).
        sample_rate: output rate in Hz; synthesis runs at 16 kHz (or the output
            rate when lower) and is resampled.
        intensity: scale of the emotion's deviation from neutral (RAVDESS
            "normal" = 0.6, "strong" = 1.0).

    Returns:
        Waveform, shape ``(round(duration * sample_rate),)``, float32 in [-1, 1].
    """
    if duration <= 0.2:
        raise ValueError(f"synthesize: duration must be > 0.2 s, got {duration}")
    if sample_rate < 4000:
        raise ValueError(f"synthesize: sample_rate must be >= 4000 Hz, got {sample_rate}")
    p = _blend(emotion, intensity, rng)
    fs = min(_INTERNAL_RATE, int(sample_rate))
    n = int(round(duration * fs))
    n_frames = int(math.ceil(n / (fs * _FRAME))) + 1
    hop = int(round(fs * _FRAME))
    t_frames = np.arange(n_frames) * _FRAME

    # Per-utterance variation on top of speaker and emotion.
    rate = speaker.rate * p.rate * math.exp(rng.normal(0.0, 0.06))
    f0_base = speaker.f0 * p.f0_level * math.exp(rng.normal(0.0, 0.04))
    level_db = _REF_DB + speaker.loudness_db + p.energy_db + rng.normal(0.0, 1.0)
    syl = _syllables(duration, rate, rng)

    # Control tracks at the frame rate.
    voiced = np.zeros(n_frames)
    frication = np.zeros(n_frames)
    semitones = np.linspace(1.5, -2.0, n_frames)  # declination
    formants = np.tile(_VOWELS[5], (n_frames, 1))
    for start, length, vowel, accented in syl:
        i0 = int(start / _FRAME)
        i1 = min(n_frames, int((start + length) / _FRAME) + 1)
        onset = i0 + max(1, int(0.3 * (i1 - i0)))
        if rng.random() < 0.5:  # unvoiced consonant onset
            frication[i0:onset] = np.hanning(onset - i0 + 2)[1:-1]
        nucleus = np.hanning(i1 - onset + 2)[1:-1] if i1 > onset else np.zeros(0)
        gain = 1.0 + (0.5 if accented else 0.0)
        voiced[onset:i1] = np.maximum(voiced[onset:i1], gain * nucleus ** 0.7)
        formants[i0:i1] = _VOWELS[vowel]
        if accented:
            centre = start + 0.6 * length
            height = speaker.accent * p.f0_range * float(rng.uniform(0.6, 1.2))
            semitones += height * np.exp(-0.5 * ((t_frames - centre) / 0.07) ** 2)
    # Slow random wobble of F0 (about 1 Hz).
    wobble = signal.lfilter([0.05], [1.0, -0.95], rng.normal(0.0, 1.0, n_frames))
    f0_frames = f0_base * 2.0 ** ((semitones + wobble) / 12.0)
    # Smooth formant jumps into transitions (~50 ms).
    kernel = np.ones(5) / 5.0
    formants = np.stack(
        [np.convolve(np.pad(formants[:, k], 2, mode="edge"), kernel, mode="valid") for k in range(4)],
        axis=1,
    )
    scale = speaker.vtl * (1.0 + p.formant_shift) * np.asarray(speaker.formant_offsets)
    formants = np.minimum(formants * scale, 0.45 * fs)

    # Glottal source: pulse train with jitter and shimmer.
    t_samples = np.arange(n) / fs
    f0_samples = np.interp(t_samples, t_frames, f0_frames)
    jitter = speaker.jitter + p.jitter
    shimmer = speaker.shimmer + p.shimmer
    excitation = np.zeros(n)
    pos = float(rng.uniform(0.0, fs / f0_samples[0]))
    while pos < n:
        i = int(pos)
        excitation[i] += 1.0 + shimmer * rng.normal()
        period = fs / f0_samples[i] * (1.0 + jitter * rng.normal())
        pos += max(period, fs / 600.0)
    # Two-pole glottal low-pass (-12 dB/oct above ~100 Hz), tilt, radiation.
    g = math.exp(-2.0 * math.pi * 100.0 / fs)
    source = signal.lfilter([1.0 - g], [1.0, -g], signal.lfilter([1.0 - g], [1.0, -g], excitation))
    tilt = float(np.clip(speaker.tilt + p.tilt, -0.95, 0.95))
    source = signal.lfilter([1.0, -0.8 * tilt], [1.0], source)
    source = np.diff(source, prepend=0.0) * 30.0
    # Pulse-synchronous aspiration noise (breathy voice).
    breath = float(np.clip(speaker.breathiness + p.breath, 0.0, 1.0))
    noise = signal.lfilter([1.0, -0.9], [1.0], rng.normal(0.0, 1.0, n))
    phase = np.cumsum(f0_samples) / fs
    noise *= 0.6 + 0.4 * np.cos(2.0 * np.pi * phase)
    src_rms = float(np.sqrt(np.mean(source ** 2))) + 1e-9
    source = source + breath * 0.8 * src_rms * noise
    voiced_env = np.interp(t_samples, t_frames, voiced)
    source *= voiced_env

    # Vocal tract: 4 cascaded resonators updated every frame.
    bws = _BANDWIDTHS * (1.0 + breath)
    out = source.copy()
    for k in range(4):
        zi = np.zeros(2)
        for f in range(int(math.ceil(n / hop))):
            seg = slice(f * hop, min(n, (f + 1) * hop))
            b, a = _resonator_coeffs(float(formants[min(f, n_frames - 1), k]), float(bws[k]), fs)
            out[seg], zi = signal.lfilter(b, a, out[seg], zi=zi)
    # Unvoiced consonants: high-passed noise, no vocal-tract filter.
    fric_env = np.interp(t_samples, t_frames, frication)
    fric = signal.lfilter([1.0, -1.0], [1.0, -0.3], rng.normal(0.0, 1.0, n)) * fric_env
    out_rms = float(np.sqrt(np.mean(out[voiced_env > 0.1] ** 2))) if np.any(voiced_env > 0.1) else 1.0
    out = out / (out_rms + 1e-9) + 0.15 * fric

    # Absolute level: neutral speech of an average speaker at _REF_DB.
    active = voiced_env > 0.1
    rms = float(np.sqrt(np.mean(out[active] ** 2))) if np.any(active) else 1.0
    out *= 10.0 ** (level_db / 20.0) / (rms + 1e-9)
    if sample_rate != fs:
        ratio = Fraction(int(sample_rate), fs).limit_denominator(1000)
        out = signal.resample_poly(out, ratio.numerator, ratio.denominator)
    n_out = int(round(duration * sample_rate))
    out = np.pad(out, (0, max(0, n_out - len(out))))[:n_out]
    return np.clip(out, -0.999, 0.999).astype(np.float32)


def apply_channel(
    wav: np.ndarray, sample_rate: int, channel: ChannelProfile, rng: np.random.Generator
) -> np.ndarray:
    """Passes a waveform through a corpus channel.

    Args:
        wav: waveform, shape ``(N,)``.
        sample_rate: its rate in Hz.
        channel: the corpus channel.
        rng: random generator for the noise.

    Returns:
        Waveform, shape ``(N,)``, float32 in [-1, 1].
    """
    nyq = sample_rate / 2.0
    x = wav.astype(np.float64)
    if channel.highpass_hz > 0:
        x = signal.sosfilt(signal.butter(2, channel.highpass_hz / nyq, "highpass", output="sos"), x)
    if 0 < channel.lowpass_hz < 0.95 * nyq:
        x = signal.sosfilt(signal.butter(4, channel.lowpass_hz / nyq, "lowpass", output="sos"), x)
    if channel.eq_db and channel.eq_hz < 0.9 * nyq:
        # RBJ peaking EQ, Q = 1.
        amp = 10.0 ** (channel.eq_db / 40.0)
        w0 = 2.0 * math.pi * channel.eq_hz / sample_rate
        alpha = math.sin(w0) / 2.0
        b = [1 + alpha * amp, -2 * math.cos(w0), 1 - alpha * amp]
        a = [1 + alpha / amp, -2 * math.cos(w0), 1 - alpha / amp]
        x = signal.lfilter(b, a, x)
    sig_rms = float(np.sqrt(np.mean(x ** 2))) + 1e-9
    noise = signal.lfilter([1.0], [1.0, -channel.noise_color], rng.normal(0.0, 1.0, len(x)))
    noise *= sig_rms * 10.0 ** (-channel.snr_db / 20.0) / (float(np.sqrt(np.mean(noise ** 2))) + 1e-9)
    x = x + noise
    if channel.hum_hz:
        t = np.arange(len(x)) / sample_rate
        x += sig_rms * 10.0 ** (-30.0 / 20.0) * math.sqrt(2.0) * np.sin(2 * math.pi * channel.hum_hz * t)
    return np.clip(x, -0.999, 0.999).astype(np.float32)


# --------------------------------------------------------------------------
# Transcripts
# --------------------------------------------------------------------------
_WORDS = {
    "neutral": (["Well,", "So,", "Okay,", ""], ["the report is on the table", "we meet at ten tomorrow",
                "the bus leaves from the station", "I put the keys in the drawer"]),
    "anger": (["Listen,", "No!", "Stop it,", ""], ["this is ridiculous and I hate it",
              "you never listen to me, damn it", "get out of my way right now",
              "I am sick of your stupid excuses"]),
    "happiness": (["Oh,", "Yes!", "Wow,", ""], ["that is wonderful news, I love it",
                  "what a great day, thank you", "I am so glad you came",
                  "this is amazing, we did it"]),
    "excited": (["Wow!", "Oh my god,", "Yes!", ""], ["we won, this is incredible",
                "I can't wait, it's fantastic", "guess what, I got the job", "this is awesome"]),
    "sadness": (["Oh,", "Well...", "I guess", ""], ["I miss her so much", "I am sorry, I lost it",
                "nobody came, I was alone", "it is over, there is nothing left"]),
    "fear": (["Wait,", "Oh no,", "Please,", ""], ["did you hear that noise", "I am scared, don't leave me",
             "something is wrong here", "please, help me"]),
    "disgust": (["Ugh,", "Eww,", "Yuck,", ""], ["that smells disgusting", "how gross is that",
                "I can't even look at it", "that is revolting"]),
    "boredom": (["Whatever,", "Hmm,", "Yeah,", ""], ["same thing again, as usual",
                "nothing ever happens here", "I suppose it is fine", "it is all so dull"]),
    "surprise": (["What?", "Really?", "No way,", ""], ["you did what", "I didn't expect that at all",
                 "is that really true", "since when"]),
    "calm": (["Okay,", "Alright,", "Fine,", ""], ["let us take it slowly", "everything is all right",
             "we have plenty of time", "just breathe and relax"]),
    "frustration": (["Come on,", "Seriously,", "Ugh,", ""], ["why does this never work",
                    "I have been waiting for hours", "this form is wrong again",
                    "nobody can tell me anything"]),
}


def make_sentence(emotion: str, rng: np.random.Generator) -> str:
    """Template sentence whose words correlate with ``emotion``.

    With probability 0.7 the sentence comes from the emotion's own word list,
    otherwise from the neutral list, so the lexical cue is useful but not perfect.

    Args:
        emotion: generic emotion (or ``"other"``).
        rng: random generator.

    Returns:
        One sentence ending with punctuation.
    """
    key = emotion if emotion in _WORDS and rng.random() < 0.7 else "neutral"
    openers, cores = _WORDS[key]
    opener = openers[int(rng.integers(len(openers)))]
    core = cores[int(rng.integers(len(cores)))]
    if not opener or opener[-1] in "?!":
        core = core[0].upper() + core[1:]
    text = f"{opener} {core}".strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + ("?" if key == "surprise" else ".")


# --------------------------------------------------------------------------
# Corpus plans
# --------------------------------------------------------------------------
@dataclasses.dataclass
class _Utt:
    relpath: str
    utt: str
    speaker: str
    gender: str
    code: str
    emotion: str
    duration: float
    sample_rate: int
    channels: int = 1
    kind: str = "speech"
    intensity: float = 1.0
    text: str = ""
    fmt: str = "wav"  # container written: wav, aiff or flac (whatever the name says)


@dataclasses.dataclass
class _Plan:
    utts: list[_Utt]
    text_files: dict[str, str]  # relpath -> content
    genders: dict[str, str]  # native speaker -> gender


def _stable_rng(seed: int, *keys: str) -> np.random.Generator:
    """Generator seeded by ``seed`` and string keys (stable across runs and processes)."""
    return np.random.default_rng([int(seed)] + [zlib.crc32(k.encode("utf-8")) for k in keys])


def _durations(duration, rng: np.random.Generator) -> float:
    # Rounded to the 4 decimals written in label files and the manifest.
    if isinstance(duration, (int, float)):
        return round(float(duration), 4)
    lo, hi = duration
    return round(float(rng.uniform(lo, hi)), 4)


def _codes(layout: str, emotions: Sequence[str] | None) -> list[str]:
    table = CORPUS_EMOTIONS[layout]
    if emotions is None:
        return list(table)
    bad = [e for e in emotions if e not in table]
    if bad or not emotions:
        raise ValueError(
            f"generate_corpus({layout!r}): emotions={list(emotions)!r} has codes not in the "
            f"corpus ({bad}); valid codes: {list(table)}"
        )
    return list(emotions)


def _balanced(codes: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` codes cycling through ``codes`` (each pass in a random order)."""
    out: list[str] = []
    while len(out) < n:
        out.extend(codes[i] for i in rng.permutation(len(codes)))
    return out[:n]


def _speaker_list(
    layout: str, defaults: list[tuple[str, str]], n: int | None, extra: Callable[[int], tuple[str, str]]
) -> list[tuple[str, str]]:
    if n is None:
        return list(defaults)
    if n < 1:
        raise ValueError(f"generate_corpus({layout!r}): n_speakers must be >= 1, got {n}")
    out = list(defaults[:n])
    i = len(out)
    while len(out) < n:
        out.append(extra(i))
        i += 1
    return out


_EMODB_SPEAKERS = [("03", "m"), ("08", "f"), ("09", "f"), ("10", "m"), ("11", "m"),
                   ("12", "m"), ("13", "f"), ("14", "f"), ("15", "m"), ("16", "f")]
_EMODB_TEXTS = ["a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10"]


def _plan_emodb(seed, n_speakers, upsp, duration, sr, emotions=None) -> _Plan:
    codes = _codes("emodb", emotions)
    upsp = len(codes) if upsp is None else upsp
    limit = len(_EMODB_TEXTS) * len(codes) * 26

    def extra(i):  # new 2-digit ids after the real ten, alternating gender
        spk = f"{17 + i - len(_EMODB_SPEAKERS):02d}"
        if int(spk) > 99:
            raise ValueError("generate_corpus('emodb'): at most 93 speakers fit the 2-digit ids")
        return spk, "m" if i % 2 == 0 else "f"

    speakers = _speaker_list("emodb", _EMODB_SPEAKERS, n_speakers, extra)
    if upsp > limit:
        raise ValueError(f"generate_corpus('emodb'): utts_per_speaker={upsp} > {limit} possible names")
    utts = []
    for spk, gender in speakers:
        rng = _stable_rng(seed, "plan", spk)
        seen: dict[tuple[str, str], int] = {}
        for k, code in enumerate(_balanced(codes, upsp, rng)):
            text = _EMODB_TEXTS[(k // len(codes) + int(rng.integers(len(_EMODB_TEXTS)))) % len(_EMODB_TEXTS)]
            # Several takes of the same text/emotion get versions a, b, c...
            while seen.get((text, code), 0) >= 26:
                text = _EMODB_TEXTS[(_EMODB_TEXTS.index(text) + 1) % len(_EMODB_TEXTS)]
            version = "abcdefghijklmnopqrstuvwxyz"[seen.get((text, code), 0)]
            seen[(text, code)] = seen.get((text, code), 0) + 1
            name = f"{spk}{text}{code}{version}"
            utts.append(_Utt(f"wav/{name}.wav", name, spk, gender, code, CORPUS_EMOTIONS["emodb"][code],
                             _durations(duration, rng), sr))
    return _Plan(utts, {}, dict(speakers))


_EMOVO_SPEAKERS = [("f1", "f"), ("f2", "f"), ("f3", "f"), ("m1", "m"), ("m2", "m"), ("m3", "m")]
_EMOVO_SENTENCES = ["b1", "b2", "b3", "d1", "d2", "l1", "l2", "l3", "l4", "n1", "n2", "n3", "n4", "n5"]


def _plan_emovo(seed, n_speakers, upsp, duration, sr, emotions=None) -> _Plan:
    codes = _codes("emovo", emotions)
    upsp = len(codes) if upsp is None else upsp
    if upsp > len(codes) * len(_EMOVO_SENTENCES):
        raise ValueError(f"generate_corpus('emovo'): utts_per_speaker={upsp} > "
                         f"{len(codes) * len(_EMOVO_SENTENCES)} (emotions x 14 sentences)")

    def extra(i):
        g = "f" if i % 2 == 0 else "m"
        return f"{g}{4 + (i - 6) // 2}", g

    speakers = _speaker_list("emovo", _EMOVO_SPEAKERS, n_speakers, extra)
    utts = []
    for spk, gender in speakers:
        rng = _stable_rng(seed, "plan", spk)
        pairs = [(c, s) for s in _EMOVO_SENTENCES for c in codes]
        # Balanced over emotions: take sentence-major order after a shuffle within sentence.
        order = [pairs[i] for s in range(len(_EMOVO_SENTENCES))
                 for i in s * len(codes) + rng.permutation(len(codes))]
        for code, sent in order[:upsp]:
            name = f"{code}-{spk}-{sent}"
            utts.append(_Utt(f"{spk}/{name}.wav", name, spk, gender, code, CORPUS_EMOTIONS["emovo"][code],
                             _durations(duration, rng), sr))
    return _Plan(utts, {}, dict(speakers))


def _plan_ravdess(seed, n_speakers, upsp, duration, sr, emotions=None, songs=False) -> _Plan:
    codes = _codes("ravdess", emotions)
    n_speakers = 4 if n_speakers is None else n_speakers
    if not 1 <= n_speakers <= 99:
        raise ValueError(f"generate_corpus('ravdess'): n_speakers must be in 1..99 (Actor_XX), got {n_speakers}")
    if songs not in (False, True, "mixed"):
        raise ValueError(f"generate_corpus('ravdess'): songs must be False, True or 'mixed', got {songs!r}")
    # All valid speech names of one actor: neutral has no strong intensity.
    full = [(e, i, s, r) for s in ("01", "02") for r in ("01", "02") for e in codes
            for i in (("01",) if e == "01" else ("01", "02"))]
    upsp = len(codes) if upsp is None else upsp
    if upsp > len(full):
        raise ValueError(f"generate_corpus('ravdess'): utts_per_speaker={upsp} > {len(full)} valid names per actor")
    channel = CHANNELS["ravdess"]
    utts, genders = [], {}
    for a in range(1, n_speakers + 1):
        actor = f"{a:02d}"
        gender = "m" if a % 2 == 1 else "f"
        genders[actor] = gender
        rng = _stable_rng(seed, "plan", actor)
        by_emo = {e: [x for x in full if x[0] == e] for e in codes}
        for e in by_emo:
            by_emo[e] = [by_emo[e][i] for i in rng.permutation(len(by_emo[e]))]
        chosen = []
        k = 0
        while len(chosen) < upsp:  # round robin over emotions
            e = codes[k % len(codes)]
            if by_emo[e]:
                chosen.append(by_emo[e].pop(0))
            k += 1
        kinds = [("speech", "01", c) for c in chosen]
        if songs:
            song_codes = [c for c in ("01", "02", "03", "04", "05", "06") if c in codes] or codes[:1]
            kinds += [("song", "02", (e, "01", "01", "01")) for e in song_codes]
        for kind, vocal, (e, inten, stmt, rep) in kinds:
            name = f"03-{vocal}-{e}-{inten}-{stmt}-{rep}-{actor}"
            top = "Audio_Song_Actors_01-24" if kind == "song" and songs is True else "Audio_Speech_Actors_01-24"
            utts.append(_Utt(f"{top}/Actor_{actor}/{name}.wav", name, actor, gender, e,
                             CORPUS_EMOTIONS["ravdess"][e], _durations(duration, rng), sr, kind=kind,
                             intensity=0.6 if inten == "01" else 1.0))
    for i, u in enumerate(utts):
        if channel.stereo_every and (i + 1) % channel.stereo_every == 0:
            u.channels = 2
    return _Plan(utts, {}, genders)


_SAVEE_SPEAKERS = [("DC", "m"), ("JE", "m"), ("JK", "m"), ("KL", "m")]
_SAVEE_COUNTS = {"a": 15, "d": 15, "f": 15, "h": 15, "n": 30, "sa": 15, "su": 15}


def _plan_savee(seed, n_speakers, upsp, duration, sr, emotions=None, flat=False) -> _Plan:
    codes = _codes("savee", emotions)
    upsp = len(codes) if upsp is None else upsp
    limit = sum(_SAVEE_COUNTS[c] for c in codes)
    if upsp > limit:
        raise ValueError(f"generate_corpus('savee'): utts_per_speaker={upsp} > {limit} names per speaker")

    def extra(i):
        j = i - len(_SAVEE_SPEAKERS)
        return "A" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[j % 26] if j < 26 else f"B{chr(65 + j % 26)}", "m"

    speakers = _speaker_list("savee", _SAVEE_SPEAKERS, n_speakers, extra)
    utts = []
    for spk, gender in speakers:
        rng = _stable_rng(seed, "plan", spk)
        counters = {c: 0 for c in codes}
        k = 0
        while sum(counters.values()) < upsp:
            c = codes[k % len(codes)]
            k += 1
            if counters[c] >= _SAVEE_COUNTS[c]:
                continue
            counters[c] += 1
            native = f"{c}{counters[c]:02d}"
            rel = f"ALL/{spk}_{native}.wav" if flat else f"AudioData/{spk}/{native}.wav"
            utts.append(_Utt(rel, native, spk, gender, c, CORPUS_EMOTIONS["savee"][c],
                             _durations(duration, rng), sr))
    return _Plan(utts, {}, dict(speakers))


_TESS_SPEAKERS = [("OAF", "f"), ("YAF", "f")]
#: The 200 target words of TESS (the NU-6 word list), said in "Say the word _".
_TESS_WORDS = (
    "back bar base bath bean beg bite boat bone book bought burn cab calm came cause chain chair "
    "chalk chat check cheek chief choice cool dab date dead death deep dime dip ditch dodge dog doll "
    "door fail fall far fat fit five food gap gas gaze germ get gin goal good goose gun half hall "
    "hash hate have haze hire hit hole home hurl hush jail jar join judge jug juice keen keep keg "
    "kick kill king kite knock late laud lean learn lease lid life limb live loaf long lore lose lot "
    "love luck make match merge mess met mill mob mode mood moon mop mouse nag name near neat nice "
    "note numb pad page pain pass pearl peg perch phone pick pike pole pool puff rag raid rain raise "
    "rat reach read red ring ripe road room rose rot rough rush said sail search seize sell shack "
    "shall shawl sheep shirt should shout size soap soup sour south sub such sure take talk tape "
    "team tell thin third thought thumb time tip tire ton tool tough turn vine voice void vote wag "
    "walk wash week wheat when which whip white wife wire witch yearn yes young youth"
).split()
#: Folder names that are not ``<SPK>_<code>``: the mixed case and spellings of
#: the circulating copies of the release (file names always use the code).
_TESS_FOLDERS = {("OAF", "fear"): "OAF_Fear", ("OAF", "ps"): "OAF_Pleasant_surprise",
                 ("OAF", "sad"): "OAF_Sad", ("YAF", "ps"): "YAF_pleasant_surprised"}
_TESS_QUIRK_RATE = 96000


def _plan_tess(seed, n_speakers, upsp, duration, sr, emotions=None, flat=False, quirks=True,
               ext="wav") -> _Plan:
    codes = _codes("tess", emotions)
    n_speakers = len(_TESS_SPEAKERS) if n_speakers is None else n_speakers
    if not 1 <= n_speakers <= len(_TESS_SPEAKERS):
        raise ValueError(f"generate_corpus('tess'): n_speakers must be 1 or 2 (TESS has the speakers OAF "
                         f"and YAF), got {n_speakers}")
    if ext not in ("wav", "flac"):
        raise ValueError(f"generate_corpus('tess'): ext must be 'wav' (the release) or 'flac', got {ext!r}")
    upsp = len(codes) if upsp is None else upsp
    limit = len(_TESS_WORDS) * len(codes)
    if upsp > limit:
        raise ValueError(f"generate_corpus('tess'): utts_per_speaker={upsp} > {limit} (200 words x emotions)")
    speakers = _TESS_SPEAKERS[:n_speakers]
    utts = []
    for spk, gender in speakers:
        rng = _stable_rng(seed, "plan", spk)
        words = [_TESS_WORDS[i] for i in rng.permutation(len(_TESS_WORDS))]
        # Word-major, so each word is said in every emotion before the next word starts.
        pairs = [(w, codes[i]) for w in words for i in rng.permutation(len(codes))][:upsp]
        for word, code in pairs:
            native = f"{spk}_{word}_{code}"
            folder = _TESS_FOLDERS.get((spk, code), f"{spk}_{code}")
            rel = f"{native}.{ext}" if flat else f"{folder}/{native}.{ext}"
            utts.append(_Utt(rel, native, spk, gender, code, CORPUS_EMOTIONS["tess"][code],
                             _durations(duration, rng), sr, text=f"Say the word {word}",
                             fmt=ext))
    if quirks and utts:
        # The release's oddities: OAF's first neutral file is named OA_..., the first
        # file is recorded at 96 kHz, the last holds AIFF data under its .wav name.
        first_neutral = next((u for u in utts if u.speaker == "OAF" and u.code == "neutral"), None)
        if first_neutral is not None:
            head, _, name = first_neutral.relpath.rpartition("/")
            first_neutral.relpath = (head + "/" if head else "") + "OA_" + name[len("OAF_"):]
        utts[0].sample_rate = _TESS_QUIRK_RATE
        utts[-1].fmt = "aiff"
    return _Plan(utts, {}, dict(speakers))


#: IEMOCAP dialogs of the default 5 sessions (lead gender, name); names include
#: the awkward real ones (letter suffixes, lead "M" with F turns).
_IEMOCAP_DIALOGS = [
    [("F", "impro01"), ("M", "script01_1")],
    [("M", "impro02"), ("F", "script02_2")],
    [("M", "impro05a"), ("F", "script03_1")],
    [("F", "impro03"), ("M", "script02_1")],
    [("F", "impro05b"), ("M", "script01_1b")],
]
_IEMOCAP_WEIGHTS = {"neu": 0.22, "hap": 0.10, "exc": 0.12, "ang": 0.14, "sad": 0.14, "fru": 0.14,
                    "xxx": 0.08, "sur": 0.02, "fea": 0.02, "dis": 0.01, "oth": 0.01}


def _fmt_vad(p: EmotionPrototype, rng: np.random.Generator) -> tuple[float, float, float]:
    def q(v):  # average of raters: multiples of 0.5 in [1, 5]
        return float(np.clip(round((v + rng.normal(0.0, 0.4)) * 2) / 2, 1.0, 5.0))

    return q(p.valence), q(p.arousal), q(p.dominance)


def _plan_iemocap(seed, n_speakers, upsp, duration, sr, emotions=None, dialogs_per_session=2,
                  persist=0.7, xx_lines=True) -> _Plan:
    codes = _codes("iemocap", emotions)
    if n_speakers is None:
        n_sessions = 5
    elif n_speakers % 2 or not 2 <= n_speakers <= 18:
        raise ValueError(f"generate_corpus('iemocap'): n_speakers must be even (one F and one M per "
                         f"session) and in 2..18, got {n_speakers}")
    else:
        n_sessions = n_speakers // 2
    upsp = 6 if upsp is None else upsp
    if dialogs_per_session < 1 or upsp < dialogs_per_session:
        raise ValueError(f"generate_corpus('iemocap'): need 1 <= dialogs_per_session <= utts_per_speaker, "
                         f"got {dialogs_per_session} and {upsp}")
    if not 0.0 <= persist <= 1.0:
        raise ValueError(f"generate_corpus('iemocap'): persist must be in [0, 1], got {persist}")
    weights = np.array([_IEMOCAP_WEIGHTS.get(c, 0.05) for c in codes])
    weights /= weights.sum()
    utts, files, genders = [], {}, {}
    for s in range(1, n_sessions + 1):
        ses = f"Ses{s:02d}"
        genders[f"{ses}F"], genders[f"{ses}M"] = "f", "m"
        table = _IEMOCAP_DIALOGS[(s - 1) % len(_IEMOCAP_DIALOGS)]
        dialogs = [table[j] if j < len(table) else ("FM"[j % 2], f"impro{j + 4:02d}" if j % 2 == 0
                                                    else f"script{j:02d}_2") for j in range(dialogs_per_session)]
        for j, (lead, dname) in enumerate(dialogs):
            dialog = f"{ses}{lead}_{dname}"
            rng = _stable_rng(seed, "plan", dialog)
            per_spk = upsp // dialogs_per_session + (1 if j < upsp % dialogs_per_session else 0)
            order = []
            for k in range(per_spk):  # alternating turns, the lead speaks first
                order += [lead, "M" if lead == "F" else "F"]
            t = float(rng.uniform(1.0, 5.0))
            counters = {"F": 0, "M": 0}
            emo_lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
            cat_lines, atr_lines, tr = [], [], []
            code = codes[int(rng.choice(len(codes), p=weights))]
            for k, who in enumerate(order):
                if k and rng.random() >= persist:  # emotion changes between turns
                    code = codes[int(rng.choice(len(codes), p=weights))]
                utt_id = f"{dialog}_{who}{counters[who]:03d}"
                counters[who] += 1
                dur = round(_durations(duration, rng), 4)
                start, end = round(t, 4), round(t + dur, 4)
                emo = CORPUS_EMOTIONS["iemocap"][code]
                proto = _blend(emo if emo != "other" else "neutral", 1.0, rng)
                v, a, d = _fmt_vad(proto, rng)
                text = make_sentence(emo, rng)
                spk = f"{ses}{who}"
                utts.append(_Utt(f"Session{s}/sentences/wav/{dialog}/{utt_id}.wav", utt_id, spk,
                                 genders[spk], code, emo, end - start, sr, text=text))
                emo_lines += [f"[{start:.4f} - {end:.4f}]\t{utt_id}\t{code}\t[{v:.4f}, {a:.4f}, {d:.4f}]"]
                long = _LONG_NAMES.get(emo, "Other")
                for r in ("C-E1", "C-E2", "C-E4"):
                    emo_lines.append(f"{r}:\t{long};\t()")
                emo_lines += [f"A-E1:\tval {int(round(v))}; act {int(round(a))}; dom  {int(round(d))};\t()", ""]
                cat_lines.append(f"{utt_id} :{long}; ()")
                atr_lines.append(f"{utt_id} :act {int(round(a))}; val {int(round(v))}; dom  {int(round(d))}; ()")
                tr.append(f"{utt_id} [{start:08.4f}-{end:08.4f}]: {text}")
                if xx_lines and k == 1 and "impro" in dname:
                    # Overlapping/unlabelled speech: transcribed, no wav, no label.
                    tr.append(f"{dialog}_{who}XX0 [{end:08.4f}-{end + 0.5:08.4f}]: Mm-hmm.")
                t = end + float(rng.uniform(0.2, 1.5))
            base = f"Session{s}/dialog"
            files[f"{base}/EmoEvaluation/{dialog}.txt"] = "\n".join(emo_lines) + "\n"
            files[f"{base}/EmoEvaluation/Categorical/{dialog}_e1_cat.txt"] = "\n".join(cat_lines) + "\n"
            files[f"{base}/EmoEvaluation/Attribute/{dialog}_e1_atr.txt"] = "\n".join(atr_lines) + "\n"
            files[f"{base}/transcriptions/{dialog}.txt"] = "\n".join(tr) + "\n"
    return _Plan(utts, files, genders)


_MSP_TARGETS = {"A": "anger", "H": "happiness", "S": "sadness", "N": "neutral"}


def _plan_msp_improv(seed, n_speakers, upsp, duration, sr, emotions=None, label_file="Evaluation.txt",
                     rater_lines=True) -> _Plan:
    codes = _codes("msp_improv", emotions)
    n_speakers = 4 if n_speakers is None else n_speakers
    if n_speakers % 2 or not 2 <= n_speakers <= 198:
        raise ValueError(f"generate_corpus('msp_improv'): n_speakers must be even (F and M per session), "
                         f"got {n_speakers}")
    if label_file not in ("Evaluation.txt", "Evalution.txt"):
        raise ValueError(f"generate_corpus('msp_improv'): label_file must be Evaluation.txt or "
                         f"Evalution.txt, got {label_file!r}")
    upsp = 6 if upsp is None else upsp
    targets = [c for c in codes if c in _MSP_TARGETS] or ["N"]
    utts, lines, genders = [], [], {}
    for s in range(1, n_speakers // 2 + 1):
        for g in ("F", "M"):
            spk = f"{g}{s:02d}"
            genders[spk] = g.lower()
            rng = _stable_rng(seed, "plan", spk)
            counters: dict[tuple, int] = {}
            for k in range(upsp):
                target = targets[k % len(targets)]
                sentence = f"S{1 + (k // len(targets)) % 15:02d}{target}"
                typ = "TRSP"[int(rng.integers(4))]
                key = (sentence, typ)
                counters[key] = counters.get(key, 0) + 1
                turn = f"{g}{'M' if g == 'F' else 'F'}{counters[key]:02d}"
                name = f"{sentence}-{spk}-{typ}-{turn}"
                # Target-driven types mostly get the target as consensus.
                p_target = 0.85 if typ in "TR" else 0.45
                if rng.random() < p_target or len(codes) == 1:
                    code = target if target in codes else codes[0]
                else:
                    code = codes[int(rng.integers(len(codes)))]
                emo = CORPUS_EMOTIONS["msp_improv"][code]
                v, a, d = _fmt_vad(_blend(emo if emo != "other" else "neutral", 1.0, rng), rng)
                utts.append(_Utt(f"Audio/session{s}/{sentence}/{typ}/MSP-IMPROV-{name}.wav",
                                 f"MSP-IMPROV-{name}", spk, g.lower(), code, emo,
                                 _durations(duration, rng), sr))
                lines.append(f"UTD-IMPROV-{name}.avi; {code}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f}; N:{3.0:.6f};")
                if rater_lines:
                    long = _LONG_NAMES.get(emo, "Other")
                    for r in (1, 2):
                        lines.append(f"Evaluator{r}; {long}; ; A:{a:.1f}; V:{v:.1f}; D:{d:.1f}; N:3.0;")
                    lines.append("")
    return _Plan(utts, {label_file: "\n".join(lines) + "\n"}, genders)


LAYOUTS: dict[str, Callable[..., _Plan]] = {
    "emodb": _plan_emodb,
    "emovo": _plan_emovo,
    "iemocap": _plan_iemocap,
    "msp_improv": _plan_msp_improv,
    "ravdess": _plan_ravdess,
    "savee": _plan_savee,
    "tess": _plan_tess,
}

_MANIFEST_FIELDS = ["path", "utt", "speaker", "gender", "code", "emotion", "duration", "sample_rate",
                    "channels", "kind", "text"]


def _render(u: _Utt, layout: str, profile: SpeakerProfile, seed: int) -> np.ndarray:
    rng = _stable_rng(seed, "utt", layout, u.relpath)
    wav = synthesize(profile, u.emotion, rng=rng, duration=u.duration, sample_rate=u.sample_rate,
                     intensity=u.intensity)
    if u.kind == "song":
        # Song files exist so tests can check that preparers leave them out;
        # a level change is enough to make them different files.
        wav = wav * np.float32(0.8)
    wav = apply_channel(wav, u.sample_rate, CHANNELS[layout], rng)
    if u.channels == 2:
        # Second microphone: slightly delayed and attenuated copy.
        delay = max(1, u.sample_rate // 2000)
        right = np.concatenate([np.zeros(delay, np.float32), wav[:-delay]]) * np.float32(0.9)
        return np.stack([wav, right], axis=1)
    return wav


def generate_corpus(
    layout: str,
    out_dir: str | Path,
    *,
    seed: int = 0,
    n_speakers: int | None = None,
    utts_per_speaker: int | None = None,
    duration: float | tuple[float, float] = (1.0, 2.0),
    sample_rate: int | None = None,
    **options,
) -> Path:
    """Writes a synthetic corpus in the exact layout of a real one.

    The tree is written to a temporary sibling directory and moved into place,
    so an interrupted run leaves no half corpus. Output is byte-identical for
    the same arguments.

    Args:
        layout: one of ``emodb``, ``emovo``, ``iemocap``, ``msp_improv``,
            ``ravdess``, ``savee``, ``tess``.
        out_dir: corpus root to create (must not exist, or be empty).
        seed: random seed.
        n_speakers: number of speakers (default: Emo-DB's 10, EMOVO's 6,
            SAVEE's 4 real ids; IEMOCAP 10 = 5 sessions; MSP-IMPROV 4;
            RAVDESS 4 actors; TESS its 2, OAF and YAF, and no more). Extra speakers get new ids in the corpus's
            naming scheme; IEMOCAP and MSP-IMPROV need an even number.
        utts_per_speaker: files per speaker (default: one per emotion; IEMOCAP
            and MSP-IMPROV 6), spread evenly over the emotions.
        duration: seconds per file, or a (min, max) range drawn uniformly.
        sample_rate: output rate (default: the real corpus's, see
            :data:`CORPUS_DEFAULTS`).
        **options: layout options: ``emotions`` (list of native codes to use,
            all layouts); iemocap: ``dialogs_per_session`` (2), ``persist``
            (0.7, probability that a turn keeps the previous turn's emotion),
            ``xx_lines`` (True: transcript lines with ``XX`` ids and no audio);
            msp_improv: ``label_file`` (``Evaluation.txt`` or ``Evalution.txt``),
            ``rater_lines`` (True); ravdess: ``songs`` (False, True = also write
            ``Audio_Song_Actors_01-24/`` channel-02 files, ``"mixed"`` = song
            files inside the speech actor folders); savee: ``flat`` (False; True
            writes ``ALL/DC_a01.wav``); tess: ``flat`` (False; True writes every
            file into the root), ``quirks`` (True: OAF's first neutral file is
            named ``OA_<word>_neutral``, the first file is written at 96 kHz
            whatever ``sample_rate`` says, the last one holds AIFF data under
            its ``.wav`` name), ``ext`` (``wav`` as released, or ``flac``).

    Returns:
        The corpus root (``out_dir``) to pass to ``prepare_<layout>``.

    Raises:
        ValueError: unknown layout or option, or sizes outside the naming scheme.
        FileExistsError: ``out_dir`` exists and is not empty.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"generate_corpus: unknown layout {layout!r}; choose one of {sorted(LAYOUTS)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(
            f"generate_corpus: {out_dir} exists and is not empty; remove it or pick another --out-dir")
    if utts_per_speaker is not None and utts_per_speaker < 1:
        raise ValueError(f"generate_corpus({layout!r}): utts_per_speaker must be >= 1, got {utts_per_speaker}")
    lo_hi = (duration, duration) if isinstance(duration, (int, float)) else tuple(duration)
    if len(lo_hi) != 2 or not 0.3 <= lo_hi[0] <= lo_hi[1]:
        raise ValueError(f"generate_corpus({layout!r}): duration must be a number or (min, max) with "
                         f"0.3 <= min <= max seconds, got {duration!r}")
    sr = int(sample_rate or CORPUS_DEFAULTS[layout]["sample_rate"])
    planner = LAYOUTS[layout]
    allowed = set(inspect.signature(planner).parameters) - {"seed", "n_speakers", "upsp", "duration", "sr"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"generate_corpus({layout!r}): unknown option(s) {unknown}; this layout takes {sorted(allowed)}")
    plan = planner(seed, n_speakers, utts_per_speaker, duration, sr, **options)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        profiles = {spk: make_speaker(spk, g, _stable_rng(seed, "speaker", layout, spk))
                    for spk, g in plan.genders.items()}
        for u in plan.utts:
            wav = _render(u, layout, profiles[u.speaker], seed)
            path = tmp / u.relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            pcm = (wav * 32767.0).round().astype(np.int16)
            if u.fmt == "wav":
                wavfile.write(path, u.sample_rate, pcm)
            else:  # AIFF or FLAC: libsndfile writes no time stamps, so bytes stay reproducible
                soundfile.write(str(path), pcm, u.sample_rate, format=u.fmt.upper(), subtype="PCM_16")
        for rel, content in plan.text_files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        with open(tmp / MANIFEST_NAME, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(_MANIFEST_FIELDS)
            for u in sorted(plan.utts, key=lambda x: x.relpath):
                w.writerow([u.relpath, u.utt, u.speaker, u.gender, u.code, u.emotion, f"{u.duration:.4f}",
                            u.sample_rate, u.channels, u.kind, u.text])
        if out_dir.exists():
            out_dir.rmdir()  # checked empty above
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def read_manifest(root: str | Path) -> list[dict[str, str]]:
    """Reads ``SYNTH_MANIFEST.tsv`` of a generated corpus.

    Args:
        root: corpus root returned by :func:`generate_corpus`.

    Returns:
        One dict per audio file with the keys ``path utt speaker gender code
        emotion duration sample_rate channels kind text`` (all strings).
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"read_manifest: {path} not found; is {root} a corpus made by generate_corpus?")
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))
