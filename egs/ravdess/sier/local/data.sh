#!/usr/bin/env bash
# Stage 1 of egs/ravdess/sier: prepare RAVDESS speech (channel 01) as the Kaldi
# data directory <datadir>/all (espnet_ser.corpora.ravdess; labels:
# espnet_ser/corpora/maps/ravdess.yaml).
#
# Usage: local/data.sh [--datadir data] [--synthetic false] [--speakers 01,02,...]
#                      [--download_dir downloads]
# The corpus folder comes from $RAVDESS (db.sh): Audio_Speech_Actors_01-24/ or a
# folder with Actor_01/ ... Actor_24/.  RAVDESS=synthetic or --synthetic true
# generates a synthetic tree in the release layout instead (espnet_ser.corpora.synth:
# 24 actors, --synth_utts_per_speaker files each, 48 kHz) under db/ravdess_synth,
# so every stage runs without the real corpus; its numbers say nothing about RAVDESS.
# When RAVDESS is empty, the release's speech zip is downloaded, checked against the
# MD5 published with it and extracted into <download_dir>/ravdess
# (espnet_ser.corpora.download; RAVDESS_URL overrides the URL, RAVDESS_MD5 the MD5).
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# ---- defaults (each one an option: --name value) ----
datadir=data             # output root: writes ${datadir}/all
synthetic=false          # true: generate a synthetic RAVDESS tree (also: RAVDESS=synthetic)
synth_dir=db/ravdess_synth   # where the synthetic tree goes
synth_speakers=24        # actors of the synthetic tree (the release has 24)
synth_utts_per_speaker=16    # files per synthetic actor (the release has 60)
synth_seed=0             # seed of the synthetic tree (same seed = same bytes)
speakers=                # keep only these native actor ids, comma-separated (e.g. 01,02,03,04); empty: all
download_dir=downloads   # where RAVDESS is downloaded when RAVDESS is empty
help_message="Usage: $0 [--datadir data] [--synthetic false] [--speakers 01,02,...] [--download_dir downloads]"

# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$0: unexpected arguments: $* (${help_message})" >&2; exit 1; }
# shellcheck source=../db.sh
. ./db.sh
[ "${RAVDESS}" != synthetic ] || synthetic=true

if ${synthetic}; then
  if [ ! -d "${synth_dir}" ]; then
    log "Generating a synthetic RAVDESS tree (${synth_speakers} actors x ${synth_utts_per_speaker} files): ${synth_dir}"
    python3 -m espnet_ser.bin.synth_corpus --layout ravdess --out-dir "${synth_dir}" \
      --seed "${synth_seed}" --n-speakers "${synth_speakers}" \
      --utts-per-speaker "${synth_utts_per_speaker}"
  else
    log "Using the synthetic RAVDESS tree in ${synth_dir} (remove it to regenerate)"
  fi
  corpus_dir=${synth_dir}
else
  if [ -z "${RAVDESS}" ]; then
    log "RAVDESS is empty: downloading RAVDESS speech into ${download_dir} (set RAVDESS=/path/to/corpus to use a copy you have)"
    RAVDESS=$(python3 -m espnet_ser.bin.download_corpus --corpus ravdess --download-dir "${download_dir}")
  fi
  check_db RAVDESS || exit 1
  corpus_dir=${RAVDESS}
fi

out=${datadir}/all
# --speakers: the whole corpus goes to ${out}_full, the actors' utterances to ${out};
# an unknown actor is an error (a typo must not shrink the protocol).
log "Preparing RAVDESS speech: ${corpus_dir} -> ${out}${speakers:+ (actors ${speakers})}"
python3 -m espnet_ser.bin.prepare_corpus --corpus ravdess --corpus-dir "${corpus_dir}" \
  --out-dir "${out}" --subset speech ${speakers:+--speakers "${speakers}"}
log "Prepared $(wc -l < "${out}/utt2spk") utterances of $(wc -l < "${out}/spk2utt") speakers in ${out}"
