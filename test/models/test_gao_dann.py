"""Gao et al.'s model as the recipe egs/cross_corpus/dann builds it from its configs.

Segments of 32 frames carry the utterance label; unlabelled target utterances
(-1) reach only the domain heads; every domain head sits behind its own GRL
with coefficient 0.3 (the encoder receives -0.3 x that head's gradient, the
head itself the plain one); the center loss is 0.5/0.5 with the cross entropy,
its centers move by Wen et al.'s rule and get no gradient.
"""

import argparse
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from espnet_ser.labels import LABEL_SOURCES
from espnet_ser.tasks.ser import SERTask

CONF = Path(__file__).resolve().parents[2] / "egs" / "cross_corpus" / "dann" / "conf" / "tuning"
HEADS = {"train_dann1": ["speaker", "corpus"], "train_dann2": ["gender", "lang", "corpus"]}


def build(name, tmp_path, **model_conf):
    for stream, (_, inv) in LABEL_SOURCES.items():
        (tmp_path / inv).write_text("".join(f"{stream}{i}\n" for i in range(3)))
    (tmp_path / "arousals.txt").write_text("high\nlow\n")
    cfg = vars(SERTask.get_parser().parse_args([]))
    cfg.update(yaml.safe_load((CONF / f"{name}.yaml").read_text()))
    cfg["model_conf"] = {**cfg["model_conf"], "target_name": "arousal", **model_conf}
    cfg["emotion_list"] = str(tmp_path / "arousals.txt")
    cfg["input_size"] = 129
    torch.manual_seed(0)
    model = SERTask.build_model(argparse.Namespace(**cfg))
    model.set_total_steps(100)
    return model


def batch():
    torch.manual_seed(1)
    xs = torch.randn(4, 70, 129)
    lens = torch.tensor([70, 64, 40, 20])  # 2, 2, 1 segments, and one shorter than a segment (padded)
    labels = {s: torch.tensor([0, 1, 2, 1]) for s in ("speaker", "gender", "lang", "corpus")}
    labels["arousal"] = torch.tensor([0, 1, 0, -1])  # the last utterance: unlabelled target
    return xs, lens, labels


@pytest.mark.parametrize("name", sorted(HEADS))
def test_heads_of_the_configs(name, tmp_path):
    for conf in (name, f"{name}_center"):
        model = build(conf, tmp_path)
        assert [h.name for h in model.domain_heads] == HEADS[name]
        assert all(h.reverse and h.coeff == 0.3 and h.current_lambda(0.5) == 0.3 for h in model.domain_heads)
        assert (model.center_loss is not None) == conf.endswith("_center")
        assert model.adapter.segment_length == 32
    base = yaml.safe_load((CONF / "train_cnn_blstm_center.yaml").read_text())
    # 0.5 CE + 0.5 x the center loss per embedding dimension (README.md: summed, 0.5 collapsed it).
    mc = base["model_conf"]
    assert mc["ce_weight"] == 0.5 and mc["center_loss_weight"] == pytest.approx(0.5 / mc["embedding_size"], rel=0.01)
    assert base["optim"] == "adadelta" and "domain_heads" not in base


@pytest.mark.parametrize("variant, changed", [
    ("train_dann2_center_ramp", {"domain_heads"}),
    ("train_dann2_center_k3", {"optim2", "optim2_conf", "adversary_steps"}),
])
def test_dann2_center_variants_change_only_what_they_say(variant, changed):
    """A variant row of RESULTS.md is DANN_2 (S+C) with ONE lever changed, nothing else."""
    base = yaml.safe_load((CONF / "train_dann2_center.yaml").read_text())
    var = yaml.safe_load((CONF / f"{variant}.yaml").read_text())
    assert {k for k in base.keys() | var.keys() if base.get(k) != var.get(k)} == changed
    if variant.endswith("_ramp"):
        for head in var["domain_heads"]:
            assert head.pop("schedule") == "dann" and head.pop("schedule_conf") == {"gamma": 10.0}
        assert [{k: v for k, v in h.items() if k != "schedule"} for h in base["domain_heads"]] == var["domain_heads"]
    else:
        assert var["adversary_steps"] == 3 and var["optim2"] == "adam"


@pytest.mark.parametrize("head_name", ["gender", "lang", "corpus"])
def test_each_head_reverses_its_own_gradient_into_the_encoder(head_name, tmp_path):
    """d(head loss)/d(encoder) = -0.3 x the same without the GRL; the head learns normally."""
    xs, lens, labels = batch()
    model = build("train_dann2", tmp_path).eval()  # eval: no dropout, fixed batch-norm statistics
    head = next(h for h in model.domain_heads if h.name == head_name)
    grads = {}
    for lam in (0.3, None):
        model.zero_grad()
        out = model.encode(xs, lens)
        y = labels[head_name][out["unit2utt"]]
        logits = head(out["embedding"], lam) if lam else head.classifier(out["embedding"])
        F.cross_entropy(logits, y).backward()
        grads[lam] = (model.encoder.lstm.weight_ih_l0.grad.clone(), next(head.classifier.parameters()).grad.clone())
        others = [p.grad for h in model.domain_heads if h is not head for p in h.parameters()]
        assert all(g is None or not g.any() for g in others)  # one head's loss touches only its own head
    torch.testing.assert_close(grads[0.3][0], -0.3 * grads[None][0])
    torch.testing.assert_close(grads[0.3][1], grads[None][1])


def test_unlabelled_target_reaches_only_the_domain_heads(tmp_path):
    xs, lens, labels = batch()
    model = build("train_dann2_center", tmp_path)
    model.train()
    loss, stats, _ = model(xs, lens, **labels)
    assert {"loss_gender", "loss_lang", "loss_corpus", "loss_center", "loss_emo"} <= set(stats)
    # The unlabelled utterance changes the domain losses but not the emotion/center losses.
    torch.manual_seed(0)
    m1 = build("train_dann2_center", tmp_path).eval()
    m2 = build("train_dann2_center", tmp_path).eval()
    xs2 = xs.clone()
    xs2[3] += 1.0
    _, s1, _ = m1(xs, lens, **labels)
    _, s2, _ = m2(xs2, lens, **labels)
    torch.testing.assert_close(s1["loss_emo"], s2["loss_emo"])
    torch.testing.assert_close(s1["loss_center"], s2["loss_center"])
    assert not torch.allclose(s1["loss_corpus"], s2["loss_corpus"])


def test_center_loss_half_half_wen_update_and_no_gradient_to_centers(tmp_path):
    xs, lens, labels = batch()
    model = build("train_cnn_blstm_center", tmp_path)
    assert "center_loss.centers" in model.state_dict()
    assert all(p is not model.center_loss.centers for p in model.parameters())
    model.eval()  # features of the forward below, without updating anything
    emb = model.encode(xs, lens)
    y = labels["arousal"][emb["unit2utt"]]
    x = emb["embedding"].detach()
    c0 = torch.randn_like(model.center_loss.centers)
    model.center_loss.centers.copy_(c0)
    model.center_loss.train()
    loss_c = model.center_loss(x.requires_grad_(True), y)
    loss_c.backward()
    keep = y >= 0
    n = int(keep.sum())
    # Gradient only to the features: (x_i - c_{y_i}) / N over the labelled segments.
    torch.testing.assert_close(x.grad[keep], (x[keep] - c0[y[keep]]) / n)
    assert not x.grad[~keep].any()
    for j in range(2):  # Wen et al.: c_j -= 0.5 * sum(c_j - x_i) / (1 + n_j)
        sel = keep & (y == j)
        expect = c0[j] - 0.5 * (c0[j] - x[sel]).sum(0) / (1 + int(sel.sum()))
        torch.testing.assert_close(model.center_loss.centers[j], expect)
    loss, stats, _ = model.train()(xs, lens, **labels)
    expect = 0.5 * stats["loss_emo"] + model.center_loss_weight * stats["loss_center"]
    torch.testing.assert_close(loss.reshape(()), expect.reshape(()))


def test_segments_pool_to_utterance_posteriors(tmp_path):
    xs, lens, _ = batch()
    model = build("train_cnn_blstm", tmp_path).eval()
    out = model.encode(xs, lens)
    assert out["unit2utt"].tolist() == [0, 0, 1, 1, 2, 3]  # 70, 64 -> 2; 40 -> 1 (tail dropped); 20 -> 1 padded
    seg_post = model.classifier(out["embedding"]).softmax(-1)
    post = model.infer(xs, lens)["posteriors"]
    torch.testing.assert_close(post[0], seg_post[:2].mean(0))
    torch.testing.assert_close(post[3], seg_post[5])
    voted = model.infer(xs, lens, vote=True)["posteriors"]
    hyp = seg_post.argmax(-1)
    expect0 = torch.bincount(hyp[:2], minlength=2).float() / 2
    torch.testing.assert_close(voted[0], expect0)
