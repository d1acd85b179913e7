"""Frame-wise MLP encoder, registered as ``mlp``.

Meant for utterance-level functionals (openSMILE ComParE/eGeMAPS, sentence
embeddings), which arrive as (B, 1, D): each layer is
``Linear -> [BatchNorm] -> activation -> Dropout``.  On frame-level input the
same MLP is applied to every valid frame; padding frames stay zero and do not
enter batch-norm statistics.

Example:
    >>> enc = MLPEncoder(6373, hidden_sizes=[256, 100])
    >>> hs, olens = enc(torch.randn(4, 1, 6373), torch.ones(4, dtype=torch.long))
    >>> hs.shape
    torch.Size([4, 1, 100])
"""

from typing import Sequence, Tuple

import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.layers.nn_utils import apply_on_valid_frames, hidden_layers


class MLPEncoder(AbsEncoder):
    """Stack of fully connected layers applied to each valid frame.

    Args:
        input_size: Feature dimension D.
        hidden_sizes: Output size of each layer; empty = identity.
        dropout: Dropout after each layer.
        batch_norm: BatchNorm1d after each Linear.
        activation: ESPnet's ``get_activation`` name (``espnet_ser.layers.nn_utils.ACTIVATIONS``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int] = (256,),
        dropout: float = 0.2,
        batch_norm: bool = True,
        activation: str = "relu",
    ):
        super().__init__()
        self.net = torch.nn.Sequential(*hidden_layers(
            input_size, hidden_sizes, batch_norm=batch_norm, dropout=dropout, activation=activation,
            what="mlp encoder: activation"))
        self._output_size = hidden_sizes[-1] if len(hidden_sizes) else input_size

    def output_size(self) -> int:
        return self._output_size

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D), (B,) -> (B, T, H), (B,)."""
        if xs.dim() != 3:
            raise ValueError(f"MLPEncoder: expected (B, T, D), got {tuple(xs.shape)}")
        return apply_on_valid_frames(self.net, xs, ~make_pad_mask(ilens, maxlen=xs.size(1))), ilens
