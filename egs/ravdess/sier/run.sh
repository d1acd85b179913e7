#!/usr/bin/env bash
# Recipe ravdess/sier: speaker-invariant emotion recognition on RAVDESS (speech) with a 2D CNN-biGRU
# encoder and an annealed speaker adversary (Leow et al.).  README.md explains it.
#
#   RAVDESS=/data/RAVDESS ./run.sh    # every stage: no-adversary baseline, conf/train.yaml, the ComParE MLP, SVM, fusion
#   RAVDESS=synthetic ./run.sh        # the same on a generated tree in the release layout (local/data.sh)
#   ./run.sh --baseline_config "" --extra_configs "" --svm false --fusions ""   # only conf/train.yaml
#   ./run.sh --train_config conf/tuning/train_cnn1_gamma3.33.yaml --seeds 0
#   ./run.sh --help                   # every option of ./ser.sh, with this recipe's defaults
#
# The model is ser.sh's default --train_config conf/train.yaml, the paper's best setting
# (python -m espnet_ser.bin.make_grid --best).  The options below are the recipe's
# defaults: ./ser.sh takes the last value of a repeated option, so the command line wins.
set -euo pipefail

opts=(
  --protocol ravdess_l2so              # 12 folds, 20 train / 2 dev / 2 test speakers, 1:1 gender
  --feats_conf conf/feats/mfcc.yaml    # 20 MFCC, n_fft 2048, hop 512, Hann, 22.05 kHz (resampled), trimmed
  --norm speaker                       # per-speaker z-norm (stage 3): +8 WA over global on Emo-DB (egs/emodb/sier/RESULTS.md); --norm global: the paper's
  # No speed perturbation (Emo-DB's default, +5.1 WA there): on EMOVO (egs/emovo/sier/RESULTS.md) the CNN -0.6 WA with it, 3 seeds.
  --baseline_config conf/tuning/train_cnn1_noadv.yaml  # the same model without the adversary, first
  --seeds "0 1 2"
  # What won on Emo-DB (egs/emodb/sier/RESULTS.md, 5 folds x 3 seeds): ComParE_2016 functionals into
  # an MLP (80.2 WA, +12 over the CNN-biGRU), and the late fusion of the two seed ensembles with
  # equal weights (ser.sh's default --fusion_weights: +3.7 WA over dev-chosen weights on Emo-DB, +2.9
  # on EMOVO); the SVM reference on the same folds.  --extra_configs "" --fusions "" --svm false: the
  # paper's two models only.
  --extra_configs "func_mlp:conf/tuning/train_func_mlp.yaml:feats_conf=conf/feats/compare_2016.yaml"
  --svm true
  --fusions "@baseline_ens+func_mlp_ens"   # @baseline: the baseline's tag in this run (train_cnn1_noadv_mfcc_speaker)
  --nj 2
  --paper_table conf/paper_results.yaml
)
./ser.sh "${opts[@]}" "$@"
