"""ESPnetSERModel: losses, masking of unlabelled data, GRL progress buffer, NaN stop."""

import pytest
import torch

from espnet_ser.adapters.segment_adapter import SegmentAdapter
from espnet_ser.encoders.conv1d_encoder import Conv1dEncoder
from espnet_ser.heads.mlp_classifier import MLPClassifier
from espnet_ser.models.domain_head import DomainHead
from espnet_ser.models.ser_model import ESPnetSERModel, NonFiniteLossError
from espnet_ser.pooling.stats_pooling import StatsPooling

D = 6


def build(batch_norm=False, heads=("speaker",), schedule="dann", center=0.0, adapter=None, reverse=True):
    torch.manual_seed(0)
    enc = Conv1dEncoder(D, channels=[8], kernel_sizes=[3], strides=[1], dropout=0.0, batch_norm=batch_norm)
    pool = StatsPooling(enc.output_size())
    domain = [
        DomainHead(
            name=h, data_name=h, labels=["a", "b", "c", "d"],
            classifier=MLPClassifier(16, 4, hidden_sizes=[8], batch_norm=batch_norm),
            schedule=schedule, schedule_conf={"gamma": 2.5} if schedule == "dann" else None,
            reverse=reverse,
        )
        for h in heads
    ]
    model = ESPnetSERModel(
        ["neu", "ang", "sad"], enc, pool, MLPClassifier(16, 3), domain_heads=domain,
        adapter=adapter, center_loss_weight=center, total_steps=100,
    )
    model.input_size = D
    return model


def batch(B=4, T=12):
    xs = torch.randn(B, T, D)
    lens = torch.tensor([T] + [T - 2] * (B - 1))
    return xs, lens


def test_loss_is_sum_of_parts_and_stats():
    model = build(center=0.5)
    xs, lens = batch()
    emo = torch.tensor([[0], [1], [2], [1]])
    spk = torch.tensor([[0], [1], [2], [3]])
    loss, stats, weight = model(xs, lens, emotion=emo, speaker=spk, utt_id=list("abcd"))
    expected = stats["loss_emo"] + 0.5 * stats["loss_center"] + stats["loss_speaker"]
    torch.testing.assert_close(loss.detach().reshape(()), expected.reshape(()))
    assert int(weight) == 4 and "lambda_speaker" in stats and 0 <= float(stats["acc"]) <= 1
    loss.sum().backward()
    assert all(p.grad is not None for p in model.classifier.parameters())


def test_unlabelled_utterance_masked_from_emotion_loss():
    model = build(batch_norm=False)
    model.num_updates.fill_(50)  # lambda > 0
    xs, lens = batch()
    emo = torch.tensor([[0], [1], [2], [-1]])  # utterance 3 unlabelled
    spk = torch.tensor([[0], [1], [2], [3]])
    _, s1, _ = model(xs, lens, emotion=emo, speaker=spk)
    xs2 = xs.clone()
    xs2[3] += 5.0
    _, s2, _ = model(xs2, lens, emotion=emo, speaker=spk)
    torch.testing.assert_close(s1["loss_emo"], s2["loss_emo"])
    assert not torch.allclose(s1["loss_speaker"], s2["loss_speaker"])
    # Emotion-loss gradient w.r.t. the unlabelled input is exactly zero (no BN).
    x = xs.clone().requires_grad_(True)
    model(x, lens, emotion=emo, speaker=spk)
    enc_out = model.encode(x, lens)
    ce = torch.nn.functional.cross_entropy(model.classifier(enc_out["embedding"][:3]), emo[:3, 0])
    ce.backward()
    assert x.grad[3].abs().sum() == 0 and x.grad[:3].abs().sum() > 0


def test_all_unlabelled_batch_trains_domain_only():
    model = build()
    xs, lens = batch()
    loss, stats, _ = model(xs, lens, emotion=torch.full((4, 1), -1), speaker=torch.tensor([0, 1, 2, 3]))
    assert stats["loss_emo"] is None and stats["acc"] is None
    torch.testing.assert_close(loss.detach().reshape(()), stats["loss_speaker"].reshape(()))


def test_progress_buffer_survives_state_dict_and_drives_lambda():
    model = build()
    model.train()
    xs, lens = batch()
    lab = dict(emotion=torch.tensor([0, 1, 2, 0]), speaker=torch.tensor([0, 1, 2, 3]))
    lams = []
    for _ in range(3):
        _, stats, _ = model(xs, lens, **lab)
        lams.append(float(stats["lambda_speaker"]))
    assert int(model.num_updates) == 3 and lams[0] == 0.0 and lams[0] < lams[1] < lams[2]
    assert "num_updates" in model.state_dict() and "epoch_confusion" not in model.state_dict()
    fresh = build()
    fresh.load_state_dict(model.state_dict())
    assert int(fresh.num_updates) == 3
    assert fresh.current_lambdas() == model.current_lambdas()
    model.eval()
    model(xs, lens, **lab)
    assert int(model.num_updates) == 3  # eval forwards do not advance training


def test_schedule_without_run_length_is_an_error():
    model = build()
    model.total_steps = 0
    xs, lens = batch()
    with pytest.raises(RuntimeError, match="total_steps"):
        model(xs, lens, emotion=torch.tensor([0, 1, 2, 0]), speaker=torch.tensor([0, 1, 2, 3]))


def test_grl_reverses_encoder_gradient_of_domain_loss():
    """The encoder receives -lambda times the domain-loss gradient (and + without GRL)."""
    xs, lens = batch()
    spk = torch.tensor([0, 1, 2, 3])
    grads = {}
    for reverse in (True, False):
        model = build(reverse=reverse, schedule="constant")
        model.domain_heads[0].coeff = 0.5
        _, stats, _ = model(xs, lens, speaker=spk)  # no emotion labels: domain loss only
        model.zero_grad()
        loss, _, _ = model(xs, lens, speaker=spk)
        loss.sum().backward()
        grads[reverse] = model.encoder.convs[0].weight.grad.clone()
    torch.testing.assert_close(grads[True], -0.5 * grads[False])


def test_auxiliary_head_without_reversal_reports_zero_lambda():
    model = build(reverse=False, schedule="constant")
    xs, lens = batch()
    _, stats, _ = model(xs, lens, emotion=torch.tensor([0, 1, 2, 0]), speaker=torch.tensor([0, 1, 2, 3]))
    assert float(stats["lambda_speaker"]) == 0.0


def test_nan_loss_stops_with_step():
    model = build()
    xs, lens = batch()
    xs[0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="step 1"):
        model(xs, lens, emotion=torch.tensor([0, 1, 2, 0]), speaker=torch.tensor([0, 1, 2, 3]))
    assert int(model.num_updates) == 0


def test_bad_labels_and_missing_streams_are_clear_errors():
    model = build()
    xs, lens = batch()
    with pytest.raises(ValueError, match="emotion list"):
        model(xs, lens, emotion=torch.tensor([0, 1, 7, 0]), speaker=torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="speaker.int"):
        model(xs, lens, emotion=torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="input_size"):
        model(torch.randn(2, 5, D + 1), torch.tensor([5, 5]), speaker=torch.tensor([0, 1]))


def test_segment_adapter_posterior_is_mean_of_segments():
    seg = SegmentAdapter(segment_length=4)
    units, ulens, u2u = seg(torch.randn(2, 10, D), torch.tensor([10, 3]))
    assert units.shape == (3, 4, D) and ulens.tolist() == [4, 4, 3] and u2u.tolist() == [0, 0, 1]
    model = build(adapter=SegmentAdapter(segment_length=4)).eval()
    xs = torch.randn(2, 12, D)
    lens = torch.tensor([12, 8])
    out = model.infer(xs, lens)
    seg_post = model.classifier(model.encode(xs, lens)["embedding"]).softmax(-1)
    torch.testing.assert_close(out["posteriors"][0], seg_post[:3].mean(0))
    torch.testing.assert_close(out["posteriors"].sum(-1), torch.ones(2))
    voted = model.infer(xs, lens, vote=True)["posteriors"]
    assert all(min(abs(v * 3 - round(v * 3)), 1) < 1e-5 for v in voted[0].tolist())
    loss, stats, _ = build(adapter=SegmentAdapter(segment_length=4))(
        xs, lens, emotion=torch.tensor([0, 2]), speaker=torch.tensor([1, 2])
    )
    assert torch.isfinite(loss).all()


def test_adversary_update_trains_only_the_adversary():
    model = build(heads=("speaker", "gender"))
    model.domain_heads[1].reverse = False  # an auxiliary head is not an adversary
    xs, lens = batch(B=8)
    spk = torch.tensor([0, 1, 2, 3, 0, 1, -1, 3])  # -1: unknown, masked
    gen = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    adv = list(model.domain_heads[0].parameters())
    opt = torch.optim.Adam(adv, lr=0.05)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first = model.adversary_update(opt, 1, xs, lens, speaker=spk, gender=gen)["loss_speaker_adv"]
    last = model.adversary_update(opt, 30, xs, lens, speaker=spk, gender=gen)["loss_speaker_adv"]
    assert last < first  # the adversary learns the (detached) batch
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("domain_heads.0.") for k in changed), changed
    assert int(model.num_updates) == 0 and all(p.grad is None for p in model.parameters())
    assert model.adversary_update(opt, 0, xs, lens, speaker=spk) == {}
    with pytest.raises(ValueError, match="label stream 'speaker'"):
        model.adversary_update(opt, 1, xs, lens, gender=gen)


def test_adversary_optimizer_copy_matches_one_optimizer():
    """Without optim2, optimizer 2 copies optim: the same updates as one Adam over everything."""
    import argparse

    from espnet_ser.tasks.ser import SERTask

    xs, lens = batch()
    emo, spk = torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 2, 3])
    args = argparse.Namespace(optim="adam", optim_conf={"lr": 0.01}, optim2=None, optim2_conf={},
                              scheduler=None, scheduler_conf={}, exclude_weight_decay=False)
    results = []
    for split in (True, False):
        model = build()
        opts = SERTask.build_optimizers(args, model) if split else [torch.optim.Adam(model.parameters(), lr=0.01)]
        assert len(opts) == (2 if split else 1)
        for _ in range(3):
            loss, _, _ = model(xs, lens, emotion=emo, speaker=spk)
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
        results.append(model.state_dict())
    for k in results[0]:
        torch.testing.assert_close(results[0][k], results[1][k])
    assert args.optim2 == "adam" and args.optim2_conf == {"lr": 0.01}


# ---------------------------------------------------------------- augmentation
class _Recorder(torch.nn.Module):
    """Records what it is given and passes it on (stands in for normalize / wraps SpecAug)."""

    def __init__(self, inner=None):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, xs, ilens):
        self.seen.append(xs.detach().clone())
        return self.inner(xs, ilens) if self.inner is not None else (xs, ilens)


def _specaug():
    from espnet2.asr.specaug.specaug import SpecAug

    # Wide, certain masks, so that an applied SpecAug always leaves zeros.
    return SpecAug(apply_time_warp=True, time_warp_window=2, freq_mask_width_range=[2, 3], num_freq_mask=1,
                   time_mask_width_range=[2, 3], num_time_mask=1)


def test_specaug_only_in_training_before_normalize_shapes_kept():
    model = build()
    spec, norm = _Recorder(_specaug()), _Recorder()
    model.specaug, model.normalize = spec, norm
    xs, lens = batch()
    x_before = xs.clone()
    emo, spk = torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 2, 3])
    model.train()
    model(xs, lens, emotion=emo, speaker=spk)
    assert len(spec.seen) == 1 and torch.equal(spec.seen[0], xs)      # SpecAug gets the raw batch ...
    assert norm.seen[0].shape == xs.shape                               # ... shapes kept ...
    assert (norm.seen[0] == 0).any() and not torch.equal(norm.seen[0], xs)  # ... normalize gets it masked
    assert torch.equal(xs, x_before)                                    # the caller's batch is untouched
    model.eval()
    model(xs, lens, emotion=emo, speaker=spk)
    model.infer(xs, lens)
    assert len(spec.seen) == 1                                          # never outside training
    assert torch.equal(norm.seen[-1], xs)


def test_specaug_on_functionals_is_one_line_error():
    model = build()
    model.specaug = _specaug()
    model.train()
    with pytest.raises(ValueError, match=r"^specaug: SpecAugment needs frame sequences.*functionals.*remove specaug"):
        model(torch.randn(4, 1, D), torch.ones(4, dtype=torch.long), emotion=torch.tensor([0, 1, 2, 1]),
              speaker=torch.tensor([0, 1, 2, 3]))
    model.eval()  # inference on functionals with a SpecAug model built elsewhere: nothing to augment
    model.infer(torch.randn(4, 1, D), torch.ones(4, dtype=torch.long))


class _FixedBeta:
    def __init__(self, *_):
        pass

    def sample(self):
        return torch.tensor(0.7)


def _mixup_model(monkeypatch, alpha=0.2):
    model = build()
    model.mixup_alpha = alpha
    monkeypatch.setattr(torch.distributions, "Beta", _FixedBeta)
    perm = torch.tensor([1, 0, 3, 2])
    monkeypatch.setattr(torch, "randperm", lambda n, **kw: perm)
    return model, perm


def test_mixup_mixes_inputs_and_emotion_and_domain_targets(monkeypatch):
    model, perm = _mixup_model(monkeypatch)
    model.num_updates.fill_(50)
    xs, lens = batch()
    emo, spk = torch.tensor([0, 1, 2, -1]), torch.tensor([0, 1, 2, 3])
    model.train()
    loss, stats, _ = model(xs, lens, emotion=emo, speaker=spk)
    # The same forward by hand: mixed input, both targets weighted by lam (= 0.7), -1 masked.
    model.num_updates.fill_(50)
    lam = 0.7
    out = model.encode(lam * xs + (1 - lam) * xs[perm], torch.maximum(lens, lens[perm]))
    logits = model.classifier(out["embedding"])
    ce = torch.nn.functional.cross_entropy
    expect_emo = lam * ce(logits[:3], emo[:3]) + (1 - lam) * ce(logits[[0, 1, 3]], emo[perm][[0, 1, 3]])
    torch.testing.assert_close(stats["loss_emo"].reshape(()), expect_emo.detach())
    head = model.domain_heads[0]
    logits_d = head.classifier(out[head.attach])
    expect_spk = lam * ce(logits_d, spk) + (1 - lam) * ce(logits_d, spk[perm])
    torch.testing.assert_close(stats["loss_speaker"].reshape(()), expect_spk.detach())
    torch.testing.assert_close(loss.reshape(()), (expect_emo + expect_spk).detach())
    # Evaluation: no mixing (the plain masked cross entropy of the batch as it is).
    model.eval()
    _, s_eval, _ = model(xs, lens, emotion=emo, speaker=spk)
    plain = ce(model.classifier(model.encode(xs, lens)["embedding"])[:3], emo[:3])
    torch.testing.assert_close(s_eval["loss_emo"].reshape(()), plain.detach())


def test_mixup_off_by_default_and_bad_alpha():
    assert build().mixup_alpha == 0.0
    enc = Conv1dEncoder(D, channels=[8], kernel_sizes=[3], strides=[1])
    with pytest.raises(ValueError, match=r"model_conf.mixup_alpha: must be >= 0"):
        ESPnetSERModel(["a", "b"], enc, StatsPooling(enc.output_size()), MLPClassifier(16, 2), mixup_alpha=-0.2)
