"""Concatenation fusion (the baseline of AT-Fusion in Lian et al.), encoder ``concat_fusion``.

Each modality is projected to ``d`` as in :class:`~espnet_ser.encoders.at_fusion.ATFusionEncoder`;
the projections are concatenated and mapped back to ``d`` by one fully connected
layer (so the context layers above see the same size as with AT-Fusion).

Example:
    >>> enc = ConcatFusionEncoder(10, modality_dims=[6, 4], d=8)
    >>> enc(torch.randn(2, 5, 10), torch.tensor([5, 3]))[0].shape
    torch.Size([2, 5, 8])
"""

from typing import Optional, Sequence, Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.layers.modality_projections import ModalityProjections


class ConcatFusionEncoder(AbsEncoder):
    """Project each modality to ``d``, concatenate, map to ``d``.

    Args:
        input_size: Total feature dimension (sum of ``modality_dims``).
        modality_dims: Dimension of each modality, in feature order.
        modality_names: Name of each modality.
        modalities: Modalities used (default: all).
        d: Projection and output size.
        dropout: Dropout on the output.
    """

    def __init__(
        self,
        input_size: int,
        modality_dims: Sequence[int] = (6373, 384),
        modality_names: Sequence[str] = ("audio", "text"),
        modalities: Optional[Sequence[str]] = None,
        d: int = 100,
        dropout: float = 0.2,
    ):
        super().__init__()
        self.d = int(d)
        self.project = ModalityProjections(input_size, modality_dims, modality_names, modalities, d,
                                           "concat_fusion")
        self.out = torch.nn.Linear(self.d * len(self.project.parts), self.d)
        self.dropout = torch.nn.Dropout(dropout)

    def output_size(self) -> int:
        return self.d

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, U, D) -> (B, U, d); padding positions are zero."""
        cat = self.project(xs).flatten(-2)  # (B, U, M * d)
        h = self.dropout(torch.tanh(self.out(cat)))
        pad = make_pad_mask(ilens, maxlen=xs.size(1)).to(xs.device)
        return h.masked_fill(pad.unsqueeze(-1), 0.0), ilens.clamp(min=1)
