"""Batch collation for ``SERTask`` without importing ``espnet2.train.collate_fn``.

ESPnet's ``CommonCollateFn`` lives in a module that imports
``espnet2.train.preprocessor`` and, through the tokenizers, ``g2p_en``, which
tries to download NLTK data at import time.  This is the same collation
(pad, add ``<name>_lengths``) with no such import.
"""

from typing import Collection, Dict, List, Tuple

import numpy as np
import torch


class SERCollateFn:
    """Pad each data name of a list of examples into a batch.

    Floats are padded with ``float_pad_value``, integers with
    ``int_pad_value`` (-1 = unknown label, as the model expects).  Each
    sequence gets ``<name>_lengths`` (B,) with its first-axis length.

    Args:
        float_pad_value: Padding of float arrays.
        int_pad_value: Padding of integer arrays.
    """

    def __init__(self, float_pad_value: float = 0.0, int_pad_value: int = -1):
        self.float_pad_value = float_pad_value
        self.int_pad_value = int_pad_value

    def __repr__(self) -> str:
        return (
            f"SERCollateFn(float_pad_value={self.float_pad_value}, "
            f"int_pad_value={self.int_pad_value})"
        )

    def __call__(
        self, data: Collection[Tuple[str, Dict[str, np.ndarray]]]
    ) -> Tuple[List[str], Dict[str, torch.Tensor]]:
        """[(utt, {name: array (L, ...)})] -> (utts, {name: (B, Lmax, ...), name_lengths: (B,)})."""
        uttids = [u for u, _ in data]
        dicts = [d for _, d in data]
        if not dicts:
            raise ValueError("SERCollateFn: empty batch")
        keys = list(dicts[0])
        for u, d in zip(uttids, dicts):
            if list(d) != keys:
                raise ValueError(
                    f"SERCollateFn: utterance {u} has data names {sorted(d)}, "
                    f"expected {sorted(keys)} (every scp/int file must list every utterance)"
                )
        out: Dict[str, torch.Tensor] = {}
        for key in keys:
            arrays = [np.asarray(d[key]) for d in dicts]
            if arrays[0].dtype.kind == "i" or arrays[0].dtype.kind == "u":
                pad = self.int_pad_value
            else:
                pad = self.float_pad_value
            lens = [a.shape[0] if a.ndim > 0 else 1 for a in arrays]
            arrays = [a.reshape(1) if a.ndim == 0 else a for a in arrays]
            shape = (len(arrays), max(lens)) + arrays[0].shape[1:]
            for a, u in zip(arrays, uttids):
                if a.shape[1:] != arrays[0].shape[1:]:
                    raise ValueError(
                        f"SERCollateFn: '{key}' of {u} has shape {a.shape}, "
                        f"expected (*, {', '.join(map(str, arrays[0].shape[1:]))})"
                    )
            batch = np.full(shape, pad, dtype=arrays[0].dtype)
            for i, a in enumerate(arrays):
                batch[i, : a.shape[0]] = a
            out[key] = torch.from_numpy(batch)
            out[key + "_lengths"] = torch.tensor(lens, dtype=torch.long)
        return uttids, out
