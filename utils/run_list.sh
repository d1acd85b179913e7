#!/usr/bin/env bash
# run_list.sh: run line J of a run list, the task of an array job.
#
#   utils/run_list.sh [--num-threads N] <list> <J>
#
# A run list has one run per line: "<log> <command>", the command shell-quoted
# word by word (printf %q), e.g.
#   exp/t/seed0/fold1/train.log python3 -m espnet_ser.bin.ser_train --seed 0 ...
# ser.sh writes one per stage and submits all its lines as ONE job array,
#   ${cuda_cmd} --max-jobs-run M JOB=1:N exp/t/log/train.JOB.log utils/run_list.sh exp/t/log/train.list JOB
# so that run.pl runs M at a time and slurm.pl/queue.pl submit one array.
# Line J runs through utils/run.pl on the node the task landed on, so each run
# keeps its own log with run.pl's markers (it is overwritten by a rerun, as a
# log of run.pl is), and a failing run ends with
#   run.pl: 1 / 1 failed, log is in <log>
# in the task's log (exp/t/log/train.J.log) and the task's exit code.  --num-threads N
# is recorded in the run's log and exported as OMP_NUM_THREADS and MKL_NUM_THREADS.
set -euo pipefail

opts=()
while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do
  [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
  opts+=("$1" "$2")
  # The threads the job asked for are the threads its run uses (torch, numpy: OMP/MKL).
  [ "$1" != --num-threads ] || export OMP_NUM_THREADS="$2" MKL_NUM_THREADS="$2"
  shift 2
done
if [ $# -ne 2 ]; then
  echo "Usage: $0 [--num-threads N] <list> <J>   (runs line J of <list>: '<log> <command>')" >&2
  exit 1
fi
list=$1 j=$2
[ -f "${list}" ] || { echo "$0: ${list}: no such run list" >&2; exit 1; }
case "${j}" in ''|*[!0-9]*|0*) echo "$0: line number '${j}' must be a positive integer" >&2; exit 1 ;; esac
line=$(sed -n "${j}p" "${list}")
[ -n "${line}" ] || { echo "$0: ${list} has no line ${j} ($(wc -l < "${list}") runs)" >&2; exit 1; }
log=${line%% *}
[ "${log}" != "${line}" ] || { echo "$0: ${list}:${j}: expected '<log> <command>', got '${line}'" >&2; exit 1; }
# The command's words, as ser.sh quoted them.
words=()
eval "words=(${line#* })"
exec "$(dirname "$0")/run.pl" "${opts[@]}" "${log}" "${words[@]}"
