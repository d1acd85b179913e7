#!/usr/bin/env bash
# Recipe emodb/sier: speaker-invariant emotion recognition on Emo-DB with a 2D CNN-biGRU
# encoder and an annealed speaker adversary (Leow et al., paper 003).  README.md explains it.
#
#   ./run.sh                          # every stage: no-adversary baseline, then conf/train.yaml
#   ./run.sh --baseline_config ""     # only conf/train.yaml
#   ./run.sh --train_config conf/tuning/train_cnn2_gamma2.50.yaml --seeds 0
#   ./run.sh --svm true               # also the ComParE_2016 + linear SVM reference (./svm.sh)
#   ./run.sh --help                   # every option of ./ser.sh
#
# Two options belong to this script (consumed here); everything else goes to ./ser.sh,
# which takes the last value of a repeated option, so the command line wins over the
# defaults below.
set -euo pipefail

# ---- recipe options ----
baseline_config=conf/tuning/train_cnn1_noadv.yaml  # same model without the adversary, run first ("": skip)
svm=false                                           # true: also run ./svm.sh

# ---- recipe defaults for ./ser.sh ----
opts=(
  --corpus emodb
  --protocol emodb_l2so                # 5 folds, 6 train / 2 dev / 2 test speakers, 1:1 gender
  --feats_conf conf/feats/mfcc.yaml    # 20 MFCC, n_fft 2048, hop 512, Hann, 22.05 kHz, trimmed
  --norm speaker                       # per-speaker z-norm (stage 3; RESULTS.md: +8 WA over global)
  --train_config conf/train.yaml       # the best setting (python -m espnet_ser.bin.make_grid)
  --seeds "0 1 2"
  --nj 2
  --paper_table conf/paper_results.yaml
)

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline_config|--baseline-config) [ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 1; }
      baseline_config=$2; shift 2 ;;
    --baseline_config=*|--baseline-config=*) baseline_config=${1#*=}; shift ;;
    --svm) [ $# -ge 2 ] || { echo "$0: --svm needs true or false" >&2; exit 1; }
      svm=$2; shift 2 ;;
    --svm=*) svm=${1#*=}; shift ;;
    --help|-h) sed -n '2,13p' "$0"; echo "Recipe options: --baseline_config ${baseline_config} --svm ${svm}"
      echo "Recipe defaults given to ./ser.sh (they override the values listed below):${opts[*]/#--/$'\n'  --}"
      exec ./ser.sh --help ;;
    *) args+=("$1"); shift ;;
  esac
done
case "${svm}" in true|false) ;; *) echo "$0: --svm ${svm}: use true or false" >&2; exit 1 ;; esac
if [ -n "${baseline_config}" ] && [ ! -f "${baseline_config}" ]; then
  echo "$0: --baseline_config ${baseline_config}: no such file (see conf/tuning/, or \"\" to skip)" >&2
  exit 1
fi

# Last value of option $1 among the defaults and the command line ($2: fallback).
last() {
  local name=$1 value=$2 i all=("${opts[@]}" "${args[@]}")
  for ((i = 0; i < ${#all[@]}; i++)); do
    case "${all[i]}" in
      "--${name}"|"--${name//_/-}") value=${all[i + 1]:-} ;;
      "--${name}="*|"--${name//_/-}="*) value=${all[i]#*=} ;;
    esac
  done
  echo "${value}"
}

feat=$(basename "$(last feats_conf "")" .yaml)
norm=$(last norm global)
main=()
if [ -n "${baseline_config}" ]; then
  # Baseline tag as ser.sh names it, fixed here so the adversarial run can find it.
  btag=$(basename "${baseline_config}" .yaml)_${feat}_${norm}
  ./ser.sh "${opts[@]}" "${args[@]}" --train_config "${baseline_config}" --tag "${btag}"
  # Stages 1-3 (data, features, normalisation) are shared: the second run starts at 4.
  stage=$(last stage 1)
  [ "${stage}" -ge 4 ] || main+=(--stage 4)
  main+=(--baseline_tag "${btag}")
fi
./ser.sh "${opts[@]}" "${args[@]}" "${main[@]}"

if [ -n "${baseline_config}" ] && [ "$(last stop_stage 8)" -ge 7 ]; then
  # One table: the model without and with the adversary (WA, UA, macro-F1, speaker probe).
  mtag=$(last tag "$(basename "$(last train_config "")" .yaml)_${feat}_${norm}")
  expdir=$(last expdir exp)
  # shellcheck source=path.sh
  . ./path.sh
  python3 -m espnet_ser.bin.compare "${expdir}/${btag}" "${expdir}/${mtag}"
fi

if ${svm}; then
  ./svm.sh --protocol "$(last protocol "")" --stage "$(last stage 1)" \
    --stop_stage "$(last stop_stage 8)" --folds "$(last folds "")" --nj "$(last nj 2)"
fi
