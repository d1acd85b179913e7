# shellcheck shell=bash
# Where the corpora live: one variable per corpus.  Set it here, or in the
# environment (it wins):  EMODB=/data/emodb ./run.sh
# Empty means "not here": stage 1 (local/data.sh) of the Emo-DB and RAVDESS
# recipes then downloads the corpus into the recipe's downloads/ (python -m
# espnet_ser.bin.download_corpus; <VAR>_URL overrides the URL); for the others
# `check_db <VAR>` (below) stops with one line saying where to request the
# corpus, which variable to set and the layout it expects.  Expected layouts
# (details in espnet_ser/corpora/<corpus>.py):
#   IEMOCAP     IEMOCAP_full_release/ with Session{1..5}/
#   MSP_IMPROV  MSP-IMPROV/ with the session folders and Evaluation.txt
#   SAVEE       SAVEE/ with AudioData/{DC,JE,JK,KL}/
#   EMODB       Emo-DB/ with wav/03a01Fa.wav ...
#   RAVDESS     folder with Actor_01/ ... Actor_24/ (or Audio_Speech_Actors_01-24/)
#   EMOVO       EMOVO/ with f1 f2 f3 m1 m2 m3/
#   TESS        folder with OAF_angry/ ... YAF_sad/ (any case/spelling), or the
#               flat OAF_back_angry.wav ... files, or a folder holding either
# Recipes link to this file, so a new corpus is one line here (and its layout
# in check_db).

IEMOCAP=${IEMOCAP:-}
MSP_IMPROV=${MSP_IMPROV:-}
SAVEE=${SAVEE:-}
RAVDESS=${RAVDESS:-}

# Emo-DB, EMOVO and TESS default to the shared copies beside the repository
# (<repo>/../shared/corpora, i.e. ../../../../shared/corpora from a recipe
# directory), made absolute so that they work from any sub-directory; only
# when they exist and the variable is unset: `EMODB= ./run.sh` (set, empty)
# skips the shared copy and downloads.
_ser_db_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-./db.sh}")" && pwd)/../../../../shared/corpora
if [ -z "${EMODB+set}" ] && [ -d "${_ser_db_dir}/emodb" ]; then
  EMODB=$(cd "${_ser_db_dir}/emodb" && pwd)
fi
if [ -z "${EMOVO+set}" ] && [ -d "${_ser_db_dir}/emovo" ]; then
  EMOVO=$(cd "${_ser_db_dir}/emovo" && pwd)
fi
if [ -z "${TESS+set}" ] && [ -d "${_ser_db_dir}/tess" ]; then
  TESS=$(cd "${_ser_db_dir}/tess" && pwd)
fi
EMODB=${EMODB-}
EMOVO=${EMOVO-}
TESS=${TESS-}
unset _ser_db_dir
export IEMOCAP MSP_IMPROV SAVEE EMODB RAVDESS EMOVO TESS

# check_db <VAR>: for a recipe's stage 1 (local/data.sh).  Returns 0 when the
# variable names a directory with the corpus's expected top-level layout, else
# prints one line naming the variable and the layout and returns 1.
#   . ./db.sh; check_db EMODB || exit 1
check_db() {
  local var=$1 dir layout where found=false sub
  local -a subs
  # where: how to get the corpus (the same sources as espnet_ser/corpora/download.py).
  case "${var}" in
    IEMOCAP)    subs=(Session1); layout="IEMOCAP_full_release/ holding Session1 ... Session5/"
                where="IEMOCAP needs a licence: request it with the release form at https://sail.usc.edu/iemocap/" ;;
    MSP_IMPROV) subs=(Evaluation.txt Evalution.txt); layout="MSP-IMPROV/ holding Evaluation.txt (or Evalution.txt) and the session folders"
                where="MSP-IMPROV needs an academic licence from the MSP lab at UT Dallas (https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Improv.html)" ;;
    SAVEE)      subs=(AudioData DC_a01.wav); layout="SAVEE/ holding AudioData/{DC,JE,JK,KL}/ (or the flat DC_a01.wav form)"
                where="SAVEE needs a registration with the University of Surrey (http://kahlan.eps.surrey.ac.uk/savee/)" ;;
    EMODB)      subs=(wav); layout="Emo-DB/ holding wav/03a01Fa.wav ..."
                where="Emo-DB is free: python -m espnet_ser.bin.download_corpus --corpus emodb prints the folder (egs/emodb/sier does this when EMODB is empty)" ;;
    RAVDESS)    subs=(Actor_01 Audio_Speech_Actors_01-24); layout="a folder holding Actor_01 ... Actor_24/ (or Audio_Speech_Actors_01-24/)"
                where="RAVDESS is free: python -m espnet_ser.bin.download_corpus --corpus ravdess prints the folder (egs/ravdess/sier does this when RAVDESS is empty)" ;;
    EMOVO)      subs=(f1); layout="EMOVO/ holding f1 f2 f3 m1 m2 m3/"
                where="EMOVO has no stable public download: ask its authors (Fondazione Ugo Bordoni, Rome) for a copy" ;;
    TESS)       subs=('[OY]AF_*' '[oy]af_*' '*/[OY]AF_*' '*/[oy]af_*')
                layout="a folder holding OAF_angry/ ... YAF_sad/ (or the flat OAF_back_angry.wav ... files)"
                where="TESS is free: python -m espnet_ser.bin.download_corpus --corpus tess prints the folder" ;;
    *) echo "check_db: unknown corpus variable '${var}' (one of IEMOCAP MSP_IMPROV SAVEE EMODB RAVDESS EMOVO TESS; add it to db.sh)" >&2; return 1 ;;
  esac
  dir=${!var:-}
  if [ -z "${dir}" ]; then
    echo "${var} is not set: set it in db.sh or the environment (${var}=/path/to/corpus ./run.sh), expected ${layout}; ${where}" >&2
    return 1
  fi
  for sub in "${subs[@]}"; do
    # A sub may be a glob pattern (TESS's <SPK>_<emotion> folders): compgen -G expands it.
    if [ -e "${dir}/${sub}" ] || compgen -G "${dir}/${sub}" > /dev/null; then
      found=true
    fi
  done
  if ! ${found}; then
    echo "${var}=${dir} does not look like the corpus: expected ${layout}" >&2
    return 1
  fi
}
