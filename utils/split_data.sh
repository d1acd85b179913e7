#!/usr/bin/env bash
# Usage: utils/split_data.sh [--per-utt] data/x <num-to-split>
#
# Writes data/x/split<N>/{1..N} (speakers kept together) or, with --per-utt,
# data/x/split<N>utt/{1..N}, as Kaldi (nothing on stdout); an up-to-date split is reused.
# Kaldi's argument order; implemented once in Python: espnet_ser/utils/data_dir.py
# (`python3 -m espnet_ser.utils.data_dir split --help`).  Errors are one line, exit 1.
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
exec "${python}" -m espnet_ser.utils.data_dir split "$@"
