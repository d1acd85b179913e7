"""Multi-scale 2D convolution block (ADARL, Fan et al., Eq. 10 and Table 1).

``F_l = AvgPool(ReLU(BN([w_1 * F_{l-1}, w_2 * F_{l-1}])))``: the same input is
convolved with kernels of different sizes (``same`` padding, so the outputs
align), the maps are concatenated along the channel axis, batch-normalised,
rectified and average-pooled (stride = pooling size).  Inputs are
``(N, C, F, T)`` (frequency, time) spectrogram maps.

Example:
    >>> blk = MultiScaleConvBlock(3, 16, kernel_sizes=[(3, 3), (5, 5)], pool=(2, 2))
    >>> y, lens = blk(torch.randn(2, 3, 400, 300), torch.tensor([300, 120]))
    >>> tuple(y.shape), lens.tolist()
    ((2, 32, 200, 150), [150, 60])
"""

from typing import Sequence, Tuple

import torch

__all__ = ["MultiScaleConvBlock"]


def _pair(value, what: str) -> Tuple[int, int]:
    vals = [value, value] if isinstance(value, int) else list(value)
    if len(vals) != 2 or any(int(v) != v or v < 1 for v in vals):
        raise ValueError(f"MultiScaleConvBlock: {what}={value!r} must be a positive int or a pair of them")
    return int(vals[0]), int(vals[1])


class MultiScaleConvBlock(torch.nn.Module):
    """Parallel convolutions of several kernel sizes, concatenated, BN, ReLU, average pooling.

    Args:
        in_channels: Input channels.
        channels: Output channels of EACH kernel; the block outputs
            ``channels * len(kernel_sizes)``.
        kernel_sizes: One ``(k_freq, k_time)`` per parallel convolution (odd
            sizes keep the maps aligned exactly).
        pool: Average-pooling size ``(p_freq, p_time)`` = stride.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        kernel_sizes: Sequence = ((3, 3), (5, 5)),
        pool: Sequence[int] = (2, 2),
    ):
        super().__init__()
        if in_channels < 1 or channels < 1:
            raise ValueError(
                f"MultiScaleConvBlock: in_channels={in_channels} and channels={channels} must be >= 1"
            )
        kernels = [_pair(k, "kernel_sizes[]") for k in kernel_sizes]
        if not kernels:
            raise ValueError("MultiScaleConvBlock: kernel_sizes must name at least one kernel")
        for k in kernels:
            if k[0] % 2 == 0 or k[1] % 2 == 0:
                raise ValueError(f"MultiScaleConvBlock: kernel {k} must have odd sizes (same padding)")
        self.pool = _pair(pool, "pool")
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv2d(in_channels, channels, k, padding=(k[0] // 2, k[1] // 2)) for k in kernels
        )
        self.out_channels = channels * len(kernels)
        self.bn = torch.nn.BatchNorm2d(self.out_channels)
        self.avgpool = torch.nn.AvgPool2d(self.pool, stride=self.pool)

    def output_shape(self, freq: int, time: int) -> Tuple[int, int]:
        """``(F', T')`` of an ``(F, T)`` input."""
        return freq // self.pool[0], time // self.pool[1]

    def forward(self, x: torch.Tensor, lens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(N, C, F, T), (N,) -> (N, C', F', T'), (N,) valid frames after pooling (>= 1)."""
        if x.dim() != 4:
            raise ValueError(f"MultiScaleConvBlock: expected (N, C, F, T), got {tuple(x.shape)}")
        if x.size(2) < self.pool[0] or x.size(3) < self.pool[1]:
            raise ValueError(
                f"MultiScaleConvBlock: input {tuple(x.shape[2:])} (F, T) is smaller than the pooling "
                f"size {self.pool}; use fewer blocks, smaller pooling or longer segments"
            )
        y = torch.cat([conv(x) for conv in self.convs], dim=1)
        y = self.avgpool(torch.relu(self.bn(y)))
        return y, torch.div(lens, self.pool[1], rounding_mode="floor").clamp(min=1)
