#!/usr/bin/env bash
# Usage: utils/subset_data_dir.sh [--allow-missing] (--utt-list <file> | --spk-list <file>) <src-dir> <dst-dir>
#    or: utils/subset_data_dir.sh [--first] <src-dir> <num-utt> <dst-dir>   (N utterances, evenly spread)
#
# Copies the listed utterances (or the utterances of the listed speakers) with all tables.
# Listed ids not in <src-dir> are an error unless --allow-missing.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir subset --help`).  Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.data_dir subset "$@"
