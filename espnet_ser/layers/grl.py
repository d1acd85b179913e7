"""Gradient reversal layer (Ganin & Lempitsky, 2015).

Forward is the identity; backward multiplies the incoming gradient by
``-coeff``.  It is implemented as a ``torch.autograd.Function`` because autograd
never calls a ``backward()`` method defined on an ``nn.Module``.

With a GRL in front of a domain head the training loss ADDS the domain loss,
``L = L_emo + w * L_dom``: the head minimises ``L_dom`` while the layers below
the GRL receive ``-coeff * dL_dom/dx`` and so maximise it (the papers'
``L_y - lambda L_d`` is the encoder's view of the same update).

Example:
    >>> x = torch.ones(3, requires_grad=True)
    >>> grad_reverse(x, 0.5).sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000, -0.5000])
"""

import torch


class GradReverse(torch.autograd.Function):
    """Identity in the forward pass, ``-coeff * grad`` in the backward pass."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:  # noqa: D102
        ctx.coeff = float(coeff)
        # view_as: return a new tensor so autograd records this node even though
        # the values are unchanged.
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):  # noqa: D102
        return grad_output.neg() * ctx.coeff, None


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Apply gradient reversal.

    Args:
        x: Any tensor (B, ...).
        coeff: Reversal coefficient lambda >= 0 (0 blocks the gradient).

    Returns:
        ``x`` unchanged (B, ...), with the gradient scaled by ``-coeff``.
    """
    if coeff < 0:
        raise ValueError(
            f"grad_reverse: coeff must be >= 0 (the sign is already reversed), "
            f"got {coeff}"
        )
    return GradReverse.apply(x, coeff)


class GradientReversal(torch.nn.Module):
    """Module wrapper around :func:`grad_reverse` with a settable coefficient.

    Args:
        coeff: Initial coefficient; the model overwrites it every step from its
            schedule (``self.coeff = schedule(progress) * base_coeff``).
    """

    def __init__(self, coeff: float = 1.0):
        super().__init__()
        self.coeff = float(coeff)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reverse the gradient of ``x`` (B, ...) -> (B, ...)."""
        return grad_reverse(x, self.coeff)

    def extra_repr(self) -> str:
        return f"coeff={self.coeff}"
