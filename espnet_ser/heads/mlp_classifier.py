"""MLP classifier head, registered as ``mlp`` (emotion and domain heads).

``N x [Linear -> BatchNorm (optional) -> Dropout -> ReLU] + Linear`` (Leow et
al. use N = 2 with BatchNorm for both the emotion and the speaker head;
N = 0 is a linear classifier).

Example:
    >>> head = MLPClassifier(256, 7, hidden_sizes=[128, 128])
    >>> head(torch.randn(8, 256)).shape
    torch.Size([8, 7])
"""

from typing import Sequence

import torch

from espnet_ser.heads.abs_classifier import AbsClassifier
from espnet_ser.layers.nn_utils import hidden_layers


class MLPClassifier(AbsClassifier):
    """Hidden layers followed by a linear output layer.

    Args:
        input_size: D of the input vector.
        num_classes: Number of classes C (1 only for a domain head whose stream has one
            class in a fold: its log-softmax is 0, so its loss and gradient are zero; the
            emotion inventory itself needs 2, checked by the task).
        hidden_sizes: Size of each hidden layer (empty = linear classifier).
        dropout: Dropout in each hidden layer.
        batch_norm: BatchNorm1d in each hidden layer.  With batch norm, train
            labelled and unlabelled data in ONE forward pass so the batch
            statistics are shared (the model does this).
        activation: ESPnet's ``get_activation`` name (``espnet_ser.layers.nn_utils.ACTIVATIONS``).
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        hidden_sizes: Sequence[int] = (),
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
    ):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"MLPClassifier: num_classes must be >= 1, got {num_classes}")
        layers = hidden_layers(input_size, hidden_sizes, batch_norm=batch_norm, dropout=dropout,
                               activation=activation, what="mlp classifier: activation", dropout_first=True)
        layers.append(torch.nn.Linear(hidden_sizes[-1] if len(hidden_sizes) else input_size, num_classes))
        self.net = torch.nn.Sequential(*layers)
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) -> logits (B, C)."""
        if x.dim() != 2:
            raise ValueError(f"MLPClassifier: expected (B, D), got {tuple(x.shape)}")
        return self.net(x)
