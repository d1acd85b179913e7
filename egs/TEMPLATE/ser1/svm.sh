#!/usr/bin/env bash
# Classical reference system of a recipe: openSMILE ComParE_2016 functionals (6373-d),
# per-speaker z-normalisation, linear SVM with C chosen on the dev speakers
# (espnet_ser.bin.svm_baseline), on the same folds as the neural models.  Shared by the
# recipes through a link made by setup.sh (egs/TEMPLATE/ser1/svm.sh).
#
# Usage: ./run.sh --svm true (ser.sh calls it with its protocol, folds and stages), or
# alone in the recipe, after ./run.sh --stop_stage 1 has written data/all and the folds:
#   ./svm.sh --protocol emodb_l2so [--norm speaker] [--folds "1 2"]
# Stages (numbers as in ser.sh): 2 functionals -> dump/compare_2016/all (./ser.sh stage 2);
#   5 SVM per fold -> exp/<tag>/<fold>/decode_{test,dev}/posteriors (softmax of the decision
#     scores: same argmax; dev for late fusion, espnet_ser.bin.fuse; the folds are one JOB=1:N
#     array through ${train_cmd}, logs exp/<tag>/log/svm.J.log; the time per fold is printed);
#   6 scoring; 7 report -> RESULTS.md
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# ---- defaults (each one an option: --name value) ----
stage=1                  # first stage to run (1 does nothing here: run ./run.sh --stop_stage 1 first)
stop_stage=8             # last stage to run
nj=2                     # parallel jobs for the functionals
max_parallel=            # folds at once in stage 5 (as ser.sh: empty = as many as CPUs on run.pl, no limit on a cluster)
protocol=                # fold protocol of data/folds/<protocol> (required, as for ser.sh)
folds=                   # folds to run, e.g. "1 2" (empty: all)
feats_conf=conf/feats/compare_2016.yaml   # functionals config
norm=speaker             # svm_baseline --norm: speaker | global | none
task=emotion             # label stream classified and scored: emotion | arousal | valence (as ser.sh --task)
solver=linearsvc         # svm_baseline --solver (linearsvc, linearsvc_dual, linearsvc_primal, sgd, logreg)
patience=2               # svm_baseline --patience: stop the C path after this many C values below the best dev UA
job=                     # internal: stage 5 for the J-th fold only (svm.sh submits itself once per fold)
tag=                     # experiment tag (default svm_<feats>_<norm>)
expdir=exp               # experiment root
dumpdir=dump             # feature root
datadir=data             # data root
help_message="Usage: $0 [options]   (ComParE_2016 + linear SVM reference on the recipe's folds)"

# shellcheck source=utils/parse_options.sh
. utils/parse_options.sh
# shellcheck source=path.sh
. ./path.sh
# shellcheck source=cmd.sh
. ./cmd.sh

[ -n "${protocol}" ] || { echo "$0: --protocol is required (e.g. --protocol emodb_l2so)" >&2; exit 1; }
[ "${stage}" -le "${stop_stage}" ] || { echo "$0: --stage ${stage} is after --stop_stage ${stop_stage}: nothing would run (give --stop_stage ${stage} or more)" >&2; exit 1; }
[ -z "${max_parallel}" ] || [[ "${max_parallel}" =~ ^[1-9][0-9]*$ ]] ||
  { echo "$0: --max_parallel ${max_parallel}: must be a positive integer (or \"\": the default)" >&2; exit 1; }

feat=$(basename "${feats_conf}" .yaml)
[ -n "${tag}" ] || tag=svm_${feat}_${norm}
case "${task}" in emotion) ref=utt2emo ;; arousal|valence) ref=utt2${task} ;;
  *) echo "$0: --task ${task}: must be emotion, arousal or valence" >&2; exit 1 ;; esac
exp=${expdir}/${tag}
foldroot=${datadir}/folds/${protocol}
case "${norm}" in speaker|global|none) ;;
  *) echo "$0: --norm ${norm}: must be speaker, global or none" >&2; exit 1 ;; esac
[ -f "${feats_conf}" ] || { echo "$0: --feats_conf ${feats_conf}: no such file (see conf/feats/)" >&2; exit 1; }
if [ ! -f "${foldroot}/protocol.json" ]; then
  echo "$0: ${foldroot}/protocol.json not found: run ./run.sh --stop_stage 1 (data and folds) first" >&2
  exit 1
fi

# Fold directory names: the --folds numbers, or every fold of the protocol.
[ -n "${folds}" ] || folds=$(find "${foldroot}" -mindepth 1 -maxdepth 1 -type d -name 'fold*' -printf '%f\n' | sed 's/^fold//' | sort -n)
# shellcheck disable=SC2086  # one word per fold number
fold_dirs=$(printf 'fold%s ' ${folds})

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  log "Stage 2: functionals (${feat}): ${datadir}/all -> ${dumpdir}/${feat}/all (./ser.sh stage 2)"
  ./ser.sh --stage 2 --stop_stage 2 --protocol "${protocol}" --feats_conf "${feats_conf}" --nj "${nj}" \
    --datadir "${datadir}" --dumpdir "${dumpdir}" --expdir "${expdir}"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ] && [ -z "${job}" ]; then
  feats=${dumpdir}/${feat}/all/feats.scp
  [ -f "${feats}" ] || { echo "$0: ${feats} not found: run stage 2 of $0 first" >&2; exit 1; }
  # shellcheck disable=SC2086
  set -- ${fold_dirs}
  log "Stage 5: SVM (${norm} normalisation, ${solver}, C on dev): $# folds of ${foldroot} as jobs -> ${exp}/fold*/decode_test (logs ${exp}/log/svm.*.log)"
  mkdir -p "${exp}/log"
  echo "$0 $*" > "${exp}/run.sh"
  limit=(); [ -z "${max_parallel}" ] || limit=(--max-jobs-run "${max_parallel}")
  ${train_cmd} "${limit[@]}" JOB=1:$# "${exp}/log/svm.JOB.log" \
    ./svm.sh --protocol "${protocol}" --folds "${folds}" --feats_conf "${feats_conf}" --norm "${norm}" \
      --task "${task}" --tag "${tag}" --solver "${solver}" --patience "${patience}" --expdir "${expdir}" \
      --dumpdir "${dumpdir}" --datadir "${datadir}" --stage 5 --stop_stage 5 --job JOB
  log "SVM reference: seconds per fold: $(for fold in ${fold_dirs}; do python3 -c 'import json, sys
print(sys.argv[2], json.load(open(sys.argv[1]))["seconds"])' "${exp}/${fold}/decode_test/svm.json" "${fold}"; done | paste -sd' ')"
fi

if [ -n "${job}" ]; then
  # One job of the stage-5 array: the ${job}-th fold of the list.
  feats=${dumpdir}/${feat}/all/feats.scp
  # shellcheck disable=SC2086
  set -- ${fold_dirs}
  [ "${job}" -ge 1 ] && [ "${job}" -le $# ] || { echo "$0: --job ${job}: must be in 1..$# (the folds: ${fold_dirs})" >&2; exit 1; }
  for fold in ${!job}; do
    d=${exp}/${fold}
    log "Stage 5: SVM (${norm} normalisation, ${solver}, C on dev): ${foldroot}/${fold} -> ${d}/decode_test"
    mkdir -p "${d}/decode_test"
    for set in train dev test; do
      # Each set reads only its own utterances' functionals.
      awk 'NR == FNR { keep[$1] = 1; next } ($1 in keep)' \
        "${foldroot}/${fold}/${set}/utt2spk" "${feats}" > "${d}/${set}.scp"
    done
    python3 -m espnet_ser.bin.svm_baseline \
      --train-feats "${d}/train.scp" --train-dir "${foldroot}/${fold}/train" \
      --dev-feats "${d}/dev.scp" --dev-dir "${foldroot}/${fold}/dev" \
      --test-feats "${d}/test.scp" --test-dir "${foldroot}/${fold}/test" \
      --norm "${norm}" --ref "${ref}" --solver "${solver}" --patience "${patience}" --out-dir "${d}/decode_test" \
      --posteriors softmax --dev-out-dir "${d}/decode_dev"
  done
  exit 0
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
  for fold in ${fold_dirs}; do
    d=${exp}/${fold}/decode_test
    log "Stage 6: scoring: ${d}/posteriors -> ${d}/results.json"
    python3 -m espnet_ser.bin.score --posteriors "${d}/posteriors" --labels "${d}/labels.txt" \
      --ref "${ref}" --data-dir "${foldroot}/${fold}/test" --out-dir "${d}" --tag "${tag} ${fold}"
  done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
  log "Stage 7: report: ${exp}/fold*/decode_test/results.json -> ${exp}/results.json, RESULTS.md"
  python3 -m espnet_ser.bin.report --exp-dir "${exp}" --out RESULTS.md --no-probe
fi

log "Successfully finished stages ${stage}-${stop_stage} of ${tag}"
