"""Reference encoders (mlp, conv1d): shapes, lengths, padding invariance, backward."""

import pytest
import torch

from espnet_ser.encoders.conv1d_encoder import Conv1dEncoder
from espnet_ser.encoders.mlp_encoder import MLPEncoder


def test_conv1d_shapes_lengths_backward():
    enc = Conv1dEncoder(40, channels=[16, 8], kernel_sizes=[5, 3], strides=[1, 2])
    xs = torch.randn(3, 100, 40, requires_grad=True)
    hs, olens = enc(xs, torch.tensor([100, 37, 1]))
    assert hs.shape == (3, 50, 8) and enc.output_size() == 8
    assert olens.tolist() == [50, 19, 1]
    assert (hs[1, 19:] == 0).all()
    hs.sum().backward()
    assert torch.isfinite(xs.grad).all() and (xs.grad[1, 37:] == 0).all()


def test_conv1d_eval_output_independent_of_padding():
    torch.manual_seed(0)
    enc = Conv1dEncoder(4, channels=[6], kernel_sizes=[3], strides=[1]).eval()
    a = torch.randn(1, 10, 4)
    batch = torch.cat([a, torch.randn(1, 10, 4)])
    alone, _ = enc(a[:, :7], torch.tensor([7]))
    both, _ = enc(batch, torch.tensor([7, 10]))
    torch.testing.assert_close(both[0, :7], alone[0])


def test_conv1d_config_errors():
    with pytest.raises(ValueError, match="same length"):
        Conv1dEncoder(4, channels=[4, 4], kernel_sizes=[3], strides=[1])
    with pytest.raises(ValueError, match="odd"):
        Conv1dEncoder(4, channels=[4], kernel_sizes=[2], strides=[1])


def test_mlp_on_functionals_and_frames():
    enc = MLPEncoder(88, hidden_sizes=[32, 16])
    xs = torch.randn(4, 1, 88, requires_grad=True)
    hs, olens = enc(xs, torch.ones(4, dtype=torch.long))
    assert hs.shape == (4, 1, 16) and enc.output_size() == 16
    hs.sum().backward()
    assert xs.grad.abs().sum() > 0
    hs, _ = enc(torch.randn(2, 5, 88), torch.tensor([5, 2]))
    assert (hs[1, 2:] == 0).all()
