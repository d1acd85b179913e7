"""Evaluation protocols: for every fold of every protocol, no test speaker in
train or dev, dev split off the non-test speakers, nothing lost, byte-identical
reruns, and clear errors when the data cannot satisfy a protocol."""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import pytest

from espnet_ser.bin import make_folds as make_folds_cli
from espnet_ser.corpora.protocols import PROTOCOLS, ProtocolError, make_folds, read_fold_list
from espnet_ser.utils.data_dir import read_table, validate_data_dir, write_data_dir

EMODB_GENDERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m",
                 "13": "f", "14": "f", "15": "m", "16": "f"}


def _write(d: Path, rows: list[dict]) -> Path:
    """Data dir from rows with keys utt spk gender corpus [emo session dialog type]."""
    tables: dict[str, dict[str, str]] = {"wav.scp": {}, "utt2spk": {}, "utt2gender": {}, "utt2corpus": {}}
    for r in rows:
        u = r["utt"]
        tables["wav.scp"][u] = f"/nonexistent/{u}.wav"
        tables["utt2spk"][u] = r["spk"]
        tables["utt2gender"][u] = r["gender"]
        tables["utt2corpus"][u] = r["corpus"]
        for key, table in (("emo", "utt2emo"), ("session", "utt2session"), ("dialog", "utt2dialog"),
                           ("type", "utt2type")):
            if r.get(key) is not None:
                tables.setdefault(table, {})[u] = r[key]
    if len(tables.get("utt2emo", {})) == len(rows):  # a binary view (only utt2emo may be partial)
        tables["utt2arousal"] = {u: "high" if e in ("ang", "hap") else "low" for u, e in tables["utt2emo"].items()}
    write_data_dir(d, tables)
    return d


def _emodb_rows(genders=EMODB_GENDERS, n=7, corpus="emodb"):
    emos = ["ang", "bor", "dis", "fea", "hap", "neu", "sad"]
    return [{"utt": f"{corpus}_{s}-{s}a{k:02d}", "spk": f"{corpus}_{s}", "gender": g, "corpus": corpus,
             "emo": emos[k % len(emos)]} for s, g in genders.items() for k in range(n)]


def _ravdess_rows(n_actors=24, n=4):
    return [{"utt": f"ravdess_{a:02d}-03-01-0{k + 1}-01-01-01-{a:02d}", "spk": f"ravdess_{a:02d}",
             "gender": "m" if a % 2 else "f", "corpus": "ravdess", "emo": "neu"}
            for a in range(1, n_actors + 1) for k in range(n)]


EMOVO_GENDERS = {s: s[0] for s in ("f1", "f2", "f3", "m1", "m2", "m3")}


def _tess_rows(n=20, speakers=("OAF", "YAF")):
    emos = ["ang", "dis", "fea", "hap", "neu", "sad", "sur"]
    return [{"utt": f"tess_{s}-{s}_w{k:03d}_{emos[k % 7]}", "spk": f"tess_{s}", "gender": "f", "corpus": "tess",
             "emo": emos[k % 7]} for s in speakers for k in range(n)]


def _iemocap_rows(n_sessions=5, unlabelled_turns=True):
    rows = []
    emos = ["neu", "hap", "ang", "sad"] + ([None] if unlabelled_turns else [])  # None: absent from utt2emo
    for s in range(1, n_sessions + 1):
        for dname, lead in (("impro01", "F"), ("impro05a", "M"), ("script01_1", "F"), ("script01_1b", "M")):
            dialog = f"Ses{s:02d}{lead}_{dname}"
            for who in "FM":
                for k in range(3):
                    utt = f"{dialog}_{who}{k:03d}"
                    spk = f"iemocap_Ses{s:02d}{who}"
                    rows.append({"utt": f"{spk}-{utt}", "spk": spk, "gender": who.lower(), "corpus": "iemocap",
                                 "emo": emos[(k + s + len(dname)) % len(emos)], "session": f"Ses{s:02d}",
                                 "dialog": dialog, "type": "impro" if "impro" in dname else "script"})
    return rows


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("protocol_data")
    savee = _emodb_rows({"DC": "m", "JE": "m", "JK": "m", "KL": "m"}, n=5, corpus="savee")
    return {
        "emodb": _write(base / "emodb", _emodb_rows()),
        "ravdess": _write(base / "ravdess", _ravdess_rows()),
        "iemocap": _write(base / "iemocap", _iemocap_rows()),
        "multi": _write(base / "multi", _emodb_rows() + savee + _ravdess_rows()),
        "tess": _write(base / "tess", _tess_rows()),
        "emovo": _write(base / "emovo", _emodb_rows(EMOVO_GENDERS, corpus="emovo")),
        "multi_tess": _write(base / "multi_tess", _emodb_rows() + _tess_rows()),
    }


CASES = [
    ("emodb_l2so", "emodb", {}, 5),
    ("emodb_loso", "emodb", {}, 10),
    ("ravdess_l2so", "ravdess", {}, 12),
    ("emovo_l2so", "emovo", {}, 3),
    ("iemocap_loso", "iemocap", {}, 5),
    ("iemocap_loso", "iemocap", {"dev_mode": "utts"}, 5),
    ("iemocap_ts", "iemocap", {"setting": "TS_1234"}, 1),
    ("iemocap_ts", "iemocap", {"setting": "TS_123"}, 1),
    ("iemocap_ts", "iemocap", {"setting": "TS_134"}, 1),
    ("iemocap_ts", "iemocap", {"setting": "TS_234"}, 1),
    ("iemocap_ts", "iemocap", {"setting": "TS_23"}, 1),
    ("iemocap_impro_loso", "iemocap", {}, 10),
    ("cross_corpus", "multi", {}, 3),
    ("cross_corpus", "multi", {"train_corpora": ["emodb"], "test_corpora": ["ravdess", "savee"]}, 2),
    ("multi_corpus", "multi", {}, 1),
    ("multi_corpus", "multi", {"n_folds": 3}, 3),
    ("tess_loso", "tess", {}, 2),
    ("tess_loso", "emodb", {"dev_fraction": 0.1}, 10),
    ("cross_corpus", "multi_tess", {}, 2),
    ("multi_corpus", "multi_tess", {"n_folds": 2}, 2),
]


def test_every_protocol_has_a_case():
    assert {c[0] for c in CASES} == set(PROTOCOLS)


def _check_folds(out: Path, data: Path, n_folds: int) -> list[dict]:
    """The invariants of every fold; returns per fold {set: (speakers, utts)}."""
    utt2spk = read_table(data / "utt2spk")
    folds = sorted(out.glob("fold*"), key=lambda p: int(p.name[4:]))
    assert [f.name for f in folds] == [f"fold{k}" for k in range(1, n_folds + 1)]
    meta = json.loads((out / "protocol.json").read_text())
    assert meta["num_folds"] == n_folds
    result = []
    for f in folds:
        sets = {}
        for name in ("train", "dev", "test", "train_unlab"):
            spk_file = f / f"{name}.spk"
            if not spk_file.exists():
                continue
            assert spk_file.read_text().startswith("# rule: ")
            spks = read_fold_list(spk_file)
            utts = sorted(read_table(f / name / "utt2spk")) if (f / name).is_dir() else []
            if (f / name).is_dir():
                validate_data_dir(f / name)
            assert spks == sorted({utt2spk[u] for u in utts}), (f, name)
            if (f / f"{name}.utt").exists():
                assert read_fold_list(f / f"{name}.utt") == utts
            else:  # speaker-level split: the set is all utterances of its speakers
                assert utts == sorted(u for u, s in utt2spk.items() if s in set(spks))
            sets[name] = (set(spks), set(utts))
        test_spk = sets["test"][0]
        assert sets["train"][1] and sets["test"][1]
        assert not test_spk & sets["train"][0], f"{f}: test speaker in train"
        assert not test_spk & sets["dev"][0], f"{f}: test speaker in dev"
        # Dev comes from the training (non-test) speakers' material only.
        assert all(utt2spk[u] not in test_spk for u in sets["dev"][1])
        excluded = set()
        if (f / "excluded").exists():
            excluded = {ln.split()[0] for ln in (f / "excluded").read_text().splitlines()}
        labelled = [sets[n][1] for n in ("train", "dev", "test")] + [excluded]
        assert sum(map(len, labelled)) == len(set().union(*labelled)), f"{f}: a set overlaps another"
        everything = set().union(*labelled, sets.get("train_unlab", (set(), set()))[1])
        assert everything == set(utt2spk), f"{f}: {len(set(utt2spk) - everything)} utterances lost"
        if "train_unlab" in sets:
            assert not (f / "train_unlab" / "utt2emo").exists()
            assert not (f / "train_unlab" / "utt2arousal").exists()
            assert not sets["train_unlab"][1] & (sets["train"][1] | sets["dev"][1])
        result.append(sets)
    return result


@pytest.mark.parametrize("protocol,data,options,n_folds", CASES)
def test_protocol_invariants_and_reproducibility(protocol, data, options, n_folds, dirs, tmp_path):
    a = make_folds(protocol, dirs[data], tmp_path / "a", seed=0, **options)
    b = make_folds(protocol, dirs[data], tmp_path / "b", seed=0, **options)
    assert len(a) == n_folds and a[0] == tmp_path / "a" / "fold1"
    _check_folds(tmp_path / "a", dirs[data], n_folds)
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*")
                           if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert not mismatch and not errors, mismatch[:3]


def _lists(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.spk")} | \
           {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.utt")}


@pytest.mark.parametrize("protocol,data,options", [("emodb_l2so", "emodb", {}), ("iemocap_loso", "iemocap", {}),
                                                   ("multi_corpus", "multi", {})])
def test_seed_changes_the_draw(protocol, data, options, dirs, tmp_path):
    make_folds(protocol, dirs[data], tmp_path / "s0", seed=0, **options)
    make_folds(protocol, dirs[data], tmp_path / "s1", seed=1, **options)
    assert _lists(tmp_path / "s0") != _lists(tmp_path / "s1")


def _spk_gender(spks, prefix):
    return sorted(EMODB_GENDERS[s[len(prefix):]] for s in spks)


def test_emodb_l2so_gender_balance_and_rotation(dirs, tmp_path):
    make_folds("emodb_l2so", dirs["emodb"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["emodb"], 5)
    tested = []
    for s in sets:
        assert len(s["train"][0]) == 6 and len(s["dev"][0]) == 2 and len(s["test"][0]) == 2
        assert _spk_gender(s["test"][0], "emodb_") == ["f", "m"] == _spk_gender(s["dev"][0], "emodb_")
        assert _spk_gender(s["train"][0], "emodb_") == ["f"] * 3 + ["m"] * 3
        tested += sorted(s["test"][0])
    assert sorted(tested) == sorted(f"emodb_{s}" for s in EMODB_GENDERS)  # each speaker tested once


def test_ravdess_l2so_twelve_folds(dirs, tmp_path):
    make_folds("ravdess_l2so", dirs["ravdess"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["ravdess"], 12)
    for s in sets:
        assert (len(s["train"][0]), len(s["dev"][0]), len(s["test"][0])) == (20, 2, 2)
        assert sorted(int(x[-2:]) % 2 for x in s["test"][0]) == [0, 1]  # odd actor = male
        assert sorted(int(x[-2:]) % 2 for x in s["dev"][0]) == [0, 1]
    assert len(set().union(*(s["test"][0] for s in sets))) == 24


def test_emovo_l2so_one_male_one_female_held_out(dirs, tmp_path):
    make_folds("emovo_l2so", dirs["emovo"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["emovo"], 3)
    for s in sets:
        spk = {name: set(s[name][0]) for name in ("train", "dev", "test")}
        assert not (spk["train"] & spk["test"]) and not (spk["dev"] & spk["test"]) and not (spk["train"] & spk["dev"])
        for name in ("train", "dev", "test"):  # 1 male + 1 female in each set
            assert sorted(x[len("emovo_")] for x in spk[name]) == ["f", "m"], (name, spk[name])
    # Each speaker tested once and used for dev once.
    assert sorted(x for s in sets for x in s["test"][0]) == sorted(f"emovo_{x}" for x in EMOVO_GENDERS)
    assert sorted(x for s in sets for x in s["dev"][0]) == sorted(f"emovo_{x}" for x in EMOVO_GENDERS)


def test_emovo_l2so_dev_from_the_training_speakers(dirs, tmp_path):
    """dev_mode=utts: no dev pair; the 4 non-test speakers train, dev is a share of their utterances."""
    from espnet_ser.corpora.protocols import define_folds
    spk = dict(x.split() for x in (dirs["emovo"] / "utt2spk").read_text().splitlines())
    folds = define_folds("emovo_l2so", dirs["emovo"], dev_mode="utts", dev_fraction=0.25)
    assert len(folds) == 3
    for f in folds:
        s = {name: {spk[u] for u in us} for name, us in f.sets.items()}
        assert len(s["test"]) == 2 and sorted(x[len("emovo_")] for x in s["test"]) == ["f", "m"]
        assert s["train"] == s["dev"] and len(s["train"]) == 4 and not s["train"] & s["test"]
        assert not set(f.sets["train"]) & set(f.sets["dev"])
        assert sorted(f.sets["train"] + f.sets["dev"] + f.sets["test"]) == sorted(spk)  # nothing lost
        for x in s["dev"]:  # a quarter of each non-test speaker's utterances
            n = sum(spk[u] == x for u in spk)
            assert sum(spk[u] == x for u in f.sets["dev"]) == round(0.25 * n)
        assert "shares its speakers with train" in f.rules["dev"]
    # The default is the speaker-disjoint dev pair, unchanged.
    assert all(len({spk[u] for u in f.sets["train"]}) == 2 for f in define_folds("emovo_l2so", dirs["emovo"]))
    make_folds("emovo_l2so", dirs["emovo"], tmp_path / "f", dev_mode="utts")
    assert (tmp_path / "f" / "fold1" / "dev.utt").is_file()
    with pytest.raises(ProtocolError, match=r"emovo_l2so: dev_mode must be 'speaker'.*got 'dialogs'"):
        define_folds("emovo_l2so", dirs["emovo"], dev_mode="dialogs")
    with pytest.raises(ProtocolError, match=r"emovo_l2so: dev_fraction must be in \(0, 1\), got 1.5"):
        define_folds("emovo_l2so", dirs["emovo"], dev_mode="utts", dev_fraction=1.5)


def test_emovo_l2so_too_few_speakers(dirs, tmp_path):
    data = _write(tmp_path / "d", _emodb_rows({"f1": "f", "f2": "f", "m1": "m", "m2": "m", "m3": "m"},
                                              corpus="emovo"))
    with pytest.raises(ProtocolError, match=r"emovo_l2so: 3 folds need at least 3 male and 3 female.*2 female"):
        make_folds("emovo_l2so", data, tmp_path / "f")


def test_emodb_loso_each_speaker_once(dirs, tmp_path):
    make_folds("emodb_loso", dirs["emodb"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["emodb"], 10)
    assert sorted(next(iter(s["test"][0])) for s in sets) == sorted(f"emodb_{x}" for x in EMODB_GENDERS)
    assert all(_spk_gender(s["dev"][0], "emodb_") == ["f", "m"] for s in sets)


def test_iemocap_loso_sessions_and_whole_dialogs(dirs, tmp_path):
    make_folds("iemocap_loso", dirs["iemocap"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["iemocap"], 5)
    utt2dialog = read_table(dirs["iemocap"] / "utt2dialog")
    for k, s in enumerate(sets, 1):
        assert s["test"][0] == {f"iemocap_Ses{k:02d}F", f"iemocap_Ses{k:02d}M"}
        train_dialogs = {utt2dialog[u] for u in s["train"][1]}
        dev_dialogs = {utt2dialog[u] for u in s["dev"][1]}
        assert dev_dialogs and not train_dialogs & dev_dialogs  # dev = whole dialogues


def test_iemocap_ts_sets(tmp_path):
    data = _write(tmp_path / "d", _iemocap_rows(unlabelled_turns=False))
    assert (data / "utt2arousal").exists()
    make_folds("iemocap_ts", data, tmp_path / "f", setting="TS_123")
    (s,) = _check_folds(tmp_path / "f", data, 1)  # checks train_unlab has no utt2emo/utt2arousal
    sessions = lambda spks: {x[len("iemocap_Ses"):-1] for x in spks}  # noqa: E731
    assert sessions(s["train"][0] | s["dev"][0]) == {"01", "02", "03"}
    assert sessions(s["train_unlab"][0]) == {"04", "05"}
    assert sessions(s["test"][0]) == {"05"} and s["test"][1] <= s["train_unlab"][1]
    assert (tmp_path / "f" / "fold1" / "train" / "utt2emo").exists()


def test_iemocap_ts_several_settings_one_fold_each(tmp_path):
    from espnet_ser.corpora.protocols import define_folds

    data = _write(tmp_path / "d", _iemocap_rows(unlabelled_turns=False))
    make_folds("iemocap_ts", data, tmp_path / "f", setting="TS_1234,TS_23")
    s1, s2 = _check_folds(tmp_path / "f", data, 2)
    sessions = lambda spks: {x[len("iemocap_Ses"):-1] for x in spks}  # noqa: E731
    assert sessions(s1["train"][0] | s1["dev"][0]) == {"01", "02", "03", "04"}
    assert sessions(s2["train"][0] | s2["dev"][0]) == {"02", "03"}
    assert sessions(s2["train_unlab"][0]) == {"01", "04", "05"}
    meta = json.loads((tmp_path / "f" / "protocol.json").read_text())
    assert meta["fold_names"] == {"fold1": "TS_1234", "fold2": "TS_23"}
    assert len(define_folds("iemocap_ts", data, setting="all")) == 5
    with pytest.raises(ProtocolError, match="distinct"):
        define_folds("iemocap_ts", data, setting="TS_23,TS_23")
    with pytest.raises(ProtocolError, match="setting must look like"):
        define_folds("iemocap_ts", data, setting="TS_23,TS_x")


def test_emodb_l2so_unlabelled_heldout(dirs, tmp_path):
    make_folds("emodb_l2so", dirs["emodb"], tmp_path / "f", unlabelled_heldout=True)
    sets = _check_folds(tmp_path / "f", dirs["emodb"], 5)
    for s in sets:
        assert s["train_unlab"][1] == s["test"][1] and len(s["train"][0] | s["train_unlab"][0]) == 8
    assert not (tmp_path / "f" / "fold1" / "train_unlab" / "utt2emo").exists()


def test_iemocap_impro_loso_excludes_scripted(dirs, tmp_path):
    make_folds("iemocap_impro_loso", dirs["iemocap"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["iemocap"], 10)
    utt2type = read_table(dirs["iemocap"] / "utt2type")
    for s in sets:
        assert len(s["test"][0]) == 1
        assert all(utt2type[u] == "impro" for n in ("train", "dev", "test") for u in s[n][1])
    excluded = (tmp_path / "f" / "fold1" / "excluded").read_text().splitlines()
    assert len(excluded) == sum(v == "script" for v in utt2type.values())
    assert all("scripted" in ln for ln in excluded)


def test_cross_corpus_tests_whole_corpus(dirs, tmp_path):
    make_folds("cross_corpus", dirs["multi"], tmp_path / "f", train_corpora="emodb,savee", test_corpora="ravdess")
    (s,) = _check_folds(tmp_path / "f", dirs["multi"], 1)
    assert {x.split("_")[0] for x in s["test"][0]} == {"ravdess"} and len(s["test"][0]) == 24
    assert {x.split("_")[0] for x in s["train"][0] | s["dev"][0]} == {"emodb", "savee"}
    assert {x.split("_")[0] for x in s["dev"][0]} == {"emodb", "savee"}  # dev from every training corpus


def test_cross_corpus_unlabelled_target_for_dann(dirs, tmp_path):
    make_folds("cross_corpus", dirs["multi"], tmp_path / "f", train_corpora="emodb,savee", test_corpora="ravdess",
               unlabelled_target=True)
    (s,) = _check_folds(tmp_path / "f", dirs["multi"], 1)
    assert s["train_unlab"] == s["test"]  # the target audio, unlabelled, beside the labelled sources
    unlab = tmp_path / "f" / "fold1" / "train_unlab"
    assert not any((unlab / t).exists() for t in ("utt2emo", "utt2arousal", "utt2valence"))
    assert (unlab / "utt2corpus").is_file() and (unlab / "utt2spk").is_file()
    assert "without emotion labels" in (tmp_path / "f" / "fold1" / "train_unlab.spk").read_text()
    from espnet_ser.bin.make_folds import main

    assert main(["--protocol", "cross_corpus", "--data-dir", str(dirs["multi"]), "--out-dir", str(tmp_path / "g"),
                 "--test-corpora", "ravdess", "--unlabelled-target", "true"]) == 0
    assert (tmp_path / "g" / "fold1" / "train_unlab" / "wav.scp").is_file()


def test_multi_corpus_speaker_disjoint_per_corpus(dirs, tmp_path):
    make_folds("multi_corpus", dirs["multi"], tmp_path / "f")
    (s,) = _check_folds(tmp_path / "f", dirs["multi"], 1)
    for corpus, n in (("emodb", 10), ("savee", 4), ("ravdess", 24)):
        test = [x for x in s["test"][0] if x.startswith(corpus)]
        assert len(test) == max(1, round(0.2 * n))
        assert [x for x in s["dev"][0] if x.startswith(corpus)]


def test_tess_loso_dev_from_the_training_speaker(dirs, tmp_path):
    make_folds("tess_loso", dirs["tess"], tmp_path / "f")
    sets = _check_folds(tmp_path / "f", dirs["tess"], 2)
    assert [s["test"][0] for s in sets] == [{"tess_OAF"}, {"tess_YAF"}]
    for s in sets:
        (train_spk,) = s["train"][0]
        # Two speakers: dev is 0.2 of the training speaker's 20 utterances, never the test speaker's.
        assert s["dev"][0] == {train_spk} and len(s["dev"][1]) == 4 and len(s["train"][1]) == 16
    rule = (tmp_path / "f" / "fold1" / "dev.spk").read_text().splitlines()[0]
    assert "shares its speaker(s) with train" in rule and "never with test" in rule


def test_cross_corpus_with_a_two_speaker_training_corpus(dirs, tmp_path):
    make_folds("cross_corpus", dirs["multi_tess"], tmp_path / "f", train_corpora="tess", test_corpora="emodb")
    (s,) = _check_folds(tmp_path / "f", dirs["multi_tess"], 1)
    # Both TESS speakers train; dev = 0.2 of each one's utterances (not one whole speaker).
    assert s["train"][0] == s["dev"][0] == {"tess_OAF", "tess_YAF"}
    assert len(s["dev"][1]) == 8 and len(s["train"][1]) == 32 and len(s["test"][0]) == 10
    make_folds("cross_corpus", dirs["multi_tess"], tmp_path / "g", train_corpora="emodb", test_corpora="tess")
    (s,) = _check_folds(tmp_path / "g", dirs["multi_tess"], 1)
    assert not (tmp_path / "g" / "fold1" / "dev.utt").exists()  # 10 speakers: dev by speakers as before
    assert len(s["dev"][0]) == 2 and not s["dev"][0] & s["train"][0]


def test_multi_corpus_splits_a_two_speaker_corpus_one_and_one(dirs, tmp_path):
    make_folds("multi_corpus", dirs["multi_tess"], tmp_path / "f", n_folds=2)
    sets = _check_folds(tmp_path / "f", dirs["multi_tess"], 2)
    tested = []
    for s in sets:
        (t,) = [x for x in s["test"][0] if x.startswith("tess")]
        (tr,) = [x for x in s["train"][0] if x.startswith("tess")]
        assert {x for x in s["dev"][0] if x.startswith("tess")} == {tr} != {t}
        assert len([u for u in s["dev"][1] if u.startswith("tess")]) == 4
        assert len([x for x in s["test"][0] if x.startswith("emodb")]) == 2  # emodb as before
        tested.append(t)
    assert sorted(tested) == ["tess_OAF", "tess_YAF"]  # the folds rotate the test speaker


# ---------------------------------------------------------------- errors
def test_too_few_speakers_names_protocol_and_numbers(dirs, tmp_path):
    genders = {k: v for k, v in EMODB_GENDERS.items() if k not in ("08", "09")}  # 5 male, 3 female
    data = _write(tmp_path / "d", _emodb_rows(genders))
    with pytest.raises(ProtocolError, match=r"emodb_l2so: 5 folds need at least 5 male and 5 female.*found 5 male, 3 female"):
        make_folds("emodb_l2so", data, tmp_path / "f")
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(
    "protocol,options,message",
    [
        ("iemocap_ts", {"setting": "TS_5"}, "not among the labelled"),
        ("iemocap_ts", {"setting": "1234"}, "setting must look like"),
        ("iemocap_loso", {"dev_fraction": 1.5}, "dev_fraction must be in"),
        ("iemocap_loso", {"setting": "TS_123"}, "unknown option"),
        ("wsj_loso", {}, "unknown protocol"),
    ],
)
def test_bad_options(protocol, options, message, dirs, tmp_path):
    with pytest.raises(ProtocolError, match=message):
        make_folds(protocol, dirs["iemocap"], tmp_path / "f", **options)


def test_one_speaker_corpus_cannot_be_split(tmp_path):
    data = _write(tmp_path / "d", _emodb_rows() + _tess_rows(speakers=("OAF",)))
    with pytest.raises(ProtocolError, match=r"multi_corpus: corpus tess has 1 speaker\(s\); needs at least 2"):
        make_folds("multi_corpus", data, tmp_path / "f")
    one = _write(tmp_path / "one", _tess_rows(speakers=("OAF",)))
    with pytest.raises(ProtocolError, match=r"tess_loso: needs at least 2 speakers.*found 1"):
        make_folds("tess_loso", one, tmp_path / "f")


def test_savee_alone_cannot_do_gender_balanced_l2so(dirs, tmp_path):
    data = _write(tmp_path / "d", _emodb_rows({"DC": "m", "JE": "m", "JK": "m", "KL": "m"}, corpus="savee"))
    with pytest.raises(ProtocolError, match="found 4 male, 0 female"):
        make_folds("emodb_l2so", data, tmp_path / "f")


def test_missing_table_is_named(dirs, tmp_path):
    with pytest.raises(ProtocolError, match="utt2session"):
        make_folds("iemocap_loso", dirs["emodb"], tmp_path / "f")


def test_out_dir_with_user_files_is_refused_rerun_replaces(dirs, tmp_path):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        make_folds("emodb_l2so", dirs["emodb"], tmp_path / "f")
    make_folds("emodb_l2so", dirs["emodb"], tmp_path / "g", n_folds=2)
    make_folds("emodb_l2so", dirs["emodb"], tmp_path / "g")  # earlier output: replaced whole
    assert sorted(p.name for p in (tmp_path / "g").glob("fold*")) == [f"fold{k}" for k in range(1, 6)]


def test_cli(dirs, tmp_path, capsys):
    rc = make_folds_cli.main(["--protocol", "emodb_l2so", "--data-dir", str(dirs["emodb"]),
                              "--out-dir", str(tmp_path / "f"), "--seed", "3"])
    assert rc == 0 and "wrote 5 folds of emodb_l2so" in capsys.readouterr().out
    assert json.loads((tmp_path / "f" / "protocol.json").read_text())["seed"] == 3
    rc = make_folds_cli.main(["--protocol", "emodb_l2so", "--data-dir", str(dirs["emodb"]),
                              "--out-dir", str(tmp_path / "g"), "--setting", "TS_123"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "unknown option" in err


def test_generated_corpus_through_preparer_and_protocol(tmp_path):
    """Integration: generate -> prepare_emodb -> emodb_l2so."""
    from espnet_ser.corpora import CORPORA
    from espnet_ser.corpora.synth import generate_corpus

    root = generate_corpus("emodb", tmp_path / "emodb", utts_per_speaker=2, duration=0.4, sample_rate=8000)
    CORPORA["emodb"](root, tmp_path / "data")
    make_folds("emodb_l2so", tmp_path / "data", tmp_path / "folds")
    _check_folds(tmp_path / "folds", tmp_path / "data", 5)


REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ESPNET_SER_SHARED", REPO.parent / "shared"))


@pytest.mark.skipif(not (SHARED / "corpora" / "emodb" / "wav").is_dir(), reason="real Emo-DB not available")
@pytest.mark.parametrize("protocol,n_folds", [("emodb_l2so", 5), ("emodb_loso", 10)])
def test_real_emodb_protocols(protocol, n_folds, tmp_path):
    """The real corpus: 535 utterances, 10 speakers, the paper's 5-fold 6/2/2 split."""
    from espnet_ser.corpora import CORPORA

    CORPORA["emodb"](SHARED / "corpora" / "emodb", tmp_path / "data")
    make_folds(protocol, tmp_path / "data", tmp_path / "folds")
    sets = _check_folds(tmp_path / "folds", tmp_path / "data", n_folds)
    assert sum(len(s["test"][1]) for s in sets) == 535  # every utterance tested exactly once


@pytest.mark.skipif(not (SHARED / "corpora" / "emodb" / "wav").is_dir()
                    or not (SHARED / "corpora" / "emovo" / "f1").is_dir(), reason="real Emo-DB/EMOVO not available")
def test_real_cross_and_multi_corpus(tmp_path):
    from espnet_ser.corpora import CORPORA
    from espnet_ser.utils.data_dir import combine_data

    for c in ("emodb", "emovo"):
        CORPORA[c](SHARED / "corpora" / c, tmp_path / c)
    combine_data(tmp_path / "all", [tmp_path / "emodb", tmp_path / "emovo"])
    make_folds("cross_corpus", tmp_path / "all", tmp_path / "cc", train_corpora="emodb", test_corpora="emovo")
    (s,) = _check_folds(tmp_path / "cc", tmp_path / "all", 1)
    assert len(s["test"][1]) == 588 and len(s["train"][1]) + len(s["dev"][1]) == 535
    make_folds("multi_corpus", tmp_path / "all", tmp_path / "mc")
    (s,) = _check_folds(tmp_path / "mc", tmp_path / "all", 1)
    assert {x.split("_")[0] for x in s["test"][0]} == {"emodb", "emovo"}


@pytest.mark.skipif(not (SHARED / "corpora" / "tess").is_dir() or not (SHARED / "corpora" / "emodb" / "wav").is_dir(),
                    reason="real TESS/Emo-DB not available")
def test_real_tess_protocols(tmp_path):
    from espnet_ser.corpora import CORPORA
    from espnet_ser.utils.data_dir import combine_data

    CORPORA["tess"](SHARED / "corpora" / "tess", tmp_path / "tess")
    make_folds("tess_loso", tmp_path / "tess", tmp_path / "loso")
    sets = _check_folds(tmp_path / "loso", tmp_path / "tess", 2)
    assert [len(s["test"][1]) for s in sets] == [1399, 1399]
    assert all(len(s["dev"][1]) == 280 and len(s["train"][1]) == 1119 for s in sets)
    CORPORA["emodb"](SHARED / "corpora" / "emodb", tmp_path / "emodb")
    combine_data(tmp_path / "all", [tmp_path / "emodb", tmp_path / "tess"])
    make_folds("cross_corpus", tmp_path / "all", tmp_path / "cc")  # leave-one-corpus-out both ways
    by_test = {next(iter(s["test"][0])).split("_")[0]: s for s in _check_folds(tmp_path / "cc", tmp_path / "all", 2)}
    assert len(by_test["tess"]["test"][1]) == 2798 and len(by_test["emodb"]["test"][1]) == 535
    assert len(by_test["emodb"]["dev"][1]) == 560  # 0.2 of each TESS speaker's 1399 utterances
    make_folds("multi_corpus", tmp_path / "all", tmp_path / "mc")
    (s,) = _check_folds(tmp_path / "mc", tmp_path / "all", 1)
    assert len([x for x in s["test"][0] if x.startswith("tess")]) == 1


def test_iemocap_impro_loso_speaker_dev_is_the_session_partner(dirs, tmp_path):
    from espnet_ser.corpora.protocols import define_folds

    folds = define_folds("iemocap_impro_loso", dirs["iemocap"], dev_mode="speaker")
    utt2spk = read_table(dirs["iemocap"] / "utt2spk")
    assert len(folds) == 10
    for fold in folds:
        spk = {n: {utt2spk[u] for u in fold.sets[n]} for n in ("train", "dev", "test")}
        (test,), (dev,) = spk["test"], spk["dev"]
        # Speaker-disjoint; the dev speaker is from the same session (Ses01F <-> Ses01M).
        assert dev[:-1] == test[:-1] and dev != test
        assert not (spk["train"] & (spk["dev"] | spk["test"])) and len(spk["train"]) == 8
    with pytest.raises(ProtocolError, match="dev_mode must be"):
        define_folds("iemocap_impro_loso", dirs["iemocap"], dev_mode="dialogs")
