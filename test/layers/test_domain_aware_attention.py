"""DomainAwareAttention (ADARL Eq. 4-5): TP -> CP -> FC F -> F/2 -> F -> sigmoid, along frequency."""

import pytest
import torch

from espnet_ser.layers.domain_aware_attention import DomainAwareAttention


def test_shapes_and_range():
    att = DomainAwareAttention(8)
    assert att.fc1.out_features == 4 and att.fc2.out_features == 8
    w = att(torch.randn(3, 64, 8, 6), torch.tensor([6, 2, 1]))
    assert w.shape == (3, 8) and bool(((w > 0) & (w < 1)).all())


def test_time_pooling_is_masked():
    torch.manual_seed(0)
    att = DomainAwareAttention(5)
    maps = torch.randn(1, 4, 5, 6)
    junk = maps.clone()
    junk[..., 3:] = 1e3  # padding frames
    lens = torch.tensor([3])
    torch.testing.assert_close(att(maps[..., :3], lens), att(junk, lens))


def test_embed_scales_each_frequency_row():
    maps = torch.ones(2, 3, 4, 5)
    w = torch.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 0.5, 0.0, 0.25]])
    out = DomainAwareAttention.embed(maps, w)
    torch.testing.assert_close(out[:, 1, :, 2], w)
    with pytest.raises(ValueError, match="pool frequency alike"):
        DomainAwareAttention.embed(maps, torch.ones(2, 3))


def test_wrong_frequency_size_is_an_error():
    with pytest.raises(ValueError, match=r"\(N, C, 8, T\)"):
        DomainAwareAttention(8)(torch.randn(1, 2, 7, 3), torch.tensor([3]))
