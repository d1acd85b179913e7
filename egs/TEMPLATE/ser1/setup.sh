#!/usr/bin/env bash
# Create a new recipe directory from this template.
#
# Usage: egs/TEMPLATE/ser1/setup.sh egs/<corpus>/<name>     (from the repo root or anywhere)
#
# The recipe gets directory-level RELATIVE links to the shared pieces (ser.sh;
# svm.sh, the SVM reference; grid.sh, the grid runner; path.sh, db.sh, utils/,
# conf/feats/, the feature configs; each link points at the real file, never at
# another link), editable copies of cmd.sh and the rest of conf/, a thin run.sh
# (its defaults, then one ./ser.sh call), and an empty local/ for the
# corpus-specific local/data.sh.
set -euo pipefail

usage="Usage: $0 egs/<corpus>/<name>"
if [ $# -ne 1 ] || [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "${usage}" >&2
  [ $# -eq 1 ] && [ "$1" != "${1#-}" ] && exit 0
  exit 1
fi

template=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P "${template}/../../.." && pwd)
target=$1

# path.sh finds the repository three levels up, so the recipe must sit at egs/<corpus>/<name>.
parent=$(dirname "${target}")
if [ ! -d "$(dirname "${parent}")" ] \
    || [ "$(cd -P "$(dirname "${parent}")" && pwd)" != "${root}/egs" ]; then
  echo "$0: ${target} must be egs/<corpus>/<name> inside ${root} (path.sh finds the repository three levels up)" >&2
  exit 1
fi
if [ -e "${target}" ] && [ ! -d "${target}" ]; then
  echo "$0: ${target} exists and is not a directory (choose another name)" >&2
  exit 1
fi
if [ -d "${target}" ] && [ -n "$(ls -A "${target}")" ]; then
  echo "$0: ${target} exists and is not empty (remove it or choose another name)" >&2
  exit 1
fi
name=$(basename "${target}")
corpus=$(basename "${parent}")
case "${corpus}/${name}" in
  TEMPLATE/*) echo "$0: ${target}: choose a corpus name other than TEMPLATE" >&2; exit 1 ;;
  *[!A-Za-z0-9_./-]*) echo "$0: ${target}: use only letters, digits, '_', '-' and '.' in the name" >&2; exit 1 ;;
esac

for f in ser.sh svm.sh grid.sh path.sh db.sh utils cmd.sh conf; do
  if [ ! -e "${template}/${f}" ]; then
    echo "$0: ${template}/${f} is missing (the template is incomplete; update your checkout)" >&2
    exit 1
  fi
done

mkdir -p "${target}"
dir=$(cd -P "${target}" && pwd)
created=()
for f in ser.sh svm.sh grid.sh path.sh db.sh utils; do
  # Point at the real file (a link to the template's utils link would be a chain).
  rel=$(realpath --relative-to="${dir}" "$(realpath "${template}/${f}")")
  ln -s "${rel}" "${dir}/${f}"
  created+=("${f} -> ${rel}")
done
cp "${template}/cmd.sh" "${dir}/cmd.sh"
mkdir "${dir}/conf"
find "${template}/conf" -mindepth 1 -maxdepth 1 ! -name feats -exec cp -R {} "${dir}/conf/" \;
conf_files=$(cd "${dir}/conf" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | paste -sd' ' -)
ln -s "$(realpath --relative-to="${dir}/conf" "${template}/conf/feats")" "${dir}/conf/feats"
created+=("cmd.sh (copy: edit for your cluster)" "conf/ (copy: ${conf_files:-empty})"
  "conf/feats -> $(readlink "${dir}/conf/feats") (the shared feature configs)")
mkdir "${dir}/local"
created+=("local/ (empty: write local/data.sh, see ./ser.sh stage 1)")

cat > "${dir}/run.sh" <<'RUN'
#!/usr/bin/env bash
# Recipe CORPUS/NAME.  All stages and options, with this recipe's defaults: ./run.sh --help
# The options below are the recipe's defaults: ./ser.sh takes the last value of a
# repeated option, so the command line wins, e.g. ./run.sh --stage 4 --seeds "0 1 2"
set -euo pipefail

opts=(
  --protocol ""                        # required: python -m espnet_ser.bin.make_folds --help lists them
  --feats_conf conf/feats/fbank.yaml   # conf/feats/: the shared feature configs
  --norm global                        # global | utterance | speaker | none
  --train_config conf/train.yaml
  --baseline_config ""                 # e.g. the same model without the adversary, trained first
)
./ser.sh "${opts[@]}" "$@"
RUN
sed -i "s|CORPUS/NAME|${corpus}/${name}|" "${dir}/run.sh"
chmod +x "${dir}/run.sh"
created+=("run.sh (thin: its defaults, then ./ser.sh \"\$@\"; set --protocol)")

echo "$0: created ${target}:"
for c in "${created[@]}"; do
  echo "  ${c}"
done
