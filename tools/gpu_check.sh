#!/usr/bin/env bash
# One training epoch of each recipe's model on generated data, AMP off and on (CUDA):
# utterances/s (segments/s), peak GPU memory, data-loader wait fraction per model.
# Without CUDA: the CPU part (AMP off, --quick sizes) and a line saying what was skipped.
#
#   tools/gpu_check.sh                               # every recipe
#   tools/gpu_check.sh --models emodb/sier --quick   # one recipe, few utterances
#   tools/gpu_check.sh --help
#
# The work is done by tools/gpu_check.py (same options; its docstring lists the columns).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${root}/tools/venv/bin/python
if [ ! -x "${python}" ]; then
  python=python3
  if ! "${python}" -c 'import espnet_ser' 2>/dev/null; then
    echo "gpu_check.sh: ${root}/tools/venv not found and python3 cannot import espnet_ser (run tools/install.sh)" >&2
    exit 1
  fi
fi
export LC_ALL=C
exec "${python}" "${root}/tools/gpu_check.py" "$@"
