#!/usr/bin/env bash
# Usage: utils/combine_data.sh [--allow-partial] [--exclude <table>]... <dst-dir> <src-dir1> <src-dir2> ...
#
# Unions data directories; duplicate utterance ids are an error.  A table present in only
# some sources is an error, except utt2emo with --allow-partial (unlabelled utterances).
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir combine --help`).  Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.data_dir combine "$@"
