"""Helpers shared by the reference encoders and heads: activations, masks, masked per-frame modules.

Activations and padding masks are ESPnet's (``espnet.nets.pytorch_backend.nets_utils``):
:func:`get_activation` only turns ESPnet's ``KeyError`` for an unknown name into
a one-line error with the choices; valid-frame masks are ``~make_pad_mask(lens,
maxlen=T)`` (lengths in 1..T).
"""

import torch
from espnet.nets.pytorch_backend.nets_utils import get_activation as _espnet_get_activation

#: The names ESPnet's ``get_activation`` knows.
ACTIVATIONS = ("hardtanh", "relu", "selu", "swish", "tanh")


def get_activation(name: str, what: str = "activation") -> torch.nn.Module:
    """A new activation module from ESPnet's ``get_activation``.

    Args:
        name: One of :data:`ACTIVATIONS`.
        what: Option name for the error message (e.g. ``encoder_conf.activation``).

    Raises:
        ValueError: An unknown name (the message lists the choices).
    """
    try:
        return _espnet_get_activation(name)
    except KeyError:
        raise ValueError(f"{what}: unknown activation {name!r}; choose one of {list(ACTIVATIONS)}") from None


def hidden_layers(
    input_size: int,
    hidden_sizes,
    *,
    batch_norm: bool,
    dropout: float,
    activation: str,
    what: str,
    dropout_first: bool = False,
) -> list:
    """``[Linear -> (BatchNorm1d) -> activation -> Dropout] x N`` as a list of modules.

    Shared by the MLP encoder and the MLP classifier head.

    Args:
        input_size: Input size of the first layer.
        hidden_sizes: Size of each hidden layer.
        batch_norm: BatchNorm1d after each Linear.
        dropout: Dropout probability.
        activation: ESPnet activation name (:data:`ACTIVATIONS`).
        what: Option name for errors.
        dropout_first: Dropout before the activation (the classifier's order; for
            ReLU both orders give the same values).
    """
    layers = []
    size = input_size
    for h in hidden_sizes:
        layers.append(torch.nn.Linear(size, h))
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(h))
        pair = [get_activation(activation, what), torch.nn.Dropout(dropout)]
        layers += pair[::-1] if dropout_first else pair
        size = h
    return layers


def apply_on_valid_frames(
    module: torch.nn.Module, xs: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Apply a per-frame module (e.g. BatchNorm1d on (N, C)) to valid frames only.

    Padding frames stay zero and do not enter batch-norm statistics, so an
    utterance's output does not depend on how much padding its batch has.

    Args:
        module: Maps (N, C) -> (N, C').
        xs: Padded sequence (B, T, C).
        mask: Valid-frame mask (B, T), bool.

    Returns:
        (B, T, C') with zeros on padding frames.
    """
    valid = module(xs[mask])
    out = xs.new_zeros(xs.size(0), xs.size(1), valid.size(-1))
    out[mask] = valid
    return out
