#!/usr/bin/env bash
# Recipe iemocap/adarl: adaptive domain-aware representation learning (ADARL, Fan et al.) on
# IEMOCAP's improvised dialogues, 4 classes, leave-one-speaker-out.  README.md explains it.
#
#   IEMOCAP=/data/IEMOCAP_full_release ./run.sh     # every stage: backbone, ADARL, ablations
#   IEMOCAP=synthetic ./run.sh --train_args "--max_epoch 2"   # a generated tree in the release's layout
#   ./run.sh --help                                 # every option, with this recipe's defaults
# The options below are the recipe's defaults: ./ser.sh takes the last value of a repeated
# option, so the command line wins.
set -euo pipefail

opts=(
  --protocol iemocap_impro_loso        # 10 folds, one test speaker each
  --protocol_opts "--dev-mode speaker" # dev = the test speaker's session partner
  --feats_conf conf/feats/multiwin_logspec.yaml   # 20/30/40 ms Hamming, 10 ms, 0-4 kHz: 3 x 400
  --norm global                        # z-score with the fold's training statistics (in the model)
  --train_config conf/train.yaml       # ADARL, the paper's values
  --baseline_config conf/tuning/train_backbone.yaml   # emotion pathway only, for the paired test
  --extra_configs "domain_invariant:conf/tuning/train_domain_invariant.yaml:baseline_tag=train_backbone_multiwin_logspec_global
                   adarl_no_center:conf/tuning/train_no_center.yaml:baseline_tag=train_backbone_multiwin_logspec_global"
  --seeds "0 1 2"
  --paper_table conf/paper_results.yaml
)
./ser.sh "${opts[@]}" "$@"
