"""ADARL encoder and model (Fan et al.): Table 1 shapes, attention gradients, sub-segment pooling."""

import argparse

import pytest
import torch

from espnet_ser.encoders.adarl_encoder import ADARLEncoder
from espnet_ser.tasks.ser import SERTask

TINY = dict(channels=[2, 2, 2, 4])  # Table 1 geometry, fewer channels


def test_table1_geometry():
    enc = ADARLEncoder(3 * 400, num_frames=300)
    # 400 x 300 -> /2 /2 /2 /6 -> 8 x 6; 2 x 32 channels: the domain FC reads 64 * 8 * 6 = 3072.
    assert (enc.out_channels, enc.out_freq, enc.out_time) == (64, 8, 6)
    assert enc.extra_point_sizes() == {"domain": 3072, "attention": 8}
    assert enc.output_size() == 64
    # F of the attention is read from the maps: other band, other F.
    assert ADARLEncoder(3 * 200, num_frames=300, **TINY).attention.num_freq == 4


def test_forward_points_shapes():
    enc = ADARLEncoder(3 * 400, num_frames=300, **TINY)
    out = enc.forward_points(torch.randn(2, 300, 1200), torch.tensor([300, 100]))
    assert out["hs"].shape == (2, 6, 8) and out["olens"].tolist() == [6, 2]
    assert out["domain"].shape == (2, 8 * 8 * 6) and out["attention"].shape == (2, 8)


def test_backbone_has_no_domain_pathway():
    enc = ADARLEncoder(3 * 400, num_frames=300, domain_pathway=False, **TINY)
    assert enc.domain_blocks is None and enc.attention is None and enc.extra_point_sizes() == {}
    assert set(enc.forward_points(torch.randn(2, 300, 1200), torch.tensor([300, 50]))) == {"hs", "olens"}


def test_padding_does_not_leak():
    torch.manual_seed(0)
    enc = ADARLEncoder(3 * 400, num_frames=300, **TINY).eval()
    x = torch.randn(1, 300, 1200)
    y = x.clone()
    y[:, 120:] = 50.0
    a, b = enc.forward_points(x, torch.tensor([120])), enc.forward_points(y, torch.tensor([120]))
    torch.testing.assert_close(a["hs"], b["hs"])


@pytest.mark.parametrize("kw,msg", [
    (dict(input_size=1201), "in_channels"),
    (dict(input_size=1200, pools=[[2, 2]]), "one entry per block"),
    (dict(input_size=30, num_frames=300), "= 0"),
])
def test_bad_geometry(kw, msg):
    with pytest.raises(ValueError, match=msg):
        ADARLEncoder(**kw)


def test_segment_length_mismatch_names_both_options():
    enc = ADARLEncoder(1200, num_frames=300, **TINY)
    with pytest.raises(ValueError, match="segment_length equal to encoder_conf.num_frames"):
        enc(torch.randn(1, 200, 1200), torch.tensor([200]))


# ------------------------------------------------------------------ model level

ADARL = dict(
    input_adapter="segment", input_adapter_conf={"segment_length": 300, "pad_last": True, "min_last": 100},
    encoder="adarl", encoder_conf=dict(TINY, num_frames=300), pooling="mean", pooling_conf={},
    classifier="mlp", classifier_conf={"hidden_sizes": []},
    model_conf={"embedding_size": 16, "embedding_batch_norm": True, "center_loss_weight": 0.5},
    domain_heads=[{"name": "gender", "labels": ["f", "m"], "reverse": False, "attach": "domain",
                   "classifier": "mlp", "classifier_conf": {"hidden_sizes": [16], "batch_norm": True}}],
)


def _model(**over):
    cfg = SERTask.get_default_config()
    cfg.update(ADARL)
    cfg.update(emotion_list=["ang", "hap", "neu", "sad"], input_size=1200)
    cfg.update(over)
    return SERTask.build_model(argparse.Namespace(**cfg))


def _batch():
    torch.manual_seed(1)
    return dict(speech=torch.randn(3, 700, 1200), speech_lengths=torch.tensor([700, 300, 90]),
                emotion=torch.tensor([0, 1, 3]), gender=torch.tensor([0, 1, 1]))


def _grad_norm(module):
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_emotion_loss_reaches_both_pathways_through_the_attention():
    model = _model(domain_heads=[], model_conf={"embedding_size": 16})
    # No gender head at all: the domain pathway still gets the emotion gradient via I^D.
    model.train()
    loss, stats, _ = model(**{k: v for k, v in _batch().items() if k != "gender"})
    loss.backward()
    enc = model.encoder
    assert _grad_norm(enc.emotion_blocks) > 0 and _grad_norm(enc.domain_blocks) > 0
    assert _grad_norm(enc.attention) > 0


def test_gender_loss_is_not_reversed_and_stays_in_the_domain_pathway():
    model = _model()
    model.train()
    out = model.encode(_batch()["speech"], _batch()["speech_lengths"])
    head = model.domain_heads[0]
    assert head.reverse is False and head.attach == "domain"
    y = _batch()["gender"][out["unit2utt"]]
    loss = torch.nn.functional.cross_entropy(head(out["domain"], 0.0), y)
    loss.backward()
    enc = model.encoder
    assert _grad_norm(enc.domain_blocks) > 0 and _grad_norm(enc.emotion_blocks) == 0
    # Not reversed: the gradient at the domain maps is the plain CE gradient (a GRL would negate it).
    x = out["domain"].detach().requires_grad_(True)
    (g_head,) = torch.autograd.grad(torch.nn.functional.cross_entropy(head(x, 1.0), y), x)
    (g_plain,) = torch.autograd.grad(torch.nn.functional.cross_entropy(head.classifier(x), y), x)
    assert g_plain.abs().sum() > 0
    torch.testing.assert_close(g_head, g_plain)


def test_full_loss_and_stats():
    model = _model()
    model.train()
    loss, stats, _ = model(**_batch())
    assert torch.isfinite(loss)
    assert {"loss_emo", "loss_center", "loss_gender", "acc_gender"} <= set(stats)
    expected = stats["loss_emo"] + 0.5 * stats["loss_center"] + stats["loss_gender"]
    torch.testing.assert_close(stats["loss"], expected)


def test_utterance_posterior_is_the_mean_of_its_subsegments():
    model = _model().eval()
    b = _batch()
    res = model.infer(b["speech"], b["speech_lengths"])
    # 700 frames -> 300 + 300 + tail of 100 (>= min_last, padded) = 3 segments; 300 -> 1; 90 -> 1 padded.
    units, unit_lens, u2u = model.adapter(b["speech"], b["speech_lengths"])
    assert u2u.tolist() == [0, 0, 0, 1, 2] and unit_lens.tolist() == [300, 300, 100, 300, 90]
    seg = model.classifier(model.embedding(model.pooling(*model.encoder(units, unit_lens)))).softmax(-1)
    torch.testing.assert_close(res["posteriors"][0], seg[:3].mean(0))
    torch.testing.assert_close(res["posteriors"][2], seg[4])
    att = model.infer(b["speech"], b["speech_lengths"], point="attention")["embeddings"]
    assert att.shape == (3, 8)


def test_missing_gender_stream_is_a_clear_error():
    model = _model()
    b = _batch()
    del b["gender"]
    with pytest.raises(ValueError, match="needs the label stream 'gender'"):
        model(**b)


def test_unknown_gender_is_masked_from_the_domain_loss():
    model = _model()
    model.train()
    b = _batch()
    b["gender"] = torch.tensor([-1, -1, -1])
    loss, stats, _ = model(**b)
    assert stats["loss_gender"] is None and torch.isfinite(loss)


def test_domain_attach_point_needs_the_domain_pathway():
    with pytest.raises(ValueError, match="attach must be one of"):
        _model(encoder_conf=dict(TINY, num_frames=300, domain_pathway=False))


def test_input_pool_shrinks_the_maps_first():
    enc = ADARLEncoder(1200, num_frames=300, channels=[8, 8, 8, 16], input_pool=[4, 1],
                       pools=[[2, 2], [2, 2], [2, 2], [3, 6]])
    assert (enc.out_freq, enc.out_time) == (4, 6) and enc.extra_point_sizes()["domain"] == 32 * 4 * 6
    out = enc.forward_points(torch.randn(2, 300, 1200), torch.tensor([300, 60]))
    assert out["hs"].shape == (2, 6, 32) and out["attention"].shape == (2, 4)
    with pytest.raises(ValueError, match="input_pool"):
        ADARLEncoder(1200, input_pool=[0, 1])
