"""Masked pooling: padding ignored, one frame finite with finite gradients."""

import pytest
import torch

from espnet_ser.layers.stats_pooling import masked_mean_pooling, masked_stats_pooling
from espnet_ser.pooling.mean_pooling import MeanPooling
from espnet_ser.pooling.stats_pooling import StatsPooling


def test_one_frame_is_finite_with_finite_grad():
    hs = torch.randn(2, 5, 3, requires_grad=True)
    out = StatsPooling(3)(hs, torch.tensor([1, 5]))
    assert out.shape == (2, 6) and torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(hs.grad).all()


def test_padding_is_ignored():
    torch.manual_seed(0)
    a = torch.randn(1, 4, 3)
    padded = torch.cat([a, 100 * torch.randn(1, 6, 3)], dim=1)
    torch.testing.assert_close(
        masked_stats_pooling(padded, torch.tensor([4])), masked_stats_pooling(a, torch.tensor([4]))
    )
    ref = torch.cat([a.mean(1), a.var(1, unbiased=False).sqrt()], -1)
    torch.testing.assert_close(masked_stats_pooling(a, torch.tensor([4])), ref)
    torch.testing.assert_close(MeanPooling(3)(padded, torch.tensor([4])), a.mean(1))


def test_zero_length_rejected():
    with pytest.raises(ValueError, match=">= 1"):
        masked_mean_pooling(torch.randn(2, 3, 4), torch.tensor([0, 3]))
