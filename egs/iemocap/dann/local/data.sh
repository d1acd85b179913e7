#!/usr/bin/env bash
# Stage 1 of egs/iemocap/dann: IEMOCAP -> the Kaldi data directory <datadir>/all
# (espnet_ser.corpora.iemocap, 4 classes neu/hap+exc/ang/sad; maps/iemocap.yaml).
# Every other turn of the same dialogues (fru, sur, xxx, ...) is kept as UNLABELLED
# context with its speaker and transcript (prepare_iemocap context=true): Lian et al.
# model a dialogue as a whole.
#
# Usage: local/data.sh [--datadir data] [--utts_per_speaker 24] [--dialogs_per_session 4] ...
# The corpus comes from $IEMOCAP (db.sh): IEMOCAP_full_release/ with Session1..5/.
# IEMOCAP=synthetic generates a tree in the release's exact layout instead
# (espnet_ser.corpora.synth: turns of all IEMOCAP labels, fru/xxx/... included, transcripts
# whose wording depends on the emotion, XX overlap lines) into db/synthetic_iemocap,
# regenerated only when the generator options below change.
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

datadir=data                 # output root: writes ${datadir}/all
db=db/synthetic_iemocap      # where IEMOCAP=synthetic writes its tree
utts_per_speaker=24          # IEMOCAP=synthetic: turns per speaker (5 sessions x 2 speakers)
dialogs_per_session=4        # IEMOCAP=synthetic: dialogues per session
duration=1.0,2.0             # IEMOCAP=synthetic: seconds per turn (min,max)
seed=0                       # IEMOCAP=synthetic: generator seed
help_message="Usage: $0 [--datadir data] [--utts_per_speaker 24] [--dialogs_per_session 4] [--duration 1.0,2.0] [--seed 0]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }
# shellcheck source=../db.sh
. ./db.sh
if [ "${IEMOCAP}" = synthetic ]; then
  synth_opts="--n-speakers 10 --utts-per-speaker ${utts_per_speaker} --duration ${duration} --seed ${seed} --option dialogs_per_session=${dialogs_per_session}"
  if [ ! -d "${db}" ] || [ "$(cat "${db}.opts" 2>/dev/null)" != "${synth_opts}" ]; then
    log "IEMOCAP=synthetic: generating an IEMOCAP tree (${synth_opts}) -> ${db}"
    rm -rf "${db}" "${db}.opts"
    # shellcheck disable=SC2086
    python3 -m espnet_ser.bin.synth_corpus --layout iemocap --out-dir "${db}" ${synth_opts}
    echo "${synth_opts}" > "${db}.opts"
  fi
  IEMOCAP=${db}
fi
check_db IEMOCAP || exit 1

out=${datadir}/all
log "Preparing IEMOCAP (4 classes + unlabelled context turns): ${IEMOCAP} -> ${out}"
python3 -m espnet_ser.bin.prepare_corpus --corpus iemocap --corpus-dir "${IEMOCAP}" --out-dir "${out}" \
  --option context=true
log "Prepared $(wc -l < "${out}/utt2spk") utterances ($(wc -l < "${out}/utt2emo") labelled) of $(wc -l < "${out}/spk2utt") speakers in ${out}"
