"""Tests of the CNN + BLSTM segment encoder of Gao et al. (``cnn_blstm``)."""

import pytest
import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.encoders.cnn_blstm import CNNBLSTMEncoder
from espnet_ser.layers.stats_pooling import masked_mean_pooling


def _batch(lengths, dim=129, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.zeros(len(lengths), max(lengths), dim)
    for i, n in enumerate(lengths):
        xs[i, :n] = torch.randn(n, dim, generator=g)
    return xs, torch.tensor(lengths)


def test_segment_shapes_and_zero_padding():
    torch.manual_seed(0)
    enc = CNNBLSTMEncoder(129)
    assert isinstance(enc, AbsEncoder) and enc.output_size() == 128
    # 32 frames x 129 bins -> 8 steps; 129 // 4 // 4 = 8 bins x 32 channels into the BLSTM.
    assert enc.lstm.input_size == 32 * 8
    hs, olens = enc(*_batch([32, 32, 20]))
    assert hs.shape == (3, 8, 128) and olens.tolist() == [8, 8, 5]
    assert torch.count_nonzero(hs[2, 5:]) == 0 and torch.count_nonzero(hs[2, :5]) > 0


def test_eval_output_independent_of_batch_padding():
    torch.manual_seed(0)
    enc = CNNBLSTMEncoder(129, channels=[4, 6], lstm_units=5).eval()
    xs, ilens = _batch([32, 20])
    hs, olens = enc(xs, ilens)
    alone, _ = enc(xs[1:, :20], ilens[1:])
    torch.testing.assert_close(hs[1, : int(olens[1])], alone[0, : int(olens[1])])


def test_backward_reaches_every_parameter():
    torch.manual_seed(0)
    enc = CNNBLSTMEncoder(129, channels=[4, 6], lstm_units=5)
    xs, ilens = _batch([32, 17, 32])
    xs.requires_grad_(True)
    hs, olens = enc(xs, ilens)
    masked_mean_pooling(hs, olens).pow(2).sum().backward()
    assert torch.isfinite(xs.grad).all()
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.count_nonzero(p.grad) > 0, name


def test_short_input_padded_or_rejected():
    enc = CNNBLSTMEncoder(129, channels=[4, 6], lstm_units=5)
    hs, olens = enc(*_batch([3, 2]))
    assert olens.tolist() == [1, 1] and hs.shape[1] == 1
    strict = CNNBLSTMEncoder(129, channels=[4, 6], lstm_units=5, short_utterance="error")
    with pytest.raises(ValueError, match="needs at least 4"):
        strict(*_batch([3, 2]))


@pytest.mark.parametrize("kwargs, match", [
    (dict(channels=[4], pool_time=[2, 2], pool_freq=[2, 2]), "same length"),
    (dict(pool_freq=[64, 64]), "pools input_size"),
    (dict(lstm_units=0), "lstm_units"),
])
def test_bad_options_are_one_line_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CNNBLSTMEncoder(129, **kwargs)
