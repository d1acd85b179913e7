"""2D CNN + biGRU encoder of Leow et al., registered as ``cnn_bigru``.

The MFCC matrix of an utterance is treated as a one-channel image (time x
cepstral index).  Each convolutional block is, in the paper's order (eq. 2),::

    Conv2d(k x k, padding "same") -> BatchNorm2d -> Dropout -> ELU -> MaxPool2d(2 x 2)

so every block halves both the time and the feature axis (floor division).
The channel and remaining feature axes are flattened per time step and fed to a
bidirectional GRU; the encoder returns the whole biGRU sequence, statistics
pooling (``espnet_ser/layers/stats_pooling.py``) follows in the model.

Paper grid (Sec. 4.2): blocks 1..4, kernel {5x5, 2x2}, channels {128, 64}, GRU
{256, 128} units per direction.  The best setting on both corpora is one block.

Example:
    >>> enc = CNNBiGRUEncoder(input_size=20, num_blocks=1, kernel_size=5)
    >>> hs, olens = enc(torch.randn(2, 100, 20), torch.tensor([100, 73]))
    >>> hs.shape, olens.tolist()
    (torch.Size([2, 50, 512]), [50, 36])
"""

from typing import Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.encoders.abs_encoder import (
    AbsEncoder,
    apply_short_utterance_policy,
    check_and_mask_input,
    check_encoder_options,
    run_packed_rnn,
)



class CNNBiGRUEncoder(AbsEncoder):
    """1-4 blocks of 2D conv + max-pooling, then a biGRU (Leow et al.).

    Padding: every block zeroes the frames beyond each utterance's current
    length before its convolution, and the GRU runs on a packed sequence, so
    in eval mode the outputs of an utterance's valid frames do not depend on
    what else is in the batch (a padded batch gives the same valid-frame
    outputs as each utterance alone).  In train mode BatchNorm2d statistics
    are computed over the whole padded tensor (padding frames are zero), as
    in the paper, which zero-padded every recording to the longest one.

    Short utterances: ``num_blocks`` poolings need at least ``2 ** num_blocks``
    frames.  With ``short_utterance="pad"`` (default) a shorter utterance is
    treated as if zero-padded to that minimum (exactly what the paper's
    zero-padding does) and gets one output frame; a warning is logged once per
    encoder.  With ``"error"`` such a batch raises ``ValueError`` naming the
    utterance length and the minimum.

    Args:
        input_size: Feature dimension D (20 MFCCs in the paper).
        num_blocks: Number of conv blocks, 1..4.
        kernel_size: Square kernel size k (paper: 5 or 2).  Even kernels are
            padded asymmetrically (PyTorch ``padding="same"``: one extra frame
            on the right/top).
        channels: Output channels of every conv block (paper: 128 or 64).
        gru_units: Hidden units per direction of the biGRU (paper: 256 or 128).
        gru_layers: Number of stacked biGRU layers (paper: 1).
        dropout: Dropout probability inside each conv block.
        short_utterance: ``"pad"`` or ``"error"`` (see above).

    Raises:
        ValueError: On an invalid option, or when the feature axis would be
            pooled to zero (``input_size // 2 ** num_blocks == 0``).
    """

    def __init__(
        self,
        input_size: int = 20,
        num_blocks: int = 1,
        kernel_size: int = 5,
        channels: int = 128,
        gru_units: int = 256,
        gru_layers: int = 1,
        dropout: float = 0.1,
        short_utterance: str = "pad",
    ):
        super().__init__()
        if not 1 <= num_blocks <= 4:
            raise ValueError(
                f"cnn_bigru: num_blocks={num_blocks} is not in 1..4 "
                "(Leow et al.'s grid); set encoder_conf.num_blocks to 1, 2, 3 or 4"
            )
        check_encoder_options(
            "cnn_bigru", dict(input_size=input_size, kernel_size=kernel_size, channels=channels, gru_units=gru_units, gru_layers=gru_layers), dropout, short_utterance
        )
        out_freq = input_size // 2**num_blocks
        if out_freq == 0:
            raise ValueError(
                f"cnn_bigru: num_blocks={num_blocks} max-pools the feature axis "
                f"of input_size={input_size} to {input_size} // "
                f"{2 ** num_blocks} = 0; use num_blocks <= "
                f"{input_size.bit_length() - 1} or more features"
            )

        self.input_size = input_size
        self.num_blocks = num_blocks
        self.gru_units = gru_units
        self.short_utterance = short_utterance
        self.min_length = 2**num_blocks
        self._warned_short = False

        blocks = []
        in_ch = 1
        for _ in range(num_blocks):
            blocks.append(
                torch.nn.Sequential(
                    torch.nn.Conv2d(in_ch, channels, kernel_size, padding="same"),
                    torch.nn.BatchNorm2d(channels),
                    torch.nn.Dropout(dropout),
                    torch.nn.ELU(),
                    torch.nn.MaxPool2d(2, 2),
                )
            )
            in_ch = channels
        self.blocks = torch.nn.ModuleList(blocks)
        self.gru = torch.nn.GRU(
            channels * out_freq,
            gru_units,
            num_layers=gru_layers,
            batch_first=True,
            bidirectional=True,
        )

    def output_size(self) -> int:
        """Feature size of the output sequence: 2 * gru_units."""
        return 2 * self.gru_units

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: Features (B, T, D), D == input_size.
            ilens: Valid lengths (B,), each in 1..T.

        Returns:
            hs: biGRU outputs (B, T', 2 * gru_units), T' = max(T, 2**N) // 2**N;
                frames at or beyond ``olens`` are zero.
            olens: (B,) = max(ilens, 2**N) // 2**N ("pad") or ilens // 2**N.

        Raises:
            ValueError: On a wrong input shape, or (``short_utterance="error"``)
                an utterance shorter than ``2 ** num_blocks`` frames.
        """
        xs, lens, _ = check_and_mask_input("cnn_bigru", xs, ilens, self.input_size)
        xs, lens = apply_short_utterance_policy(self, "cnn_bigru", xs, lens, f"num_blocks={self.num_blocks}")

        h = xs.unsqueeze(1)  # (B, 1, T, D)
        for block in self.blocks:
            # Zero frames beyond each utterance so "same" padding sees what a
            # lone utterance would see (zeros), not the previous block's
            # output on padding.
            valid = ~make_pad_mask(lens, maxlen=h.size(2))
            h = h * valid[:, None, :, None].to(h.dtype)
            h = block(h)
            lens = lens // 2
        b, c, t, f = h.shape
        h = h.transpose(1, 2).reshape(b, t, c * f)  # (B, T', C * D')

        hs = run_packed_rnn(self.gru, h, lens)
        return hs, lens
