"""MLP classifier head: layer order, shapes, backward."""

import pytest
import torch

from espnet_ser.heads.mlp_classifier import MLPClassifier


def test_shapes_order_backward():
    head = MLPClassifier(32, 5, hidden_sizes=[16, 8], batch_norm=True, dropout=0.1)
    kinds = [type(m).__name__ for m in head.net]
    assert kinds == ["Linear", "BatchNorm1d", "Dropout", "ReLU"] * 2 + ["Linear"]
    x = torch.randn(6, 32, requires_grad=True)
    out = head(x)
    assert out.shape == (6, 5)
    out.sum().backward()
    assert x.grad.abs().sum() > 0


def test_linear_and_errors():
    assert len(MLPClassifier(4, 3).net) == 1
    with pytest.raises(ValueError, match="num_classes"):
        MLPClassifier(4, 0)
    # One class: a constant domain head (log-softmax 0), e.g. the language of an all-English fold.
    assert torch.log_softmax(MLPClassifier(4, 1)(torch.randn(2, 4)), -1).abs().max() == 0
    with pytest.raises(ValueError, match=r"\(B, D\)"):
        MLPClassifier(4, 3)(torch.randn(2, 3, 4))
