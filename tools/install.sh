#!/usr/bin/env bash
# Create (or update) the project's virtual environment in tools/venv with the
# pinned versions of tools/requirements.txt, and install espnet_ser editable.
#
# Idempotent: a stamp file stores a hash of this script and the requirements;
# when it matches, the script returns at once.  Only the package registries are
# needed (no other network access).
#
# Usage: tools/install.sh [--force]
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "${tools_dir}")
venv=${tools_dir}/venv
stamp=${venv}/.espnet_ser_installed
python=${PYTHON:-python3}
torch_version=2.9.1
torchaudio_version=2.9.1

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) echo "tools/install.sh: unknown option '$1' (only --force)" >&2; exit 1 ;;
esac

want=$(cat "${tools_dir}/install.sh" "${tools_dir}/requirements.txt" "${root}/setup.py" \
  | sha256sum | cut -d' ' -f1)
if ! ${force} && [ -f "${stamp}" ] && [ "$(cat "${stamp}")" = "${want}" ]; then
  echo "tools/install.sh: ${venv} is up to date"
  exit 0
fi

if ! "${python}" -c 'import sys; assert sys.version_info[:2] >= (3, 10)' 2>/dev/null; then
  echo "tools/install.sh: need Python >= 3.10 as '${python}' (set PYTHON=/path/to/python3)" >&2
  exit 1
fi

rm -f "${stamp}"
[ -x "${venv}/bin/python" ] || "${python}" -m venv "${venv}"
pip=("${venv}/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q "torch==${torch_version}" "torchaudio==${torchaudio_version}"
"${pip[@]}" install -q --no-deps -r "${tools_dir}/requirements.txt"
"${pip[@]}" install -q --no-deps --no-build-isolation -e "${root}" 2>/dev/null \
  || "${pip[@]}" install -q --no-deps -e "${root}"
"${venv}/bin/python" -c 'import espnet2.tasks.abs_task, kaldiio, opensmile, espnet_ser' \
  || { echo "tools/install.sh: import check failed in ${venv}" >&2; exit 1; }
echo "${want}" > "${stamp}"
echo "tools/install.sh: installed into ${venv}"
