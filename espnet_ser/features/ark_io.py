"""Kaldi ark/scp input and output: the ONLY module of espnet_ser that imports kaldiio.

kaldiio >= 2.18 ships an NTT evaluation-only licence, so every read and write of
feature archives goes through the four functions/classes below; swapping the
backend (e.g. for a pure-numpy reader of the Kaldi binary matrix format) means
changing this file only.  An scp file as TEXT (``key -> "ark:offset"`` strings,
e.g. to subset it) is a Kaldi table like any other: read and write it with
:func:`espnet_ser.utils.data_dir.read_table` / ``write_table``.

Formats (Kaldi's):
    ark: ``<key> <binary matrix>`` records, one after the other.
    scp: ``<key> <ark path>:<byte offset>`` lines, sorted bytewise by key.

Example:
    >>> with ArkWriter("dump/feats.1.ark", "dump/feats.1.scp") as writer:
    ...     writer["spk1-utt1"] = np.zeros((100, 20), dtype=np.float32)
    >>> feats = load_scp("dump/feats.1.scp")
    >>> feats["spk1-utt1"].shape
    (100, 20)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Iterator, Mapping, Tuple, Union

import kaldiio
import kaldiio.matio
import numpy as np

PathLike = Union[str, Path]

__all__ = [
    "ArkWriter",
    "load_scp",
    "read_ark",
    "read_matrix",
]


class ArkWriter:
    """Write matrices into an ark file and its scp index, crash-safely.

    Records go to ``<ark_path>.tmp`` / ``<scp_path>.tmp`` and are flushed after
    each write, so an interrupted job leaves a valid prefix there (readable with
    :func:`read_ark`); only a clean ``close()`` renames both to their final
    names. The scp lines already point at the FINAL ark path, so a finished pair
    is valid as soon as it appears. Downstream steps therefore never see a half
    written archive under the final name.

    Args:
        ark_path: Final path of the ark file.
        scp_path: Final path of the scp file.

    Raises:
        ValueError: On a duplicate key, a key with whitespace, or a value that is
            not a 1-D/2-D numeric numpy array.
    """

    def __init__(self, ark_path: PathLike, scp_path: PathLike):
        self.ark_path = Path(ark_path)
        self.scp_path = Path(scp_path)
        self.ark_tmp = self.ark_path.with_name(self.ark_path.name + ".tmp")
        self.scp_tmp = self.scp_path.with_name(self.scp_path.name + ".tmp")
        self.ark_path.parent.mkdir(parents=True, exist_ok=True)
        self.scp_path.parent.mkdir(parents=True, exist_ok=True)
        self._ark = open(self.ark_tmp, "wb")
        self._scp = open(self.scp_tmp, "w", encoding="utf-8")
        self._keys: set = set()
        self._closed = False
        # scp entries name the final ark; keep it as given (relative paths stay
        # relative, as Kaldi recipes expect when run from the recipe dir).
        self._ark_name = str(self.ark_path)

    def __setitem__(self, key: str, array: np.ndarray) -> None:
        """Append one matrix.

        Args:
            key: Utterance id (no whitespace, unique within this writer).
            array: (T, D) or (D,) numeric array; written as stored (float32
                matrices stay float32).
        """
        if self._closed:
            raise ValueError(f"ArkWriter({self.ark_path}): write after close")
        if not key or any(c.isspace() for c in key):
            raise ValueError(
                f"ArkWriter({self.ark_path}): key {key!r} is empty or has whitespace"
            )
        if key in self._keys:
            raise ValueError(f"ArkWriter({self.ark_path}): duplicate key {key!r}")
        if not isinstance(array, np.ndarray) or array.ndim not in (1, 2):
            raise ValueError(
                f"ArkWriter({self.ark_path}): value of {key!r} must be a 1-D or 2-D "
                f"numpy array, got {type(array).__name__} "
                f"with shape {getattr(array, 'shape', None)}"
            )
        try:
            self._ark.write((key + " ").encode("utf-8"))
            offset = self._ark.tell()
            kaldiio.matio.write_array(self._ark, np.ascontiguousarray(array))
            self._ark.flush()
            self._scp.write(f"{key} {self._ark_name}:{offset}\n")
            self._scp.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise OSError(
                errno.ENOSPC,
                f"No space left on device while writing {self.ark_tmp} (utterance {key}): free "
                "space there or write the features to a larger disk (ser.sh --dumpdir)",
            ) from exc
        self._keys.add(key)

    def __len__(self) -> int:
        return len(self._keys)

    def close(self) -> None:
        """Close and move the temporary files to their final names."""
        if self._closed:
            return
        self._ark.close()
        self._scp.close()
        self._closed = True
        os.replace(self.ark_tmp, self.ark_path)
        os.replace(self.scp_tmp, self.scp_path)

    def abort(self) -> None:
        """Close WITHOUT renaming: the ``.tmp`` files keep the valid prefix."""
        if self._closed:
            return
        self._closed = True
        for f in (self._ark, self._scp):
            try:
                f.close()
            except OSError:  # e.g. a full disk refusing the buffered tail: the error that
                pass         # stopped the writer is the one to report

    def __enter__(self) -> "ArkWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def load_scp(scp_path: PathLike) -> Mapping[str, np.ndarray]:
    """Open an scp file as a lazy read-only mapping ``key -> (T, D) array``.

    Matrices are read from disk on access; nothing is loaded up front.

    Raises:
        FileNotFoundError: If ``scp_path`` does not exist.
    """
    if not Path(scp_path).is_file():
        raise FileNotFoundError(f"load_scp: no scp file {scp_path}")
    return kaldiio.load_scp(str(scp_path))


def read_matrix(spec: str) -> np.ndarray:
    """Read one matrix from an scp value such as ``dump/feats.1.ark:1234``.

    Raises:
        FileNotFoundError: If the ark file named in ``spec`` does not exist.
    """
    ark = spec.rsplit(":", 1)[0] if ":" in spec else spec
    if not Path(ark).is_file():
        raise FileNotFoundError(f"read_matrix: ark file {ark} (from '{spec}') not found")
    return kaldiio.load_mat(spec)


def read_ark(ark_path: PathLike) -> Iterator[Tuple[str, np.ndarray]]:
    """Iterate ``(key, array)`` over the records of an ark file, in order."""
    if not Path(ark_path).is_file():
        raise FileNotFoundError(f"read_ark: no ark file {ark_path}")
    yield from kaldiio.load_ark(str(ark_path))
