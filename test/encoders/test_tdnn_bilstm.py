"""Tests of the TDNN + biLSTM baseline encoder (``tdnn_bilstm``, Tu et al. 2019)."""

import pytest
import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.encoders.tdnn_bilstm import TDNNBiLSTMEncoder
from espnet_ser.layers.stats_pooling import masked_stats_pooling

SMALL = dict(tdnn_units=(8, 8, 8), tdnn_kernels=(5, 3, 3), tdnn_dilations=(1, 2, 3),
             lstm_units=6, dropout=0.0)


def _batch(lengths, dim=20, seed=0, pad_value=0.0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.full((len(lengths), max(lengths), dim), pad_value)
    for i, n in enumerate(lengths):
        xs[i, :n] = torch.randn(n, dim, generator=g)
    return xs, torch.tensor(lengths)


@pytest.mark.parametrize(
    "conf",
    [
        {},  # the documented defaults (x-vector contexts, 256 units)
        SMALL,
        dict(tdnn_units=(8, 8), tdnn_kernels=(2, 4), tdnn_dilations=(1, 3), lstm_units=5,
             lstm_layers=2),
    ],
)
def test_shapes_and_olens(conf):
    torch.manual_seed(0)
    enc = TDNNBiLSTMEncoder(20, **conf)
    assert isinstance(enc, AbsEncoder)
    lengths = [33, 12, 1]
    hs, olens = enc(*_batch(lengths))
    assert hs.shape == (3, 33, enc.output_size())
    assert enc.output_size() == 2 * conf.get("lstm_units", 128)
    assert olens.tolist() == lengths
    for b, n in enumerate(lengths):
        assert torch.count_nonzero(hs[b, n:]) == 0
        assert torch.count_nonzero(hs[b, :n]) > 0


def test_backward_reaches_every_parameter():
    torch.manual_seed(0)
    enc = TDNNBiLSTMEncoder(20, **SMALL)
    xs, ilens = _batch([30, 17, 4])
    xs.requires_grad_(True)
    hs, olens = enc(xs, ilens)
    masked_stats_pooling(hs, olens).pow(2).sum().backward()
    assert torch.isfinite(xs.grad).all()
    for name, p in enc.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient"
    assert torch.count_nonzero(xs.grad[2, 4:]) == 0


def test_padded_batch_equals_single_utterances():
    torch.manual_seed(0)
    enc = TDNNBiLSTMEncoder(20, **SMALL)
    enc(*_batch([40, 25], seed=3))  # non-trivial BatchNorm running statistics
    enc.eval()
    lengths = [38, 21, 9]
    xs, ilens = _batch(lengths, pad_value=-4.0)
    with torch.no_grad():
        hs, _ = enc(xs, ilens)
        for b, n in enumerate(lengths):
            single, _ = enc(xs[b : b + 1, :n], ilens[b : b + 1])
            torch.testing.assert_close(hs[b, :n], single[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(tdnn_units=(8, 8), tdnn_kernels=(3,), tdnn_dilations=(1, 1)), "equal length"),
        (dict(tdnn_units=(), tdnn_kernels=(), tdnn_dilations=()), "non-empty"),
        (dict(tdnn_kernels=(5, 3, 0, 1, 1)), "tdnn_kernels"),
        (dict(lstm_units=0), "lstm_units"),
        (dict(dropout=-0.1), "dropout"),
    ],
)
def test_bad_options(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        TDNNBiLSTMEncoder(20, **kwargs)


def test_wrong_feature_dimension():
    enc = TDNNBiLSTMEncoder(20, **SMALL)
    with pytest.raises(ValueError, match=r"\(B, T, 20\)"):
        enc(*_batch([10], dim=40))
