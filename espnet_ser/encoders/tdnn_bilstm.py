"""1D TDNN + biLSTM encoder (Tu et al. 2019), registered as ``tdnn_bilstm``.

Baseline encoder of Leow et al., Table 2 (MFCC input; Emo-DB 61.4 +- 8.7,
RAVDESS 52.4 +- 10.9 with the same speaker adversary and heads).  Tu et al.
("Towards adversarial learning of speaker-invariant representation for speech
emotion recognition", 2019) describe a representation network of TDNN layers
and an LSTM followed by statistics pooling; Leow et al. give no sizes.  Our
defaults follow the frame-level layers of the Kaldi x-vector TDNN (Snyder et
al. 2018; frame contexts [-2, 2], {-2, 0, 2}, {-3, 0, 3}, {0}, {0}), narrowed to
256 units because Emo-DB/RAVDESS hold only ~500-1400 utterances, then one
biLSTM layer.  Every TDNN layer is Kaldi's ``affine -> ReLU -> BatchNorm``
(+ dropout), implemented as a dilated Conv1d with "same" padding, so the time
axis is not subsampled (``olens == ilens``).

Example:
    >>> enc = TDNNBiLSTMEncoder(input_size=20)
    >>> hs, olens = enc(torch.randn(2, 50, 20), torch.tensor([50, 31]))
    >>> hs.shape, olens.tolist()
    (torch.Size([2, 50, 256]), [50, 31])
"""

from typing import Sequence, Tuple

import torch

from espnet_ser.encoders.abs_encoder import AbsEncoder, check_and_mask_input, run_packed_rnn


class TDNNBiLSTMEncoder(AbsEncoder):
    """Dilated 1D TDNN layers followed by a biLSTM (Tu et al. 2019 baseline).

    Frames beyond each utterance's length are zeroed before every TDNN layer
    and the LSTM runs on a packed sequence, so in eval mode an utterance's
    valid-frame outputs do not depend on the rest of the batch.

    Args:
        input_size: Feature dimension D.
        tdnn_units: Output units of each TDNN layer.
        tdnn_kernels: Kernel size (number of context taps) of each layer.
        tdnn_dilations: Dilation of each layer; layer ``i`` sees frames
            ``t + d_i * j`` for ``j`` in the kernel's taps.
        lstm_units: Hidden units per direction of the biLSTM.
        lstm_layers: Number of stacked biLSTM layers.
        dropout: Dropout after every TDNN layer.

    Raises:
        ValueError: On an invalid option or mismatched list lengths.
    """

    def __init__(
        self,
        input_size: int = 20,
        tdnn_units: Sequence[int] = (256, 256, 256, 256, 256),
        tdnn_kernels: Sequence[int] = (5, 3, 3, 1, 1),
        tdnn_dilations: Sequence[int] = (1, 2, 3, 1, 1),
        lstm_units: int = 128,
        lstm_layers: int = 1,
        dropout: float = 0.1,
    ):
        super().__init__()
        tdnn_units, tdnn_kernels, tdnn_dilations = (
            list(tdnn_units),
            list(tdnn_kernels),
            list(tdnn_dilations),
        )
        if not len(tdnn_units) == len(tdnn_kernels) == len(tdnn_dilations) >= 1:
            raise ValueError(
                "tdnn_bilstm: tdnn_units, tdnn_kernels and tdnn_dilations must "
                f"be non-empty lists of equal length, got {len(tdnn_units)}, "
                f"{len(tdnn_kernels)}, {len(tdnn_dilations)}"
            )
        for name, values in (
            ("input_size", [input_size]),
            ("tdnn_units", tdnn_units),
            ("tdnn_kernels", tdnn_kernels),
            ("tdnn_dilations", tdnn_dilations),
            ("lstm_units", [lstm_units]),
            ("lstm_layers", [lstm_layers]),
        ):
            if any(int(v) != v or v < 1 for v in values):
                raise ValueError(
                    f"tdnn_bilstm: {name}={values!r} must be positive integers"
                )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"tdnn_bilstm: dropout={dropout} must be in [0, 1)")

        self.input_size = input_size
        self.lstm_units = lstm_units
        layers = []
        in_dim = input_size
        for units, kernel, dilation in zip(tdnn_units, tdnn_kernels, tdnn_dilations):
            layers.append(
                torch.nn.Sequential(
                    torch.nn.Conv1d(
                        in_dim, units, kernel, dilation=dilation, padding="same"
                    ),
                    torch.nn.ReLU(),
                    torch.nn.BatchNorm1d(units),
                    torch.nn.Dropout(dropout),
                )
            )
            in_dim = units
        self.tdnn = torch.nn.ModuleList(layers)
        self.lstm = torch.nn.LSTM(
            in_dim,
            lstm_units,
            num_layers=lstm_layers,
            batch_first=True,
            bidirectional=True,
        )

    def output_size(self) -> int:
        """Feature size of the output sequence: 2 * lstm_units."""
        return 2 * self.lstm_units

    def forward(
        self, xs: torch.Tensor, ilens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: Features (B, T, D), D == input_size.
            ilens: Valid lengths (B,), each in 1..T.

        Returns:
            hs: biLSTM outputs (B, T, 2 * lstm_units), zero at padded frames.
            olens: (B,), equal to ilens (no subsampling).

        Raises:
            ValueError: On a wrong input shape or lengths.
        """
        xs, lens, valid = check_and_mask_input("tdnn_bilstm", xs, ilens, self.input_size)
        mask = valid[:, None, :].to(xs.dtype)  # (B, 1, T)
        h = xs.transpose(1, 2)  # (B, D, T)
        for layer in self.tdnn:
            # Zero padding frames so the dilated context of a valid frame near
            # its end sees zeros, as it would for the utterance alone.
            h = layer(h * mask)
        h = h.transpose(1, 2)  # (B, T, U)
        hs = run_packed_rnn(self.lstm, h, lens)
        return hs, lens
