"""bin/plot_attention: frequency bands of the ADARL attention, the per-gender plot, bad input."""

import argparse

import pytest

from espnet_ser.bin.plot_attention import band_edges, main, model_dirs
from espnet_ser.eval.plots import plot_band_weights
from espnet_ser.tasks.ser import SERTask


def _model(**enc):
    cfg = SERTask.get_default_config()
    cfg.update(emotion_list=["a", "b"], input_size=1200, encoder="adarl",
               encoder_conf=dict({"channels": [2, 2, 2, 2]}, **enc), pooling="mean", pooling_conf={})
    return SERTask.build_model(argparse.Namespace(**cfg))


def test_bands_follow_the_frequency_poolings(tmp_path):
    # Paper: 2 * 2 * 2 * 6 = 48 bins of 10 Hz per weight: 8 bands of 480 Hz (the last 160 Hz pooled away).
    bands = band_edges(_model(), None)
    assert len(bands) == 8 and bands[0] == [0.0, 480.0] and bands[-1][1] == 3840.0
    conf = tmp_path / "feats_conf.yaml"
    conf.write_text("name: multiwin_logspec\nconf: {freq_resolution: 20.0}\n")
    cpu = band_edges(_model(input_pool=[4, 2], pools=[[2, 2], [2, 2], [2, 2], [3, 3]]), conf)
    assert len(cpu) == 4 and cpu[1] == [4 * 24 * 20.0, 2 * 4 * 24 * 20.0]


def test_plot_writes_a_png(tmp_path):
    out = tmp_path / "a.png"
    groups = {"f": {"n": 3, "mean": [0.2, 0.8], "std": [0.1, 0.1]}, "m": {"n": 2, "mean": [0.6, 0.4], "std": [0, 0]}}
    plot_band_weights([[0, 480], [480, 960]], groups, out, title="t")
    assert out.stat().st_size > 1000


def test_missing_inputs_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert model_dirs(tmp_path) == []
    args = ["--exp", str(tmp_path / "exp"), "--dump", str(tmp_path), "--data-dir", str(tmp_path / "data"),
            "--out-dir", str(tmp_path / "out")]
    assert main(args) == 1
    assert "utt2gender not found" in capsys.readouterr().err
    (tmp_path / "data" / "utt2gender").write_text("u1 f\n")
    assert main(args) == 1
    assert "no [seed<S>/]fold<K>/config.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("enc", [{"domain_pathway": False}])
def test_backbone_has_no_attention_point(enc):
    assert "attention" not in _model(**enc).point_sizes
