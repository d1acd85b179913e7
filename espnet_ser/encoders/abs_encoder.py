"""Interface of the encoders registered in ``SERTask`` (``--encoder <name>``)."""

import logging
from abc import ABC, abstractmethod
from typing import Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask


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


SHORT_UTTERANCE_POLICIES = ("pad", "error")


def check_encoder_options(
    name: str, positive_ints: dict, dropout: float, short_utterance: str = "pad"
) -> None:
    """Validate constructor options shared by the frame-level encoders.

    Args:
        name: Encoder name used in error messages.
        positive_ints: Option name -> value; each must be a positive integer.
        dropout: Must be in [0, 1).
        short_utterance: One of :data:`SHORT_UTTERANCE_POLICIES`.

    Raises:
        ValueError: Naming the offending option and its value.
    """
    for key, value in positive_ints.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: {key}={value!r} must be a positive integer")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name}: dropout={dropout} must be in [0, 1)")
    if short_utterance not in SHORT_UTTERANCE_POLICIES:
        raise ValueError(
            f"{name}: short_utterance={short_utterance!r}; "
            f"choose one of {SHORT_UTTERANCE_POLICIES}"
        )


def check_and_mask_input(
    name: str, xs: torch.Tensor, ilens: torch.Tensor, input_size: int
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validate a padded batch and zero its padding frames.

    Shared by the frame-level encoders: the collate pads with zeros, but a
    caller's padding must not leak into valid frames through convolutions.

    Args:
        name: Encoder name used in error messages (e.g. ``"cnn_bigru"``).
        xs: Features (B, T, D).
        ilens: Valid lengths (B,).
        input_size: Expected D.

    Returns:
        xs: Features with padding frames set to 0, (B, T, D).
        lens: Lengths as int64 on ``xs.device``, (B,).
        valid: Mask of valid frames, (B, T) bool.

    Raises:
        ValueError: Wrong rank or feature size, ilens not matching the batch,
            or a length outside 1..T (all values named in the message).
    """
    if xs.dim() != 3 or xs.size(2) != input_size:
        raise ValueError(
            f"{name}: expected features (B, T, {input_size}), got "
            f"{tuple(xs.shape)}; set encoder_conf.input_size or check the "
            "feature dimension"
        )
    if ilens.dim() != 1 or ilens.size(0) != xs.size(0):
        raise ValueError(
            f"{name}: ilens shape {tuple(ilens.shape)} does not match "
            f"batch size {xs.size(0)}"
        )
    lens = ilens.to(device=xs.device, dtype=torch.long)
    if int(lens.min()) < 1 or int(lens.max()) > xs.size(1):
        raise ValueError(f"{name}: ilens must be in 1..T={xs.size(1)}, got {lens.tolist()}")
    valid = ~make_pad_mask(lens, maxlen=xs.size(1))
    return xs * valid[:, :, None].to(xs.dtype), lens, valid


def apply_short_utterance_policy(
    encoder: torch.nn.Module, name: str, xs: torch.Tensor, lens: torch.Tensor, needed_by: str
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Handle utterances shorter than a subsampling encoder's ``min_length``.

    Shared by the encoders that pool over time (``cnn_bigru``, ``cnn_gru_1d``):
    with ``encoder.short_utterance == "error"`` a short utterance is an error;
    with ``"pad"`` its length is raised to ``min_length`` (zero frames, logged
    once per encoder via ``encoder._warned_short``).

    Args:
        encoder: Has ``min_length``, ``short_utterance`` and ``_warned_short``.
        name: Encoder name for messages.
        xs: Masked features (B, T, D).
        lens: Lengths (B,).
        needed_by: What sets the minimum, for messages (e.g. ``"num_blocks=4"``).

    Returns:
        ``(xs, lens)``: padded to at least ``min_length`` frames.

    Raises:
        ValueError: ``short_utterance == "error"`` and an utterance is too short.
    """
    shortest = int(lens.min())
    if shortest >= encoder.min_length:
        return xs, lens
    if encoder.short_utterance == "error":
        raise ValueError(
            f"{name}: an utterance has {shortest} frames but {needed_by} needs at least "
            f"{encoder.min_length}; use fewer blocks, remove short utterances, or set "
            "short_utterance: pad"
        )
    if not encoder._warned_short:
        logging.warning(
            "%s: utterance of %d frames is shorter than the %d needed by %s; zero-padding it (logged once)",
            name, shortest, encoder.min_length, needed_by,
        )
        encoder._warned_short = True
    lens = lens.clamp(min=encoder.min_length)
    if xs.size(1) < encoder.min_length:
        xs = torch.nn.functional.pad(xs, (0, 0, 0, encoder.min_length - xs.size(1)))
    return xs, lens


def run_packed_rnn(rnn: torch.nn.Module, h: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """Run a batch-first GRU/LSTM over the valid frames only (packed sequence).

    Args:
        rnn: ``torch.nn.GRU``/``LSTM`` with ``batch_first=True``.
        h: Inputs (B, T, D).
        lens: Valid lengths (B,), each in 1..T.

    Returns:
        Outputs (B, T, H), zero at padded frames.
    """
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    packed = pack_padded_sequence(h, lens.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    return pad_packed_sequence(out, batch_first=True, total_length=h.size(1))[0]
