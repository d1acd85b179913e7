"""Activations and padding masks come from ESPnet (no copies of our own)."""
import pytest
import torch

from espnet_ser.heads.mlp_classifier import MLPClassifier
from espnet_ser.layers.nn_utils import ACTIVATIONS, get_activation


def test_every_listed_activation_is_espnets():
    for name in ACTIVATIONS:
        assert isinstance(get_activation(name), torch.nn.Module)


def test_unknown_activation_is_one_clear_error():
    with pytest.raises(ValueError, match=r"mlp classifier: activation: unknown activation 'gelu'; choose one of"):
        MLPClassifier(4, 2, hidden_sizes=[3], activation="gelu")


def test_no_own_mask_or_activation_helpers():
    import espnet_ser.layers as layers
    import espnet_ser.layers.nn_utils as nn_utils
    import espnet_ser.layers.stats_pooling as stats_pooling

    assert not hasattr(layers, "make_valid_mask") and not hasattr(stats_pooling, "make_valid_mask")
    assert not hasattr(nn_utils, "build_activation")
