#!/usr/bin/env bash
# Recipe cross_corpus/dann: cross-corpus emotion recognition with multi-head domain adversaries and
# center loss (Gao et al.).  README.md explains it; every option: ./run.sh --help
#
#   ./run.sh                                       # Emo-DB, EMOVO, TESS: each the target in turn
#   ./run.sh --sources "emodb emovo" --targets tess --task valence --seeds 0
#   ./run.sh --sources iemocap --targets "msp_improv savee emodb"   # the paper's setting
#
# Rows of the closing table (one model each, same folds): the CNN-BLSTM baseline (S), + center
# loss (S+C), DANN_1 (speaker + corpus adversaries; S, S+C), DANN_2 (gender + language + corpus;
# S, S+C), and the ComParE_2016 + linear SVM reference.  The DANN rows train with the target
# corpus unlabelled (--train_unlab true); UA per target corpus, paired tests against the baseline.
set -euo pipefail

dann="dann1:conf/tuning/train_dann1.yaml:train_unlab=true dann1_center:conf/tuning/train_dann1_center.yaml:train_unlab=true"
dann+=" dann2:conf/tuning/train_dann2.yaml:train_unlab=true dann2_center:conf/tuning/train_dann2_center.yaml:train_unlab=true"
opts=(
  --sources "emodb emovo tess"         # the corpus pool (db.sh variable = upper-case name)
  --targets ""                         # empty: every corpus of the pool is the target in turn
  --task arousal                       # arousal | valence (binary, Gao et al.) | emotion (ang hap neu sad)
  --protocol cross_corpus
  --protocol_opts "--unlabelled-target true"   # the target's audio without labels: train_unlab
  --feats_conf conf/feats/logspec.yaml # 16 kHz log spectrogram, 256-point window/FFT, hop 128
  --norm global
  --label_names "speaker gender corpus lang"   # the domain heads' streams (ser.sh adds the task's)
  --baseline_config conf/tuning/train_cnn_blstm.yaml
  --train_config conf/tuning/train_cnn_blstm_center.yaml
  --extra_configs "${dann}"
  --svm true
  --seeds "0 1 2"
  --nj 2
  --paper_table conf/paper_results.yaml
  --compare_opts --per-fold
)
./ser.sh "${opts[@]}" "$@"
