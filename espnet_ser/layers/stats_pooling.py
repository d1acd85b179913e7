"""Masked mean and statistics pooling over time (functional forms).

Statistics pooling concatenates the masked mean and standard deviation of the
valid frames.  The POPULATION variance is clamped at ``eps`` before the square
root, so a single valid frame gives std = sqrt(eps) (finite, with a finite
gradient) instead of NaN.

Example:
    >>> hs = torch.randn(2, 5, 3); lens = torch.tensor([5, 1])
    >>> masked_stats_pooling(hs, lens).shape
    torch.Size([2, 6])
"""

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask


def _check(hs: torch.Tensor, lens: torch.Tensor) -> None:
    if hs.dim() != 3:
        raise ValueError(f"pooling: expected (B, T, D), got shape {tuple(hs.shape)}")
    if lens.shape != (hs.size(0),):
        raise ValueError(
            f"pooling: lengths shape {tuple(lens.shape)} does not match batch {hs.size(0)}"
        )
    if bool((lens < 1).any()):
        raise ValueError(f"pooling: every length must be >= 1, got {lens.tolist()}")


def masked_mean_pooling(hs: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """Mean over the valid frames.

    Args:
        hs: Sequence (B, T, D).
        lens: Valid lengths (B,), each >= 1 (clamped to T).

    Returns:
        Means (B, D).
    """
    _check(hs, lens)
    lens = lens.clamp(max=hs.size(1))
    mask = (~make_pad_mask(lens, maxlen=hs.size(1))).unsqueeze(-1).to(hs.dtype)
    return (hs * mask).sum(dim=1) / lens.to(hs.dtype).unsqueeze(-1)


def masked_stats_pooling(
    hs: torch.Tensor, lens: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Concatenated mean and standard deviation over the valid frames.

    Args:
        hs: Sequence (B, T, D).
        lens: Valid lengths (B,), each >= 1 (clamped to T).
        eps: Floor of the population variance before the square root.

    Returns:
        ``[mean, std]`` (B, 2D).
    """
    _check(hs, lens)
    lens = lens.clamp(max=hs.size(1))
    mask = (~make_pad_mask(lens, maxlen=hs.size(1))).unsqueeze(-1).to(hs.dtype)
    n = lens.to(hs.dtype).unsqueeze(-1)
    mean = (hs * mask).sum(dim=1) / n
    # Two-pass variance (subtract the mean first): numerically safer than
    # E[x^2] - E[x]^2 for large activations.
    var = (((hs - mean.unsqueeze(1)) ** 2) * mask).sum(dim=1) / n
    std = var.clamp(min=eps).sqrt()
    return torch.cat([mean, std], dim=-1)
