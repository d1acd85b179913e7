"""Gradient reversal: sign and scale of the gradient, identity forward."""

import pytest
import torch

from espnet_ser.layers.grl import GradientReversal, GradReverse, grad_reverse


@pytest.mark.parametrize("coeff", [0.0, 0.3, 1.0, 2.5])
def test_grad_is_minus_coeff_times_plain_grad(coeff):
    torch.manual_seed(0)
    w = torch.randn(5, 3)
    x = torch.randn(4, 5, requires_grad=True)
    (torch.tanh(x @ w) ** 2).sum().backward()
    plain = x.grad.clone()
    x.grad = None
    (torch.tanh(grad_reverse(x, coeff) @ w) ** 2).sum().backward()
    torch.testing.assert_close(x.grad, -coeff * plain)


def test_forward_is_identity_and_module_uses_function():
    x = torch.randn(3, 4, requires_grad=True)
    layer = GradientReversal(0.7)
    y = layer(x)
    torch.testing.assert_close(y, x)
    # The reversal must be an autograd Function node, not an nn.Module.backward.
    assert y.grad_fn is not None and "GradReverse" in type(y.grad_fn).__name__
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, -0.7))
    assert issubclass(GradReverse, torch.autograd.Function)


def test_negative_coeff_rejected():
    with pytest.raises(ValueError, match="coeff"):
        grad_reverse(torch.zeros(1, requires_grad=True), -1.0)
