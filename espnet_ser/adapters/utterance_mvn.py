"""Per-utterance mean/variance normalisation, registered as ``normalize: utterance_mvn``.

Stage 3 already writes normalised features (global / utterance / speaker), so
the default is no normalisation in the model; this is for feature dumps that
were not normalised.
"""

from typing import Tuple

import torch

from espnet_ser.layers.stats_pooling import make_valid_mask


class UtteranceMVN(torch.nn.Module):
    """Standardise each utterance with its own valid-frame statistics.

    Args:
        norm_means: Subtract the mean.
        norm_vars: Divide by the standard deviation.
        eps: Variance floor.
    """

    def __init__(self, norm_means: bool = True, norm_vars: bool = True, eps: float = 1e-10):
        super().__init__()
        self.norm_means = norm_means
        self.norm_vars = norm_vars
        self.eps = eps

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D), (B,) -> (B, T, D), (B,); padding frames stay zero."""
        lens = ilens.clamp(min=1, max=xs.size(1))
        mask = make_valid_mask(lens, xs.size(1)).unsqueeze(-1).to(xs.dtype)
        n = lens.to(xs.dtype)[:, None, None]
        mean = (xs * mask).sum(1, keepdim=True) / n
        out = xs - mean if self.norm_means else xs
        if self.norm_vars:
            var = (((xs - mean) ** 2) * mask).sum(1, keepdim=True) / n
            out = out / var.clamp(min=self.eps).sqrt()
        return out * mask, ilens
