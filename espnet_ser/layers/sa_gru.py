"""SA-GRU of Lian et al.: a biGRU over a dialogue's utterances plus multi-head self-attention.

``(B, U, d_in)`` fused utterance vectors in time order -> ``(B, U, 2 * hidden)``
context-dependent vectors.  The GRU runs packed over the valid utterances
(``run_packed_rnn``); the self-attention (``heads`` heads, model size
``2 * hidden``) masks padding keys, so an utterance never attends to padding and
its output does not depend on the padding of its batch.  Lian et al.: 50 units
per direction, 100-dimensional attention with 4 heads.

Example:
    >>> m = SAGRU(100)
    >>> m(torch.randn(2, 7, 100), torch.tensor([7, 4])).shape
    torch.Size([2, 7, 100])
"""

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.encoders.abs_encoder import run_packed_rnn


class SAGRU(torch.nn.Module):
    """biGRU + masked multi-head self-attention over utterances.

    Args:
        input_size: Size of the utterance vectors.
        hidden: GRU units per direction (output size ``2 * hidden``).
        heads: Attention heads (must divide ``2 * hidden``).
        dropout: Dropout on the GRU output and inside the attention.
        use_attention: False = biGRU only (ablation).
    """

    def __init__(self, input_size: int, hidden: int = 50, heads: int = 4, dropout: float = 0.2,
                 use_attention: bool = True):
        super().__init__()
        size = 2 * int(hidden)
        if use_attention and size % int(heads):
            raise ValueError(f"sa_gru: heads={heads} must divide the attention size 2*hidden={size}")
        self.gru = torch.nn.GRU(input_size, int(hidden), batch_first=True, bidirectional=True)
        self.dropout = torch.nn.Dropout(dropout)
        self.attn = (torch.nn.MultiheadAttention(size, int(heads), dropout=dropout, batch_first=True)
                     if use_attention else None)
        self.size = size

    def output_size(self) -> int:
        return self.size

    def forward(self, xs: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        """(B, U, d_in), lengths (B,) -> (B, U, 2 * hidden); padding positions are zero."""
        lens = lens.clamp(min=1)
        h = self.dropout(run_packed_rnn(self.gru, xs, lens))
        pad = make_pad_mask(lens, maxlen=xs.size(1)).to(xs.device)
        if self.attn is not None:
            h, _ = self.attn(h, h, h, key_padding_mask=pad, need_weights=False)
        return h.masked_fill(pad.unsqueeze(-1), 0.0)
