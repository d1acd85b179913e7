"""Build EVERY training config under egs/*/*/conf/ and run one batch forward + backward.

A training config is a YAML mapping with an ``encoder`` key (feature configs
under conf/feats/ and cluster configs are skipped by that rule).  Input:
random features (B, T, input_size or 20); T = 1 for the ``mlp`` encoder
(utterance-level functionals), two segments for a ``segment`` input adapter,
else 24 frames (kept small: the suite builds every config).  Label inventories are generated beside
emotions.txt, which is where the domain heads look for them.
"""

import argparse
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(
    p for p in REPO.glob("egs/*/*/conf/**/*.yaml")
    if isinstance(yaml.safe_load(p.read_text(encoding="utf-8")), dict)
    and "encoder" in yaml.safe_load(p.read_text(encoding="utf-8"))
)


def test_reference_configs_found():
    names = {p.name for p in CONFIGS}
    assert {"train.yaml", "train_adv_speaker.yaml", "train_functionals.yaml"} <= names


@pytest.mark.parametrize("conf_path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_config_builds_and_trains_one_batch(conf_path, tmp_path):
    from espnet_ser.labels import LABEL_SOURCES
    from espnet_ser.tasks.ser import SERTask

    for name, (_, inv) in LABEL_SOURCES.items():
        (tmp_path / inv).write_text("".join(f"{name}{i}\n" for i in range(4)))
    # Parser defaults, as ser_train sees them (get_default_config would fill
    # *_conf with the DEFAULT class's arguments).
    cfg = vars(SERTask.get_parser().parse_args([]))
    cfg.update(yaml.safe_load(conf_path.read_text(encoding="utf-8")))
    cfg["emotion_list"] = str(tmp_path / "emotions.txt")
    # Multimodal fusion encoders (Lian et al.) split the features by modality_dims.
    D = cfg.get("input_size") or sum((cfg.get("encoder_conf") or {}).get("modality_dims") or []) or 20
    cfg["input_size"] = D
    model = SERTask.build_model(argparse.Namespace(**cfg))
    model.set_total_steps(100)
    model.train()
    seg = (cfg.get("input_adapter_conf") or {}).get("segment_length", 32)
    T = 1 if cfg["encoder"] == "mlp" else (2 * seg if cfg.get("input_adapter") == "segment" else 24)
    B = 4
    xs = torch.randn(B, T, D)
    lens = torch.tensor([T] + [max(1, T // 2)] * (B - 1))
    labels = {name: torch.tensor([[0], [1], [2], [-1]]) for name in LABEL_SOURCES}
    if cfg.get("model") == "dialogue":  # one example = one dialogue: a label per turn
        T = 6
        xs = torch.randn(B, T, D)
        lens = torch.tensor([T, 4, 2, 1])
        labels = {name: torch.tensor([[0, 1, 2, -1, 0, 1]] * B) for name in LABEL_SOURCES}
    loss, stats, weight = model(xs, lens, **labels, utt_id=[f"u{i}" for i in range(B)])
    assert torch.isfinite(loss).all(), stats
    loss.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    assert all(g is None or torch.isfinite(g).all() for g in grads)
