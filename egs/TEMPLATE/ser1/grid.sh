#!/usr/bin/env bash
# Run a grid of training configs (e.g. conf/tuning/, written by python -m espnet_ser.bin.make_grid)
# on the recipe's folds and summarise every setting in one table (python -m espnet_ser.bin.compare).
# Shared by the recipes through a link made by setup.sh (egs/TEMPLATE/ser1/grid.sh).
#
# Usage (in the recipe):
#   ./grid.sh                                    # default --configs: Table 1 of paper 003
#   ./grid.sh --configs "conf/tuning/train_cnn1_*.yaml" --seeds "0 1 2"
#   python -m espnet_ser.bin.make_grid --full && ./grid.sh --configs "conf/tuning/full/*.yaml"
# Any other option goes to ./run.sh (and so to ./ser.sh), e.g. --folds "1 2" --norm speaker;
# recipe options too, e.g. --baseline_config "" where run.sh would first train a baseline.
# Stages 1-3 run once; every config then runs stages 4-7 under its own tag.
# Output: exp/grid_summary.md (one row per config: WA, UA, macro-F1, speaker probe).
set -euo pipefail

configs="conf/tuning/train_cnn[1-4]_noadv.yaml conf/tuning/train_cnn[1-4]_gamma?.??.yaml"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --configs) [ $# -ge 2 ] || { echo "$0: --configs needs a value" >&2; exit 1; }
      configs=$2; shift 2 ;;
    --help|-h) sed -n '2,13p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

# shellcheck disable=SC2086  # the globs are meant to expand
set -- ${configs}
files=()
for f in "$@"; do
  [ -f "${f}" ] || { echo "$0: --configs: ${f}: no such file (run python -m espnet_ser.bin.make_grid)" >&2; exit 1; }
  files+=("${f}")
done

./run.sh --stop_stage 3 "${args[@]}"
exps=()
for f in "${files[@]}"; do
  tag=grid_$(basename "${f}" .yaml)
  ./run.sh --train_config "${f}" --tag "${tag}" --stage 4 --stop_stage 7 "${args[@]}"
  exps+=("exp/${tag}")
done

# shellcheck source=path.sh
. ./path.sh
python3 -m espnet_ser.bin.compare "${exps[@]}" --markdown | tee exp/grid_summary.md
echo "$0: summary of ${#exps[@]} settings in exp/grid_summary.md"
