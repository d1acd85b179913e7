"""Helpers shared by the reference encoders and heads: activations, masked per-frame modules."""

import torch

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "tanh": torch.nn.Tanh,
    "gelu": torch.nn.GELU,
}


def build_activation(name: str) -> torch.nn.Module:
    """Return a new activation module by name (one of ``ACTIVATIONS``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}': choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


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
