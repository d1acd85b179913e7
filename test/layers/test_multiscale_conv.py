"""MultiScaleConvBlock (ADARL Eq. 10): parallel kernels, concatenation, BN, ReLU, average pooling."""

import pytest
import torch

from espnet_ser.layers.multiscale_conv import MultiScaleConvBlock


def test_shapes_channels_and_lengths():
    blk = MultiScaleConvBlock(3, 16, kernel_sizes=[(3, 3), (5, 5)], pool=(2, 2))
    y, lens = blk(torch.randn(2, 3, 40, 30), torch.tensor([30, 7]))
    assert y.shape == (2, 32, 20, 15) and blk.out_channels == 32
    assert lens.tolist() == [15, 3] and blk.output_shape(40, 30) == (20, 15)
    # Average pooling of ReLU output: non-negative.
    assert bool((y >= 0).all())


def test_each_kernel_fills_its_own_channels():
    torch.manual_seed(0)
    blk = MultiScaleConvBlock(1, 2, kernel_sizes=[(1, 1), (5, 5)], pool=(1, 1)).eval()
    # Zero the 5x5 kernel: its channels then carry only its bias -> constant maps.
    with torch.no_grad():
        blk.convs[1].weight.zero_()
    y, _ = blk(torch.randn(1, 1, 6, 6), torch.tensor([6]))
    assert y[0, 2:].std(dim=(-1, -2)).max() < 1e-6 and y[0, :2].std() > 0


def test_backward_reaches_every_kernel():
    blk = MultiScaleConvBlock(3, 4, pool=(2, 3))
    x = torch.randn(3, 3, 12, 12, requires_grad=True)
    y, _ = blk(x, torch.tensor([12, 12, 5]))
    y.sum().backward()
    assert x.grad is not None and all(c.weight.grad.abs().sum() > 0 for c in blk.convs)


@pytest.mark.parametrize("kw,msg", [
    (dict(kernel_sizes=[(2, 2)]), "odd"),
    (dict(kernel_sizes=[]), "at least one"),
    (dict(pool=(0, 2)), "pool"),
])
def test_bad_options(kw, msg):
    with pytest.raises(ValueError, match=msg):
        MultiScaleConvBlock(1, 2, **kw)


def test_input_smaller_than_pool_is_a_clear_error():
    with pytest.raises(ValueError, match="smaller than the pooling"):
        MultiScaleConvBlock(1, 2, pool=(6, 6))(torch.randn(1, 1, 4, 10), torch.tensor([10]))
