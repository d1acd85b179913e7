#!/usr/bin/env bash
# Run a grid of training configs (e.g. conf/tuning/, written by python -m espnet_ser.bin.make_grid)
# on the recipe's folds and summarise every setting in one table (python -m espnet_ser.bin.compare).
# Shared by the recipes through a link made by setup.sh (egs/TEMPLATE/ser1/grid.sh).
#
# Usage (in the recipe):
#   ./grid.sh                                    # default --configs: Table 1 of Leow et al.
#   ./grid.sh --configs "conf/tuning/train_cnn1_*.yaml" --seeds "0 1 2"
#   python -m espnet_ser.bin.make_grid --full && ./grid.sh --configs "conf/tuning/full/*.yaml"
# Any other option goes to ./run.sh (and so to ./ser.sh), e.g. --folds "1 2" --norm speaker,
# or --baseline_config "" to skip the recipe's baseline.
# One ./run.sh call: stages 1-3 once, the recipe's baseline (if any) once, then every config
# stages 4-7 under its own tag grid_<config> (the first as the main model, the others as
# ./ser.sh --extra_configs), each reported against the baseline.
# Output: exp/grid_summary.md (one row per config: WA, UA, macro-F1, speaker probe).
#
# Search instead of a fixed grid (Optuna; python -m espnet_ser.bin.search --help):
#   ./grid.sh --search optuna --trials 20 [--space conf/search.yaml] [--search_name optuna] [--fold_jobs 1] [run.sh options]
# one study per fold, objective = the fold's dev-speaker UA (its test speakers are never decoded
# during the search), storage exp/<search_name>/optuna.db (a stopped search resumes), best values
# per fold in exp/<search_name>/best_params.json, then each fold's best values trained with the
# recipe's seeds and scored under exp/<search_name>_best. --fold_jobs N: N folds searched at once
# (N trainings at once; the CPU count on one machine).
set -euo pipefail

configs="conf/tuning/train_cnn[1-4]_noadv.yaml conf/tuning/train_cnn[1-4]_gamma?.??.yaml"
search=; trials=10; space=conf/search.yaml; search_name=optuna; fold_jobs=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --configs|--search|--trials|--space|--search_name|--fold_jobs)
      [ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 1; }
      name=${1#--}; printf -v "${name}" '%s' "$2"; shift 2 ;;
    --help|-h) sed -n '2,24p' "$0"; echo "Options of ./run.sh: ./run.sh --help"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ -n "${search}" ]; then
  [ "${search}" = optuna ] || { echo "$0: --search ${search}: the only search is optuna" >&2; exit 1; }
  # shellcheck source=path.sh
  . ./path.sh
  exec python3 -m espnet_ser.bin.search --space "${space}" --trials "${trials}" --name "${search_name}" \
    --fold-jobs "${fold_jobs}" -- "${args[@]}"
fi

# shellcheck disable=SC2086  # the globs are meant to expand
set -- ${configs}
[ $# -gt 0 ] || { echo "$0: --configs is empty (give config files or globs, e.g. \"conf/tuning/*.yaml\")" >&2; exit 1; }
exps=(); extra=()
for f in "$@"; do
  [ -f "${f}" ] || { echo "$0: --configs: ${f}: no such file (run python -m espnet_ser.bin.make_grid)" >&2; exit 1; }
  exps+=("exp/grid_$(basename "${f}" .yaml)")
  extra+=("grid_$(basename "${f}" .yaml):${f}")
done

./run.sh --stop_stage 7 --fusions "" --train_config "$1" --tag "${exps[0]#exp/}" --extra_configs "${extra[*]:1}" "${args[@]}"

# shellcheck source=path.sh
. ./path.sh
python3 -m espnet_ser.bin.compare "${exps[@]}" --markdown > exp/grid_summary.md
echo "$0: summary of ${#exps[@]} settings in exp/grid_summary.md"
