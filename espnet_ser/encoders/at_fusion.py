"""AT-Fusion of Lian et al.: attention over modalities, registered as encoder ``at_fusion``.

Input: one utterance vector per position, the modalities concatenated along the
last axis (``(B, U, D_a + D_t)`` for a dialogue of U utterances with acoustic
and lexical vectors; ``modality_dims`` gives the split).  Each modality m is
projected to ``d`` by its own fully connected layer, ``x_m = W_m u_m``; then

    alpha = softmax over the MODALITY axis of w_F^T tanh(W_F x_m)      (M weights)
    f     = sum_m alpha_m x_m                                           (d)

(Lian et al., Eqs. (1)-(3): the fused vector is the ``d x M`` matrix of projected
modalities times ``alpha^T``).  The softmax runs over the M modalities of each
utterance, never over a size-1 axis (that would make every weight 1).

``modalities`` selects a subset (e.g. ``[audio]`` for the audio-only baseline;
with one modality alpha = 1 and f is its projection).  The last weights are kept
in ``self.last_alpha`` (B, U, M) for the attention plot.

Example:
    >>> enc = ATFusionEncoder(10, modality_dims=[6, 4], d=8)
    >>> hs, olens = enc(torch.randn(2, 5, 10), torch.tensor([5, 3]))
    >>> hs.shape, enc.last_alpha.shape
    (torch.Size([2, 5, 8]), torch.Size([2, 5, 2]))
"""

from typing import List, Optional, Sequence, Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.layers.modality_projections import ModalityProjections


class ATFusionEncoder(AbsEncoder):
    """Project each modality to ``d`` and fuse with attention over modalities.

    Args:
        input_size: Total feature dimension (sum of ``modality_dims``).
        modality_dims: Dimension of each modality, in feature order.
        modality_names: Name of each modality (default ``audio``, ``text``).
        modalities: Modalities used (default: all); a single one = unimodal baseline.
        d: Common size of the projections and of the output.
        attention_size: Size of ``W_F`` (default ``d``).
        dropout: Dropout on the fused vector.
    """

    def __init__(
        self,
        input_size: int,
        modality_dims: Sequence[int] = (6373, 384),
        modality_names: Sequence[str] = ("audio", "text"),
        modalities: Optional[Sequence[str]] = None,
        d: int = 100,
        attention_size: Optional[int] = None,
        dropout: float = 0.2,
    ):
        super().__init__()
        self.d = int(d)
        self.project = ModalityProjections(input_size, modality_dims, modality_names, modalities, d, "at_fusion")
        self.w_F = torch.nn.Linear(self.d, attention_size or self.d)           # W_F
        self.v_F = torch.nn.Linear(attention_size or self.d, 1, bias=False)    # w_F^T
        self.dropout = torch.nn.Dropout(dropout)
        self.last_alpha: Optional[torch.Tensor] = None

    @property
    def modality_names(self) -> List[str]:
        """Names of the fused modalities, in the order of the last axis of ``last_alpha``."""
        return [n for n, _, _ in self.project.parts]

    def output_size(self) -> int:
        return self.d

    def attention(self, xm: torch.Tensor) -> torch.Tensor:
        """(B, U, M, d) -> modality weights (B, U, M), summing to 1 over M."""
        scores = self.v_F(torch.tanh(self.w_F(xm))).squeeze(-1)  # (B, U, M)
        return torch.softmax(scores, dim=-1)

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, U, D) -> fused (B, U, d); padding positions are zero."""
        xm = self.project(xs)
        alpha = self.attention(xm)
        fused = (alpha.unsqueeze(-1) * xm).sum(dim=-2)
        pad = make_pad_mask(ilens, maxlen=xs.size(1)).to(xs.device)
        fused = self.dropout(fused).masked_fill(pad.unsqueeze(-1), 0.0)
        self.last_alpha = alpha.detach().masked_fill(pad.unsqueeze(-1), 0.0)
        return fused, ilens.clamp(min=1)
