#!/usr/bin/env bash
# Stage 1 of egs/cross_corpus/dann: the corpus pool (--sources, --targets) prepared for --task as
# the Kaldi data directory <datadir>/all (espnet_ser.corpora.pool; label maps, with the arousal and
# valence of each emotion: espnet_ser/corpora/maps/<corpus>.yaml).
#
# Usage: local/data.sh --sources "emodb emovo" [--targets tess] [--task arousal] [--datadir data]
# ser.sh passes --sources/--targets/--task. Each corpus folder comes from db.sh: the variable is
# the corpus name in upper case (emodb -> EMODB, msp_improv -> MSP_IMPROV).
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# ---- defaults (each one an option: --name value) ----
datadir=data             # output root: writes ${datadir}/corpora/<corpus> and ${datadir}/all
sources=                 # source corpora (labelled training data), space-separated
targets=                 # target corpora (test); empty: every corpus of the pool in turn
task=emotion             # emotion | arousal | valence
emotions=ang,hap,neu,sad # task emotion: the classes kept (those every corpus shares)
help_message="Usage: $0 --sources \"emodb emovo\" [--targets tess] [--task arousal] [--datadir data]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }
# shellcheck source=../db.sh
. ./db.sh
# Names first (unknown, repeated, both source and target), before any corpus is read.
pool=$(python3 -m espnet_ser.bin.prepare_pool --check --sources "${sources}" --targets "${targets}")
corpus_args=()
for c in ${pool}; do
  var=$(echo "${c}" | tr '[:lower:]' '[:upper:]')
  check_db "${var}" || exit 1
  corpus_args+=(--corpus "${c}=${!var}")
done
mkdir -p "${datadir}"
log "Preparing the pool (${task}): sources '${sources}', targets '${targets:-each corpus in turn}' -> ${datadir}/all"
python3 -m espnet_ser.bin.prepare_pool --sources "${sources}" --targets "${targets}" --task "${task}" \
  --emotions "${emotions}" "${corpus_args[@]}" --out-dir "${datadir}" > "${datadir}/pool.json"
log "Prepared $(wc -l < "${datadir}/all/utt2spk") utterances of $(wc -l < "${datadir}/all/spk2utt") speakers in ${datadir}/all (summary: ${datadir}/pool.json)"
