"""Interface of the pooling layers registered in ``SERTask`` (``--pooling <name>``)."""

from abc import ABC, abstractmethod

import torch


class AbsPooling(torch.nn.Module, ABC):
    """Reduce an encoded sequence (B, T, D) to one vector per utterance (B, D'').

    Subclasses take ``input_size`` (the encoder's ``output_size()``) as their
    first constructor argument.
    """

    @abstractmethod
    def output_size(self) -> int:
        """Return D'', the size of the pooled vector."""
        raise NotImplementedError

    @abstractmethod
    def forward(self, hs: torch.Tensor, olens: torch.Tensor) -> torch.Tensor:
        """Pool the valid frames of each utterance.

        Args:
            hs: Encoded sequence (B, T, D); frames at or beyond ``olens[b]`` are
                padding and must not influence the result.
            olens: Valid lengths (B,), each >= 1.

        Returns:
            Pooled vectors (B, D'').
        """
        raise NotImplementedError
