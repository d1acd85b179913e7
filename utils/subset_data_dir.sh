#!/usr/bin/env bash
# Usage: utils/subset_data_dir.sh [--allow-missing] (--utt-list <file> | --spk-list <file>) <src-dir> <dst-dir>
#    or: utils/subset_data_dir.sh [--first] <src-dir> <num-utt> <dst-dir>   (N utterances, evenly spread)
#
# Copies the listed utterances (or the utterances of the listed speakers) with all tables.
# Listed ids not in <src-dir> are an error unless --allow-missing.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir subset --help`).  Errors are one line, exit 1.
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
exec "${python}" -m espnet_ser.utils.data_dir subset "$@"
