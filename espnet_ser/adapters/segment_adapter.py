"""Fixed-length segment adapter, registered as ``segment``.

Gao et al. cut each utterance's log spectrogram into segments of
32 frames (~265 ms at hop 128 / 16 kHz); every segment inherits the utterance
labels and the utterance posterior is the mean of the segment posteriors.
ADARL uses 3 s segments (300 frames).

Segments start at 0, hop, 2*hop, ... while they fit in the utterance.  An
utterance shorter than ``segment_length`` gives ONE zero-padded segment with
its true length (nothing is dropped).  The tail after the last full segment is
dropped unless ``pad_last`` is true, in which case it becomes one more
zero-padded segment if it holds at least ``min_last`` frames.

Example:
    >>> seg = SegmentAdapter(segment_length=32)
    >>> u, ul, u2u = seg(torch.randn(2, 100, 129), torch.tensor([100, 20]))
    >>> u.shape, ul.tolist(), u2u.tolist()
    (torch.Size([4, 32, 129]), [32, 32, 32, 20], [0, 0, 0, 1])
"""

from typing import Optional, Tuple

import torch

from espnet_ser.adapters.abs_adapter import AbsAdapter


class SegmentAdapter(AbsAdapter):
    """Cut utterances into fixed-length segments.

    Args:
        segment_length: Frames per segment L.
        hop: Frames between segment starts (default L: no overlap).
        pad_last: Keep the tail after the last full segment as a padded segment.
        min_last: Minimum tail length kept when ``pad_last`` (default L // 2).
    """

    def __init__(
        self,
        segment_length: int = 32,
        hop: Optional[int] = None,
        pad_last: bool = False,
        min_last: Optional[int] = None,
    ):
        super().__init__()
        if segment_length < 1:
            raise ValueError(f"segment adapter: segment_length must be >= 1, got {segment_length}")
        self.segment_length = int(segment_length)
        self.hop = int(hop) if hop is not None else self.segment_length
        if self.hop < 1:
            raise ValueError(f"segment adapter: hop must be >= 1, got {hop}")
        self.pad_last = pad_last
        self.min_last = int(min_last) if min_last is not None else max(1, self.segment_length // 2)

    def segment_bounds(self, length: int):
        """Return the (start, length) pairs of one utterance of ``length`` frames."""
        L, hop = self.segment_length, self.hop
        if length <= L:
            return [(0, max(length, 1))]
        bounds = [(s, L) for s in range(0, length - L + 1, hop)]
        tail_start = bounds[-1][0] + hop
        if self.pad_last and length - tail_start >= self.min_last:
            bounds.append((tail_start, length - tail_start))
        return bounds

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, D), (B,) -> (N, L, D), (N,), (N,)."""
        L = self.segment_length
        segs, lens, owner = [], [], []
        for b, n in enumerate(ilens.tolist()):
            for start, seg_len in self.segment_bounds(int(n)):
                seg = xs[b, start : start + seg_len]
                if seg.size(0) < L:
                    seg = torch.nn.functional.pad(seg, (0, 0, 0, L - seg.size(0)))
                segs.append(seg)
                lens.append(seg_len)
                owner.append(b)
        device = xs.device
        return (
            torch.stack(segs),
            torch.tensor(lens, dtype=torch.long, device=device),
            torch.tensor(owner, dtype=torch.long, device=device),
        )

    def extra_repr(self) -> str:
        return (
            f"segment_length={self.segment_length}, hop={self.hop}, "
            f"pad_last={self.pad_last}, min_last={self.min_last}"
        )
