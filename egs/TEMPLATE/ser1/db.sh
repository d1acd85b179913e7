# shellcheck shell=bash
# Where the corpora live: one variable per corpus.  Set it here, or in the
# environment (it wins):  EMODB=/data/emodb ./run.sh
# Empty means "not available": stage 1 of a recipe that needs it calls
# `check_db <VAR>` (below), which stops with one line naming the variable and
# the layout it expects.  Expected layouts
# (details in espnet_ser/corpora/<corpus>.py):
#   IEMOCAP     IEMOCAP_full_release/ with Session{1..5}/
#   MSP_IMPROV  MSP-IMPROV/ with the session folders and Evaluation.txt
#   SAVEE       SAVEE/ with AudioData/{DC,JE,JK,KL}/
#   EMODB       Emo-DB/ with wav/03a01Fa.wav ...
#   RAVDESS     folder with Actor_01/ ... Actor_24/ (or Audio_Speech_Actors_01-24/)
#   EMOVO       EMOVO/ with f1 f2 f3 m1 m2 m3/
# Recipes link to this file, so a new corpus is one line here (and its layout
# in check_db).

IEMOCAP=${IEMOCAP:-}
MSP_IMPROV=${MSP_IMPROV:-}
SAVEE=${SAVEE:-}
RAVDESS=${RAVDESS:-}

# Emo-DB and EMOVO default to the shared copies beside the repository
# (<repo>/../shared/corpora, i.e. ../../../../shared/corpora from a recipe
# directory), made absolute so that they work from any sub-directory; only
# when they exist.
_ser_db_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-./db.sh}")" && pwd)/../../../../shared/corpora
if [ -z "${EMODB:-}" ] && [ -d "${_ser_db_dir}/emodb" ]; then
  EMODB=$(cd "${_ser_db_dir}/emodb" && pwd)
fi
if [ -z "${EMOVO:-}" ] && [ -d "${_ser_db_dir}/emovo" ]; then
  EMOVO=$(cd "${_ser_db_dir}/emovo" && pwd)
fi
EMODB=${EMODB:-}
EMOVO=${EMOVO:-}
unset _ser_db_dir
export IEMOCAP MSP_IMPROV SAVEE EMODB RAVDESS EMOVO

# check_db <VAR>: for a recipe's stage 1 (local/data.sh).  Returns 0 when the
# variable names a directory with the corpus's expected top-level layout, else
# prints one line naming the variable and the layout and returns 1.
#   . ./db.sh; check_db EMODB || exit 1
check_db() {
  local var=$1 dir layout found=false sub
  local -a subs
  case "${var}" in
    IEMOCAP)    subs=(Session1); layout="IEMOCAP_full_release/ holding Session1 ... Session5/" ;;
    MSP_IMPROV) subs=(Evaluation.txt Evalution.txt); layout="MSP-IMPROV/ holding Evaluation.txt (or Evalution.txt) and the session folders" ;;
    SAVEE)      subs=(AudioData DC_a01.wav); layout="SAVEE/ holding AudioData/{DC,JE,JK,KL}/ (or the flat DC_a01.wav form)" ;;
    EMODB)      subs=(wav); layout="Emo-DB/ holding wav/03a01Fa.wav ..." ;;
    RAVDESS)    subs=(Actor_01 Audio_Speech_Actors_01-24); layout="a folder holding Actor_01 ... Actor_24/ (or Audio_Speech_Actors_01-24/)" ;;
    EMOVO)      subs=(f1); layout="EMOVO/ holding f1 f2 f3 m1 m2 m3/" ;;
    *) echo "check_db: unknown corpus variable '${var}' (one of IEMOCAP MSP_IMPROV SAVEE EMODB RAVDESS EMOVO; add it to db.sh)" >&2; return 1 ;;
  esac
  dir=${!var:-}
  if [ -z "${dir}" ]; then
    echo "${var} is not set: set it in db.sh or the environment (${var}=/path/to/corpus ./run.sh), expected ${layout}" >&2
    return 1
  fi
  for sub in "${subs[@]}"; do
    [ -e "${dir}/${sub}" ] && found=true
  done
  if ! ${found}; then
    echo "${var}=${dir} does not look like the corpus: expected ${layout}" >&2
    return 1
  fi
}
