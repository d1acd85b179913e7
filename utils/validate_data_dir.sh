#!/usr/bin/env bash
# Usage: utils/validate_data_dir.sh [--no-feats] [--no-text] data/x
#
# Checks a data directory: sorted unique tables, one key set (utt2emo may be a subset),
# spk2utt matches utt2spk, utterance ids start with the speaker id.  As Kaldi's,
# feats.scp and text are required unless --no-feats / --no-text (and checked
# whenever present); --help lists the deliberate differences from Kaldi.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir validate --help`).  Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.data_dir validate "$@"
