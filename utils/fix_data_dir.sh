#!/usr/bin/env bash
# Usage: utils/fix_data_dir.sh data/x
#
# Keeps the utterances present in every table (utt2emo may stay partial), re-sorts,
# regenerates spk2utt and keeps every utt2* file in sync; originals go to
# data/x/.backup/, the removed utterances to data/x/.backup/removed.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir fix --help`).  Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.data_dir fix "$@"
