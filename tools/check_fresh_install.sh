#!/usr/bin/env bash
# Prove that the project installs from nothing: clone the committed HEAD of this
# repository into a new temporary directory, run its tools/install.sh there (a
# brand-new venv, no pip cache, nothing from this checkout's tools/venv), import
# the package and ask the demo recipe for its --help.  Run by .ci/run before the
# test suite, so a requirement that names a file on one machine (a wheel under
# /tmp, say) fails CI instead of every user's install.
#
# Usage: tools/check_fresh_install.sh [--keep]
#   --keep   leave the temporary clone (its path is printed) instead of removing it
set -euo pipefail

keep=false
case "${1:-}" in
  --keep) keep=true ;;
  "") ;;
  *) echo "tools/check_fresh_install.sh: unknown option '$1' (only --keep)" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/espnet_ser_fresh.XXXXXX")
cleanup() { if ${keep}; then echo "kept ${tmp}"; else rm -rf "${tmp}"; fi; }
trap cleanup EXIT

start=$(date +%s)
git clone --quiet --no-hardlinks "${root}" "${tmp}/espnet_ser"
cd "${tmp}/espnet_ser"
# No cached wheels: every package comes from the registry, as on a new machine.
PIP_NO_CACHE_DIR=1 tools/install.sh
tools/venv/bin/python -c 'import espnet_ser, espnet_ser.tasks.ser, kaldiio, opensmile; print("import ok:", espnet_ser.__file__)'
case "$(tools/venv/bin/python -c 'import espnet_ser; print(espnet_ser.__file__)')" in
  "${tmp}"/*) ;;
  *) echo "tools/check_fresh_install.sh: espnet_ser imported from outside the fresh clone" >&2; exit 1 ;;
esac
(cd egs/mini_ser/ser1 && ./run.sh --help >/dev/null)
echo "tools/check_fresh_install.sh: fresh clone installed and imported in $(( $(date +%s) - start )) s"
