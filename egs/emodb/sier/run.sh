#!/usr/bin/env bash
# Recipe emodb/sier: speaker-invariant emotion recognition on Emo-DB with a 2D CNN-biGRU
# encoder and an annealed speaker adversary (Leow et al.).  README.md explains it.
#
#   ./run.sh                          # every stage: no-adversary baseline, conf/train.yaml, the ComParE MLP, SVM, fusion
#   ./run.sh --baseline_config "" --extra_configs "" --svm false --fusions ""   # only conf/train.yaml
#   ./run.sh --train_config conf/tuning/train_cnn2_gamma2.50.yaml --seeds 0
#   ./run.sh --help                   # every option of ./ser.sh, with this recipe's defaults
#
# The model is ser.sh's default --train_config conf/train.yaml, the paper's best setting
# (python -m espnet_ser.bin.make_grid --best).  The options below are the recipe's
# defaults: ./ser.sh takes the last value of a repeated option, so the command line wins.
set -euo pipefail

opts=(
  --protocol emodb_l2so                # 5 folds, 6 train / 2 dev / 2 test speakers, 1:1 gender
  --feats_conf conf/feats/mfcc.yaml    # 20 MFCC, n_fft 2048, hop 512, Hann, 22.05 kHz, trimmed
  --norm speaker                       # per-speaker z-norm (stage 3; RESULTS.md: +8 WA over global)
  # Speed perturbation of each fold's training set (Kaldi's perturb_data_dir_speed.sh, 3 x the data;
  # dev and test untouched): +5.1 WA / +5.0 UA for the CNN-biGRU, 12 of 15 runs better, p = 0.003
  # (RESULTS.md, "Training-recipe levers").  Tags get _sp0.9_1.0_1.1.  Off: --speed_perturb_factors ""
  --speed_perturb_factors "0.9 1.0 1.1"
  --baseline_config conf/tuning/train_cnn1_noadv.yaml  # the same model without the adversary, first
  --seeds "0 1 2"
  # What won on Emo-DB (egs/emodb/sier/RESULTS.md, 5 folds x 3 seeds): ComParE_2016 functionals into
  # an MLP (80.2 WA, +12 over the CNN-biGRU), and the late fusion of the two seed ensembles, with
  # equal weights (ser.sh's default --fusion_weights: 85.9 WA / 85.7 UA on fresh seeds, dev-chosen
  # weights 83.3 / 83.0); the SVM reference on the same folds.  --extra_configs "" --fusions ""
  # --svm false: the paper's two models only.
  # Functionals are one vector per utterance: no speed perturbation for them (speed_perturb_factors=).
  --extra_configs "func_mlp:conf/tuning/train_func_mlp.yaml:feats_conf=conf/feats/compare_2016.yaml,speed_perturb_factors="
  --svm true
  --fusions "@baseline_ens+func_mlp_ens"   # @baseline: the baseline's tag in this run (train_cnn1_noadv_mfcc_sp0.9_1.0_1.1_speaker)
  --nj 2
  --paper_table conf/paper_results.yaml
)
./ser.sh "${opts[@]}" "$@"
