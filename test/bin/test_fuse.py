"""Tests of bin/fuse.py: late fusion with weights chosen on dev only, seed ensembles, error lines."""
import json
from pathlib import Path

import numpy as np
import pytest

from espnet_ser.bin import compare, fuse
from espnet_ser.bin.score import score_dir

LABELS = ["ang", "hap", "neu", "sad"]
FOLDS = ("fold1", "fold2")


def _table(path: Path, table: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {table[k]}\n" for k in sorted(table)))


def _fold_root(root: Path) -> Path:
    """Two folds; dev and test have 2 speakers x 4 classes x 3 utterances each."""
    fr = root / "folds"
    for fold in FOLDS:
        for s, spks in (("dev", ("d1", "d2")), ("test", ("t1", "t2"))):
            utt2spk, utt2emo = {}, {}
            for spk in spks:
                for lab in LABELS:
                    for k in range(3):
                        u = f"{fold}{spk}-{lab}{k}"
                        utt2spk[u], utt2emo[u] = f"{fold}{spk}", lab
            _table(fr / fold / s / "utt2spk", utt2spk)
            _table(fr / fold / s / "utt2emo", utt2emo)
    return fr


def _refs(fr: Path, fold: str, s: str) -> dict:
    return dict(line.split() for line in (fr / fold / s / "utt2emo").read_text().splitlines())


def _posts(ref: dict, correct: bool, rng, sharp: float = 0.6) -> dict:
    """Posteriors that put ``sharp`` on the reference class (correct) or on the next class (wrong)."""
    out = {}
    for u, lab in ref.items():
        c = LABELS.index(lab) if correct else (LABELS.index(lab) + 1) % len(LABELS)
        p = rng.dirichlet(np.ones(len(LABELS))) * (1 - sharp)
        p[c] += sharp
        out[u] = p
    return out


def _write_run(run: Path, dev: dict, test: dict, test_dir: Path) -> None:
    for s, post in (("dev", dev), ("test", test)):
        d = run / f"decode_{s}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "posteriors").write_text("".join(f"{u} " + " ".join(f"{v:.6f}" for v in post[u]) + "\n"
                                              for u in sorted(post)))
    # stage 6: results.json (its labels are the posterior columns)
    (run / "emotions.txt").write_text("".join(lab + "\n" for lab in LABELS))
    score_dir(str(run / "decode_test" / "posteriors"), str(run / "emotions.txt"), str(test_dir),
              str(run / "decode_test"))


def _system(root: Path, name: str, fr: Path, *, seeds=None, dev_correct=True, test_correct=True, seed=0):
    rng = np.random.default_rng(seed)
    exp = root / "exp" / name
    for fold in FOLDS:
        for s in (seeds or [None]):
            run = exp / s / fold if s else exp / fold
            _write_run(run, _posts(_refs(fr, fold, "dev"), dev_correct, rng),
                       _posts(_refs(fr, fold, "test"), test_correct, rng), fr / fold / "test")
    return exp


def _main(*args) -> int:
    return fuse.main([str(a) for a in args])


def test_weights_are_chosen_on_dev_never_on_test(tmp_path):
    # Dev says: trust A (right on dev), not B (wrong on dev). Test says the opposite. A tool that
    # looked at test labels would pick B and score 100 %; choosing on dev must favour A and score ~0 %.
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr, seeds=["seed0", "seed1"], dev_correct=True, test_correct=False)
    b = _system(tmp_path, "b", fr, dev_correct=False, test_correct=True, seed=1)
    out = tmp_path / "exp" / "a+b"
    assert _main(a, b, "--fold-root", fr, "--report", tmp_path / "RESULTS.md") == 0
    for seed in ("seed0", "seed1"):
        for fold in FOLDS:
            info = json.loads((out / seed / fold / "fusion.json").read_text())
            assert info["weights"][0] > info["weights"][1]   # dev prefers A
            assert info["dev_ua"] == 1.0
            assert all(g["ua"] < 1.0 for g in info["grid"] if g["weights"][0] < 0.5)
            assert info["systems"] == [str(a / seed / fold), str(b / fold)]
            res = json.loads((out / seed / fold / "decode_test" / "results.json").read_text())
            assert res["ua"] < 0.1 and res["n"] == 24   # B-heavy weights would score 100 % here
            # The fused dev posteriors (same weights) are written for a later fusion.
            assert (out / seed / fold / "decode_dev" / "posteriors").is_file()
    agg = json.loads((out / "results.json").read_text())
    assert agg["n_runs"] == 4 and agg["baseline"] == "a"   # reported against its first system
    assert "<!-- report:a+b -->" in (tmp_path / "RESULTS.md").read_text()
    rows = compare.compare_rows([out])   # compare lists it like any other system
    assert rows[0][0] == "a+b" and rows[0][1] == "4"


def test_equal_weights_make_no_choice_on_dev(tmp_path):
    # Dev says "trust A only" (as in the test above); --weights equal ignores it: 1/3 each of three
    # systems, the fused test posteriors are their plain average, the record says which rule.
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr, dev_correct=True, test_correct=False)
    b = _system(tmp_path, "b", fr, dev_correct=False, test_correct=True, seed=1)
    c = _system(tmp_path, "c", fr, seed=2)
    out = tmp_path / "exp" / "abc"
    assert _main(a, b, c, "--fold-root", fr, "--out", out, "--report", tmp_path / "R.md", "--weights", "equal") == 0
    for fold in FOLDS:
        info = json.loads((out / fold / "fusion.json").read_text())
        assert info["rule"] == "equal" and len(info["grid"]) == 1
        assert info["weights"] == pytest.approx([1 / 3] * 3)
        read = [dict(line.split(None, 1) for line in
                     (d / fold / "decode_test" / "posteriors").read_text().splitlines()) for d in (out, a, b, c)]
        u = sorted(read[0])[0]
        expect = sum(np.array(r[u].split(), float) for r in read[1:]) / 3
        np.testing.assert_allclose(np.array(read[0][u].split(), float), expect, atol=1e-5)
    assert _main(a, b, "--fold-root", fr, "--out", tmp_path / "exp" / "ab", "--report", tmp_path / "R.md") == 0
    assert json.loads((tmp_path / "exp" / "ab" / "fold1" / "fusion.json").read_text())["rule"] == "dev"


def test_fusion_helps_when_dev_says_so_and_ties_go_to_equal_weights(tmp_path):
    fr = _fold_root(tmp_path)
    # Both right everywhere: every weight is best on dev -> equal weights.
    a = _system(tmp_path, "a", fr, seed=0)
    b = _system(tmp_path, "b", fr, seed=1)
    assert _main(a, b, "--fold-root", fr, "--out", tmp_path / "exp" / "ab", "--report", tmp_path / "R.md",
                 "--step", "0.1") == 0
    info = json.loads((tmp_path / "exp" / "ab" / "fold1" / "fusion.json").read_text())
    assert info["weights"] == [0.5, 0.5] and len(info["grid"]) == 11
    post = dict(line.split(None, 1) for line in
                (tmp_path / "exp" / "ab" / "fold1" / "decode_test" / "posteriors").read_text().splitlines())
    pa = dict(line.split(None, 1) for line in (a / "fold1" / "decode_test" / "posteriors").read_text().splitlines())
    pb = dict(line.split(None, 1) for line in (b / "fold1" / "decode_test" / "posteriors").read_text().splitlines())
    u = sorted(post)[0]
    expect = 0.5 * np.array(pa[u].split(), float) + 0.5 * np.array(pb[u].split(), float)
    np.testing.assert_allclose(np.array(post[u].split(), float), expect, atol=1e-5)


def test_weight_grid_on_the_simplex():
    g = fuse.weight_grid(3, 0.5)
    assert g.shape == (6, 3) and np.allclose(g.sum(axis=1), 1)
    g2 = fuse.weight_grid(2, 0.25)
    assert g2[0].tolist() == [0.5, 0.5] and g2[1].tolist() == [0.75, 0.25]
    with pytest.raises(fuse.FusionError, match="whole number of steps"):
        fuse.weight_grid(2, 0.3)


def test_ensemble_averages_the_seeds_of_each_fold(tmp_path):
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr, seeds=["seed0", "seed1", "seed2"])
    assert _main("--ensemble", a, "--fold-root", fr, "--report", tmp_path / "R.md") == 0
    out = tmp_path / "exp" / "a_ens"
    for fold in FOLDS:
        rows = {}
        for s in ("seed0", "seed1", "seed2"):
            for line in (a / s / fold / "decode_test" / "posteriors").read_text().splitlines():
                u, *v = line.split()
                rows.setdefault(u, []).append(np.array(v, float))
        got = {line.split()[0]: np.array(line.split()[1:], float)
               for line in (out / fold / "decode_test" / "posteriors").read_text().splitlines()}
        assert sorted(got) == sorted(rows)
        for u, vs in rows.items():
            np.testing.assert_allclose(got[u], np.mean(vs, axis=0), atol=1e-5)
        info = json.loads((out / fold / "fusion.json").read_text())
        assert info["mode"] == "ensemble" and info["weights"] == pytest.approx([1 / 3] * 3)
        assert (out / fold / "decode_dev" / "posteriors").is_file()
    agg = json.loads((out / "results.json").read_text())
    assert agg["n_runs"] == 2 and "baseline" not in agg
    # The ensemble can itself be fused with another system (its dev posteriors are there).
    b = _system(tmp_path, "b", fr, seed=3)
    assert _main(out, b, "--fold-root", fr, "--report", tmp_path / "R.md") == 0
    assert (tmp_path / "exp" / "a_ens+b" / "fold2" / "decode_test" / "results.json").is_file()


def test_different_utterance_sets_are_one_line(tmp_path, capsys):
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr)
    b = _system(tmp_path, "b", fr, seed=1)
    post = b / "fold2" / "decode_test" / "posteriors"
    lines = post.read_text().splitlines()
    post.write_text("\n".join(lines[1:]) + "\n")
    assert _main(a, b, "--fold-root", fr, "--report", tmp_path / "R.md") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"fuse: {a / 'fold2' / 'decode_test' / 'posteriors'} has 24 utterances, {post} has 23,")
    assert "1 differ" in err and "different utterance sets" in err


@pytest.mark.parametrize("case,expect", [
    ("no_dev", "late fusion chooses its weights on dev"),
    ("one_system", "late fusion needs two or more"),
    ("fold_missing", "fuse systems run on the same folds"),
    ("labels", "fuse systems of the same task"),
    ("ensemble_unseeded", "no seed<S>/ runs to average"),
    ("no_exp", "experiment directory not found"),
])
def test_bad_input_is_one_line(tmp_path, capsys, case, expect):
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr)
    b = _system(tmp_path, "b", fr, seed=1)
    args = [a, b]
    if case == "no_dev":
        (b / "fold1" / "decode_dev" / "posteriors").unlink()
    elif case == "one_system":
        args = [a]
    elif case == "fold_missing":
        import shutil
        shutil.rmtree(b / "fold2")
    elif case == "labels":
        (b / "fold1" / "decode_test" / "results.json").write_text(json.dumps({"labels": LABELS[:3] + ["sur"]}))
    elif case == "ensemble_unseeded":
        args = ["--ensemble", a]
    elif case == "no_exp":
        args = [a, tmp_path / "exp" / "nothing"]
    assert _main(*args, "--fold-root", fr, "--report", tmp_path / "R.md") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("fuse: ") and expect in err, err


def test_columns_follow_the_label_names(tmp_path):
    # The same classes in another column order (e.g. an SVM's sorted labels.txt vs a model's
    # emotions.txt) are matched by name, not by position.
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr, seed=0, dev_correct=False, test_correct=False)
    b = _system(tmp_path, "b", fr, seed=1)
    perm = [3, 2, 1, 0]   # read by position, B's right class would never be the argmax
    for fold in FOLDS:
        for s in ("dev", "test"):
            post = b / fold / f"decode_{s}" / "posteriors"
            rows = [line.split() for line in post.read_text().splitlines()]
            post.write_text("".join(r[0] + " " + " ".join(r[1:][i] for i in perm) + "\n" for r in rows))
        res = b / fold / "decode_test" / "results.json"
        res.write_text(json.dumps(dict(json.loads(res.read_text()), labels=[LABELS[i] for i in perm])))
    assert _main(a, b, "--fold-root", fr, "--report", tmp_path / "R.md") == 0
    info = json.loads((tmp_path / "exp" / "a+b" / "fold1" / "fusion.json").read_text())
    assert info["weights"][1] > info["weights"][0]   # B is right on dev once its columns are read by name
    res = json.loads((tmp_path / "exp" / "a+b" / "fold1" / "decode_test" / "results.json").read_text())
    assert res["labels"] == LABELS and res["ua"] == 1.0


def test_dev_speaker_check_scores_weights_on_a_speaker_they_were_not_chosen_on():
    # 4 classes x 2 utterances per speaker.  On s1, A is right (0.9) and B points to the next class
    # (0.6); on s2 the reverse, with B right at 0.6 and A wrong at 0.9.  Equal weights: right on s1,
    # wrong on s2 (UA 1 and 0).  Chosen on s2 the weights lean to B (0.7) and are wrong on s1; chosen
    # on s1 they are equal (ties go to equal) and wrong on s2: the check must say 0 vs 0.5.
    c = len(LABELS)
    ref = np.array([k % c for k in range(2 * c)] * 2)
    spk = ["s1"] * (2 * c) + ["s2"] * (2 * c)

    def post(hit: float, right: bool):
        p = np.full((len(ref) // 2, c), (1 - hit) / (c - 1))
        p[np.arange(len(p)), (ref[:len(p)] + (0 if right else 1)) % c] = hit
        return p

    a = np.concatenate([post(0.9, True), post(0.9, False)])
    b = np.concatenate([post(0.6, False), post(0.6, True)])
    check = fuse.dev_speaker_check([a, b], ref, spk, fuse.weight_grid(2, 0.1))
    by = {h["speaker"]: h for h in check["held_out"]}
    assert by["s1"]["weights"] == pytest.approx([0.3, 0.7]) and by["s1"]["ua"] == 0.0
    assert by["s1"]["equal_ua"] == 1.0 and by["s1"]["n"] == 2 * c
    assert by["s2"]["weights"] == [0.5, 0.5] and by["s2"]["ua"] == 0.0 and by["s2"]["equal_ua"] == 0.0
    assert check["ua"] == 0.0 and check["equal_ua"] == 0.5
    assert fuse.dev_speaker_check([a, b], ref, ["s1"] * len(ref), fuse.weight_grid(2, 0.1)) is None


def test_fusion_json_holds_the_dev_speaker_check_and_the_log_sums_it(tmp_path, caplog):
    fr = _fold_root(tmp_path)
    a = _system(tmp_path, "a", fr, dev_correct=True)
    b = _system(tmp_path, "b", fr, dev_correct=False, seed=1)
    out = tmp_path / "exp" / "ab"
    with caplog.at_level("INFO", logger="espnet_ser.bin.fuse"):
        assert _main(a, b, "--fold-root", fr, "--out", out, "--report", tmp_path / "R.md", "--weights", "equal") == 0
    for fold in FOLDS:
        check = json.loads((out / fold / "fusion.json").read_text())["dev_speaker_check"]
        assert [h["speaker"] for h in check["held_out"]] == [f"{fold}d1", f"{fold}d2"]
        # A is right on every dev speaker, B wrong: chosen on one, the weights favour A and carry to
        # the other better than equal weights (where B's wrong class competes), whatever the rule used.
        assert all(h["weights"][0] > 0.5 and h["ua"] > h["equal_ua"] and h["n"] == 12 for h in check["held_out"])
    line = [r.getMessage() for r in caplog.records if "dev-speaker check" in r.getMessage()]
    assert len(line) == 1 and "4 held-out speaker runs: chosen better in 4, equal better in 0" in line[0]
    assert "consider --weights equal" not in line[0]


def test_dev_speaker_check_says_when_dev_speakers_were_trained_on(tmp_path, caplog):
    # A speaker-dependent dev set (EMOVO's --dev-mode utts): the held-out dev speaker is in train, so
    # the check cannot tell how weights carry to a new speaker, and the log says so.
    fr = _fold_root(tmp_path)
    for fold in FOLDS:
        _table(fr / fold / "train" / "utt2spk", {f"{fold}tr-{k}": spk for k, spk in enumerate((f"{fold}d1", "x"))})
    a = _system(tmp_path, "a", fr)
    b = _system(tmp_path, "b", fr, dev_correct=False, seed=1)
    with caplog.at_level("INFO", logger="espnet_ser.bin.fuse"):
        assert _main(a, b, "--fold-root", fr, "--out", tmp_path / "exp" / "ab", "--report", tmp_path / "R.md") == 0
    check = json.loads((tmp_path / "exp" / "ab" / "fold1" / "fusion.json").read_text())["dev_speaker_check"]
    assert check["dev_speakers_in_train"] is True
    line = [r.getMessage() for r in caplog.records if "dev-speaker check" in r.getMessage()]
    assert "the dev speakers are training speakers" in line[0] and "consider" not in line[0]
