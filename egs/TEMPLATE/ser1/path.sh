# shellcheck shell=bash
# Environment of a recipe: source it from the recipe directory (". ./path.sh").
# Recipes link to this file (egs/<corpus>/<name>/path.sh -> ../../TEMPLATE/ser1/path.sh),
# so the repository root is found from the recipe directory, three levels up.
#
# Sets MAIN_ROOT, activates tools/venv (made by tools/install.sh), puts the
# recipe's utils/ first on PATH, and fixes the locale and thread count so that
# sorting (C locale) and timings are reproducible.

# The directory the link was sourced from (not resolved: a linked path.sh must
# see the recipe, not the template).
_ser_recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-./path.sh}")" && pwd)
MAIN_ROOT=$(cd "${_ser_recipe_dir}/../../.." && pwd)
export MAIN_ROOT

if [ -x "${MAIN_ROOT}/tools/venv/bin/python" ]; then
  # An interrupted install leaves a venv without its stamp (tools/install.sh
  # writes it last); a moved or damaged one cannot import the package.  Either
  # way: one line now instead of a traceback stages later.
  if [ ! -f "${MAIN_ROOT}/tools/venv/.espnet_ser_installed" ] \
      || ! "${MAIN_ROOT}/tools/venv/bin/python" -c 'import espnet_ser' 2>/dev/null; then
    echo "path.sh: ${MAIN_ROOT}/tools/venv is incomplete or cannot import espnet_ser (run ${MAIN_ROOT}/tools/install.sh)" >&2
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
  fi
  # What "activate" does, without its prompt handling (safe under set -u).
  export VIRTUAL_ENV=${MAIN_ROOT}/tools/venv
  export PATH=${VIRTUAL_ENV}/bin:${PATH}
  unset PYTHONHOME
elif ! python3 -c 'import espnet_ser' 2>/dev/null; then
  echo "path.sh: ${MAIN_ROOT}/tools/venv not found and python3 cannot import espnet_ser (run ${MAIN_ROOT}/tools/install.sh)" >&2
  # Sourced: return; executed by mistake: exit.
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi

export LC_ALL=C
export OMP_NUM_THREADS=1
export PYTHONIOENCODING=UTF-8
export PATH=${_ser_recipe_dir}/utils:${PATH}
unset _ser_recipe_dir
