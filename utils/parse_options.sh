#!/usr/bin/env bash
# shellcheck shell=bash
# Command-line option parsing for recipe scripts (Kaldi's contract, our code).
#
# Source it right after the script's defaults block:
#
#   nj=4                 # number of parallel jobs
#   use_gpu=false        # train on a GPU
#   help_message="Usage: $0 [options] <data-dir> <exp-dir>"
#   . utils/parse_options.sh
#
# Then, on the command line:
#   --foo-bar x  or  --foo-bar=x   sets the shell variable foo_bar, which must
#                                  already be declared (else: error);
#   booleans (default true/false)  accept only true or false;
#   --config <file>                sources a file of var=value lines (each var
#                                  must be declared);
#   --help, -h                     prints help_message and every option of the
#                                  defaults block with its current value, exits 0;
#   --                             ends option parsing.
# Options stop at the first argument that does not start with "--"; the
# remaining positional arguments are left in "$@" for the caller.
# Errors print one line to stderr and exit 1 (this file is sourced, so the
# calling script exits).

# All our own variables start with _po_ so they cannot clobber the caller's.
_po_script=${0##*/}

# Print "--name value  # comment" for each declared option of the defaults
# block of the calling script, i.e. each unindented var=... line above the
# line that sources this file.
_po_print_options() {
  local _po_l _po_n _po_c _po_v _po_in=false
  [ -r "$0" ] || return 0
  echo "Options (current values):"
  while IFS= read -r _po_l || [ -n "${_po_l}" ]; do
    case "${_po_l}" in
      *parse_options.sh*) break ;;
    esac
    if [[ "${_po_l}" =~ ^([A-Za-z_][A-Za-z0-9_]*)= ]]; then
      _po_n=${BASH_REMATCH[1]}
      [ "${_po_n}" = help_message ] && continue
      # Only variables that exist now (a line inside a multi-line string
      # that merely looks like an assignment is skipped).
      [ -n "${!_po_n+set}" ] || continue
      _po_v=${!_po_n}
      _po_c=""
      if [[ "${_po_l}" =~ [[:space:]]#[[:space:]]*(.*)$ ]]; then
        _po_c=${BASH_REMATCH[1]}
      fi
      _po_in=true
      if [ -n "${_po_c}" ]; then
        printf '  --%-24s %-14s # %s\n' "${_po_n//_/-}" "${_po_v:-\"\"}" "${_po_c}"
      else
        printf '  --%-24s %s\n' "${_po_n//_/-}" "${_po_v:-\"\"}"
      fi
    fi
  done < "$0"
  ${_po_in} || echo "  (none found in $0)"
}

# Set variable $1 from option text $2 to value $3, with the checks.
_po_set() {
  local _po_n=$1 _po_o=$2 _po_v=$3
  if ! [[ "${_po_n}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ -z "${!_po_n+set}" ]; then
    echo "${_po_script}: unknown option ${_po_o} (see --help)" >&2
    exit 1
  fi
  case "${!_po_n}" in
    true|false)
      case "${_po_v}" in
        true|false) ;;
        *)
          echo "${_po_script}: option ${_po_o} is boolean: use true or false, not '${_po_v}'" >&2
          exit 1 ;;
      esac ;;
  esac
  printf -v "${_po_n}" '%s' "${_po_v}"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      if [ -n "${help_message:-}" ]; then
        printf '%s\n' "${help_message}"
      else
        echo "Usage: $0 [options] <args>"
      fi
      _po_print_options
      exit 0 ;;
    --)
      shift
      break ;;
    --config|--config=*)
      if [ "$1" = --config ]; then
        if [ $# -lt 2 ]; then
          echo "${_po_script}: option --config needs a file name" >&2
          exit 1
        fi
        _po_file=$2
        shift 2
      else
        _po_file=${1#--config=}
        shift
      fi
      if [ ! -f "${_po_file}" ]; then
        echo "${_po_script}: --config ${_po_file}: no such file" >&2
        exit 1
      fi
      # Check every line before sourcing, so a typo is an error rather than
      # a new variable nobody reads.
      _po_lineno=0
      while IFS= read -r _po_line || [ -n "${_po_line}" ]; do
        _po_lineno=$((_po_lineno + 1))
        [[ "${_po_line}" =~ ^[[:space:]]*(#.*)?$ ]] && continue
        if ! [[ "${_po_line}" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)= ]]; then
          echo "${_po_script}: ${_po_file}:${_po_lineno}: expected var=value, got '${_po_line}'" >&2
          exit 1
        fi
        _po_name=${BASH_REMATCH[1]}
        if [ -z "${!_po_name+set}" ]; then
          echo "${_po_script}: ${_po_file}:${_po_lineno}: unknown option '${_po_name}' (see --help)" >&2
          exit 1
        fi
      done < "${_po_file}"
      # shellcheck disable=SC1090
      . "${_po_file}"
      ;;
    --*=*)
      _po_opt=${1%%=*}
      _po_name=${_po_opt#--}
      _po_set "${_po_name//-/_}" "${_po_opt}" "${1#*=}"
      shift ;;
    --?*)
      _po_name=${1#--}
      if [ $# -lt 2 ]; then
        # Say "unknown" first when it is: that is the more useful message.
        _po_name=${_po_name//-/_}
        if [[ "${_po_name}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ -n "${!_po_name+set}" ]; then
          echo "${_po_script}: option $1 needs a value" >&2
        else
          echo "${_po_script}: unknown option $1 (see --help)" >&2
        fi
        exit 1
      fi
      _po_set "${_po_name//-/_}" "$1" "$2"
      shift 2 ;;
    *)
      break ;;
  esac
done

unset -f _po_print_options _po_set
unset _po_script _po_file _po_line _po_lineno _po_name _po_opt
true
