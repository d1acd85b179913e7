#!/usr/bin/env bash
# Recipe emodb/adarl: adaptive domain-aware representation learning (ADARL, Fan et al.) on the
# real Emo-DB, 7 classes: leave-one-speaker-out (10 folds) and, on the same features, the 5-fold
# emodb_l2so protocol of egs/emodb/sier, so both Emo-DB recipes share one table.  README.md.
#
#   ./run.sh                                  # CPU-sized models (conf/tuning/*_cpu.yaml), both protocols
#   ./run.sh --train_config conf/train.yaml --baseline_config conf/tuning/train_backbone.yaml \
#            --extra_configs "" --ngpu 1      # the paper-sized models (a GPU: see README.md)
#   ./run.sh --help                           # every option, with this recipe's defaults
# The options below are the recipe's defaults: ./ser.sh takes the last value of a repeated
# option, so the command line wins.
set -euo pipefail

opts=(
  --protocol emodb_loso                # 10 folds; dev = 1 male + 1 female of the other speakers
  --feats_conf conf/feats/multiwin_logspec.yaml   # 20/30/40 ms Hamming, 10 ms, 0-4 kHz: 3 x 400
  --norm global                        # z-score with the fold's training statistics (in the model)
  --train_config conf/tuning/train_adarl_cpu.yaml
  --baseline_config conf/tuning/train_backbone_cpu.yaml  # emotion pathway only, for the paired test
  --extra_configs "domain_invariant_cpu:conf/tuning/train_domain_invariant_cpu.yaml:baseline_tag=train_backbone_cpu_multiwin_logspec_global
                   adarl_no_center_cpu:conf/tuning/train_no_center_cpu.yaml:baseline_tag=train_backbone_cpu_multiwin_logspec_global
                   backbone_cpu_l2so:conf/tuning/train_backbone_cpu.yaml:protocol=emodb_l2so
                   adarl_cpu_l2so:conf/tuning/train_adarl_cpu.yaml:protocol=emodb_l2so,baseline_tag=backbone_cpu_l2so"
  # The shared Emo-DB copy is cut at 2.0 s, so every file has 201 frames: the paper's 3 s segments
  # (300 frames, conf/) would be one third zero padding.  One 201-frame segment per file is the same
  # input at about 77 % of the training time (backbone, fold 1, stages 4-6, measured with 200 frames:
  # 72 s vs 94 s, two such runs side by side; ADARL 94 s vs 109 s).  With the full-length
  # release (EMODB=<download>), pass --train_args "" for the paper's 3 s; a --train_args of your own
  # replaces this one (keep both options in it, or the segments are 300 frames again).
  --train_args "--input_adapter_conf segment_length=201 --encoder_conf num_frames=201"
  --seeds "0 1 2"
  --nj 2
  --paper_table conf/paper_results.yaml
)
./ser.sh "${opts[@]}" "$@"
