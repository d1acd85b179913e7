"""Interface of the encoders registered in ``SERTask`` (``--encoder <name>``)."""

from abc import ABC, abstractmethod
from typing import Tuple

import torch


class AbsEncoder(torch.nn.Module, ABC):
    """Frame-level (or utterance-level, T = 1) sequence encoder.

    Subclasses take ``input_size`` (the feature dimension D) as their first
    constructor argument; the task passes it, the rest comes from
    ``--encoder_conf`` / the ``encoder_conf:`` YAML block.
    """

    @abstractmethod
    def output_size(self) -> int:
        """Return D', the size of the last axis of the encoder output."""
        raise NotImplementedError

    @abstractmethod
    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: Padded input features (B, T, D); frames at or beyond
                ``ilens[b]`` are padding.
            ilens: Valid lengths (B,), int64.

        Returns:
            hs: Encoded sequence (B, T', D').
            olens: Valid output lengths (B,), each at least 1 so that pooling
                over an utterance is always defined.
        """
        raise NotImplementedError
