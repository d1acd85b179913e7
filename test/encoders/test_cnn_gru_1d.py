"""Tests of the 1D CNN + GRU baseline encoder (``cnn_gru_1d``, Li et al. 2020)."""

import pytest
import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.encoders.cnn_gru_1d import CNNGRU1DEncoder
from espnet_ser.layers.stats_pooling import masked_stats_pooling

SMALL = dict(channels=8, gru_units=6, dropout=0.0)


def _batch(lengths, dim=42, seed=0, pad_value=0.0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.full((len(lengths), max(lengths), dim), pad_value)
    for i, n in enumerate(lengths):
        xs[i, :n] = torch.randn(n, dim, generator=g)
    return xs, torch.tensor(lengths)


@pytest.mark.parametrize("num_blocks", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size", [5, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_shapes_and_olens(num_blocks, kernel_size, bidirectional):
    torch.manual_seed(0)
    enc = CNNGRU1DEncoder(42, num_blocks=num_blocks, kernel_size=kernel_size,
                          bidirectional=bidirectional, **SMALL)
    assert isinstance(enc, AbsEncoder)
    lengths = [70, 41, 16]
    hs, olens = enc(*_batch(lengths))
    factor = 2**num_blocks
    assert hs.shape == (3, 70 // factor, enc.output_size())
    assert enc.output_size() == SMALL["gru_units"] * (2 if bidirectional else 1)
    assert olens.tolist() == [n // factor for n in lengths]
    for b, n in enumerate(olens.tolist()):
        assert torch.count_nonzero(hs[b, n:]) == 0
        assert torch.count_nonzero(hs[b, :n]) > 0


def test_pool_size_three():
    enc = CNNGRU1DEncoder(42, num_blocks=2, pool_size=3, **SMALL)
    hs, olens = enc(*_batch([50, 20]))
    assert hs.shape[1] == 50 // 9
    assert olens.tolist() == [50 // 9, 20 // 9]


def test_backward_reaches_every_parameter():
    torch.manual_seed(0)
    enc = CNNGRU1DEncoder(42, num_blocks=2, bidirectional=True, **SMALL)
    xs, ilens = _batch([40, 23, 8])
    xs.requires_grad_(True)
    hs, olens = enc(xs, ilens)
    masked_stats_pooling(hs, olens).pow(2).sum().backward()
    assert torch.isfinite(xs.grad).all()
    for name, p in enc.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient"
    assert torch.count_nonzero(xs.grad[2, 8:]) == 0


@pytest.mark.parametrize("kernel_size", [5, 2])
def test_padded_batch_equals_single_utterances(kernel_size):
    torch.manual_seed(0)
    enc = CNNGRU1DEncoder(42, num_blocks=3, kernel_size=kernel_size, **SMALL)
    enc(*_batch([40, 25], seed=3))  # non-trivial BatchNorm running statistics
    enc.eval()
    lengths = [47, 30, 11]
    xs, ilens = _batch(lengths, pad_value=3.0)
    with torch.no_grad():
        hs, olens = enc(xs, ilens)
        for b, n in enumerate(lengths):
            single, slen = enc(xs[b : b + 1, :n], ilens[b : b + 1])
            assert slen.item() == olens[b].item()
            torch.testing.assert_close(hs[b, : slen.item()], single[0], atol=1e-5, rtol=1e-4)


def test_short_utterances():
    enc = CNNGRU1DEncoder(42, num_blocks=3, short_utterance="error", **SMALL)
    with pytest.raises(ValueError, match=r"has 5 frames.*at least 8"):
        enc(*_batch([20, 5]))
    enc = CNNGRU1DEncoder(42, num_blocks=3, **SMALL).eval()
    with torch.no_grad():
        hs, olens = enc(*_batch([5, 3]))
    assert olens.tolist() == [1, 1]
    assert hs.shape == (2, 1, enc.output_size())


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_blocks=0), "num_blocks"),
        (dict(pool_size=0), "pool_size"),
        (dict(dropout=2.0), "dropout"),
        (dict(short_utterance="skip"), "short_utterance"),
    ],
)
def test_bad_options(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        CNNGRU1DEncoder(42, **kwargs)


def test_wrong_feature_dimension():
    enc = CNNGRU1DEncoder(42, **SMALL)
    with pytest.raises(ValueError, match=r"\(B, T, 42\)"):
        enc(*_batch([20], dim=20))
