"""1D CNN + GRU encoder (Li et al. 2020), registered as ``cnn_gru_1d``.

Baseline encoder of Leow et al., Table 2 (log Mel filterbank + energy + pitch
input; Emo-DB 44.2 +- 4.7, RAVDESS 30.5 +- 4.6 with the same speaker adversary
and heads).  Li et al. ("Speaker-invariant affective representation learning
via adversarial training", ICASSP 2020) use 1D convolutions over time (the
feature vector as channels) followed by a GRU; Leow et al. note that such 1D
encoders only capture short-term statistics of each frequency component and
gives no sizes.  Our defaults: two blocks of::

    Conv1d(k=5, 128 channels, padding "same") -> BatchNorm1d -> ReLU -> Dropout -> MaxPool1d(2)

then one unidirectional GRU of 128 units (``bidirectional: true`` gives a
biGRU).  Each block halves the time axis (floor division).

Example:
    >>> enc = CNNGRU1DEncoder(input_size=42)
    >>> hs, olens = enc(torch.randn(2, 50, 42), torch.tensor([50, 31]))
    >>> hs.shape, olens.tolist()
    (torch.Size([2, 12, 128]), [12, 7])
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



class CNNGRU1DEncoder(AbsEncoder):
    """1D conv blocks with max-pooling over time, then a GRU (Li et al. 2020).

    Padding is handled as in ``CNNBiGRUEncoder``: padded frames are zeroed
    before each convolution and the GRU runs on a packed sequence, so in eval
    mode valid-frame outputs do not depend on the batch.  Utterances shorter
    than ``pool_size ** num_blocks`` frames are zero-padded to that minimum
    (``short_utterance="pad"``, warned once) or rejected (``"error"``).

    Args:
        input_size: Feature dimension D (channels of the first conv).
        num_blocks: Number of conv blocks (>= 1).
        kernel_size: Temporal kernel size of every conv.
        channels: Output channels of every conv.
        pool_size: Max-pooling size and stride over time (1 = no pooling).
        gru_units: Hidden units (per direction) of the GRU.
        gru_layers: Number of stacked GRU layers.
        bidirectional: Use a biGRU instead of a forward GRU.
        dropout: Dropout probability inside each conv block.
        short_utterance: ``"pad"`` or ``"error"``.

    Raises:
        ValueError: On an invalid option.
    """

    def __init__(
        self,
        input_size: int = 42,
        num_blocks: int = 2,
        kernel_size: int = 5,
        channels: int = 128,
        pool_size: int = 2,
        gru_units: int = 128,
        gru_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.1,
        short_utterance: str = "pad",
    ):
        super().__init__()
        check_encoder_options(
            "cnn_gru_1d", dict(input_size=input_size, num_blocks=num_blocks, kernel_size=kernel_size, channels=channels, pool_size=pool_size, gru_units=gru_units, gru_layers=gru_layers), dropout, short_utterance
        )
        self.input_size = input_size
        self.num_blocks = num_blocks
        self.pool_size = pool_size
        self.min_length = pool_size**num_blocks
        self.short_utterance = short_utterance
        self._out_size = gru_units * (2 if bidirectional else 1)
        self._warned_short = False

        blocks = []
        in_ch = input_size
        for _ in range(num_blocks):
            blocks.append(
                torch.nn.Sequential(
                    torch.nn.Conv1d(in_ch, channels, kernel_size, padding="same"),
                    torch.nn.BatchNorm1d(channels),
                    torch.nn.ReLU(),
                    torch.nn.Dropout(dropout),
                    torch.nn.MaxPool1d(pool_size, pool_size),
                )
            )
            in_ch = channels
        self.blocks = torch.nn.ModuleList(blocks)
        self.gru = torch.nn.GRU(
            channels,
            gru_units,
            num_layers=gru_layers,
            batch_first=True,
            bidirectional=bidirectional,
        )

    def output_size(self) -> int:
        """Feature size of the output: gru_units (x2 when bidirectional)."""
        return self._out_size

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: Features (B, T, D), D == input_size.
            ilens: Valid lengths (B,), each in 1..T.

        Returns:
            hs: GRU outputs (B, T', output_size()), T' = max(T, P**N) // P**N
                with P = pool_size, N = num_blocks; zero at padded frames.
            olens: (B,) = max(ilens, P**N) // P**N ("pad") or ilens // P**N.

        Raises:
            ValueError: On a wrong input shape, or (``short_utterance="error"``)
                an utterance shorter than ``pool_size ** num_blocks`` frames.
        """
        xs, lens, _ = check_and_mask_input("cnn_gru_1d", xs, ilens, self.input_size)
        xs, lens = apply_short_utterance_policy(
            self, "cnn_gru_1d", xs, lens, f"num_blocks={self.num_blocks} with pool_size={self.pool_size}"
        )

        h = xs.transpose(1, 2)  # (B, D, T)
        for block in self.blocks:
            # Zero padding frames so "same" padding of a valid frame near the
            # end sees zeros, as for the utterance alone.
            valid = ~make_pad_mask(lens, maxlen=h.size(2))
            h = block(h * valid[:, None, :].to(h.dtype))
            lens = lens // self.pool_size
        h = h.transpose(1, 2)  # (B, T', C)
        hs = run_packed_rnn(self.gru, h, lens)
        return hs, lens
