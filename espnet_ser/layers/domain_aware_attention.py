"""Domain-aware frequency attention (ADARL, Fan et al., Eq. 4-5, Fig. 3).

From the domain pathway's feature maps ``F^D (N, C, F, T)``:
``I^D = sigmoid(W_2 ReLU(W_1 CP(TP(F^D))))``, with TP the (masked) average over
time, CP the average over channels and ``W_1: F -> F/2``, ``W_2: F/2 -> F``
(the squeeze-and-excitation shape).  ``I^D (N, F)`` re-weights the EMOTION
pathway's maps along frequency: ``f'^k = diag(I^D) f^k`` for every channel k.
F is read from the domain maps when the layer is built (the paper's 8 is what
its pooling leaves of 400 bins).

Example:
    >>> att = DomainAwareAttention(8)
    >>> w = att(torch.randn(2, 64, 8, 6), torch.tensor([6, 3]))
    >>> tuple(w.shape), bool(((w > 0) & (w < 1)).all())
    ((2, 8), True)
"""

import torch

from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

__all__ = ["DomainAwareAttention"]


class DomainAwareAttention(torch.nn.Module):
    """Time pooling -> channel pooling -> FC F -> F/2 -> ReLU -> FC F/2 -> F -> sigmoid.

    Args:
        num_freq: F, the frequency size of the domain feature maps.
        reduction: Bottleneck factor (paper: 2, i.e. F -> F/2 -> F).
    """

    def __init__(self, num_freq: int, reduction: int = 2):
        super().__init__()
        if num_freq < 1 or reduction < 1:
            raise ValueError(
                f"DomainAwareAttention: num_freq={num_freq} and reduction={reduction} must be >= 1"
            )
        self.num_freq = int(num_freq)
        hidden = max(1, self.num_freq // int(reduction))
        self.fc1 = torch.nn.Linear(self.num_freq, hidden)
        self.fc2 = torch.nn.Linear(hidden, self.num_freq)

    def forward(self, domain_maps: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        """(N, C, F, T) domain maps, (N,) valid frames -> (N, F) weights in (0, 1)."""
        if domain_maps.dim() != 4 or domain_maps.size(2) != self.num_freq:
            raise ValueError(
                f"DomainAwareAttention: expected (N, C, {self.num_freq}, T) maps, got {tuple(domain_maps.shape)}"
            )
        valid = (~make_pad_mask(lens, maxlen=domain_maps.size(3))).to(domain_maps.dtype)  # (N, T)
        tp = (domain_maps * valid[:, None, None, :]).sum(-1) / valid.sum(-1).clamp(min=1)[:, None, None]
        cp = tp.mean(1)  # (N, F)
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(cp))))

    @staticmethod
    def embed(emotion_maps: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Embed the domain knowledge: scale ``(N, C, F, T)`` maps by ``(N, F)`` weights."""
        if weights.shape != (emotion_maps.size(0), emotion_maps.size(2)):
            raise ValueError(
                f"DomainAwareAttention: weights {tuple(weights.shape)} do not match the emotion maps "
                f"{tuple(emotion_maps.shape)} (N, C, F, T): both pathways must pool frequency alike"
            )
        return emotion_maps * weights[:, None, :, None]
