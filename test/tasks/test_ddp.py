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


@pytest.fixture(scope="module")
def single_run(ddp_data):
    """The one-process reference run (2 epochs)."""
    root, args = ddp_data
    run_single(args, root / "single")
    return root / "single"


def test_two_process_cpu_ddp_equals_one_process(ddp_data, single_run):
    root, args = ddp_data
    logs = run_ddp(args, root / "ddp")
    assert "[" in logs[0] and ":0/2]" in logs[0], logs[0][-2000:]   # ESPnet's rank prefix
    assert_same_run(single_run, root / "ddp")


# One rank of the gradient check: the adversary update (optimizer 2) and the center update
# on this rank's shard of a fixed 6-utterance batch, written to <out>.<rank>.pt.
_WORKER = r"""
import datetime
import sys
import torch
from espnet2.torch_utils.recursive_op import recursive_average
from espnet_ser.tasks.ser import SERTask

rank, world, init, conf, emo, out = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
if world > 1:
    torch.distributed.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world,
                                         timeout=datetime.timedelta(seconds=60))
args = SERTask.get_parser().parse_args(["--config", conf, "--emotion_list", emo])


def fresh():
    torch.manual_seed(0)
    model = SERTask.build_model(args)
    model.train()
    return model, SERTask.build_optimizers(args, model)[1]


g = torch.Generator().manual_seed(1)
speech = torch.randn(6, 7, %(D)d, generator=g)
lengths = torch.tensor([7, 5, 6, 7, 4, 3])
speaker = torch.tensor([[0], [1], [2], [3], [-1], [1]])   # shards: 2 and 3 labelled
emotion = torch.tensor([[0], [-1], [2], [0], [1], [2]])   # shards: 3 and 2 labelled
x = torch.randn(6, 8, generator=g)
idx = list(range(rank, 6, world))

model, opt2 = fresh()
model.adversary_update(opt2, 2, speech[idx], lengths[idx], world_size=world,
                       emotion=emotion[idx], speaker=speaker[idx])
model.center_loss(x[idx], emotion[idx].squeeze(1))
state = {k: v for k, v in model.state_dict().items() if k.startswith("domain_heads.")}
state["centers"] = model.center_loss.centers.clone()
if world > 1:   # the same shard without the workers' reduction: must NOT match one process
    model, opt2 = fresh()
    model.adversary_update(opt2, 2, speech[idx], lengths[idx], world_size=1,
                           emotion=emotion[idx], speaker=speaker[idx])
    state["no_reduce"] = {k: v for k, v in model.state_dict().items() if k.startswith("domain_heads.")}
    # A training step whose shard on rank 1 has no labelled emotion: both workers still take
    # part in the center update's all_reduce, and ESPnet's trainer (None stats dropped, the
    # rest all-gathered key by key) sees the same keys on both.
    model.set_total_steps(10)
    _, stats, weight = model(speech[idx], lengths[idx], emotion=torch.tensor([[0], [-1], [2], [-1], [1], [-1]])[idx],
                             speaker=speaker[idx])
    stats = {k: v for k, v in stats.items() if v is not None}
    keys = [None] * world
    torch.distributed.all_gather_object(keys, sorted(stats))
    stats, _ = recursive_average(stats, weight, distributed=True)
    state["same_stat_keys"] = torch.tensor(keys[0] == keys[1])
    state["loss_emo"] = stats["loss_emo"]
torch.save(state, f"{out}.{rank}.pt")
""" % {"D": D}


def test_adversary_and_center_updates_average_over_workers(ddp_data, tmp_path):
    """Optimizer 2's extra steps and the center update: 2 gloo workers on uneven shards of a
    batch (2 + 3 labelled speakers, 3 + 2 labelled emotions) = one process on the whole batch."""
    root, _ = ddp_data
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    common = [str(tmp_path / "init"), str(root / "train.yaml"), str(root / "lang" / "emotions.txt")]
    run = [sys.executable, str(script)]
    res = subprocess.run(run + ["0", "1"] + common + [str(tmp_path / "single")], env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    procs = [subprocess.Popen(run + [str(r), "2"] + common + [str(tmp_path / "ddp")], env=_env(),
                              stderr=subprocess.PIPE, text=True) for r in range(2)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(e[-2000:] for e in errs)
    single = torch.load(tmp_path / "single.0.pt", weights_only=True)
    ranks = [torch.load(tmp_path / f"ddp.{r}.pt", weights_only=True) for r in range(2)]
    heads = [k for k in single if k.startswith("domain_heads.")]
    assert heads and "centers" in single
    for r, st in enumerate(ranks):
        for k in heads + ["centers"]:
            assert torch.allclose(st[k], single[k], atol=1e-6), (r, k, (st[k] - single[k]).abs().max())
    # The check can fail: without the reduction each worker steps on its own shard.
    assert any(not torch.allclose(ranks[0]["no_reduce"][k], single[k], atol=1e-4) for k in heads)
    assert float(single["centers"].abs().sum()) > 0
    assert all(bool(st["same_stat_keys"]) for st in ranks)
    assert torch.isfinite(ranks[0]["loss_emo"]).all() and torch.equal(ranks[0]["loss_emo"], ranks[1]["loss_emo"])


# ---- the same run through ser.sh (several nodes) and through slurm.pl (2 tasks) ----
sys.path.insert(0, str(REPO / "test" / "faults"))
from fault_utils import copy_recipe, tail  # noqa: E402
from fault_utils import env as recipe_env  # noqa: E402

# Stands in for slurm.pl + srun on N nodes, for espnet2.bin.launch (which calls
# "slurm.pl --gpu G --num_threads T --num_nodes N <log> srun --export=ALL <command>"):
# starts N copies of <command> with the variables srun sets for one task per node.
FAKE_SLURM_PL = r"""#!/usr/bin/env bash
set -u
n=1
while [ "${1#--}" != "$1" ]; do [ "$1" != --num_nodes ] || n=$2; shift 2; done
log=$1; shift
[ "$1" = srun ] && [ "$2" = --export=ALL ] || { echo "fake slurm.pl: expected srun --export=ALL, got $*" >&2; exit 1; }
shift 2
mkdir -p "$(dirname "${log}")"
echo "# fake srun on ${n} nodes: $*" > "${log}"
pids=()
for ((i = 0; i < n; i++)); do
  SLURM_PROCID=$i SLURM_NTASKS=$n SLURM_NODEID=$i SLURM_LOCALID=0 SLURM_STEP_NUM_NODES=$n \
    SLURM_STEP_NODELIST=localhost "$@" > "${log}.task$i" 2>&1 &
  pids+=($!)
done
code=0
for p in "${pids[@]}"; do wait "$p" || code=1; done
cat "${log}".task* >> "${log}"
exit "${code}"
"""


def _recipe(root: Path, tmp_path: Path, cuda_cmd: str) -> Path:
    """A recipe whose stage 3 outputs (fold1 of protocol p, --norm none) are the test data."""
    import shutil

    recipe = copy_recipe(tmp_path)
    dump = recipe / "dump" / "fbank_none" / "p" / "fold1"
    for name, src in (("train", "train"), ("dev", "dev")):
        shutil.copytree(root / "dump" / src, dump / name)
    shutil.copytree(root / "lang", dump / "labels")
    (dump / "norm.json").write_text('{"mode": "none"}\n')
    (recipe / "conf" / "ddp.yaml").write_text(yaml.safe_dump(CONF))
    (recipe / "cmd.sh").write_text(f'export train_cmd="run.pl"\nexport cuda_cmd="{cuda_cmd}"\n'
                                   'export decode_cmd="run.pl"\n')
    return recipe


def _ser_sh(recipe: Path, *opts, timeout=600):
    args = ["./ser.sh", "--stage", "4", "--stop_stage", "4", "--protocol", "p", "--folds", "1",
            "--norm", "none", "--feats_conf", "conf/feats/fbank.yaml", "--label_names", "emotion speaker",
            "--train_config", "conf/ddp.yaml", "--tag", "ddp", "--train_args", "--max_epoch 2", *opts]
    return subprocess.run(args, cwd=recipe, capture_output=True, text=True, env=recipe_env(),
                          timeout=timeout)


@pytest.mark.slow
def test_ser_sh_num_nodes_2_through_espnet_launcher(ddp_data, single_run, tmp_path):
    """ser.sh --num_nodes 2: espnet2.bin.launch -> slurm.pl (here a stand-in for its srun) ->
    ser_train --dist_launcher slurm --multiprocessing_distributed true, file:// init, gloo:
    ESPnet's own multi-node path, one CPU process per node; equals the one-process run."""
    root, _ = ddp_data
    fake = tmp_path / "bin" / "slurm.pl"
    fake.parent.mkdir()
    fake.write_text(FAKE_SLURM_PL)
    fake.chmod(0o755)
    recipe = _recipe(root, tmp_path, str(fake))
    res = _ser_sh(recipe, "--num_nodes", "2")
    assert res.returncode == 0, tail(res)
    d = recipe / "exp" / "ddp" / "seed0" / "fold1"
    nodes = (d / "train.nodes.log").read_text()
    first = nodes.splitlines()[0]
    for words in ("--ngpu 0", "--multiprocessing_distributed true", "--dist_launcher slurm",
                  f"--dist_init_method file://{d.resolve()}/.dist_init_", "--dist_backend gloo"):
        assert words in first, first
    # Two processes ran (each prints its command line); rank 0 logs the training.
    tasks = [(d / f"train.nodes.log.task{i}").read_text() for i in range(2)]
    assert all("ser_train.py --config" in t for t in tasks) and ":0/2]" in tasks[0], nodes[-2000:]
    assert "espnet2.bin.launch" in (d / "train.log").read_text()
    assert_same_run(single_run, d)


def test_ser_sh_distributed_options_are_checked(ddp_data, tmp_path):
    root, _ = ddp_data
    recipe = _recipe(root, tmp_path, "run.pl --gpu 1")
    for opts, err in (
        (["--num_nodes", "2"], "./ser.sh: --num_nodes 2 needs a cluster runner (cuda_cmd=run.pl --gpu 1: "
         "run.pl runs on this machine only): set cuda_cmd in cmd.sh to slurm.pl or queue.pl"),
        (["--num_nodes", "0"], "./ser.sh: --num_nodes 0: must be a positive integer"),
        (["--multiprocessing_distributed", "yes"],
         "ser.sh: option --multiprocessing_distributed is boolean: use true or false, not 'yes'"),
        (["--dist_launcher", "slurm"], "./ser.sh: --dist_launcher slurm does not go with cuda_cmd=run.pl --gpu 1 "
         "(espnet2.bin.launch uses srun with slurm.pl, mpirun with the other cluster runners): set cuda_cmd "
         "in cmd.sh or drop --dist_launcher"),
        (["--dist_launcher", "pmi"], "./ser.sh: --dist_launcher pmi: must be slurm, mpi or empty"),
    ):
        res = _ser_sh(recipe, *opts, timeout=60)
        assert res.returncode == 1 and res.stderr.strip().splitlines()[-1] == err, tail(res)


@pytest.mark.slow
@pytest.mark.cluster
def test_two_tasks_through_slurm_pl(ddp_data, single_run, slurm_cluster, cluster_confs, tmp_path):
    """The same 2-process run as ONE Slurm job of 2 tasks (slurm.pl -> sbatch --ntasks 2 -> srun).

    ESPnet's ``--dist_launcher slurm`` takes one task per node (it checks
    SLURM_STEP_NUM_NODES == SLURM_NTASKS); the local cluster has one node, so each task
    maps SLURM_PROCID/SLURM_NTASKS to --dist_rank/--dist_world_size itself, the rest as above.
    """
    root, args = ddp_data
    conf = tmp_path / "slurm.conf"
    conf.write_text(cluster_confs["slurm.pl"] + "option num_tasks=* --ntasks $0\n")
    out = root / "slurm"
    rank_map = 'exec "$@" --dist_rank "${SLURM_PROCID}" --dist_world_size "${SLURM_NTASKS}"'
    cmd = [str(REPO / "utils" / "slurm.pl"), "--config", str(conf), "--num-tasks", "2", str(tmp_path / "train.log"),
           "srun", "--export=ALL", "bash", "-c", rank_map, "_", *TRAIN, *args, "--output_dir", str(out),
           "--multiprocessing_distributed", "false", "--dist_backend", "gloo",
           "--dist_init_method", f"file://{tmp_path}/.dist_init"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=600)
    log = (tmp_path / "train.log").read_text() if (tmp_path / "train.log").exists() else ""
    assert res.returncode == 0, res.stderr[-2000:] + log[-3000:]
    assert ":0/2]" in log and log.count("ser_train.py --config") == 2, log[-2000:]   # 2 tasks ran
    assert_same_run(single_run, out)
