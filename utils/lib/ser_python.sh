# shellcheck shell=bash
# ser_python.sh: what the thin bash wrappers of utils/ share (combine_data.sh, fix_data_dir.sh,
# split_data.sh, subset_data_dir.sh, validate_data_dir.sh, perturb_data_dir_speed.sh: Kaldi's
# names and contracts, implemented once in Python); SerPython.pm is the same for the Perl ones.
# Sourced with
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
# so it is found through the egs/<corpus>/<recipe>/utils links too.

# ser_exec_python MODULE [ARGS...]: replace this process with `python -m MODULE ARGS`: python3
# on PATH (after path.sh) if it has espnet_ser, else this checkout's venv; one line and exit 1
# when neither can run.
ser_exec_python() {
  local python=python3 root
  if ! "${python}" -c 'import espnet_ser' 2>/dev/null; then
    root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    python=${root}/tools/venv/bin/python
    if [ ! -x "${python}" ]; then
      echo "$0: python3 cannot import espnet_ser and ${python} is missing (source path.sh, or run tools/install.sh)" >&2
      exit 1
    fi
  fi
  exec "${python}" -m "$@"
}
