"""Masked mean pooling, registered as ``mean`` (identity for T = 1 inputs)."""

import torch

from espnet_ser.layers.stats_pooling import masked_mean_pooling
from espnet_ser.pooling.abs_pooling import AbsPooling


class MeanPooling(AbsPooling):
    """Average the valid frames.

    Args:
        input_size: D of the encoder output.

    Example:
        >>> MeanPooling(4)(torch.randn(2, 7, 4), torch.tensor([7, 1])).shape
        torch.Size([2, 4])
    """

    def __init__(self, input_size: int):
        super().__init__()
        self.input_size = input_size

    def output_size(self) -> int:
        return self.input_size

    def forward(self, hs: torch.Tensor, olens: torch.Tensor) -> torch.Tensor:
        """(B, T, D), (B,) -> (B, D)."""
        return masked_mean_pooling(hs, olens)
