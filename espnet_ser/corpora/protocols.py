"""Leakage-free evaluation protocols: fold lists and fold data directories.

A protocol turns one prepared data directory (``data/all``) into folds. Each
fold is written as plain lists, then as Kaldi data directories::

    <out_dir>/protocol.json              protocol, seed, options, fold sizes
    <out_dir>/fold1/train.spk            "# rule: ..." then one speaker per line
    <out_dir>/fold1/dev.spk  test.spk    (train_unlab.spk for iemocap_ts)
    <out_dir>/fold1/train.utt ...        only where a split is by utterance or a
                                         scope filter applies (the .spk lists
                                         then do not define the set alone)
    <out_dir>/fold1/excluded             "<utt> <reason>": out of the protocol's scope
    <out_dir>/fold1/{train,dev,test}/    data dirs (subset_data_dir of data/all)

Folds are numbered from 1. Invariants, for every fold of every protocol
(tested): test speakers never appear in train or dev; dev is split off the
non-test (training) speakers only, so model selection never sees a test
speaker; every utterance of the data dir is in exactly one of train, dev,
test, train_unlab or ``excluded``; the lists are byte-identical for the same
input, protocol, options and seed.

Protocols (``PROTOCOLS``):

==================== ======================================================
iemocap_loso         leave-one-session-out (one fold per session, 5 on
                     IEMOCAP); dev = ``dev_fraction`` (0.1) of the training
                     sessions' dialogues (``dev_mode="dialogs"``, keeps
                     dialogue context whole for context models) or of each
                     training speaker's utterances (``dev_mode="utts"``)
iemocap_ts           Lian et al. settings ``setting=TS_1234|TS_123|TS_134|
                     TS_234|TS_23``: labelled sessions -> train/dev (dev as
                     above); every other session -> ``train_unlab`` (emotion
                     labels removed; transductive: it includes the test
                     session's dialogues, as in the paper); Session 5 -> test.
                     Several settings (``TS_1234,TS_23``, or ``all`` = the
                     five of the paper) give one fold each, in that order,
                     named by their setting in ``protocol.json``
                     (``fold_names``; ``ser.sh --folds TS_23`` picks one)
iemocap_impro_loso   improvised dialogues only, leave-one-speaker-out (10
                     folds); dev = ``dev_fraction`` of each training speaker's
                     utterances (``dev_mode="utts"``) or the test speaker's
                     session partner (``dev_mode="speaker"``, speaker-disjoint;
                     ADARL); scripted utterances are ``excluded``
emodb_l2so           Leow et al.: 5 folds, 6 train / 2 dev / 2 test speakers,
                     one male + one female in dev and in test; every speaker
                     is tested once and used for dev once.
                     ``unlabelled_heldout=True`` adds the test speakers'
                     utterances without labels as ``train_unlab``
                     (transductive speaker adversary, as Lian et al.; dev
                     stays out of training, it selects the model)
emodb_loso           one fold per speaker; dev = one male + one female of the
                     other speakers (rotating)
ravdess_l2so         as emodb_l2so with 12 folds (20 / 2 / 2)
emovo_l2so           as emodb_l2so with 3 folds on EMOVO's 3 male + 3 female
                     speakers: test = one male + one female, dev = the next
                     fold's pair (speaker-disjoint, like Emo-DB), train = the
                     remaining pair (2 / 2 / 2): every speaker is tested once
                     and used for dev once.  The price of a speaker-disjoint
                     dev set is that only 2 speakers (196 utterances) train
                     each fold; ``unlabelled_heldout`` as emodb_l2so.
                     ``dev_mode="utts"`` (default ``"speaker"``, all l2so
                     protocols): no dev pair; dev = ``dev_fraction`` (0.2) of
                     each non-test speaker's utterances, so 4 speakers train
                     an EMOVO fold instead of 2.  Dev then shares its
                     speakers with train (model selection is speaker-
                     dependent and optimistic, as tess_loso); test stays
                     speaker-disjoint
tess_loso            one fold per speaker (2 on TESS: OAF, YAF); dev =
                     ``dev_fraction`` (0.2) of each training speaker's
                     utterances.  With two speakers a speaker-disjoint dev
                     set would leave no training speaker, so dev shares its
                     speaker with train (it never shares one with test):
                     dev scores are speaker-dependent and optimistic, the
                     test score is speaker-independent
cross_corpus         train on ``train_corpora``, test on each of
                     ``test_corpora`` (one fold per test corpus; default:
                     leave-one-corpus-out); dev = ``dev_fraction`` (0.2) of
                     each training corpus's speakers, gender-balanced; a
                     training corpus with fewer than 3 speakers (TESS) gives
                     ``dev_fraction`` of each speaker's utterances instead
                     (a 1-speaker dev set would take half of TESS);
                     ``unlabelled_target=True`` adds the test corpus as
                     ``train_unlab`` (emotion labels removed: the
                     transductive setting of DANN, Gao et al.)
multi_corpus         per corpus ``test_fraction`` (0.2) of the speakers ->
                     test, ``dev_fraction`` (0.2) of the rest -> dev,
                     gender-balanced; ``n_folds`` rotates the test speakers;
                     a 2-speaker corpus (TESS) splits one and one: one test
                     speaker (rotating), dev = ``dev_fraction`` of the other
                     speaker's utterances
==================== ======================================================

Example:
    >>> from espnet_ser.corpora.protocols import make_folds
    >>> make_folds("emodb_l2so", "data/all", "data/folds", seed=0)  # doctest: +SKIP
    [PosixPath('data/folds/fold1'), ..., PosixPath('data/folds/fold5')]
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import re
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from espnet_ser.utils.data_dir import read_list, read_table, subset_data_dir, validate_data_dir

logger = logging.getLogger(__name__)

__all__ = ["PROTOCOLS", "Fold", "ProtocolError", "make_folds", "define_folds", "read_fold_list"]

#: Label tables removed from unlabelled sets (the emotion and its binary views).
LABEL_TABLES = ("utt2emo", "utt2arousal", "utt2valence")
#: Sets in the order they are written.
SET_NAMES = ("train", "dev", "test", "train_unlab")


class ProtocolError(ValueError):
    """The data cannot satisfy the protocol; the message names the protocol,
    what it needs and what was found."""


@dataclasses.dataclass
class Fold:
    """One fold: utterances per set, the rule that chose them.

    Attributes:
        sets: ``{set name: sorted utterance ids}`` for train, dev, test (and
            train_unlab).
        rules: ``{set name: one-line rule}``, written as the ``# rule:`` header.
        by_utt: sets whose membership is not "all utterances of its speakers"
            (written as ``.utt`` lists too).
        excluded: ``{utt: reason}`` outside the protocol's scope.
        unlabelled: sets whose emotion labels are removed.
        spks: ``{set name: sorted speaker ids}`` (filled by :func:`define_folds`).
        name: optional fold name (``protocol.json`` ``fold_names``; iemocap_ts: the setting).
    """

    sets: dict[str, list[str]]
    rules: dict[str, str]
    by_utt: set[str] = dataclasses.field(default_factory=set)
    excluded: dict[str, str] = dataclasses.field(default_factory=dict)
    unlabelled: set[str] = dataclasses.field(default_factory=set)
    spks: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    name: str = ""


@dataclasses.dataclass
class _Data:
    """The tables of the source data dir that protocols use."""

    path: Path
    utt2spk: dict[str, str]
    tables: dict[str, dict[str, str]]

    def table(self, name: str, protocol: str) -> dict[str, str]:
        if name not in self.tables:
            f = self.path / name
            if not f.is_file():
                raise ProtocolError(f"{protocol}: needs {f} (write it in data preparation, stage 1)")
            self.tables[name] = read_table(f)
        return self.tables[name]

    def spk2utts(self, utts: Iterable[str] | None = None) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for u in sorted(self.utt2spk if utts is None else utts):
            out.setdefault(self.utt2spk[u], []).append(u)
        return out

    def genders(self, protocol: str) -> dict[str, str]:
        """Speaker -> ``m``/``f`` from utt2gender (first letter, case-insensitive)."""
        table = self.table("utt2gender", protocol)
        out: dict[str, str] = {}
        for u, spk in self.utt2spk.items():
            g = table.get(u, "?")[:1].lower()
            if g not in ("m", "f"):
                raise ProtocolError(
                    f"{protocol}: utterance {u} has gender {table.get(u)!r} in {self.path / 'utt2gender'} "
                    "(need m or f for every utterance)"
                )
            if out.setdefault(spk, g) != g:
                raise ProtocolError(f"{protocol}: speaker {spk} has both genders in {self.path / 'utt2gender'}")
        return out


def _rng(seed: int, *keys: str) -> np.random.Generator:
    """Generator seeded by ``seed`` and string keys, stable across runs and processes."""
    return np.random.default_rng([int(seed)] + [zlib.crc32(k.encode("utf-8")) for k in keys])


def _shuffled(items: Iterable[str], rng: np.random.Generator) -> list[str]:
    items = sorted(items)
    return [items[i] for i in rng.permutation(len(items))]


def _interleave_genders(spks: Iterable[str], genders: Mapping[str, str], rng: np.random.Generator) -> list[str]:
    """Speakers in a random order alternating male/female while both last."""
    males = _shuffled([s for s in spks if genders[s] == "m"], rng)
    females = _shuffled([s for s in spks if genders[s] == "f"], rng)
    first, second = (males, females) if rng.random() < 0.5 else (females, males)
    out = []
    for i in range(max(len(males), len(females))):
        out += [x[i] for x in (first, second) if i < len(x)]
    return out


def _fraction_count(n: int, fraction: float) -> int:
    """``round(fraction * n)``, at least 1, leaving at least 1 behind."""
    return min(n - 1, max(1, int(math.floor(fraction * n + 0.5))))


def _check_fraction(protocol: str, name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ProtocolError(f"{protocol}: {name} must be in (0, 1), got {value}")


def _split_by_utts(
    data: _Data, utts: Sequence[str], fraction: float, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """Dev = ``fraction`` of each speaker's utterances (random); returns (train, dev)."""
    train, dev = [], []
    for spk, su in sorted(data.spk2utts(utts).items()):
        if len(su) < 2:
            train += su
            continue
        k = _fraction_count(len(su), fraction)
        order = _shuffled(su, rng)
        dev += order[:k]
        train += order[k:]
    return sorted(train), sorted(dev)


def _split_by_dialogs(
    data: _Data, utts: Sequence[str], fraction: float, rng: np.random.Generator, protocol: str
) -> tuple[list[str], list[str]]:
    """Dev = whole dialogues, ``fraction`` of them, spread over sessions; returns (train, dev)."""
    utt2dialog = data.table("utt2dialog", protocol)
    utt2session = data.table("utt2session", protocol)
    dialogs: dict[str, list[str]] = {}
    for u in utts:
        dialogs.setdefault(utt2dialog[u], []).append(u)
    if len(dialogs) < 2:
        raise ProtocolError(
            f"{protocol}: dev_mode=dialogs needs at least 2 training dialogues, found {len(dialogs)} "
            "(use dev_mode=utts)"
        )
    k = _fraction_count(len(dialogs), fraction)
    by_session: dict[str, list[str]] = {}
    for d, du in dialogs.items():
        by_session.setdefault(utt2session[du[0]], []).append(d)
    queues = [_shuffled(by_session[s], rng) for s in _shuffled(by_session, rng)]
    chosen: list[str] = []
    while len(chosen) < k:  # round robin over sessions
        for q in queues:
            if q and len(chosen) < k:
                chosen.append(q.pop(0))
    dev = sorted(u for d in chosen for u in dialogs[d])
    dev_set = set(dev)
    return sorted(u for u in utts if u not in dev_set), dev


def _session_numbers(data: _Data, protocol: str) -> dict[str, int]:
    """Utterance -> session number (the digits of its utt2session value)."""
    out = {}
    for u, v in data.table("utt2session", protocol).items():
        digits = re.findall(r"\d+", v)
        if not digits:
            raise ProtocolError(f"{protocol}: session {v!r} of {u} in {data.path / 'utt2session'} has no number")
        out[u] = int(digits[-1])
    return out


def _dev_split(data, utts, protocol, dev_mode, dev_fraction, rng):
    _check_fraction(protocol, "dev_fraction", dev_fraction)
    if dev_mode == "dialogs":
        return _split_by_dialogs(data, utts, dev_fraction, rng, protocol)
    if dev_mode == "utts":
        return _split_by_utts(data, utts, dev_fraction, rng)
    raise ProtocolError(f"{protocol}: dev_mode must be 'dialogs' or 'utts', got {dev_mode!r}")


# --------------------------------------------------------------------------
# Protocols: each returns a list of Fold
# --------------------------------------------------------------------------
def _iemocap_loso(data: _Data, seed: int, *, dev_mode: str = "dialogs", dev_fraction: float = 0.1) -> list[Fold]:
    p = "iemocap_loso"
    sessions = _session_numbers(data, p)
    found = sorted(set(sessions.values()))
    if len(found) < 2:
        raise ProtocolError(f"{p}: needs at least 2 sessions in {data.path / 'utt2session'}, found {found}")
    folds = []
    for s in found:
        test = sorted(u for u, n in sessions.items() if n == s)
        train, dev = _dev_split(data, [u for u, n in sessions.items() if n != s], p, dev_mode, dev_fraction,
                                _rng(seed, p, str(s)))
        folds.append(Fold(
            {"train": train, "dev": dev, "test": test},
            {"train": f"{p}: sessions {_ints(found, s)} minus dev",
             "dev": f"{p}: {dev_fraction:g} of the {dev_mode} of sessions {_ints(found, s)} (seed {seed})",
             "test": f"{p}: session {s} (both speakers)"},
            by_utt={"train", "dev", "test"},
        ))
    return folds


def _ints(found: Sequence[int], skip: int) -> str:
    return ",".join(str(x) for x in found if x != skip)


_TS = re.compile(r"^TS_([1-9]+)$")
#: The settings of Lian et al., in the order of their table.
TS_SETTINGS = ("TS_1234", "TS_123", "TS_134", "TS_234", "TS_23")


def _iemocap_ts(data: _Data, seed: int, *, setting: str = "TS_1234", test_session: int = 5,
                dev_mode: str = "dialogs", dev_fraction: float = 0.1) -> list[Fold]:
    settings = list(TS_SETTINGS) if setting == "all" else [x for x in re.split(r"[,\s]+", setting) if x]
    if len(set(settings)) != len(settings) or not settings:
        raise ProtocolError(f"iemocap_ts: setting {setting!r}: give distinct settings, e.g. TS_1234,TS_23 or all")
    return [_iemocap_ts_one(data, seed, s, test_session, dev_mode, dev_fraction) for s in settings]


def _iemocap_ts_one(data: _Data, seed: int, setting: str, test_session: int, dev_mode: str,
                    dev_fraction: float) -> Fold:
    p = "iemocap_ts"
    m = _TS.match(setting)
    if not m:
        raise ProtocolError(f"{p}: setting must look like TS_1234, TS_123, TS_134, TS_234 or TS_23, got {setting!r}")
    labelled = sorted({int(c) for c in m.group(1)})
    sessions = _session_numbers(data, p)
    found = sorted(set(sessions.values()))
    missing = [s for s in labelled + [test_session] if s not in found]
    if missing or test_session in labelled:
        raise ProtocolError(
            f"{p}: setting {setting} needs labelled sessions {labelled} and test session {test_session} "
            f"(not among the labelled), found sessions {found} in {data.path / 'utt2session'}"
        )
    lab = [u for u, n in sessions.items() if n in labelled]
    train, dev = _dev_split(data, lab, p, dev_mode, dev_fraction, _rng(seed, p, setting))
    unlab_sessions = [s for s in found if s not in labelled]
    return Fold(
        {"train": train, "dev": dev,
         "test": sorted(u for u, n in sessions.items() if n == test_session),
         "train_unlab": sorted(u for u, n in sessions.items() if n not in labelled)},
        {"train": f"{p} {setting}: labelled sessions {labelled} minus dev",
         "dev": f"{p} {setting}: {dev_fraction:g} of the {dev_mode} of sessions {labelled} (seed {seed})",
         "test": f"{p} {setting}: session {test_session}",
         "train_unlab": f"{p} {setting}: sessions {unlab_sessions} without emotion labels "
                        f"(transductive: includes the test session, as in Lian et al.)"},
        by_utt={"train", "dev", "test", "train_unlab"},
        unlabelled={"train_unlab"},
        name=setting,
    )


def _is_improvised(data: _Data, protocol: str) -> dict[str, bool]:
    if (data.path / "utt2type").is_file():
        return {u: v.startswith("impro") for u, v in data.table("utt2type", protocol).items()}
    return {u: "_impro" in v for u, v in data.table("utt2dialog", protocol).items()}


def _iemocap_impro_loso(data: _Data, seed: int, *, dev_fraction: float = 0.1,
                        dev_mode: str = "utts") -> list[Fold]:
    p = "iemocap_impro_loso"
    if dev_mode not in ("utts", "speaker"):
        raise ProtocolError(f"{p}: dev_mode must be 'utts' or 'speaker', got {dev_mode!r}")
    if dev_mode == "utts":
        _check_fraction(p, "dev_fraction", dev_fraction)
    impro = _is_improvised(data, p)
    scope = sorted(u for u in data.utt2spk if impro.get(u, False))
    excluded = {u: "scripted dialogue (improvised-only protocol)" for u in data.utt2spk if not impro.get(u, False)}
    spk2utts = data.spk2utts(scope)
    if len(spk2utts) < 3:
        raise ProtocolError(f"{p}: needs at least 3 speakers with improvised utterances, found {len(spk2utts)}")
    folds = []
    partner = {}
    if dev_mode == "speaker":
        session = _session_numbers(data, p)
        spk2sess = {s: {session[u] for u in us} for s, us in spk2utts.items()}
        for spk in spk2utts:
            mates = sorted(o for o in spk2utts if o != spk and spk2sess[o] & spk2sess[spk])
            if not mates:
                raise ProtocolError(f"{p}: dev_mode=speaker: {spk} has no session partner with improvised "
                                    f"utterances in {data.path / 'utt2session'}")
            partner[spk] = mates[0]
    for spk in sorted(spk2utts):
        rest = [u for u in scope if data.utt2spk[u] != spk]
        if dev_mode == "speaker":
            dev = spk2utts[partner[spk]]
            train = [u for u in rest if data.utt2spk[u] != partner[spk]]
            dev_rule = f"{p}: improvised utterances of {partner[spk]}, the test speaker's session partner"
        else:
            train, dev = _split_by_utts(data, rest, dev_fraction, _rng(seed, p, spk))
            dev_rule = f"{p}: {dev_fraction:g} of each other speaker's improvised utterances (seed {seed})"
        folds.append(Fold(
            {"train": train, "dev": dev, "test": spk2utts[spk]},
            {"train": f"{p}: improvised utterances of the other speakers minus dev",
             "dev": dev_rule,
             "test": f"{p}: improvised utterances of {spk}"},
            by_utt={"train", "dev", "test"},
            excluded=dict(excluded),
        ))
    return folds


def _l2so(p: str, data: _Data, seed: int, n_folds: int, unlabelled_heldout: bool = False,
          dev_mode: str = "speaker", dev_fraction: float = 0.2) -> list[Fold]:
    if dev_mode not in ("speaker", "utts"):
        raise ProtocolError(f"{p}: dev_mode must be 'speaker' (the next fold's pair) or 'utts' "
                            f"({dev_fraction:g} of each non-test speaker's utterances), got {dev_mode!r}")
    _check_fraction(p, "dev_fraction", dev_fraction)
    genders = data.genders(p)
    males = _shuffled([s for s, g in genders.items() if g == "m"], _rng(seed, p, "m"))
    females = _shuffled([s for s, g in genders.items() if g == "f"], _rng(seed, p, "f"))
    if n_folds < 2 or len(males) < n_folds or len(females) < n_folds or len(genders) <= 4:
        raise ProtocolError(
            f"{p}: {n_folds} folds need at least {max(n_folds, 2)} male and {max(n_folds, 2)} female speakers "
            f"(one of each in test and in dev per fold) and more than 4 speakers; found {len(males)} male, "
            f"{len(females)} female in {data.path / 'utt2gender'}"
        )
    spk2utts = data.spk2utts()
    folds = []
    for k in range(n_folds):
        test = {males[k], females[k]}
        dev = {males[(k + 1) % n_folds], females[(k + 1) % n_folds]}
        train = set(genders) - test - dev
        sets = {name: sorted(u for s in spks for u in spk2utts[s]) for name, spks in
                (("train", train), ("dev", dev), ("test", test))}
        rules = {"train": f"{p} fold {k + 1}/{n_folds}: the {len(train)} speakers not in dev or test",
                 "dev": f"{p} fold {k + 1}/{n_folds}: 1 male + 1 female, the next fold's test pair (seed {seed})",
                 "test": f"{p} fold {k + 1}/{n_folds}: 1 male + 1 female; each listed speaker is tested once "
                         f"(seed {seed})"}
        by_utt = set()
        if dev_mode == "utts":  # every non-test speaker trains; dev = a share of their utterances
            rest = [u for s in sorted(train | dev) for u in spk2utts[s]]
            sets["train"], sets["dev"] = _split_by_utts(data, rest, dev_fraction, _rng(seed, p, "dev", str(k)))
            rules["train"] = f"{p} fold {k + 1}/{n_folds}: the {len(train | dev)} non-test speakers minus dev"
            rules["dev"] = (f"{p} fold {k + 1}/{n_folds}: {dev_fraction:g} of each non-test speaker's utterances "
                            f"(seed {seed}); shares its speakers with train, never with test")
            by_utt = {"train", "dev"}
        if unlabelled_heldout:  # transductive: held-out speakers' audio, no labels (Lian et al.'s idea)
            sets["train_unlab"] = list(sets["test"])
            rules["train_unlab"] = (f"{p} fold {k + 1}/{n_folds}: the test speakers' utterances without "
                                    "emotion labels (transductive; dev stays out of training)")
        folds.append(Fold(sets, rules, unlabelled={"train_unlab"} if unlabelled_heldout else set(), by_utt=by_utt))
    return folds


def _emodb_l2so(data: _Data, seed: int, *, n_folds: int = 5, unlabelled_heldout: bool = False,
                dev_mode: str = "speaker", dev_fraction: float = 0.2) -> list[Fold]:
    return _l2so("emodb_l2so", data, seed, n_folds, unlabelled_heldout, dev_mode, dev_fraction)


def _ravdess_l2so(data: _Data, seed: int, *, n_folds: int = 12, dev_mode: str = "speaker",
                  dev_fraction: float = 0.2) -> list[Fold]:
    return _l2so("ravdess_l2so", data, seed, n_folds, dev_mode=dev_mode, dev_fraction=dev_fraction)


def _emovo_l2so(data: _Data, seed: int, *, n_folds: int = 3, unlabelled_heldout: bool = False,
                dev_mode: str = "speaker", dev_fraction: float = 0.2) -> list[Fold]:
    return _l2so("emovo_l2so", data, seed, n_folds, unlabelled_heldout, dev_mode, dev_fraction)


def _emodb_loso(data: _Data, seed: int) -> list[Fold]:
    p = "emodb_loso"
    genders = data.genders(p)
    by_g = {g: _shuffled([s for s, x in genders.items() if x == g], _rng(seed, p, g)) for g in "mf"}
    if len(by_g["m"]) < 2 or len(by_g["f"]) < 2:
        raise ProtocolError(
            f"{p}: needs at least 2 male and 2 female speakers (dev = 1 male + 1 female besides the test "
            f"speaker); found {len(by_g['m'])} male, {len(by_g['f'])} female in {data.path / 'utt2gender'}"
        )
    spk2utts = data.spk2utts()
    folds = []
    for k, spk in enumerate(sorted(genders)):
        dev = set()
        for g, lst in by_g.items():
            # The speaker after the test speaker in its gender's cycle (rotates dev).
            i = (lst.index(spk) + 1) % len(lst) if spk in lst else k % len(lst)
            dev.add(lst[i])
        train = set(genders) - dev - {spk}
        folds.append(Fold(
            {"train": sorted(u for s in train for u in spk2utts[s]),
             "dev": sorted(u for s in dev for u in spk2utts[s]), "test": spk2utts[spk]},
            {"train": f"{p} fold {k + 1}/{len(genders)}: the other {len(train)} speakers",
             "dev": f"{p} fold {k + 1}/{len(genders)}: 1 male + 1 female of the non-test speakers (seed {seed})",
             "test": f"{p} fold {k + 1}/{len(genders)}: speaker {spk}"},
        ))
    return folds


def _tess_loso(data: _Data, seed: int, *, dev_fraction: float = 0.2) -> list[Fold]:
    p = "tess_loso"
    _check_fraction(p, "dev_fraction", dev_fraction)
    spk2utts = data.spk2utts()
    if len(spk2utts) < 2:
        raise ProtocolError(f"{p}: needs at least 2 speakers (one tested, the others trained on), found "
                            f"{len(spk2utts)} in {data.path / 'utt2spk'}")
    folds = []
    n = len(spk2utts)
    for k, spk in enumerate(sorted(spk2utts)):
        rest = [u for s, su in spk2utts.items() if s != spk for u in su]
        train, dev = _split_by_utts(data, rest, dev_fraction, _rng(seed, p, spk))
        folds.append(Fold(
            {"train": train, "dev": dev, "test": spk2utts[spk]},
            {"train": f"{p} fold {k + 1}/{n}: the other speaker(s) minus dev",
             "dev": f"{p} fold {k + 1}/{n}: {dev_fraction:g} of each training speaker's utterances (seed {seed}); "
                    "shares its speaker(s) with train (2 speakers leave no speaker-disjoint dev), never with test",
             "test": f"{p} fold {k + 1}/{n}: speaker {spk}"},
            by_utt={"train", "dev"},
        ))
    return folds


#: A corpus with fewer speakers than this gives dev by utterances, not by speakers.
_MIN_SPEAKERS_FOR_SPEAKER_DEV = 3


def _corpora(data: _Data, p: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for u, c in data.table("utt2corpus", p).items():
        out.setdefault(c, []).append(u)
    return out


def _dev_speakers(spks: Sequence[str], genders, fraction: float, rng) -> list[str]:
    if len(spks) < 2:
        return []
    order = _interleave_genders(spks, genders, rng)
    return order[:_fraction_count(len(order), fraction)]


def _as_list(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return list(value)


def _cross_corpus(data: _Data, seed: int, *, train_corpora=None, test_corpora=None,
                  dev_fraction: float = 0.2, unlabelled_target: bool = False) -> list[Fold]:
    p = "cross_corpus"
    _check_fraction(p, "dev_fraction", dev_fraction)
    corpora = _corpora(data, p)
    genders = data.genders(p)
    train_c, test_c = _as_list(train_corpora), _as_list(test_corpora)
    for name, lst in (("train_corpora", train_c), ("test_corpora", test_c)):
        bad = [c for c in lst or [] if c not in corpora]
        if bad:
            raise ProtocolError(f"{p}: {name} {bad} not in {data.path / 'utt2corpus'} (found {sorted(corpora)})")
    if test_c is None:
        test_c = [c for c in sorted(corpora) if c not in (train_c or [])]
    if len(corpora) < 2 or not test_c:
        raise ProtocolError(f"{p}: needs at least 2 corpora and one test corpus, found {sorted(corpora)} "
                            f"(train_corpora={train_c}, test_corpora={test_c})")
    folds = []
    for t in test_c:
        train_list = train_c if train_c is not None else [c for c in sorted(corpora) if c != t]
        if t in train_list or not train_list:
            raise ProtocolError(f"{p}: test corpus {t} must not be a training corpus (train_corpora={train_list})")
        train, dev, small = [], [], []
        for c in sorted(train_list):
            spk2utts = data.spk2utts(corpora[c])
            if len(spk2utts) < _MIN_SPEAKERS_FOR_SPEAKER_DEV:
                small.append(c)
                tr, dv = _split_by_utts(data, corpora[c], dev_fraction, _rng(seed, p, t, c))
                train += tr
                dev += dv
                continue
            dspk = set(_dev_speakers(sorted(spk2utts), genders, dev_fraction, _rng(seed, p, t, c)))
            for s, su in spk2utts.items():
                (dev if s in dspk else train).extend(su)
        excluded = {u: f"corpus {c} is neither training nor test in this fold"
                    for c in corpora if c != t and c not in train_list for u in corpora[c]}
        dev_rule = f"{p}: {dev_fraction:g} of each training corpus's speakers, gender-balanced"
        if small:
            dev_rule += (f"; of each speaker's utterances in {small} (fewer than "
                         f"{_MIN_SPEAKERS_FOR_SPEAKER_DEV} speakers: dev shares their speakers with train)")
        sets = {"train": sorted(train), "dev": sorted(dev), "test": sorted(corpora[t])}
        rules = {"train": f"{p}: corpora {sorted(train_list)} minus dev",
                 "dev": f"{dev_rule} (seed {seed})",
                 "test": f"{p}: all of corpus {t}"}
        if unlabelled_target:
            # Standard (transductive) DANN: the target audio, without its labels, trains the domain heads.
            sets["train_unlab"] = sorted(corpora[t])
            rules["train_unlab"] = f"{p}: all of target corpus {t} without emotion labels (DANN)"
        folds.append(Fold(
            sets, rules,
            by_utt={"train", "dev"} if small else set(),
            excluded=excluded,
            unlabelled={"train_unlab"} if unlabelled_target else set(),
        ))
    return folds


def _multi_corpus(data: _Data, seed: int, *, test_fraction: float = 0.2, dev_fraction: float = 0.2,
                  n_folds: int = 1) -> list[Fold]:
    p = "multi_corpus"
    _check_fraction(p, "test_fraction", test_fraction)
    _check_fraction(p, "dev_fraction", dev_fraction)
    corpora = _corpora(data, p)
    genders = data.genders(p)
    max_folds = max(1, int(math.floor(1.0 / test_fraction + 1e-9)))
    if not 1 <= n_folds <= max_folds:
        raise ProtocolError(f"{p}: n_folds must be in 1..{max_folds} for test_fraction={test_fraction}, got {n_folds}")
    orders = {}
    for c, cu in sorted(corpora.items()):
        spks = sorted(data.spk2utts(cu))
        if len(spks) < 2:
            raise ProtocolError(f"{p}: corpus {c} has {len(spks)} speaker(s); needs at least 2 "
                                "(train and test speakers are disjoint)")
        orders[c] = _interleave_genders(spks, genders, _rng(seed, p, c))
    small = sorted(c for c, order in orders.items() if len(order) < _MIN_SPEAKERS_FOR_SPEAKER_DEV)
    folds = []
    for k in range(n_folds):
        train, dev, test = [], [], []
        for c, order in orders.items():
            if c in small:  # 2 speakers: one and one, dev from the training speaker's utterances
                tspk = order[k % len(order)]
                test.extend(data.spk2utts(corpora[c])[tspk])
                rest = [u for u in corpora[c] if data.utt2spk[u] != tspk]
                tr, dv = _split_by_utts(data, rest, dev_fraction, _rng(seed, p, c, tspk))
                train += tr
                dev += dv
                continue
            n_test = min(len(order) - 2, _fraction_count(len(order), test_fraction))
            start = (k * n_test) % len(order)
            rotated = order[start:] + order[:start]
            tspk, rest = rotated[:n_test], rotated[n_test:]
            dspk = set(rest[:_fraction_count(len(rest), dev_fraction)])
            spk2utts = data.spk2utts(corpora[c])
            for s in order:
                (test if s in tspk else dev if s in dspk else train).extend(spk2utts[s])
        dev_rule = f"{p} fold {k + 1}/{n_folds}: per corpus {dev_fraction:g} of the non-test speakers, gender-balanced"
        test_rule = f"{p} fold {k + 1}/{n_folds}: per corpus {test_fraction:g} of the speakers, gender-balanced"
        if small:
            dev_rule += (f"; in {small} (2 speakers) {dev_fraction:g} of the training speaker's utterances "
                         "(dev shares that speaker with train)")
            test_rule += f"; in {small} one of the 2 speakers"
        folds.append(Fold(
            {"train": sorted(train), "dev": sorted(dev), "test": sorted(test)},
            {"train": f"{p} fold {k + 1}/{n_folds}: per corpus, speakers not in test or dev",
             "dev": f"{dev_rule} (seed {seed})",
             "test": f"{test_rule}, rotating with the fold (seed {seed})"},
            by_utt={"train", "dev"} if small else set(),
        ))
    return folds


#: Protocol name -> function(data, seed, **options) -> list[Fold].
PROTOCOLS: dict[str, Callable[..., list[Fold]]] = {
    "iemocap_loso": _iemocap_loso,
    "iemocap_ts": _iemocap_ts,
    "iemocap_impro_loso": _iemocap_impro_loso,
    "emodb_l2so": _emodb_l2so,
    "emodb_loso": _emodb_loso,
    "ravdess_l2so": _ravdess_l2so,
    "emovo_l2so": _emovo_l2so,
    "tess_loso": _tess_loso,
    "cross_corpus": _cross_corpus,
    "multi_corpus": _multi_corpus,
}


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------
def _load(data_dir: Path) -> _Data:
    if not (data_dir / "utt2spk").is_file():
        raise FileNotFoundError(f"make_folds: {data_dir / 'utt2spk'} not found; give --data-dir a prepared data dir")
    validate_data_dir(data_dir)
    return _Data(data_dir, read_table(data_dir / "utt2spk"), {})


def define_folds(protocol: str, data_dir: str | Path, *, seed: int = 0, **options) -> list[Fold]:
    """Computes the folds of ``protocol`` on ``data_dir`` without writing anything.

    Args:
        protocol: a key of :data:`PROTOCOLS`.
        data_dir: validated source data directory.
        seed: random seed of the speaker/utterance draws.
        **options: the protocol's options (see the module docstring).

    Returns:
        The folds, in order (fold1 first).

    Raises:
        ProtocolError: unknown protocol or option, or data that cannot satisfy it.
        FileNotFoundError: ``data_dir`` is not a data dir.
    """
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"make_folds: unknown protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}")
    fn = PROTOCOLS[protocol]
    allowed = [n for n in inspect.signature(fn).parameters if n not in ("data", "seed")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ProtocolError(f"{protocol}: unknown option(s) {unknown}; it takes {allowed or 'none'}")
    data = _load(Path(data_dir))
    folds = fn(data, seed, **options)
    for k, fold in enumerate(folds, 1):  # the invariants, checked on every run, not only in tests
        _check_fold(protocol, k, fold, data)
        fold.spks = {n: sorted({data.utt2spk[u] for u in us}) for n, us in fold.sets.items()}
    return folds


def _check_fold(protocol: str, k: int, fold: Fold, data: _Data) -> None:
    spk = {n: {data.utt2spk[u] for u in us} for n, us in fold.sets.items()}
    leak = (spk["train"] | spk["dev"]) & spk["test"]
    seen: dict[str, str] = {}
    for name, us in list(fold.sets.items()) + [("excluded", sorted(fold.excluded))]:
        for u in us:
            if u in seen and {seen[u], name} != {"test", "train_unlab"}:
                raise AssertionError(f"{protocol} fold {k}: utterance {u} in both {seen[u]} and {name}")
            seen.setdefault(u, name)
    lost = set(data.utt2spk) - set(seen)
    if leak or lost or not fold.sets["train"] or not fold.sets["test"]:
        raise AssertionError(
            f"{protocol} fold {k}: broken fold (test speakers in train/dev: {sorted(leak)[:3]}, "
            f"utterances in no set: {len(lost)}, train {len(fold.sets['train'])}, test {len(fold.sets['test'])})"
        )


def _write_list(path: Path, rule: str, ids: Iterable[str]) -> None:
    path.write_text(f"# rule: {rule}\n" + "".join(f"{i}\n" for i in sorted(ids)), encoding="utf-8")


def read_fold_list(path: str | Path) -> list[str]:
    """Reads a ``.spk`` / ``.utt`` fold list (the ``# rule:`` header skipped).

    Args:
        path: list file written by :func:`make_folds`.

    Returns:
        The ids, in file order.
    """
    return read_list(path)


def make_folds(
    protocol: str, data_dir: str | Path, out_dir: str | Path, *, seed: int = 0, **options
) -> list[Path]:
    """Writes the fold lists and fold data directories of ``protocol``.

    Everything is written into a temporary sibling and moved into place; an
    existing ``out_dir`` is replaced only if it is empty or holds an earlier
    ``protocol.json`` (so a user directory is never clobbered).

    Args:
        protocol: a key of :data:`PROTOCOLS`.
        data_dir: validated source data directory (e.g. ``data/all``).
        out_dir: output directory.
        seed: random seed.
        **options: the protocol's options (module docstring).

    Returns:
        The fold directories ``out_dir/fold1 ...``.

    Raises:
        ProtocolError: unknown protocol/option or data that cannot satisfy it.
        FileExistsError: ``out_dir`` exists and is not a previous make_folds output.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    folds = define_folds(protocol, data_dir, seed=seed, **options)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "protocol.json").is_file():
        raise FileExistsError(
            f"make_folds: {out_dir} exists and is not a make_folds output; remove it or pick another --out-dir")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        summary = []
        for k, fold in enumerate(folds, 1):
            fdir = tmp / f"fold{k}"
            fdir.mkdir()
            sizes = {}
            for name in SET_NAMES:
                if name not in fold.sets:
                    continue
                utts = fold.sets[name]
                rule = fold.rules[name]
                _write_list(fdir / f"{name}.spk", rule, fold.spks[name])
                if name in fold.by_utt:
                    _write_list(fdir / f"{name}.utt", rule, utts)
                if utts:
                    subset_data_dir(data_dir, fdir / name, utts=utts)
                    if name in fold.unlabelled:
                        for t in LABEL_TABLES:
                            (fdir / name / t).unlink(missing_ok=True)
                        validate_data_dir(fdir / name)
                sizes[name] = len(utts)
            if fold.excluded:
                (fdir / "excluded").write_text(
                    "".join(f"{u} {r}\n" for u, r in sorted(fold.excluded.items())), encoding="utf-8")
            sizes["excluded"] = len(fold.excluded)
            summary.append(sizes)
            logger.info("%s fold%d: %s", protocol, k, " ".join(f"{n}={v}" for n, v in sizes.items()))
        meta = {"protocol": protocol, "seed": seed, "options": options, "num_folds": len(folds), "folds": summary}
        if any(f.name for f in folds):
            meta["fold_names"] = {f"fold{k}": f.name for k, f in enumerate(folds, 1) if f.name}
        (tmp / "protocol.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n",
                                           encoding="utf-8")
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            old.rmdir()
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return [out_dir / f"fold{k}" for k in range(1, len(folds) + 1)]
