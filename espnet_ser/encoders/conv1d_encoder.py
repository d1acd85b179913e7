"""Small 1-D convolutional encoder over time, registered as ``conv1d``.

A frame-level reference encoder for fbank/MFCC/log-spectrogram input: each
block is ``Conv1d(k, stride s, same padding) -> [BatchNorm] -> activation ->
Dropout``, channels along the feature axis.  Padding frames are zeroed before
every convolution and excluded from batch-norm statistics, so a valid frame's
output in eval mode does not depend on the rest of the batch.

Output length per block: ``L' = floor((L - 1) / s) + 1`` (same padding), so
every utterance keeps at least one frame.

Example:
    >>> enc = Conv1dEncoder(40, channels=[64, 64], kernel_sizes=[5, 3], strides=[1, 2])
    >>> hs, olens = enc(torch.randn(2, 100, 40), torch.tensor([100, 37]))
    >>> hs.shape, olens.tolist()
    (torch.Size([2, 50, 64]), [50, 19])
"""

from typing import Sequence, Tuple

import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.layers.nn_utils import apply_on_valid_frames, get_activation


class Conv1dEncoder(AbsEncoder):
    """Stack of 1-D convolution blocks over time.

    Args:
        input_size: Feature dimension D (input channels).
        channels: Output channels of each block.
        kernel_sizes: Kernel size of each block (odd, for symmetric padding).
        strides: Stride of each block along time.
        dropout: Dropout after each block.
        batch_norm: Masked BatchNorm1d after each convolution.
        activation: ESPnet's ``get_activation`` name (``espnet_ser.layers.nn_utils.ACTIVATIONS``).
    """

    def __init__(
        self,
        input_size: int,
        channels: Sequence[int] = (128, 128),
        kernel_sizes: Sequence[int] = (5, 3),
        strides: Sequence[int] = (1, 1),
        dropout: float = 0.1,
        batch_norm: bool = True,
        activation: str = "relu",
    ):
        super().__init__()
        if not len(channels) == len(kernel_sizes) == len(strides):
            raise ValueError(
                "conv1d encoder: channels, kernel_sizes and strides need the same "
                f"length, got {len(channels)}, {len(kernel_sizes)}, {len(strides)}"
            )
        for k in kernel_sizes:
            if k % 2 != 1:
                raise ValueError(f"conv1d encoder: kernel sizes must be odd, got {list(kernel_sizes)}")
        self.convs = torch.nn.ModuleList()
        self.norms = torch.nn.ModuleList()
        self.strides = [int(s) for s in strides]
        size = input_size
        for c, k, s in zip(channels, kernel_sizes, strides):
            self.convs.append(torch.nn.Conv1d(size, c, k, stride=s, padding=k // 2))
            self.norms.append(torch.nn.BatchNorm1d(c) if batch_norm else torch.nn.Identity())
            size = c
        self.act = get_activation(activation, "conv1d: activation")
        self.dropout = torch.nn.Dropout(dropout)
        self._output_size = size

    def output_size(self) -> int:
        return self._output_size

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D), (B,) -> (B, T', C), (B,)."""
        if xs.dim() != 3:
            raise ValueError(f"Conv1dEncoder: expected (B, T, D), got {tuple(xs.shape)}")
        lens = ilens.clamp(min=1, max=xs.size(1))
        hs = xs
        for conv, norm, s in zip(self.convs, self.norms, self.strides):
            hs = hs.masked_fill(make_pad_mask(lens, maxlen=hs.size(1)).unsqueeze(-1), 0.0)
            hs = conv(hs.transpose(1, 2)).transpose(1, 2)  # (B, T', C)
            lens = torch.div(lens - 1, s, rounding_mode="floor") + 1
            hs = apply_on_valid_frames(norm, hs, ~make_pad_mask(lens, maxlen=hs.size(1)))
            hs = self.dropout(self.act(hs))
        return hs.masked_fill(make_pad_mask(lens, maxlen=hs.size(1)).unsqueeze(-1), 0.0), lens
