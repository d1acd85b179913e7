#!/usr/bin/env bash
# Recipe iemocap/dann: Lian et al., context-dependent multimodal domain-adversarial emotion
# recognition on IEMOCAP (AT-Fusion + SA-GRU over whole dialogues, speaker GRL trained on
# labelled and unlabelled sessions).  README.md explains it; ./run.sh --help lists every option.
#
#   IEMOCAP=/data/IEMOCAP_full_release ./run.sh      # every stage, the 5 settings x 3 seeds
#   IEMOCAP=synthetic ./run.sh                       # a generated IEMOCAP tree (local/data.sh)
#   ./run.sh --stage 3 --folds "TS_1234 TS_23"       # settings by name (fold k = k-th setting)
#   ./run.sh --baseline_config "" --seeds "0 1 2 3"  # DANN only, more seeds
# The options below are the recipe's defaults: ./ser.sh takes the last value of a repeated
# option, so the command line wins.
set -euo pipefail

opts=(
  --protocol iemocap_ts --protocol_opts "--setting all"   # TS_1234 TS_123 TS_134 TS_234 TS_23 = fold1..5
  --example_unit dialogue                   # one example = one dialogue (stage 3: make_dialogues)
  --feats_conf conf/feats/compare_2016.yaml              # acoustic: ComParE_2016 functionals (6373)
  --extra_feats_confs conf/feats/sentence_embedding.yaml # lexical: sentence vector (384)
  --norm global                             # statistics of the labelled training sessions
  --label_names "emotion speaker"
  --train_config conf/train.yaml --tag dann
  --baseline_config conf/tuning/train_cmp.yaml --baseline_tag cmp   # "Cmp": no speaker head
  --inference_args "--embedding_point pooled"   # embeddings = fused turn vectors (speaker probe)
  --compare_opts "--per-fold --metrics wa ua"   # the closing table: WA/UA per setting, paired test
  --seeds "0 1 2" --nj 2
  --paper_table conf/paper_results.yaml
)
./ser.sh "${opts[@]}" "$@"
