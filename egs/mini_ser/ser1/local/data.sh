#!/usr/bin/env bash
# Stage 1 of the demo: generate a synthetic emotional-speech corpus in Emo-DB's
# exact layout (espnet_ser.corpora.synth: speaker and emotion both shape
# prosody and spectrum) and prepare it like the real corpus -> ${datadir}/all.
# The corpus is regenerated only when the generator options change (${db}.opts).
set -euo pipefail

datadir=data            # where all/ goes
db=db/synthetic_emodb   # where the generated corpus goes (regenerated if options change)
n_speakers=10           # speakers (Emo-DB layout: the 10 Emo-DB ids 03 08 ... 16, half female)
utts_per_speaker=32     # files per speaker, spread evenly over the emotions (8 per emotion)
emotions=W,F,N,T        # Emo-DB emotion letters to generate (W anger, F happiness, N neutral, T sadness)
duration=1.0,2.0        # seconds per file (min,max)
sample_rate=16000       # output sample rate
seed=0                  # generator seed (same seed = same bytes)
# shellcheck source=../utils/parse_options.sh
. utils/parse_options.sh

opts="--n-speakers ${n_speakers} --utts-per-speaker ${utts_per_speaker} --duration ${duration} --sample-rate ${sample_rate} --seed ${seed} --option emotions=${emotions}"
if [ ! -d "${db}" ] || [ "$(cat "${db}.opts" 2>/dev/null)" != "${opts}" ]; then
  rm -rf "${db}" "${db}.opts"
  # shellcheck disable=SC2086
  python3 -m espnet_ser.bin.synth_corpus --layout emodb --out-dir "${db}" ${opts}
  echo "${opts}" > "${db}.opts"
fi
python3 -m espnet_ser.bin.prepare_corpus --corpus emodb --corpus-dir "${db}" --out-dir "${datadir}/all"
