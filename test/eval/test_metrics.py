"""Tests of espnet_ser.eval.metrics on hand-computed cases."""
import json

import numpy as np
import pytest

from espnet_ser.eval.metrics import (
    RESULTS_KEYS,
    check_results,
    compute_metrics,
    format_confusion,
    read_posteriors,
    score_posteriors,
    wa_ua,
    wa_ua_from_confusion,
)
from espnet_ser.labels import read_label_list

LABELS = ["ang", "hap", "neu"]


def test_imbalanced_wa_differs_from_ua():
    # 6 ang (5 right), 2 hap (1 right), 2 neu (0 right, both -> ang)
    ref = ["ang"] * 6 + ["hap"] * 2 + ["neu"] * 2
    hyp = ["ang"] * 5 + ["hap"] + ["hap", "ang"] + ["ang", "ang"]
    res = compute_metrics(ref, hyp, LABELS)
    assert res["wa"] == pytest.approx(6 / 10)
    assert res["ua"] == pytest.approx((5 / 6 + 1 / 2 + 0 / 2) / 3)
    assert res["wa"] != pytest.approx(res["ua"])
    assert res["per_class"] == pytest.approx({"ang": 5 / 6, "hap": 0.5, "neu": 0.0})
    # confusion rows = reference
    assert res["confusion"] == [[5, 1, 0], [1, 1, 0], [2, 0, 0]]
    # F1: ang P=5/8 R=5/6; hap P=1/2 R=1/2; neu 0
    f1_ang = 2 * (5 / 8) * (5 / 6) / (5 / 8 + 5 / 6)
    assert res["macro_f1"] == pytest.approx((f1_ang + 0.5 + 0.0) / 3)
    assert res["n"] == 10


def test_class_absent_from_predictions_and_reference():
    # 'neu' never predicted -> recall 0; 'sad' never in the reference -> recall None, not in UA
    labels = ["ang", "neu", "sad"]
    ref = ["ang", "ang", "neu", "neu"]
    hyp = ["ang", "ang", "ang", "sad"]
    res = compute_metrics(ref, hyp, labels)
    assert res["per_class"] == {"ang": 1.0, "neu": 0.0, "sad": None}
    assert res["ua"] == pytest.approx(0.5)
    assert res["wa"] == pytest.approx(0.5)
    assert res["confusion"][2] == [0, 0, 0]


def test_per_speaker_ua():
    ref = ["ang", "ang", "hap", "ang", "hap", "hap"]
    hyp = ["ang", "hap", "hap", "ang", "ang", "ang"]
    spk = ["s1", "s1", "s1", "s2", "s2", "s2"]
    res = compute_metrics(ref, hyp, ["ang", "hap"], spk)
    # s1: ang 1/2, hap 1/1 -> 0.75 ; s2: ang 1/1, hap 0/2 -> 0.5
    assert res["per_speaker"] == pytest.approx({"s1": 0.75, "s2": 0.5})


@pytest.mark.parametrize("seed", range(5))
def test_wa_ua_is_sklearns_accuracy_and_balanced_accuracy(seed):
    """The one WA/UA definition equals scikit-learn's, also with predicted-only classes."""
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 4, size=50)          # classes 0..3 in the reference
    hyp = rng.integers(0, 6, size=50)          # 4, 5 only predicted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = (accuracy_score(ref, hyp), balanced_accuracy_score(ref, hyp))
    assert wa_ua(ref, hyp) == pytest.approx(expected)


def test_wa_ua_from_confusion_matches_trainer_input():
    import torch

    conf = torch.tensor([[5, 1, 0], [1, 1, 0], [0, 0, 0]])  # class 2 absent: not in UA
    wa, ua = wa_ua_from_confusion(conf.numpy())
    assert wa == pytest.approx(6 / 8) and ua == pytest.approx((5 / 6 + 1 / 2) / 2)
    assert wa_ua_from_confusion([[0, 0], [0, 0]]) == (None, None)
    with pytest.raises(ValueError, match="wa_ua"):
        wa_ua([], [])


def test_label_outside_inventory_rejected():
    with pytest.raises(ValueError, match="not in the inventory"):
        compute_metrics(["ang", "xxx"], ["ang", "ang"], ["ang", "hap"])


def test_results_schema_exact_and_json_roundtrip():
    res = compute_metrics(["a", "b", "b"], ["a", "b", "a"], ["a", "b"], ["s", "s", "t"])
    assert list(res) == list(RESULTS_KEYS)
    check_results(json.loads(json.dumps(res)))
    bad = dict(res, extra=1)
    with pytest.raises(ValueError, match="keys"):
        check_results(bad)
    with pytest.raises(ValueError, match="fraction"):
        check_results(dict(res, wa=1.5))


def test_score_posteriors_missing_posterior_is_error():
    post = {"u1": np.array([0.9, 0.1]), "u2": np.array([0.2, 0.8])}
    utt2ref = {"u1": "a", "u2": "b", "u3": "a", "u4": "b"}
    utt2spk = {u: "s" for u in utt2ref}
    with pytest.raises(ValueError, match=r"2 of 4 labelled utterances .* no posterior .*u3"):
        score_posteriors(post, ["a", "b"], utt2ref, utt2spk)


def test_score_posteriors_ignores_unlabelled_and_rejects_unknown_label():
    post = {"u1": np.array([0.9, 0.1]), "u2": np.array([0.2, 0.8]), "u9": np.array([0.5, 0.5])}
    utt2spk = {"u1": "s", "u2": "s", "u9": "s"}
    res, per_utt, counts = score_posteriors(post, ["a", "b"], {"u1": "a", "u2": "a"}, utt2spk)
    assert counts == {"scored": 2, "ignored_unlabelled": 1}
    assert per_utt == [("u1", "s", "a", "a"), ("u2", "s", "a", "b")]
    assert res["wa"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"label\(s\) \['c'\] not in the label inventory"):
        score_posteriors(post, ["a", "b"], {"u1": "c"}, utt2spk)


def test_readers_reject_bad_files(tmp_path):
    lab = tmp_path / "emotions.txt"
    lab.write_text("ang\nhap\nang\n")
    with pytest.raises(ValueError, match=r"emotions.txt:3: duplicate label 'ang'"):
        read_label_list(lab)
    with pytest.raises(FileNotFoundError, match="label inventory not found"):
        read_label_list(tmp_path / "none.txt")
    post = tmp_path / "posteriors"
    post.write_text("u1 0.1 0.9\nu2 0.5\n")
    with pytest.raises(ValueError, match=r"posteriors:2: expected utt \+ 2"):
        read_posteriors(post, 2)
    post.write_text("u1 0.1 nan\n")
    with pytest.raises(ValueError, match="non-finite"):
        read_posteriors(post, 2)
    post.write_text("u1 0.1 0.9\nu1 0.5 0.5\n")
    with pytest.raises(ValueError, match=r"posteriors:2: duplicate key 'u1'"):
        read_posteriors(post, 2)


def test_format_confusion_aligned():
    txt = format_confusion([[12, 0], [3, 1]], ["anger", "hap"])
    lines = txt.splitlines()
    assert lines[0].split() == ["ref\\hyp", "anger", "hap", "recall"]
    assert lines[1].split() == ["anger", "12", "0", "100.0%"]
    assert lines[2].split() == ["hap", "3", "1", "25.0%"]
    assert len({len(line) for line in lines}) == 1  # columns aligned
