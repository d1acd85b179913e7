"""2D CNN + BLSTM encoder over spectrogram segments, registered as ``cnn_blstm``.

Gao et al. encode each 32-frame x 129-bin log-spectrogram segment with a CNN
followed by a bidirectional LSTM, "after Satt et al. (2017)" (convolutions
over the time x frequency image, then a recurrent layer over time), and give
no layer sizes.  Each block here is::

    Conv2d(k x k, padding "same") -> BatchNorm2d -> ReLU -> MaxPool2d(pool_t x pool_f) -> Dropout

The channels and the remaining frequency bins are flattened per time step and
fed to a BLSTM; the encoder returns the whole BLSTM sequence (pooling follows
in the model).  Defaults (2 blocks of 16 and 32 channels, 3 x 3 kernels,
2 x 4 pooling, BLSTM 64 units per direction) turn a 32 x 129 segment into
8 steps of 32 x 8 = 256 features and 8 x 128 outputs; the recipe's README says
why these sizes (segments are short and the corpora small).

Padding is handled as in ``cnn_bigru``: frames beyond each input's length are
zeroed before every convolution and the LSTM runs packed; an input shorter
than the ``prod(pool_t)`` frames the poolings need is zero-padded to that
length (``short_utterance="pad"``) or rejected (``"error"``).

Example:
    >>> enc = CNNBLSTMEncoder(input_size=129)
    >>> hs, olens = enc(torch.randn(3, 32, 129), torch.tensor([32, 32, 20]))
    >>> hs.shape, olens.tolist()
    (torch.Size([3, 8, 128]), [8, 8, 5])
"""

from typing import Sequence, Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.encoders.abs_encoder import (
    AbsEncoder,
    apply_short_utterance_policy,
    check_and_mask_input,
    check_encoder_options,
    run_packed_rnn,
)


class CNNBLSTMEncoder(AbsEncoder):
    """Conv2d blocks over (time, frequency), then a BLSTM over time (Gao et al.).

    Args:
        input_size: Frequency bins D (129 for a 256-point FFT).
        channels: Output channels of each conv block; its length is the
            number of blocks.
        kernel_size: Square kernel size of every block.
        pool_time: Max-pooling factor along time of each block.
        pool_freq: Max-pooling factor along frequency of each block.
        lstm_units: Hidden units per direction of the BLSTM.
        lstm_layers: Number of stacked BLSTM layers.
        dropout: Dropout after each block.
        short_utterance: ``"pad"`` or ``"error"`` for inputs shorter than the
            frames the time poolings need.

    Raises:
        ValueError: On an invalid option (named in the message).
    """

    def __init__(
        self,
        input_size: int = 129,
        channels: Sequence[int] = (16, 32),
        kernel_size: int = 3,
        pool_time: Sequence[int] = (2, 2),
        pool_freq: Sequence[int] = (4, 4),
        lstm_units: int = 64,
        lstm_layers: int = 1,
        dropout: float = 0.1,
        short_utterance: str = "pad",
    ):
        super().__init__()
        channels, pool_time, pool_freq = list(channels), list(pool_time), list(pool_freq)
        if not channels or not len(channels) == len(pool_time) == len(pool_freq):
            raise ValueError(
                f"cnn_blstm: channels {channels}, pool_time {pool_time} and pool_freq {pool_freq} "
                "must be non-empty lists of the same length (one entry per conv block)"
            )
        ints = dict(input_size=input_size, kernel_size=kernel_size, lstm_units=lstm_units,
                    lstm_layers=lstm_layers)
        for i, (c, pt, pf) in enumerate(zip(channels, pool_time, pool_freq)):
            ints.update({f"channels[{i}]": c, f"pool_time[{i}]": pt, f"pool_freq[{i}]": pf})
        check_encoder_options("cnn_blstm", ints, dropout, short_utterance)
        out_freq = input_size
        for pf in pool_freq:
            out_freq //= pf
        if out_freq == 0:
            raise ValueError(
                f"cnn_blstm: pool_freq {pool_freq} pools input_size={input_size} bins to 0; "
                "use smaller frequency pooling factors"
            )
        self.input_size = input_size
        self.lstm_units = lstm_units
        self.pool_time = pool_time
        self.short_utterance = short_utterance
        self.min_length = 1
        for pt in pool_time:
            self.min_length *= pt
        self._warned_short = False

        blocks, in_ch = [], 1
        for c, pt, pf in zip(channels, pool_time, pool_freq):
            blocks.append(
                torch.nn.Sequential(
                    torch.nn.Conv2d(in_ch, c, kernel_size, padding="same"),
                    torch.nn.BatchNorm2d(c),
                    torch.nn.ReLU(),
                    torch.nn.MaxPool2d((pt, pf)),
                    torch.nn.Dropout(dropout),
                )
            )
            in_ch = c
        self.blocks = torch.nn.ModuleList(blocks)
        self.lstm = torch.nn.LSTM(
            in_ch * out_freq, lstm_units, num_layers=lstm_layers, batch_first=True,
            bidirectional=True,
        )

    def output_size(self) -> int:
        """Feature size of the output sequence: 2 * lstm_units."""
        return 2 * self.lstm_units

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: Features (B, T, D), D == input_size.
            ilens: Valid lengths (B,), each in 1..T.

        Returns:
            hs: BLSTM outputs (B, T', 2 * lstm_units), T' = max(T, min_length)
                // prod(pool_time); frames at or beyond ``olens`` are zero.
            olens: (B,) valid output lengths (>= 1).
        """
        xs, lens, _ = check_and_mask_input("cnn_blstm", xs, ilens, self.input_size)
        xs, lens = apply_short_utterance_policy(
            self, "cnn_blstm", xs, lens, f"pool_time={self.pool_time}"
        )
        h = xs.unsqueeze(1)  # (B, 1, T, D)
        for block, pt in zip(self.blocks, self.pool_time):
            valid = ~make_pad_mask(lens, maxlen=h.size(2))
            h = block(h * valid[:, None, :, None].to(h.dtype))
            lens = (lens // pt).clamp(min=1)
        b, c, t, f = h.shape
        h = h.transpose(1, 2).reshape(b, t, c * f)
        return run_packed_rnn(self.lstm, h, lens), lens
