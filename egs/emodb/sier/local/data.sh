#!/usr/bin/env bash
# Stage 1 of egs/emodb/sier: prepare Emo-DB as the Kaldi data directory
# <datadir>/all (espnet_ser.corpora.emodb; labels: espnet_ser/corpora/maps/emodb.yaml).
#
# Usage: local/data.sh [--datadir data] [--speakers 03,08,...] [--download_dir downloads]
# The corpus folder comes from $EMODB (db.sh: default ../../../../shared/corpora/emodb
# when it exists); it must hold wav/03a01Fa.wav ...  When EMODB is empty, the release
# zip is downloaded, checked against downloads/CHECKSUMS and extracted into
# <download_dir>/emodb (espnet_ser.corpora.download; EMODB_URL overrides the URL).
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# ---- defaults (each one an option: --name value) ----
datadir=data             # output root: writes ${datadir}/all
speakers=                # keep only these native speaker ids, comma-separated (e.g. 03,08,10,13); empty: all 10
download_dir=downloads    # where Emo-DB is downloaded when EMODB is empty
help_message="Usage: $0 [--datadir data] [--speakers 03,08,...] [--download_dir downloads]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }
# shellcheck source=../db.sh
. ./db.sh
if [ -z "${EMODB}" ]; then
  log "EMODB is empty: downloading Emo-DB into ${download_dir} (set EMODB=/path/to/Emo-DB to use a copy you have)"
  EMODB=$(python3 -m espnet_ser.bin.download_corpus --corpus emodb --download-dir "${download_dir}")
fi
check_db EMODB || exit 1

out=${datadir}/all
# --speakers: the whole corpus goes to ${out}_full, the speakers' utterances to ${out};
# an unknown speaker is an error (a typo must not shrink the protocol).
log "Preparing Emo-DB: ${EMODB} -> ${out}${speakers:+ (speakers ${speakers})}"
python3 -m espnet_ser.bin.prepare_corpus --corpus emodb --corpus-dir "${EMODB}" --out-dir "${out}" \
  ${speakers:+--speakers "${speakers}"}
log "Prepared $(wc -l < "${out}/utt2spk") utterances of $(wc -l < "${out}/spk2utt") speakers in ${out}"
