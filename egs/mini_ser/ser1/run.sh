#!/usr/bin/env bash
# Embedded demo: a synthetic emotional-speech corpus (Emo-DB layout, generated
# by local/data.sh), every stage of ser.sh, two models on the same folds:
#   baseline     conf/train.yaml             no adversary
#   adversarial  conf/train_adv_speaker.yaml speaker head behind an annealed GRL
# then a table of UA/WA and speaker-probe accuracy of each.
# All stages and options: ./run.sh --help ; any option given here is a default
# that the command line overrides (ser.sh takes the last value).
set -euo pipefail

opts=(
    --corpus mini_ser
    --protocol emodb_l2so          # 6 train / 2 dev / 2 test speakers
    --folds "1 2"
    --seeds "0"
    --nj 2
    --feats_conf conf/feats/fbank.yaml
    --norm global
    --probe_sets "dev test"
)

./ser.sh "${opts[@]}" --stop_stage 8 --train_config conf/train.yaml --tag baseline "$@"
./ser.sh "${opts[@]}" --stage 4 --stop_stage 8 --train_config conf/train_adv_speaker.yaml \
    --tag adversarial --baseline_tag baseline "$@"

# shellcheck source=path.sh
. ./path.sh
python3 -m espnet_ser.bin.compare exp/baseline exp/adversarial
