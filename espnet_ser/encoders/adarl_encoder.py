"""ADARL encoder (Fan et al., *Adaptive domain-aware representation learning for
speech emotion recognition*), registered as ``adarl``.

Input: multi-window log spectrogram segments ``(N, T, C_in * F_in)``, channel-major
(``multiwin_logspec``: ``x[t, c * F_in + f]``), cut to ``num_frames`` frames by the
``segment`` input adapter (3 s = 300 frames, zero-padded).  They are viewed as
``(N, C_in, F_in, T)`` maps (3 x 400 x 300 in the paper) and fed to

* the **emotion pathway**: ``len(channels)`` multi-scale conv blocks
  (:class:`~espnet_ser.layers.multiscale_conv.MultiScaleConvBlock`, Table 1:
  2 x 16, 2 x 16, 2 x 16, 2 x 32 channels, kernels 3 x 3 and 5 x 5, average pooling
  2, 2, 2, 6) -> maps ``F^E (N, C, F, T')`` (64 x 8 x 6);
* the **domain pathway** (``domain_pathway: true``): the same stack with its own
  weights -> ``F^D``, flattened (3072 values) for the domain (gender) classifier of
  the model (attach point ``domain``), and the
  :class:`~espnet_ser.layers.domain_aware_attention.DomainAwareAttention` weights
  ``I^D (N, F)`` that multiply ``F^E`` along frequency.  The emotion loss reaches
  the domain pathway through the attention; the gender loss is plain cross
  entropy (NOT reversed: the domain knowledge is used, not removed).

Then the channel-wise FC (CFC, Eq. 2: channel k maps its F values to one number
with its own weights) is applied per frame; CFC and the model's time pooling
(``pooling: mean``, masked) are both linear, so CFC-then-mean equals the paper's
TP-then-CFC exactly, and padded frames never enter the pooled vector.  The output
is ``(N, T', C)`` (C = 64), followed in the config by the embedding layer
(FC 64 -> 64, BN, ReLU) and the emotion classifier (FC 64 -> 4).

Without the domain pathway this is the paper's *backbone* (emotion pathway only).

Ambiguities resolved (the paper's Table 1 is partly unreadable in our copy):
the two kernels per layer are 3 x 3 and 5 x 5 (the table lists 3 x 3 twice,
the text says "convolution kernels with different scales"); set
``kernel_sizes`` to change them.  The CFC has a bias per channel.
"""

from typing import Dict, Sequence, Tuple

import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.layers.domain_aware_attention import DomainAwareAttention
from espnet_ser.layers.multiscale_conv import MultiScaleConvBlock

__all__ = ["ADARLEncoder"]


class ADARLEncoder(AbsEncoder):
    """Emotion pathway (+ domain pathway and domain-aware attention) of ADARL.

    Args:
        input_size: Feature dimension D = ``in_channels * F_in``.
        in_channels: Spectrogram channels (window lengths) C_in.
        num_frames: Frames per segment (the segment adapter's ``segment_length``);
            the domain classifier reads the flattened maps, whose size depends on it.
        channels: Output channels of each kernel, per block.
        kernel_sizes: The parallel kernels of every block.
        pools: Average-pooling ``(freq, time)`` per block.
        domain_pathway: Build the domain pathway and the attention (ADARL); false:
            the backbone.
        attention_reduction: Bottleneck of the attention FC (F -> F / r -> F).
        input_pool: Average-pool the input maps by ``(freq, time)`` first (not in the
            paper: a CPU-sized variant, e.g. ``[4, 1]`` keeps 100 of the 400 bins as
            40 Hz bands).
    """

    def __init__(
        self,
        input_size: int,
        in_channels: int = 3,
        num_frames: int = 300,
        channels: Sequence[int] = (16, 16, 16, 32),
        kernel_sizes: Sequence = ((3, 3), (5, 5)),
        pools: Sequence = ((2, 2), (2, 2), (2, 2), (6, 6)),
        domain_pathway: bool = True,
        attention_reduction: int = 2,
        input_pool: Sequence[int] = (1, 1),
    ):
        super().__init__()
        if in_channels < 1 or input_size % in_channels:
            raise ValueError(
                f"adarl encoder: input_size={input_size} is not in_channels={in_channels} x bins; "
                "use the multiwin_logspec features (conf/feats/multiwin_logspec.yaml) or set in_channels"
            )
        if len(channels) != len(pools) or not channels:
            raise ValueError(
                f"adarl encoder: channels ({len(channels)}) and pools ({len(pools)}) need one entry per block"
            )
        self.in_channels = int(in_channels)
        self.in_freq = input_size // self.in_channels
        self.num_frames = int(num_frames)
        self.input_pool = tuple(int(v) for v in input_pool)
        if len(self.input_pool) != 2 or min(self.input_pool) < 1:
            raise ValueError(f"adarl encoder: input_pool={list(input_pool)} must be two positive ints")
        self.pre_pool = (
            torch.nn.AvgPool2d(self.input_pool, stride=self.input_pool) if self.input_pool != (1, 1) else None
        )

        def stack():
            blocks, c = [], self.in_channels
            for ch, pool in zip(channels, pools):
                blocks.append(MultiScaleConvBlock(c, int(ch), kernel_sizes, pool))
                c = blocks[-1].out_channels
            return torch.nn.ModuleList(blocks)

        self.emotion_blocks = stack()
        freq, time = self.in_freq // self.input_pool[0], self.num_frames // self.input_pool[1]
        for blk in self.emotion_blocks:
            freq, time = blk.output_shape(freq, time)
            if freq < 1 or time < 1:
                raise ValueError(
                    f"adarl encoder: {self.in_freq} bins x {self.num_frames} frames pool to "
                    f"{freq} x {time} = 0 (pools={list(pools)}); use longer segments or less pooling"
                )
        self.out_channels = self.emotion_blocks[-1].out_channels
        self.out_freq, self.out_time = freq, time
        self.domain_blocks = stack() if domain_pathway else None
        self.attention = (
            DomainAwareAttention(self.out_freq, attention_reduction) if domain_pathway else None
        )
        # Channel-wise FC: one F -> 1 map per channel (+ bias).
        bound = 1.0 / self.out_freq ** 0.5
        self.cfc_weight = torch.nn.Parameter(torch.empty(self.out_channels, self.out_freq).uniform_(-bound, bound))
        self.cfc_bias = torch.nn.Parameter(torch.zeros(self.out_channels))

    def output_size(self) -> int:
        return self.out_channels

    def extra_point_sizes(self) -> Dict[str, int]:
        """Attach points this encoder adds (see ``ESPnetSERModel``): with the domain pathway,
        ``domain`` (flattened domain maps, C * F * T') and ``attention`` (F weights)."""
        if self.domain_blocks is None:
            return {}
        return {"domain": self.out_channels * self.out_freq * self.out_time, "attention": self.out_freq}

    def _maps(self, xs: torch.Tensor, ilens: torch.Tensor) -> torch.Tensor:
        if xs.dim() != 3 or xs.size(-1) != self.in_channels * self.in_freq:
            raise ValueError(
                f"adarl encoder: expected (N, T, {self.in_channels * self.in_freq}) features, "
                f"got {tuple(xs.shape)}"
            )
        if xs.size(1) != self.num_frames:
            raise ValueError(
                f"adarl encoder: segments of {xs.size(1)} frames, built for num_frames={self.num_frames}; "
                "use input_adapter: segment with input_adapter_conf.segment_length equal to "
                "encoder_conf.num_frames"
            )
        N, T, _ = xs.shape
        # Zero the padding so it does not leak into valid frames through the convolutions.
        valid = torch.arange(T, device=xs.device)[None, :] < ilens[:, None]
        xs = xs * valid[:, :, None].to(xs.dtype)
        return xs.view(N, T, self.in_channels, self.in_freq).permute(0, 2, 3, 1)

    @staticmethod
    def _run(blocks, x: torch.Tensor, lens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        for blk in blocks:
            x, lens = blk(x, lens)
        return x, lens

    def forward_points(self, xs: torch.Tensor, ilens: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Encode and return every intermediate the model needs.

        Args:
            xs: Segments (N, num_frames, D); ilens: valid frames (N,).

        Returns:
            ``hs`` (N, T', C) per-frame CFC output, ``olens`` (N,), and with the
            domain pathway ``domain`` (N, C * F * T') flattened domain maps and
            ``attention`` (N, F) frequency weights.
        """
        x, lens = self._maps(xs, ilens.long()), ilens.long()
        if self.pre_pool is not None:
            x = self.pre_pool(x)
            lens = torch.div(lens, self.input_pool[1], rounding_mode="floor").clamp(min=1)
        emo, olens = self._run(self.emotion_blocks, x, lens)
        out: Dict[str, torch.Tensor] = {}
        if self.domain_blocks is not None:
            dom, _ = self._run(self.domain_blocks, x, lens)
            weights = self.attention(dom, olens)
            emo = DomainAwareAttention.embed(emo, weights)
            out["domain"] = dom.flatten(1)
            out["attention"] = weights
        hs = torch.einsum("ncft,cf->ntc", emo, self.cfc_weight) + self.cfc_bias
        out["hs"], out["olens"] = hs, olens
        return out

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(N, num_frames, D), (N,) -> (N, T', C), (N,)."""
        out = self.forward_points(xs, ilens)
        return out["hs"], out["olens"]
