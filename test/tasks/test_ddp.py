"""Multi-process (DDP) training equals one process on the same global batches.

CPU only, gloo backend, 2 processes.  ESPnet's own launchers do not start CPU
workers on one machine: ``AbsTask.main`` spawns one process per GPU
(``--multiprocessing_distributed`` with ``--ngpu`` > 1, nothing for ``--ngpu 0``) and
``espnet2.bin.launch`` starts one process per node (``srun``/``mpirun``) or per
``--host`` entry (over ssh).  So each rank is started here with the command line
``espnet2.bin.launch --host`` gives a CPU process (``--ngpu 0
--multiprocessing_distributed false --dist_rank R --dist_world_size 2
--dist_backend gloo`` and a ``file://`` init), around the same entry point
``python -m espnet_ser.bin.ser_train``.

ESPnet's sampler gives rank r the items ``batch[r::world_size]`` of every global
batch, in the same batch order, and weights each worker's loss by its batch size,
so with dropout 0, no batch norm (its statistics would be per worker; ESPnet's
``--sync_batchnorm`` exists for GPUs) and every utterance labelled, the two runs
see the same global batches and must reach the same per-epoch statistics and the
same weights.  Plain SGD for both optimizers: Adam's update hardly depends on the
gradient's scale, so a sum-instead-of-mean bug would pass unseen with it.

The model has a reversed speaker head stepped by optimizer 2 with
``--adversary_steps 2`` (its manual all_reduce in ``ESPnetSERModel.adversary_update``)
and center loss (its center update summed over workers).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet_ser.bin.make_shape_file import make_shape_file
from espnet_ser.bin.prepare_labels import main as prepare_labels_main
from espnet_ser.features.ark_io import ArkWriter

REPO = Path(__file__).resolve().parents[2]
D = 6
CONF = {
    "input_size": D,
    "encoder": "conv1d",
    "encoder_conf": {"channels": [8], "kernel_sizes": [3], "strides": [1], "dropout": 0.0,
                     "batch_norm": False},
    "pooling": "stats",
    "classifier": "mlp",
    "classifier_conf": {"hidden_sizes": [8], "batch_norm": False, "dropout": 0.0},
    "model_conf": {"embedding_size": 8, "center_loss_weight": 0.1, "center_loss_alpha": 0.5},
    "domain_heads": [{"name": "speaker", "schedule": "dann", "schedule_conf": {"gamma": 10.0},
                      "classifier_conf": {"hidden_sizes": [8], "dropout": 0.0}}],
    "optim": "sgd", "optim_conf": {"lr": 0.1},
    "optim2": "sgd", "optim2_conf": {"lr": 0.2},
    "adversary_steps": 2,
    "batch_type": "unsorted", "batch_size": 4, "num_workers": 0, "num_att_plot": 0,
    "best_model_criterion": [["valid", "ua", "max"]],
    "keep_nbest_models": 1, "seed": 0,
}
TRAIN_KEYS = ("loss", "loss_emo", "loss_center", "loss_speaker", "acc", "wa", "ua")
VALID_KEYS = ("loss", "loss_emo", "loss_speaker", "wa", "ua")


def _make_set(root: Path, name: str, n_per_spk: int, spks, seed: int):
    rng = np.random.default_rng(seed)
    data, dump = root / "data" / name, root / "dump" / name
    data.mkdir(parents=True)
    u2s, u2e, u2n = {}, {}, {}
    with ArkWriter(dump / "feats.ark", dump / "feats.scp") as w:
        for s in spks:
            for i in range(n_per_spk):
                utt = f"{s}-u{i:02d}"
                T = int(rng.integers(3, 15))
                w[utt] = (rng.normal(size=(T, D)) + i % 3).astype(np.float32)
                u2s[utt], u2e[utt], u2n[utt] = s, ["ang", "neu", "sad"][i % 3], T
    for fname, table in (("utt2spk", u2s), ("utt2emo", u2e)):
        (data / fname).write_text("".join(f"{k} {v}\n" for k, v in sorted(table.items())))
    (dump / "utt2num_frames").write_text("".join(f"{k} {v}\n" for k, v in sorted(u2n.items())))
    make_shape_file(dump)
    return data, dump


@pytest.fixture(scope="module")
def ddp_data(tmp_path_factory):
    """24 labelled training utterances (6 batches of 4), 8 dev; a config and its train args."""
    root = tmp_path_factory.mktemp("ddp")
    train = _make_set(root, "train", 6, ["s1", "s2", "s3", "s4"], 1)
    dev = _make_set(root, "dev", 4, ["s1", "s2"], 2)
    lang = root / "lang"
    prepare_labels_main(["--train_dir", str(train[0]), "--lang_dir", str(lang), "--names", "emotion", "speaker",
                         "--set", f"{train[0]}:{train[1]}", "--set", f"{dev[0]}:{dev[1]}"])
    conf = root / "train.yaml"
    conf.write_text(yaml.safe_dump(CONF))
    args = ["--config", str(conf), "--emotion_list", str(lang / "emotions.txt"), "--max_epoch", "2",
            "--ngpu", "0"]
    for mode, d in (("train", train[1]), ("valid", dev[1])):
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/feats.scp,speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/emotion.int,emotion,text_int",
                 f"--{mode}_data_path_and_name_and_type", f"{d}/speaker.int,speaker,text_int",
                 f"--{mode}_shape_file", f"{d}/speech_shape"]
    return root, args


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


TRAIN = [sys.executable, "-m", "espnet_ser.bin.ser_train"]


def ddp_rank_args(rank: int, world_size: int, init_file: Path):
    """What ``espnet2.bin.launch --host`` appends for a CPU process (ngpu 0 -> gloo)."""
    return ["--multiprocessing_distributed", "false", "--dist_rank", str(rank),
            "--dist_world_size", str(world_size), "--dist_backend", "gloo",
            "--dist_init_method", f"file://{init_file}"]


def run_single(args, out: Path):
    res = subprocess.run(TRAIN + args + ["--output_dir", str(out)], env=_env(), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def run_ddp(args, out: Path, world_size: int = 2):
    init = out.parent / f".dist_init_{out.name}"
    procs = [subprocess.Popen(TRAIN + args + ["--output_dir", str(out)] + ddp_rank_args(r, world_size, init),
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(world_size)]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    for r, (p, log) in enumerate(zip(procs, logs)):
        assert p.returncode == 0, f"rank {r}:\n{log[-3000:]}"
    return logs


def epoch_stats(out: Path, max_epoch: int):
    """``{(epoch, mode, key): value}`` from the run's checkpoint (ESPnet's reporter)."""
    from espnet2.train.reporter import Reporter

    rep = Reporter()
    rep.load_state_dict(torch.load(out / "checkpoint.pth", map_location="cpu", weights_only=False)["reporter"])
    stats = {}
    for e in range(1, max_epoch + 1):
        for mode, keys in (("train", TRAIN_KEYS), ("valid", VALID_KEYS)):
            for k in keys:
                stats[(e, mode, k)] = rep.get_value(mode, k, e)
    return stats


def final_state(out: Path, max_epoch: int):
    return torch.load(out / f"{max_epoch}epoch.pth", map_location="cpu", weights_only=True)


def assert_same_run(single: Path, ddp: Path, max_epoch: int = 2, tol: float = 1e-5):
    s, d = epoch_stats(single, max_epoch), epoch_stats(ddp, max_epoch)
    bad = {k: (s[k], d[k]) for k in s if not np.isclose(s[k], d[k], rtol=tol, atol=tol)}
    assert not bad, f"per-epoch statistics differ (single, ddp): {bad}"
    ws, wd = final_state(single, max_epoch), final_state(ddp, max_epoch)
    assert ws.keys() == wd.keys()
    diff = {k: float((ws[k].double() - wd[k].double()).abs().max()) for k in ws if ws[k].is_floating_point()}
    assert max(diff.values()) < tol, {k: v for k, v in diff.items() if v >= tol}
    # The run really trained every part: the adversary, the rest and the centers moved.
    assert int(wd["num_updates"]) == max_epoch * 6
    assert float(wd["center_loss.centers"].abs().sum()) > 0


def test_two_process_cpu_ddp_equals_one_process(ddp_data):
    root, args = ddp_data
    run_single(args, root / "single")
    logs = run_ddp(args, root / "ddp")
    assert "world_size=2" in logs[0] or "/2]" in logs[0], logs[0][-2000:]
    assert_same_run(root / "single", root / "ddp")
