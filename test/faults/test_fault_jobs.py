"""Fault matrix, job rows: a failing job in run.pl / slurm.pl / queue.pl stops the stage
and names its log; a Slurm job cancelled (scancel) or killed for time (TIMEOUT) is a
failure naming the log and the scheduler's state.

The cluster rows use the local Slurm / Grid Engine of test/conftest.py and skip with
the reason where the Debian packages are missing or the daemons cannot start.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from fault_utils import REPO, copy_recipe, data_dir, run, tail, write_wav

SLURM_PL = REPO / "utils" / "slurm.pl"
FIXTURE = {"run.pl": None, "slurm.pl": "slurm_cluster", "queue.pl": "sge_cluster"}


@pytest.mark.parametrize("runner", [
    "run.pl",
    pytest.param("slurm.pl", marks=pytest.mark.cluster),
    pytest.param("queue.pl", marks=pytest.mark.cluster),
])
def test_failing_job_stops_the_stage(runner, tmp_path, request, cluster_confs):
    """Stage 2 with a feature config the extractor rejects: both jobs fail, ser.sh stops."""
    extra = {}
    if FIXTURE[runner]:
        cluster = request.getfixturevalue(FIXTURE[runner])
        if isinstance(cluster, dict):  # Grid Engine: SGE_ROOT / SGE_CELL
            extra = {k: v for k, v in cluster.items() if k.startswith("SGE_")}
    recipe = copy_recipe(tmp_path)
    wavs = {f"s{i % 2}-u{i}": str(write_wav(tmp_path / "wav" / f"{i}.wav", seed=i)) for i in range(4)}
    data_dir(recipe / "data" / "all", wavs)
    (recipe / "conf" / "bad_feats.yaml").write_text("name: fbank\nconf:\n  n_mel: 40\n")
    cmd = runner
    if runner in cluster_confs:
        (recipe / "conf" / "cluster.conf").write_text(cluster_confs[runner])
        cmd = f"{runner} --config conf/cluster.conf"
    (recipe / "cmd.sh").write_text("".join(f'export {c}="{cmd}"\n'
                                           for c in ("train_cmd", "cuda_cmd", "decode_cmd")))
    res = run(["./ser.sh", "--stage", "2", "--stop_stage", "2", "--protocol", "emodb_l2so",
               "--nj", "2", "--feats_conf", "conf/bad_feats.yaml"], recipe, timeout=300, **extra)
    assert res.returncode == 1, tail(res)
    log = "dump/bad_feats/all/log/extract.1.log"
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{runner}: 2 / 2 failed, log is in {log}"), tail(res)
    if runner != "run.pl":
        assert "(exit code 1" in last, last
    body = [ln for ln in (recipe / log).read_text().splitlines() if not ln.startswith("#")]
    assert body[-1].startswith(
        "extract_feats: error: conf/bad_feats.yaml: feature extractor 'fbank': unknown conf "
        "option(s) ['n_mel'] (allowed: ['fs', 'n_mels',"), body
    assert "Successfully finished" not in res.stdout
    assert not (recipe / "dump" / "bad_feats" / "all" / "feats.scp").exists()   # no merge ran


def _submitted(name: str, cwd: Path):
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%F %Z"], capture_output=True,
                         text=True).stdout.split()
    return out[0] if len(out) >= 2 and out[1] == str(cwd) else None


@pytest.mark.cluster
@pytest.mark.parametrize("kill", ["cancelled", pytest.param("timeout", marks=pytest.mark.slow)])
def test_slurm_job_killed(kill, slurm_cluster, tmp_path, cluster_confs):
    """scancel of a running array, or --time 1 (Slurm kills after 60-90 s): failure, log named."""
    conf = tmp_path / "slurm.conf"
    conf.write_text(cluster_confs["slurm.pl"])
    if kill == "timeout":
        start = time.time()
        res = subprocess.run([str(SLURM_PL), "--config", str(conf), "--time", "1", "log/t.log",
                              "sleep", "150"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=170)
        assert res.returncode == 1
        assert res.stderr.startswith("slurm.pl: 1 / 1 failed, log is in log/t.log (TIMEOUT"), \
            res.stderr
        assert time.time() - start < 150
        assert "failed: TIMEOUT" in (tmp_path / "log/t.log").read_text()
        return
    proc = subprocess.Popen([str(SLURM_PL), "--config", str(conf), "JOB=1:2", "log/c.JOB.log",
                             "sleep", "120"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        job = None
        for _ in range(60):  # find our job by its name once it is submitted
            time.sleep(0.5)
            job = (tmp_path / "log/q/c.sh").exists() and _submitted("c", tmp_path)
            if job:
                break
        assert job, "slurm.pl did not submit within 30 s"
        subprocess.run(["scancel", job], check=True)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
    assert proc.returncode == 1
    assert err.startswith("slurm.pl: 2 / 2 failed, log is in log/c.1.log (CANCELLED"), err
    assert f"Slurm job {job}_1" in err
    log = (tmp_path / "log/c.1.log").read_text()
    assert "# Ended" not in log and "failed: CANCELLED" in log
