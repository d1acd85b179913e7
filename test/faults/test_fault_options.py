"""Fault matrix, option rows: a config key that does not exist (training config, feature
config), and a --stage after --stop_stage: one line naming the file/option and the fix.
"""

from __future__ import annotations

import sys

import pytest

from fault_utils import copy_recipe, cli, data_dir, run, tail, write_wav


def test_stage_after_stop_stage(tmp_path):
    recipe = copy_recipe(tmp_path)
    res = run(["./run.sh", "--stage", "5", "--stop_stage", "3"], recipe, timeout=120)
    assert res.returncode == 1, tail(res)
    assert res.stderr.strip() == ("./ser.sh: --stage 5 is after --stop_stage 3: nothing would run "
                                  "(give --stop_stage 5 or more)"), tail(res)
    assert not (recipe / "data").exists() and not (recipe / "exp").exists()


CONFIG_ROWS = {
    # a training config (stage 4's ser_train; the stage itself: test_fault_stages.py)
    "training config": ("ser_train", "max_epoch: 1\nencodr_conf: {channels: [8]}\n",
                        "ser_train: error: {conf}: unknown key 'encodr_conf' (did you mean "
                        "'encoder_conf'? python -m espnet_ser.bin.ser_train --print_config lists "
                        "every key)"),
    # a feature config (stage 2's extract_feats)
    "feature config": ("extract_feats", "name: fbank\nconf:\n  n_mel: 40\n",
                       "extract_feats: error: {conf}: feature extractor 'fbank': unknown conf "
                       "option(s) ['n_mel'] (allowed: ['fs', 'n_mels', 'n_fft', 'win_length', "
                       "'hop_length', 'window', 'fmin', 'fmax', 'log_floor'])"),
}


@pytest.mark.parametrize("row", list(CONFIG_ROWS))
def test_config_key_that_does_not_exist(row, tmp_path):
    module, text, message = CONFIG_ROWS[row]
    conf = tmp_path / "conf.yaml"
    conf.write_text(text)
    if module == "ser_train":
        args = ["--config", conf, "--output_dir", tmp_path / "exp"]
    else:
        d = data_dir(tmp_path / "data", {"s1-u1": str(write_wav(tmp_path / "a.wav"))})
        args = ["--feats-conf", conf, "--data-dir", d, "--out-dir", tmp_path / "dump"]
    res = cli(module, *args)
    assert res.returncode != 0, tail(res)
    assert [ln for ln in res.stderr.splitlines() if ln.strip()] == [message.format(conf=conf)], tail(res)
    assert not (tmp_path / "exp").exists() and not (tmp_path / "dump" / "feats.1.ark").exists()
