"""Identity adapter, registered as ``identity`` (one unit per utterance)."""

from typing import Tuple

import torch

from espnet_ser.adapters.abs_adapter import AbsAdapter


class IdentityAdapter(AbsAdapter):
    """Pass the batch through; lengths are clamped to >= 1."""

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, D), (B,) -> (B, T, D), (B,), (B,)."""
        return xs, ilens.clamp(min=1), torch.arange(xs.size(0), device=xs.device)
