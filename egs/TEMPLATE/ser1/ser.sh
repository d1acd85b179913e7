#!/usr/bin/env bash
# Shared speech-emotion-recognition pipeline. Recipes call it from a thin run.sh:
#   ./ser.sh --corpus emodb --protocol emodb_l2so --feats_conf conf/feats/mfcc.yaml "$@"
# Stage numbers never change (DESIGN.md §3):
#   1 data preparation (local/data.sh -> data/all) and fold lists (data/folds)
#   2 feature extraction (data/all -> dump/<feat>/all), nj jobs through ${train_cmd}
#   3 per fold: normalisation statistics from training data only, label inventories
#   4 per fold x seed: training (espnet_ser.bin.ser_train through ${cuda_cmd})
#   5 inference: posteriors and embeddings per utterance
#   6 scoring: results.json per fold/seed
#   7 report: aggregate folds x seeds, speaker probe, plots, RESULTS.md
#   8 pack the trained model of each fold/seed for sharing
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
min() { local a=$1 b=$2; if [ "${a}" -lt "${b}" ]; then echo "${a}"; else echo "${b}"; fi; }

# ---- defaults (each one an option: --name value) ----
stage=1                  # first stage to run
stop_stage=8             # last stage to run
nj=4                     # parallel jobs for feature extraction
inference_nj=1           # parallel jobs for inference (per fold/seed)
ngpu=0                   # GPUs for training (0: CPU)
gpu_inference=false      # decode on GPU
corpus=                  # corpus name passed to local/data.sh (recipe default)
local_data_opts=         # extra options for local/data.sh
protocol=                # fold protocol (espnet_ser.bin.make_folds --help lists them)
protocol_opts=           # extra options for make_folds
folds=                   # folds to run, e.g. "1 2" (empty: all folds of the protocol)
seeds="0"                # training seeds; results are aggregated over folds x seeds
feats_conf=conf/feats/fbank.yaml   # feature extractor config
norm=global              # feature normalisation: global | utterance | speaker | none
train_config=conf/train.yaml       # model and training config
train_args=              # extra options for ser_train (e.g. "--max_epoch 2")
inference_args=          # extra options for ser_inference
probe_sets="test"        # sets whose embeddings feed the speaker probe
tag=                     # experiment tag (default: <train_config>_<feats>_<norm>)
baseline_tag=            # experiment tag to compare with in the report (paired test)
paper_table=             # YAML with the paper's numbers for the report
expdir=exp               # experiment root
dumpdir=dump             # feature root
datadir=data             # data root
help_message="Usage: $0 [options]
Stages: 1 data | 2 features | 3 normalisation+labels | 4 training | 5 inference
        6 scoring | 7 report | 8 pack"

log "$0 $*"
run_args=$(printf ' %q' "$0" "$@")
# shellcheck source=../../../utils/parse_options.sh
. utils/parse_options.sh

# shellcheck source=./path.sh
. ./path.sh
# shellcheck source=./cmd.sh
. ./cmd.sh

[ -n "${protocol}" ] || { echo "$0: --protocol is required (e.g. --protocol emodb_l2so)" >&2; exit 1; }
[ -f "${feats_conf}" ] || { echo "$0: --feats_conf ${feats_conf}: no such file (see conf/feats/)" >&2; exit 1; }
[ -f "${train_config}" ] || { echo "$0: --train_config ${train_config}: no such file (see conf/)" >&2; exit 1; }
case "${norm}" in global|utterance|speaker|none) ;;
  *) echo "$0: --norm ${norm}: must be global, utterance, speaker or none" >&2; exit 1 ;; esac

feat=$(basename "${feats_conf}" .yaml)
[ -n "${tag}" ] || tag="$(basename "${train_config}" .yaml)_${feat}_${norm}"
exp=${expdir}/${tag}
foldroot=${datadir}/folds/${protocol}

fold_list() {
  if [ -n "${folds}" ]; then
    for k in ${folds}; do echo "fold${k}"; done
  else
    find "${foldroot}" -mindepth 1 -maxdepth 1 -type d -name 'fold*' -printf '%f\n' | sort -V
  fi
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
  log "Stage 1: data preparation: ${corpus:-corpus} -> ${datadir}/all, folds -> ${foldroot}"
  # shellcheck disable=SC2086
  local/data.sh --datadir "${datadir}" ${local_data_opts}
  utils/validate_data_dir.sh --no-feats "${datadir}/all"
  # shellcheck disable=SC2086
  python3 -m espnet_ser.bin.make_folds --protocol "${protocol}" \
    --data-dir "${datadir}/all" --out-dir "${foldroot}" ${protocol_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  out=${dumpdir}/${feat}/all
  log "Stage 2: feature extraction (${feat}): ${datadir}/all -> ${out}"
  n=$(wc -l < "${datadir}/all/utt2spk")
  _nj=$(min "${nj}" "${n}")
  utils/split_data.sh --per-utt "${datadir}/all" "${_nj}"
  mkdir -p "${out}/log"
  ${train_cmd} JOB=1:"${_nj}" "${out}/log/extract.JOB.log" \
    python3 -m espnet_ser.bin.extract_feats --feats-conf "${feats_conf}" \
      --data-dir "${datadir}/all/split${_nj}utt/JOB" --out-dir "${out}" --job JOB
  python3 -m espnet_ser.bin.extract_feats --merge --nj "${_nj}" \
    --feats-conf "${feats_conf}" --data-dir "${datadir}/all" --out-dir "${out}"
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  for fold in $(fold_list); do
    out=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
    log "Stage 3: ${norm} normalisation from ${fold}/train, labels: ${dumpdir}/${feat}/all -> ${out}"
    python3 -m espnet_ser.bin.apply_norm --mode "${norm}" --feats "${dumpdir}/${feat}/all/feats.scp" \
      --fold-dir "${foldroot}/${fold}" --out-dir "${out}"
    python3 -m espnet_ser.bin.prepare_labels --fold-dir "${foldroot}/${fold}" \
      --dump-dir "${out}" --out-dir "${out}/labels"
  done
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      dump=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
      log "Stage 4: training: ${dump}/{train,dev} -> ${d}"
      mkdir -p "${d}"
      echo "${run_args}" > "${exp}/run.sh"
      cp "${feats_conf}" "${d}/feats_conf.yaml"
      [ ! -f "${dump}/stats.npz" ] || cp "${dump}/stats.npz" "${d}/norm_stats.npz"
      # shellcheck disable=SC2086
      ${cuda_cmd} --gpu "${ngpu}" "${d}/train.log" \
        python3 -m espnet_ser.bin.ser_train --config "${train_config}" --ngpu "${ngpu}" \
          --seed "${seed}" --output_dir "${d}" --resume true \
          $(python3 -m espnet_ser.bin.prepare_labels --print-train-args --dump-dir "${dump}") \
          ${train_args}
    done
  done
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
  _ngpu=0; ! ${gpu_inference} || _ngpu=1
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      dump=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
      for set in test ${probe_sets}; do
        [ -d "${d}/decode_${set}" ] && [ "${set}" != test ] && continue
        log "Stage 5: inference: ${dump}/${set} -> ${d}/decode_${set}"
        # shellcheck disable=SC2086
        ${cuda_cmd} --gpu "${_ngpu}" "${d}/decode_${set}/log/inference.log" \
          python3 -m espnet_ser.bin.ser_inference --model_dir "${d}" --ngpu "${_ngpu}" \
            --data_path_and_name_and_type "${dump}/${set}/feats.scp,speech,kaldi_ark" \
            --output_dir "${d}/decode_${set}" ${inference_args}
      done
    done
  done
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}/decode_test
      log "Stage 6: scoring: ${d}/posteriors -> ${d}/results.json"
      python3 -m espnet_ser.bin.score --posteriors "${d}/posteriors" --labels "${d}/labels.txt" \
        --data-dir "${foldroot}/${fold}/test" --out-dir "${d}"
    done
  done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
  log "Stage 7: report: ${exp}/seed*/fold*/decode_test/results.json -> ${exp}/results.json, RESULTS.md"
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      for set in ${probe_sets}; do
        python3 -m espnet_ser.bin.speaker_probe --embeddings "${d}/decode_${set}/embeddings.scp" \
          --data-dir "${foldroot}/${fold}/${set}" --out "${d}/decode_${set}/probe.json"
      done
    done
  done
  opts=()
  [ -z "${baseline_tag}" ] || opts+=(--baseline "${expdir}/${baseline_tag}")
  [ -z "${paper_table}" ] || opts+=(--paper-table "${paper_table}")
  python3 -m espnet_ser.bin.report --exp-dir "${exp}" --out RESULTS.md "${opts[@]}"
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      log "Stage 8: pack: ${d} -> ${d}/packed_model.zip"
      python3 -m espnet_ser.bin.pack_model --exp-dir "${d}" --out "${d}/packed_model.zip"
    done
  done
fi

log "Successfully finished stages ${stage}-${stop_stage} of ${tag}"
