"""Per-modality projections of concatenated utterance vectors (Lian et al., Eq. (1)).

The features of a turn are its modality vectors concatenated along the last axis
(stage 2 order: ``--feats_conf`` then ``--extra_feats_confs``); ``modality_dims`` gives the
split and ``modality_names`` their names.  Used by the ``at_fusion`` and ``concat_fusion``
encoders.

Example:
    >>> proj = ModalityProjections(10, [6, 4], ["audio", "text"], None, d=8, what="x")
    >>> proj(torch.randn(2, 5, 10)).shape
    torch.Size([2, 5, 2, 8])
"""

from typing import List, Optional, Sequence, Tuple

import torch


def split_modalities(
    input_size: int, modality_dims: Sequence[int], modality_names: Sequence[str],
    modalities: Optional[Sequence[str]], what: str,
) -> List[Tuple[str, int, int]]:
    """Check a modality split and return ``(name, start, end)`` of each selected modality.

    Raises:
        ValueError: The dims do not add up to ``input_size``, names and dims differ
            in number, or a selected modality is unknown (each names the option).
    """
    dims = [int(d) for d in modality_dims]
    names = list(modality_names)
    if len(names) != len(dims) or not dims or min(dims) <= 0:
        raise ValueError(f"{what}: modality_names {names} and modality_dims {dims} must be "
                         "non-empty lists of the same length with positive dims")
    if sum(dims) != input_size:
        raise ValueError(f"{what}: modality_dims {dims} add up to {sum(dims)} but the features have "
                         f"{input_size} dims; set encoder_conf.modality_dims to the stage-2 feature dims "
                         "in the order of --feats_conf and --extra_feats_confs")
    bounds, start = {}, 0
    for n, d in zip(names, dims):
        bounds[n] = (start, start + d)
        start += d
    chosen = list(modalities) if modalities else names
    bad = [m for m in chosen if m not in bounds]
    if bad or len(set(chosen)) != len(chosen):
        raise ValueError(f"{what}: modalities {chosen} must be distinct names from {names}")
    return [(m, *bounds[m]) for m in chosen]


class ModalityProjections(torch.nn.Module):
    """One fully connected layer per selected modality, each to size ``d`` (Lian et al., Eq. (1)).

    Args: as :func:`split_modalities`, plus ``d``.
    """

    def __init__(self, input_size: int, modality_dims: Sequence[int], modality_names: Sequence[str],
                 modalities: Optional[Sequence[str]], d: int, what: str):
        super().__init__()
        self.parts = split_modalities(input_size, modality_dims, modality_names, modalities, what)
        self.proj = torch.nn.ModuleList(torch.nn.Linear(e - s, int(d)) for _, s, e in self.parts)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        """(B, U, D) -> projected modalities (B, U, M, d)."""
        return torch.stack([p(xs[..., s:e]) for p, (_, s, e) in zip(self.proj, self.parts)], dim=-2)
