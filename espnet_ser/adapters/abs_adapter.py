"""Interface of the input adapters registered in ``SERTask`` (``--adapter``)."""

from abc import ABC, abstractmethod
from typing import Tuple

import torch


class AbsAdapter(torch.nn.Module, ABC):
    """Map utterances to the units the encoder sees (utterances or segments)."""

    @abstractmethod
    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cut or pass through a padded batch.

        Args:
            xs: Features (B, T, D).
            ilens: Valid lengths (B,).

        Returns:
            units: Encoder inputs (N, T', D), N >= B.
            unit_lens: Valid lengths (N,), each >= 1.
            unit2utt: Index of the source utterance of each unit (N,), sorted,
                covering every utterance 0..B-1 at least once.
        """
        raise NotImplementedError
