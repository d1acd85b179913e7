"""Statistics pooling (masked mean + std), registered as ``stats``."""

import torch

from espnet_ser.layers.stats_pooling import masked_stats_pooling
from espnet_ser.pooling.abs_pooling import AbsPooling


class StatsPooling(AbsPooling):
    """Concatenate the mean and standard deviation of the valid frames.

    Population variance clamped at ``eps`` before the square root, so a
    one-frame utterance gives a finite output and finite gradients.

    Args:
        input_size: D of the encoder output.
        eps: Variance floor.

    Example:
        >>> StatsPooling(4)(torch.randn(2, 7, 4), torch.tensor([7, 1])).shape
        torch.Size([2, 8])
    """

    def __init__(self, input_size: int, eps: float = 1e-5):
        super().__init__()
        self.input_size = input_size
        self.eps = eps

    def output_size(self) -> int:
        return 2 * self.input_size

    def forward(self, hs: torch.Tensor, olens: torch.Tensor) -> torch.Tensor:
        """(B, T, D), (B,) -> (B, 2D)."""
        return masked_stats_pooling(hs, olens, self.eps)
