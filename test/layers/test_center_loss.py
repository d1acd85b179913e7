"""Center loss: Wen et al.'s update on a hand-computed example, no gradients."""

import pytest
import torch

from espnet_ser.layers.center_loss import CenterLoss


def test_update_formula_hand_computed():
    closs = CenterLoss(num_classes=2, feat_dim=2, alpha=0.5)
    closs.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    x = torch.tensor([[2.0, 0.0], [0.0, 2.0], [3.0, 3.0], [9.0, 9.0]])
    y = torch.tensor([0, 0, 1, -1])  # last one unlabelled: ignored
    loss = closs(x, y)
    # loss before the update: 1/2 * mean(4, 4, 8)
    assert loss.item() == pytest.approx(0.5 * (4 + 4 + 8) / 3)
    # class 0: n=2, sum(c - x) = (-2, -2) -> delta = (-2/3, -2/3); c = 0 + 0.5*2/3
    # class 1: n=1, sum(c - x) = (-2, -2) -> delta = (-1, -1);     c = 1 + 0.5
    expected = torch.tensor([[1 / 3, 1 / 3], [1.5, 1.5]])
    torch.testing.assert_close(closs.centers, expected)


def test_centers_get_no_gradient_and_eval_does_not_update():
    closs = CenterLoss(3, 4)
    assert "centers" not in dict(closs.named_parameters())
    x = torch.randn(6, 4, requires_grad=True)
    loss = closs(x, torch.tensor([0, 1, 2, 0, 1, 2]))
    loss.backward()
    assert x.grad is not None and not closs.centers.requires_grad
    before = closs.centers.clone()
    closs.eval()
    closs(torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]))
    torch.testing.assert_close(closs.centers, before)


def test_all_unlabelled_gives_zero_and_bad_labels_raise():
    closs = CenterLoss(2, 3)
    x = torch.randn(2, 3, requires_grad=True)
    assert closs(x, torch.tensor([-1, -1])).item() == 0.0
    with pytest.raises(ValueError, match="labels"):
        closs(x, torch.tensor([0, 5]))
