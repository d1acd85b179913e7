#!/usr/bin/env bash
# Stage 1 of egs/emovo/sier: prepare EMOVO as the Kaldi data directory <datadir>/all
# (espnet_ser.corpora.emovo; labels: espnet_ser/corpora/maps/emovo.yaml).
#
# Usage: local/data.sh [--datadir data] [--speakers f1,m1,...]
# The corpus folder comes from $EMOVO (db.sh: default ../../../../shared/corpora/emovo when
# it exists and EMOVO is unset); it must hold f1/ f2/ f3/ m1/ m2/ m3/ with dis-f1-b1.wav ...
# EMOVO has no stable public download: an empty EMOVO stops here with one line (check_db).
set -euo pipefail

datadir=data             # output root: writes ${datadir}/all
speakers=                # keep only these speakers, comma-separated (e.g. f1,f2,m1,m2); empty: all 6
help_message="Usage: $0 [--datadir data] [--speakers f1,m1,...]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }
# shellcheck source=../db.sh
. ./db.sh
check_db EMOVO || exit 1

# --speakers: an unknown speaker is an error (a typo must not shrink the protocol).
echo "$(date '+%Y-%m-%dT%H:%M:%S') (data.sh) Preparing EMOVO: ${EMOVO} -> ${datadir}/all${speakers:+ (speakers ${speakers})}"
python3 -m espnet_ser.bin.prepare_corpus --corpus emovo --corpus-dir "${EMOVO}" --out-dir "${datadir}/all" \
  ${speakers:+--speakers "${speakers}"}
echo "Prepared $(wc -l < "${datadir}/all/utt2spk") utterances of $(wc -l < "${datadir}/all/spk2utt") speakers in ${datadir}/all"
