# shellcheck shell=bash
# Where the corpora live: one variable per corpus.  Set it here, or in the
# environment (it wins):  EMODB=/data/emodb ./run.sh
# Empty means "not available": stage 1 of a recipe that needs it stops with
# one line naming the variable and the layout it expects.  Expected layouts
# (details in espnet_ser/corpora/<corpus>.py):
#   IEMOCAP     IEMOCAP_full_release/ with Session{1..5}/
#   MSP_IMPROV  MSP-IMPROV/ with the session folders and Evaluation.txt
#   SAVEE       SAVEE/ with AudioData/{DC,JE,JK,KL}/
#   EMODB       Emo-DB/ with wav/03a01Fa.wav ...
#   RAVDESS     folder with Actor_01/ ... Actor_24/ (or Audio_Speech_Actors_01-24/)
#   EMOVO       EMOVO/ with f1 f2 f3 m1 m2 m3/
# Recipes link to this file, so a new corpus is one line here.

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
