#!/usr/bin/env bash
# Usage: utils/split_data.sh [--per-utt] data/x <num-to-split>
#
# Writes data/x/split<N>/{1..N} (speakers kept together) or, with --per-utt,
# data/x/split<N>utt/{1..N}, as Kaldi (nothing on stdout); an up-to-date split is reused.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir split --help`).  Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.data_dir split "$@"
