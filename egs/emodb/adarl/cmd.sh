# shellcheck shell=bash
# How the recipe runs its parallel jobs (sourced by run.sh / ser.sh).
#
#   train_cmd   CPU jobs: data preparation, feature extraction, scoring
#   cuda_cmd    training and inference (asks for one GPU on a cluster)
#   decode_cmd  inference-sized CPU jobs
#
# All three take Kaldi's contract: ${cmd} [--mem 4G] [--gpu N]
# [--num-threads N] [--max-jobs-run N] [--time H:M:S] JOB=1:N log.JOB.log cmd...
#
# run.pl runs on this machine (--mem/--gpu/--time are ignored there; the
# number of jobs at once defaults to the number of CPUs).  To use a cluster,
# comment out the run.pl block and uncomment ONE of the blocks below, then
# adapt conf/slurm.conf or conf/queue.conf (partition, GPU queue, memory
# flags) to your site.  Logs stay in the same place; the job scripts go to
# <log-dir>/q/.

# --- this machine ---
export train_cmd="run.pl"
export cuda_cmd="run.pl --gpu 1"
export decode_cmd="run.pl"

# --- Slurm ---
# export train_cmd="slurm.pl --config conf/slurm.conf"
# export cuda_cmd="slurm.pl --config conf/slurm.conf --gpu 1"
# export decode_cmd="slurm.pl --config conf/slurm.conf --mem 4G"

# --- Grid Engine (SGE, Son of Grid Engine, UGE) ---
# export train_cmd="queue.pl --config conf/queue.conf"
# export cuda_cmd="queue.pl --config conf/queue.conf --gpu 1"
# export decode_cmd="queue.pl --config conf/queue.conf --mem 4G"
