"""Nothing the package reads can run code: checkpoints and packed models are read with
``torch.load(..., weights_only=True)`` and YAML with ``yaml.safe_load`` only.

(ESPnet's own ``Trainer.resume`` reads ``checkpoint.pth`` with ``weights_only=False``:
that file is the run's own output, and ESPnet's code is not patched here. The
no-network-at-import check is in test/tasks/test_ser_task.py.)
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("espnet_ser", "tools", "egs", "utils") for p in (REPO / d).rglob("*.py")
                 if "venv" not in p.parts)


def _calls(text: str, name: str):
    """The argument text of each ``name(...)`` call (balanced parentheses)."""
    for m in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield m.start(), text[m.end():i - 1]


def test_sources_found():
    assert any(p.name == "ser_inference.py" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_torch_load_is_weights_only_and_yaml_is_safe(path):
    text = path.read_text(encoding="utf-8")
    for pos, args in _calls(text, "torch.load"):
        line = text.count("\n", 0, pos) + 1
        assert re.search(r"weights_only\s*=\s*True", args), \
            f"{path}:{line}: torch.load without weights_only=True"
    for bad in ("yaml.load(", "yaml.unsafe_load", "yaml.full_load", "yaml.Loader", "yaml.UnsafeLoader",
                "yaml.FullLoader"):
        assert bad not in text, f"{path}: {bad} (use yaml.safe_load)"


def test_a_model_file_with_code_is_refused(tmp_path):
    """ser_inference.load_model (recognize, packed zips, stage 5) will not unpickle objects."""
    import pickle

    import torch

    from espnet_ser.bin.ser_inference import load_model

    (tmp_path / "config.yaml").write_text("encoder: conv1d\n")
    evil = tmp_path / "model.pth"
    torch.save({"w": torch.zeros(2), "x": Path("/")}, evil)   # any class that is not a tensor
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_model(tmp_path / "config.yaml", evil)
