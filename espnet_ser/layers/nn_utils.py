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
