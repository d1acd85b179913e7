#!/usr/bin/env bash
# Stage 1 of egs/iemocap/adarl: the improvised dialogues of IEMOCAP, 4 classes (neu, hap + exc,
# ang, sad; espnet_ser/corpora/maps/iemocap.yaml) -> the Kaldi data directory <datadir>/all.
# Scripted dialogues are left out here (prepare_iemocap improvised_only=true), so stage 2
# extracts only what the iemocap_impro_loso protocol uses.
#
# Usage: local/data.sh [--datadir data] [--synth_opts "..."]
# $IEMOCAP (db.sh) is IEMOCAP_full_release/ (Session1..5/).  IEMOCAP=synthetic: a tree in
# the release's layout is generated into db/synthetic_iemocap (espnet_ser.corpora.synth)
# and regenerated when --synth_opts change; its numbers are not IEMOCAP's.
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

datadir=data                 # writes ${datadir}/all
synth_opts="--n-speakers 10 --utts-per-speaker 16 --option dialogs_per_session=4 --duration 1.0,4.0"  # IEMOCAP=synthetic
help_message="Usage: $0 [--datadir data] [--synth_opts \"--n-speakers 10 ...\"]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
# shellcheck source=../db.sh
. ./db.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }

if [ "${IEMOCAP}" = synthetic ]; then
  tree=db/synthetic_iemocap
  if [ "$(cat "${tree}/.synth_opts" 2>/dev/null)" != "${synth_opts}" ]; then
    log "IEMOCAP=synthetic: generating ${tree} (${synth_opts})"
    rm -rf "${tree}"
    # shellcheck disable=SC2086
    python3 -m espnet_ser.bin.synth_corpus --layout iemocap --out-dir "${tree}" ${synth_opts}
    echo "${synth_opts}" > "${tree}/.synth_opts"
  fi
  IEMOCAP=${tree}
fi
check_db IEMOCAP || exit 1

log "Preparing IEMOCAP, improvised dialogues, 4 classes: ${IEMOCAP} -> ${datadir}/all"
python3 -m espnet_ser.bin.prepare_corpus --corpus iemocap --corpus-dir "${IEMOCAP}" \
  --out-dir "${datadir}/all" --option improvised_only=true
log "Prepared $(wc -l < "${datadir}/all/utt2spk") utterances of $(wc -l < "${datadir}/all/spk2utt") speakers"
