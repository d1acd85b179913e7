"""AT-Fusion, SA-GRU and the dialogue model of Lian et al.: shapes, softmax axis, masking,
padding independence, GRL placement and gradient sign."""

import numpy as np
import pytest
import torch

from espnet_ser.encoders.at_fusion import ATFusionEncoder
from espnet_ser.encoders.concat_fusion import ConcatFusionEncoder
from espnet_ser.heads.mlp_classifier import MLPClassifier
from espnet_ser.layers.sa_gru import SAGRU
from espnet_ser.models.dialogue_model import DialogueSERModel
from espnet_ser.models.domain_head import DomainHead
from espnet_ser.pooling.mean_pooling import MeanPooling
from espnet_ser.tasks.collate import SERCollateFn

DIMS = [6, 4]


def _model(attach="pooled", heads=True, context="sa_gru", dropout=0.0):
    torch.manual_seed(0)
    enc = ATFusionEncoder(10, modality_dims=DIMS, d=8, dropout=dropout)
    sizes = DialogueSERModel.attach_point_sizes(8, {"context": context, "context_conf": {"hidden": 4, "heads": 2}})
    hs = []
    if heads:
        hs = [DomainHead("speaker", "speaker", ["a", "b", "c"], MLPClassifier(sizes[attach], 3), attach=attach)]
    return DialogueSERModel(["ang", "hap", "neu", "sad"], enc, MeanPooling(8), MLPClassifier(sizes["embedding"], 4),
                            hs, context=context, context_conf={"hidden": 4, "heads": 2, "dropout": dropout})


def test_at_fusion_softmax_over_modalities():
    enc = ATFusionEncoder(10, modality_dims=DIMS, d=8, dropout=0.0)
    xs = torch.randn(3, 5, 10)
    fused, olens = enc(xs, torch.tensor([5, 4, 1]))
    alpha = enc.last_alpha
    assert fused.shape == (3, 5, 8) and alpha.shape == (3, 5, 2)
    assert torch.allclose(alpha[0].sum(-1), torch.ones(5))          # sums to 1 over the MODALITY axis
    assert not torch.allclose(alpha[0, :, 0], torch.ones(5))          # not a size-1 softmax
    xm = enc.project(xs)
    manual = (enc.attention(xm).unsqueeze(-1) * xm).sum(-2)
    assert torch.allclose(fused[0], manual[0], atol=1e-6)             # f = sum_m alpha_m x_m
    assert torch.all(fused[2, 1:] == 0) and torch.all(alpha[1, 4] == 0)  # padding zero
    fused.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_at_fusion_one_modality_and_bad_dims():
    enc = ATFusionEncoder(10, modality_dims=DIMS, modalities=["text"], d=8, dropout=0.0)
    xs = torch.randn(2, 3, 10)
    fused, _ = enc(xs, torch.tensor([3, 3]))
    assert torch.allclose(enc.last_alpha, torch.ones(2, 3, 1))
    assert torch.allclose(fused, enc.project.proj[0](xs[..., 6:]), atol=1e-6)  # text only: its projection
    with pytest.raises(ValueError, match="modality_dims"):
        ATFusionEncoder(11, modality_dims=DIMS)
    with pytest.raises(ValueError, match="modalities"):
        ATFusionEncoder(10, modality_dims=DIMS, modalities=["video"])
    assert ConcatFusionEncoder(10, modality_dims=DIMS, d=8)(xs, torch.tensor([3, 2]))[0].shape == (2, 3, 8)


def test_sa_gru_padding_independent():
    torch.manual_seed(0)
    m = SAGRU(8, hidden=4, heads=2, dropout=0.0).eval()
    x = torch.randn(1, 4, 8)
    short = m(x, torch.tensor([4]))
    padded = m(torch.cat([x, torch.randn(1, 3, 8)], 1), torch.tensor([4]))
    assert short.shape == (1, 4, 8) and padded.shape == (1, 7, 8)
    assert torch.allclose(short, padded[:, :4], atol=1e-5)
    assert torch.all(padded[:, 4:] == 0)
    with pytest.raises(ValueError, match="heads"):
        SAGRU(8, hidden=5, heads=4)


def _batch():
    """Two dialogues (3 and 2 utterances) collated as ESPnet collates them."""
    rng = np.random.default_rng(0)
    data = [("d1", {"speech": rng.normal(size=(3, 10)).astype(np.float32),
                    "emotion": np.array([0, -1, 2]), "speaker": np.array([0, 1, 0])}),
            ("d2", {"speech": rng.normal(size=(2, 10)).astype(np.float32),
                    "emotion": np.array([-1, -1]), "speaker": np.array([2, 2])})]
    _, b = SERCollateFn(float_pad_value=0.0, int_pad_value=-1)(data)
    return b


def test_dialogue_collation_pads():
    b = _batch()
    assert b["speech"].shape == (2, 3, 10) and b["speech_lengths"].tolist() == [3, 2]
    assert b["emotion"].tolist() == [[0, -1, 2], [-1, -1, -1]] and b["speaker_lengths"].tolist() == [3, 2]
    assert torch.all(b["speech"][1, 2] == 0)


def test_masking_unlabelled_and_padding():
    model = _model(heads=False).train()
    b = _batch()
    loss, stats, _ = model(**b)
    post = model.infer(b["speech"], b["speech_lengths"])["posteriors"]
    logp = torch.log(model.classifier(model.encode(b["speech"], b["speech_lengths"])["embedding"]).softmax(-1))
    # valid rows in order: d1u0 (0), d1u1 (-1), d1u2 (2), d2u0, d2u1 -> CE over rows 0 and 2 only
    expect = -(logp[0, 0] + logp[2, 2]) / 2
    assert torch.allclose(loss, expect, atol=1e-5)
    assert int(model.epoch_confusion.sum()) == 2
    assert post.shape == (2, 3, 4) and torch.all(post[1, 2] == 0)
    # changing an unlabelled utterance's label value (-1) or padding never changes the emotion loss
    b2 = dict(b)
    b2["speech"] = b["speech"].clone()
    b2["speech"][1, 2] = 100.0  # padding
    model.eval()
    assert torch.allclose(model(**b)[0], model(**b2)[0])


def test_speaker_loss_uses_unlabelled_utterances():
    model = _model(heads=True).train()
    b = _batch()
    b["emotion"] = torch.full_like(b["emotion"], -1)  # no emotion label at all
    loss, stats, _ = model(**b)
    assert stats["loss_emo"] is None and stats["loss_speaker"] is not None
    loss.backward()
    assert model.encoder.project.proj[0].weight.grad.abs().sum() > 0  # the speaker loss reaches the encoder


@pytest.mark.parametrize("attach", ["pooled", "embedding"])
def test_grl_placement_and_sign(attach):
    model = _model(attach=attach).train()
    b = _batch()
    b["emotion"] = torch.full_like(b["emotion"], -1)
    model(**b)[0].backward()
    grad_ctx = model.context.gru.weight_ih_l0.grad
    if attach == "pooled":   # after AT-Fusion: SA-GRU gets no speaker gradient
        assert grad_ctx is None or grad_ctx.abs().sum() == 0
    else:
        assert grad_ctx.abs().sum() > 0
    # sign: the encoder's gradient is the negative of plain (non-reversed) training
    g_rev = model.encoder.project.proj[0].weight.grad.clone()
    model.zero_grad()
    model.domain_heads[0].reverse = False
    model(**b)[0].backward()
    assert torch.allclose(model.encoder.project.proj[0].weight.grad, -g_rev, atol=1e-6)


def test_bad_label_lengths():
    model = _model(heads=False)
    b = _batch()
    b["emotion_lengths"] = torch.tensor([3, 1])
    with pytest.raises(ValueError, match="lengths"):
        model(**b)


def test_adversary_update_on_dialogues():
    model = _model(attach="pooled").train()
    b = _batch()
    opt = torch.optim.SGD(model.domain_heads.parameters(), lr=0.1)
    enc_before = model.encoder.project.proj[0].weight.clone()
    head_before = model.domain_heads[0].classifier.net[-1].weight.clone()
    out = model.adversary_update(opt, 2, b["speech"], b["speech_lengths"], speaker=b["speaker"],
                                 speaker_lengths=b["speaker_lengths"])
    assert set(out) == {"loss_speaker_adv"} and out["loss_speaker_adv"] > 0
    assert torch.equal(model.encoder.project.proj[0].weight, enc_before)
    assert not torch.equal(model.domain_heads[0].classifier.net[-1].weight, head_before)
