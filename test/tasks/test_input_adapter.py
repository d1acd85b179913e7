"""The input-adapter registry is ``input_adapter`` (ESPnet's ``frontend``/``--adapter`` mean other things)."""
import argparse
import logging

import pytest

from espnet_ser.adapters.identity_adapter import IdentityAdapter
from espnet_ser.adapters.segment_adapter import SegmentAdapter
from espnet_ser.tasks.ser import SERTask


def _args(**kw):
    cfg = SERTask.get_default_config()
    cfg.update(emotion_list=["a", "b"], input_size=4, encoder="mlp", encoder_conf={"hidden_sizes": [8]})
    cfg.update(kw)
    return argparse.Namespace(**cfg)


def test_input_adapter_option_builds_the_adapter():
    parser = SERTask.get_parser()
    args = parser.parse_args(["--input_adapter", "segment", "--input_adapter_conf", "segment_length=8"])
    assert args.input_adapter == "segment" and args.input_adapter_conf == {"segment_length": 8}
    # ESPnet's own --adapter (LoRA / Houlsby fine-tuning) is untouched.
    assert parser.parse_args(["--adapter", "houlsby"]).adapter == "houlsby"
    model = SERTask.build_model(_args(input_adapter="segment", input_adapter_conf={"segment_length": 8}))
    assert isinstance(model.adapter, SegmentAdapter) and model.adapter.segment_length == 8
    assert isinstance(SERTask.build_model(_args()).adapter, IdentityAdapter)


def test_old_frontend_key_is_mapped_with_a_warning(caplog):
    """An old config.yaml (frontend: segment) still builds the same model; the key is dropped."""
    args = _args(frontend="segment", frontend_conf={"segment_length": 8})
    with caplog.at_level(logging.WARNING):
        model = SERTask.build_model(args)
    assert isinstance(model.adapter, SegmentAdapter) and model.adapter.segment_length == 8
    assert "old name of 'input_adapter'" in caplog.text
    assert not hasattr(args, "frontend") and args.input_adapter == "segment"


def test_old_and_new_key_disagreeing_is_an_error():
    with pytest.raises(ValueError, match="'frontend' is the old name of 'input_adapter'; keep only input_adapter"):
        SERTask.build_model(_args(frontend="identity", input_adapter="segment"))
