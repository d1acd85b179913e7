"""Tests of the 2D CNN + biGRU encoder of Leow et al. (``cnn_bigru``)."""

import pytest
import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.encoders.cnn_bigru import CNNBiGRUEncoder
from espnet_ser.layers.stats_pooling import masked_stats_pooling

# Small sizes keep the tests fast; the paper-sized grid point is tested once.
SMALL = dict(channels=6, gru_units=8, dropout=0.0)


def _batch(lengths, dim=20, seed=0, pad_value=0.0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.full((len(lengths), max(lengths), dim), pad_value)
    for i, n in enumerate(lengths):
        xs[i, :n] = torch.randn(n, dim, generator=g)
    return xs, torch.tensor(lengths)


@pytest.mark.parametrize("num_blocks", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size", [5, 2])
def test_shapes_and_olens(num_blocks, kernel_size):
    torch.manual_seed(0)
    enc = CNNBiGRUEncoder(20, num_blocks=num_blocks, kernel_size=kernel_size, **SMALL)
    assert isinstance(enc, AbsEncoder)
    lengths = [67, 40, 33]
    xs, ilens = _batch(lengths)
    hs, olens = enc(xs, ilens)
    factor = 2**num_blocks
    assert hs.shape == (3, 67 // factor, enc.output_size())
    assert enc.output_size() == 2 * SMALL["gru_units"]
    assert olens.tolist() == [n // factor for n in lengths]
    # Frames beyond each utterance's output length are exactly zero.
    for b, n in enumerate(olens.tolist()):
        assert torch.count_nonzero(hs[b, n:]) == 0
        assert torch.count_nonzero(hs[b, :n]) > 0


def test_paper_sized_grid_point():
    enc = CNNBiGRUEncoder(20, num_blocks=1, kernel_size=5, channels=128, gru_units=256)
    hs, olens = enc(*_batch([30, 21]))
    assert hs.shape == (2, 15, 512)
    assert olens.tolist() == [15, 10]
    # One block keeps 20 // 2 = 10 cepstral bins x 128 channels per frame.
    assert enc.gru.input_size == 128 * 10


@pytest.mark.parametrize("num_blocks", [1, 4])
def test_backward_reaches_every_parameter(num_blocks):
    torch.manual_seed(0)
    enc = CNNBiGRUEncoder(20, num_blocks=num_blocks, kernel_size=5, **SMALL)
    xs, ilens = _batch([50, 37, 16])
    xs.requires_grad_(True)
    hs, olens = enc(xs, ilens)
    loss = masked_stats_pooling(hs, olens).pow(2).sum()
    loss.backward()
    assert torch.isfinite(xs.grad).all()
    for name, p in enc.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient"
    # Padding frames of the input must not receive gradient.
    assert torch.count_nonzero(xs.grad[2, 16:]) == 0


@pytest.mark.parametrize("num_blocks", [1, 2, 3])
@pytest.mark.parametrize("kernel_size", [5, 2])
def test_padded_batch_equals_single_utterances(num_blocks, kernel_size):
    torch.manual_seed(0)
    enc = CNNBiGRUEncoder(20, num_blocks=num_blocks, kernel_size=kernel_size, **SMALL)
    # Make BatchNorm's running statistics non-trivial, then evaluate.
    enc(*_batch([40, 25], seed=3))
    enc.eval()
    lengths = [45, 29, 17]
    # Garbage in the padding: it must not leak into valid frames.
    xs, ilens = _batch(lengths, pad_value=7.5)
    with torch.no_grad():
        hs, olens = enc(xs, ilens)
        for b, n in enumerate(lengths):
            single, slen = enc(xs[b : b + 1, :n], ilens[b : b + 1])
            assert slen.item() == olens[b].item()
            torch.testing.assert_close(
                hs[b, : slen.item()], single[0], atol=1e-5, rtol=1e-4
            )


def test_feature_axis_pooled_to_zero_is_rejected_at_construction():
    with pytest.raises(ValueError, match=r"num_blocks=4.*input_size=8"):
        CNNBiGRUEncoder(8, num_blocks=4)
    # 20 MFCCs survive 4 blocks (20 // 16 = 1) ...
    CNNBiGRUEncoder(20, num_blocks=4, **SMALL)
    # ... but the paper grid stops at 4 blocks.
    with pytest.raises(ValueError, match="num_blocks=5"):
        CNNBiGRUEncoder(64, num_blocks=5)


def test_short_utterance_error_policy_names_lengths():
    enc = CNNBiGRUEncoder(20, num_blocks=4, short_utterance="error", **SMALL)
    with pytest.raises(ValueError, match=r"has 9 frames.*at least 16"):
        enc(*_batch([40, 9]))


def test_short_utterance_pad_policy_equals_zero_padding():
    torch.manual_seed(0)
    enc = CNNBiGRUEncoder(20, num_blocks=3, kernel_size=5, **SMALL).eval()
    xs, ilens = _batch([5])
    with torch.no_grad():
        hs, olens = enc(xs, ilens)
        padded = torch.nn.functional.pad(xs, (0, 0, 0, 3))
        ref, rlens = enc(padded, torch.tensor([8]))
    assert olens.tolist() == [1] == rlens.tolist()
    assert hs.shape == (1, 1, enc.output_size())
    torch.testing.assert_close(hs, ref)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(kernel_size=0), "kernel_size"),
        (dict(channels=-1), "channels"),
        (dict(dropout=1.0), "dropout"),
        (dict(short_utterance="truncate"), "short_utterance"),
    ],
)
def test_bad_options(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        CNNBiGRUEncoder(20, **kwargs)


def test_wrong_feature_dimension():
    enc = CNNBiGRUEncoder(20, **SMALL)
    with pytest.raises(ValueError, match=r"\(B, T, 20\).*\(2, 30, 13\)"):
        enc(*_batch([30, 20], dim=13))
    with pytest.raises(ValueError, match="ilens must be in 1..T=30"):
        enc(_batch([30, 20])[0], torch.tensor([31, 20]))


def test_slots_into_the_leow_model():
    """cnn_bigru + stats pooling + 2 x [FC, BN, dropout, ReLU] heads + annealed GRL."""
    from espnet_ser.heads.mlp_classifier import MLPClassifier
    from espnet_ser.models.domain_head import DomainHead
    from espnet_ser.models.ser_model import ESPnetSERModel
    from espnet_ser.pooling.stats_pooling import StatsPooling

    torch.manual_seed(0)
    enc = CNNBiGRUEncoder(20, num_blocks=2, kernel_size=2, **SMALL)
    pooling = StatsPooling(input_size=enc.output_size())
    head_conf = dict(hidden_sizes=[16, 16], batch_norm=True, dropout=0.2)
    speaker = DomainHead(
        "speaker", "speaker", ["s1", "s2", "s3"],
        MLPClassifier(pooling.output_size(), 3, **head_conf),
        schedule="dann", schedule_conf={"gamma": 3.33}, attach="pooled",
    )
    model = ESPnetSERModel(
        emotion_labels=["ang", "neu", "sad"], encoder=enc, pooling=pooling,
        classifier=MLPClassifier(pooling.output_size(), 3, **head_conf),
        domain_heads=[speaker], total_steps=10,
    )
    # The 3-frame utterance pools to 1 frame: statistics pooling must stay finite.
    xs, ilens = _batch([40, 23, 3, 17])
    loss, stats, weight = model(
        xs, ilens, emotion=torch.tensor([0, 1, 2, -1]), speaker=torch.tensor([0, 1, 2, 0]),
        utt_id=["a", "b", "c", "d"],
    )
    assert torch.isfinite(loss) and stats["loss_speaker"] is not None
    loss.backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
