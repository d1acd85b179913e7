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

# python3 on PATH (after path.sh) if it has espnet_ser, else this checkout's venv.
python=python3
if ! "${python}" -c 'import espnet_ser' 2>/dev/null; then
  root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  python=${root}/tools/venv/bin/python
  if [ ! -x "${python}" ]; then
    echo "$0: python3 cannot import espnet_ser and ${python} is missing (source path.sh, or run tools/install.sh)" >&2
    exit 1
  fi
fi
exec "${python}" -m espnet_ser.utils.data_dir validate "$@"
