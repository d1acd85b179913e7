"""Interface of the classifier heads (emotion classifier and domain heads)."""

from abc import ABC, abstractmethod

import torch


class AbsClassifier(torch.nn.Module, ABC):
    """Map one vector per utterance (or segment) to class logits.

    Constructor contract: ``Cls(input_size, num_classes, **conf)``, where
    ``conf`` comes from ``--classifier_conf`` (emotion) or a domain head's
    ``classifier_conf`` entry.
    """

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify.

        Args:
            x: Input vectors (B, D).

        Returns:
            Unnormalised logits (B, C).
        """
        raise NotImplementedError
