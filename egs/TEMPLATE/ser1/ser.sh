#!/usr/bin/env bash
# Shared speech-emotion-recognition pipeline. Recipes call it once from a thin run.sh:
#   ./ser.sh --protocol emodb_l2so --feats_conf conf/feats/mfcc.yaml "$@"
# Several experiments on the same folds in one call (stages 1-3 shared):
#   --baseline_config  a model trained first (e.g. without the adversary) that the
#                      main one is reported against (paired test, speaker probe);
#   --extra_configs    more models after the main one, with their own options;
#   --svm true         the ComParE_2016 + linear SVM reference (./svm.sh);
#   --fusions          seed ensembles and late fusions of those (espnet_ser.bin.fuse);
# the run then ends with one table of all the models (espnet_ser.bin.compare).
# Stage numbers never change (CONTRIBUTING.md, "Pipeline stages"):
#   1 data preparation (local/data.sh -> data/all) and fold lists (data/folds)
#   2 feature extraction (data/all -> dump/<feat>/all), nj jobs through ${train_cmd}
#   3 per fold: set lists, normalisation statistics from training data only (global:
#     ESPnet's stats.npz for the model's global_mvn; speaker: normalised copies), labels
#   4 per fold x seed: training (espnet_ser.bin.ser_train; all runs ONE job array through ${cuda_cmd})
#   5 inference: posteriors and embeddings per utterance (one job array)
#   6 scoring: results.json per fold/seed (one job array through ${train_cmd})
#   7 report: aggregate folds x seeds, speaker probe, plots, RESULTS.md
#   8 pack the trained model of each fold/seed for sharing
set -euo pipefail

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
min() { local a=$1 b=$2; if [ "${a}" -lt "${b}" ]; then echo "${a}"; else echo "${b}"; fi; }

# ---- defaults (each one an option: --name value) ----
stage=1                  # first stage to run
stop_stage=8             # last stage to run
nj=4                     # parallel jobs for feature extraction
ngpu=0                   # GPUs for training (0: CPU), per node
num_nodes=1              # nodes per training run (>1: each run through espnet2.bin.launch, see stage 4)
multiprocessing_distributed=true  # --ngpu > 1: one DDP process per GPU (ESPnet spawns them); false: DataParallel
dist_launcher=           # with --num_nodes > 1: slurm (srun, needs slurm.pl) or mpi (mpirun); empty: from ${cuda_cmd}, as espnet2.bin.launch
max_parallel=            # runs of a stage at once (stages 4-6 are each ONE job array; empty: CPUs / threads per job on run.pl, 1 with GPUs, no limit on a cluster)
train_threads=1          # CPU threads of each training job (OMP/MKL; fixed, so results do not depend on --max_parallel)
gpu_inference=false      # decode on GPU (${cuda_cmd} --gpu 1; else ${decode_cmd})
inference_nj=1           # decoding jobs per set (stage 5; 1: decoding a set takes seconds and every job loads the model, the (fold, seed, set) runs are already an array)
local_data_opts=         # extra options for local/data.sh (word-split: no spaces inside a value)
protocol=                # fold protocol (espnet_ser.bin.make_folds --help lists them)
protocol_opts=           # extra options for make_folds (word-split, like train_args)
folds=                   # folds to run, e.g. "1 2" (empty: all folds of the protocol)
seeds="0"                # training seeds; results are aggregated over folds x seeds
feats_conf=conf/feats/fbank.yaml   # feature extractor config
extra_feats_confs=       # more feature configs for stage 2, concatenated per utterance after feats_conf's (--example_unit dialogue)
example_unit=utterance   # one example = an utterance, or a dialogue (stage 3: espnet_ser.bin.make_dialogues; Lian et al.)
speed_perturb_factors=   # speed perturbation of each fold's train set, e.g. "0.9 1.0 1.1" (1.0: the originals; empty: off; see --help)
norm=global              # feature normalisation: global | utterance | speaker | none
train_config=conf/train.yaml       # model and training config
train_args=              # extra options for ser_train (e.g. "--max_epoch 2"; word-split)
inference_model=         # checkpoint of stages 5 and 8 and the Python API (empty: espnet_ser.bin.pack_model.DEFAULT_INFERENCE_MODEL = valid.ua.best.pth, best dev UA)
inference_args=          # extra options for ser_inference
probe_sets="dev test"    # held-out sets whose embeddings feed the speaker probe
label_names="emotion speaker gender"  # label streams given to the model (see prepare_labels)
task=emotion             # label stream the model classifies and stage 6 scores: emotion | arousal | valence
sources=                 # corpus pool: source corpora ("emodb emovo"), to local/data.sh and make_folds --train-corpora
targets=                 # corpus pool: target corpora, one fold each, to local/data.sh and make_folds --test-corpora
train_unlab=false        # stage 4 also trains on the fold's train_unlab set (unlabelled: task label -1, domain heads only)
tag=                     # experiment tag (default: <train_config>_<feats>_<norm>)
baseline_config=         # model trained first (stages 4-8 under --baseline_tag); the others are reported against it
baseline_tag=            # baseline's tag (with --baseline_config default <config>_<feats>_<norm>; else an existing exp)
extra_configs=           # models after the main one: "tag:config[:option=value,...] ..." (see above)
svm=false                # also the ComParE_2016 functionals + linear SVM reference on the same folds (./svm.sh)
fusions=                 # after every experiment: seed ensembles and late fusions, "a_ens b_ens+svm_compare_2016_speaker" (see --help)
fusion_weights=equal     # late-fusion weights: equal (plain posterior average) or dev (chosen per fold on dev UA); see --help
paper_table=             # YAML with the paper's numbers for the report
compare_opts=            # extra options for the final table (espnet_ser.bin.compare, e.g. --per-fold)
expdir=exp               # experiment root
dumpdir=dump             # feature root
datadir=data             # data root
# shellcheck disable=SC2034  # read by utils/parse_options.sh --help
help_message="Usage: $0 [options]
Stages: 1 data | 2 features | 3 normalisation+labels | 4 training | 5 inference
        6 scoring | 7 report | 8 pack
Experiments on the same folds, in this order, each under its own exp/<tag>:
  --baseline_config   stages 4-8 (stages 1-3 are shared);
  --train_config      the main model, reported against the baseline;
  --extra_configs     each 'tag:config[:option=value,...]' runs this script again with
                      --train_config config --tag tag and --option value for each pair
                      (values without spaces or commas; an option changing --norm reruns
                      stage 3, one changing --feats_conf stage 2), e.g.
                      \"speaker_norm:conf/train.yaml:norm=speaker,seeds=0\";
  --svm true          ./svm.sh on the same folds and stages;
  --fusions           then (stage 7, python -m espnet_ser.bin.fuse) each entry 'a+b[+...]' is the
                      late fusion of those experiments (posterior average, weights as
                      --fusion_weights says), written to exp/a+b; a part '<tag>_ens' is the mean of
                      <tag>'s seeds per fold (exp/<tag>_ens), an entry '<tag>_ens' alone only that;
                      parts are tags of this run or existing experiments in --expdir, e.g.
                      \"train_cnn1_noadv_mfcc_speaker_ens+func_mlp_ens\"; @baseline and @train
                      stand for the tags of --baseline_config and --train_config in this run
                      (\"@baseline_ens+func_mlp_ens\" follows --speed_perturb_factors, --norm, ...);
  --fusion_weights    equal (default): the plain posterior average; dev: the weights of each
                      fusion chosen per fold on dev UA.  Equal since weights chosen on all dev
                      speakers but one lost to equal weights on that one in two Emo-DB runs
                      (egs/emodb/sier/RESULTS.md); fuse logs this dev-speaker check every time.
--speed_perturb_factors \"0.9 1.0 1.1\" (as ESPnet's asr.sh; Kaldi's utils/perturb_data_dir_speed.sh):
  stage 2 writes speed-perturbed copies (tempo and pitch) of the training utterances of every
  fold to data/sp/<protocol> (ids and speakers prefixed sp0.9-, ...; dev, test and train_unlab
  are never perturbed) and extracts their features; stage 3 makes each fold's training set
  data/folds/<protocol>/<fold>/train_sp<factors> (1.0 = the originals, so 3 factors = 3 x the
  training utterances); a perturbed speaker is a speaker of its own (--norm speaker statistics,
  speaker heads). Frame-level features and --example_unit utterance only; tags and dump dirs
  get _sp<factors>.
With a baseline or extra configs, a run that includes stage 7 ends with one table of
them all (python -m espnet_ser.bin.compare). Options given twice: the last one wins,
so a recipe's run.sh passes its defaults before \"\$@\"."

log "$0 $*"
args=("$@")
run_args=$(printf ' %q' "$0" "$@")
# shellcheck source=utils/parse_options.sh
. utils/parse_options.sh

# shellcheck source=path.sh
. ./path.sh
# shellcheck source=cmd.sh
. ./cmd.sh

[ -n "${protocol}" ] || { echo "$0: --protocol is required (e.g. --protocol emodb_l2so)" >&2; exit 1; }
[ "${stage}" -le "${stop_stage}" ] || { echo "$0: --stage ${stage} is after --stop_stage ${stop_stage}: nothing would run (give --stop_stage ${stage} or more)" >&2; exit 1; }
[ -f "${feats_conf}" ] || { echo "$0: --feats_conf ${feats_conf}: no such file (see conf/feats/)" >&2; exit 1; }
# Only training needs the config (svm.sh runs stage 2 through this script with the defaults).
[ "${stop_stage}" -lt 4 ] || [ -f "${train_config}" ] || { echo "$0: --train_config ${train_config}: no such file (see conf/)" >&2; exit 1; }
case "${norm}" in global|utterance|speaker|none) ;;
  *) echo "$0: --norm ${norm}: must be global, utterance, speaker or none" >&2; exit 1 ;; esac
case "${fusion_weights}" in dev|equal) ;;
  *) echo "$0: --fusion_weights ${fusion_weights}: must be equal (plain average) or dev (chosen per fold on dev UA)" >&2; exit 1 ;; esac

[ -z "${max_parallel}" ] || [[ "${max_parallel}" =~ ^[1-9][0-9]*$ ]] ||
  { echo "$0: --max_parallel ${max_parallel}: must be a positive integer (or \"\": the default)" >&2; exit 1; }
[[ "${train_threads}" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --train_threads ${train_threads}: must be a positive integer" >&2; exit 1; }
# Multi-process training, as ESPnet's recipes do it (CONTRIBUTING.md, "Multi-process training"):
# one node: ser_train through ${cuda_cmd} --gpu N, ESPnet spawns one DDP process per GPU;
# several nodes: each run through espnet2.bin.launch (dist_launch below).
[[ "${num_nodes}" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --num_nodes ${num_nodes}: must be a positive integer" >&2; exit 1; }
_runner=$(basename "${cuda_cmd%% *}")
case "${dist_launcher}:${_runner}" in
  :*|slurm:slurm.pl) ;;
  mpi:*) [ "${_runner}" != slurm.pl ] || { echo "$0: --dist_launcher mpi: with slurm.pl espnet2.bin.launch uses srun (give --dist_launcher slurm or none)" >&2; exit 1; } ;;
  slurm:*) echo "$0: --dist_launcher ${dist_launcher} does not go with cuda_cmd=${cuda_cmd} (espnet2.bin.launch uses srun with slurm.pl, mpirun with the other cluster runners): set cuda_cmd in cmd.sh or drop --dist_launcher" >&2; exit 1 ;;
  *) echo "$0: --dist_launcher ${dist_launcher}: must be slurm, mpi or empty" >&2; exit 1 ;;
esac
[ "${num_nodes}" -eq 1 ] || [ "${_runner}" != run.pl ] ||
  { echo "$0: --num_nodes ${num_nodes} needs a cluster runner (cuda_cmd=${cuda_cmd}: run.pl runs on this machine only): set cuda_cmd in cmd.sh to slurm.pl or queue.pl" >&2; exit 1; }
[ "${num_nodes}" -gt 1 ] || [ -z "${dist_launcher}" ] ||
  { echo "$0: --dist_launcher ${dist_launcher} needs --num_nodes > 1 (one node: ESPnet starts the processes itself)" >&2; exit 1; }
# The ser_train options of every run; dist_launch <run dir> sets launch=(), or for several nodes the
# espnet2.bin.launch words in front of ser_train: it submits the run through ${cuda_cmd} itself
# (slurm.pl: srun, one task per node; queue.pl: mpirun), adds --ngpu, --dist_launcher, a
# file:// init under the run dir and gloo for --ngpu 0, and waits.
dist_args=(--multiprocessing_distributed "${multiprocessing_distributed}")
dist_launch() {
  launch=()
  [ "${num_nodes}" -gt 1 ] || return 0
  launch=(python3 -m espnet2.bin.launch --cmd "${cuda_cmd}" --log "$1/train.nodes.log" --ngpu "${ngpu}"
          --num_nodes "${num_nodes}" --init_file_prefix "$1/.dist_init_" --multiprocessing_distributed true --)
}
case "${example_unit}" in utterance|dialogue) ;;
  *) echo "$0: --example_unit ${example_unit}: must be utterance or dialogue" >&2; exit 1 ;; esac
for f in ${extra_feats_confs}; do
  [ -f "${f}" ] || { echo "$0: --extra_feats_confs ${f}: no such file (see conf/feats/)" >&2; exit 1; }
  [ "${example_unit}" = dialogue ] || { echo "$0: --extra_feats_confs needs --example_unit dialogue (it concatenates them)" >&2; exit 1; }
done
# Speed perturbation (Kaldi/ESPnet): sp_factors = the factors other than 1 (1 = the originals).
sp_tag=; sp_factors=()
if [ -n "${speed_perturb_factors}" ]; then
  for f in ${speed_perturb_factors}; do
    { [[ "${f}" =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] && awk -v f="${f}" 'BEGIN { exit !(f > 0) }'; } ||
      { echo "$0: --speed_perturb_factors: '${f}' is not a positive number (e.g. --speed_perturb_factors \"0.9 1.0 1.1\")" >&2; exit 1; }
    awk -v f="${f}" 'BEGIN { exit !(f == 1) }' || sp_factors+=("${f}")
  done
  # shellcheck disable=SC2086
  printf '%s\n' ${speed_perturb_factors} | awk 'seen[$1 + 0]++ { exit 1 }' ||
    { echo "$0: --speed_perturb_factors \"${speed_perturb_factors}\": a factor is given twice (each once, e.g. \"0.9 1.0 1.1\")" >&2; exit 1; }
  [ "${example_unit}" = utterance ] ||
    { echo "$0: --speed_perturb_factors does not go with --example_unit dialogue (a dialogue is built from its utterances' unperturbed features): give --speed_perturb_factors \"\" or --example_unit utterance" >&2; exit 1; }
  python3 -c 'import sys; from espnet_ser.features import EXTRACTORS, build_extractor, load_feats_conf
try:
    name, conf = load_feats_conf(sys.argv[1])
    why = ("text features, no audio" if getattr(EXTRACTORS.get(name), "input_kind", "audio") != "audio" else
           "utterance-level functionals, one vector per utterance" if build_extractor(name, conf).frame_shift is None else "")
except ValueError as e:
    sys.exit(f"ser.sh: --feats_conf {sys.argv[1]}: {e}")
if why: sys.exit(f"ser.sh: --speed_perturb_factors cannot apply to --feats_conf {sys.argv[1]} ({name}: {why}; "
                 "speed perturbation augments frame-level features): use frame-level features (e.g. "
                 "conf/feats/fbank.yaml) or --speed_perturb_factors \"\"")' "${feats_conf}" || exit 1
  # shellcheck disable=SC2086
  sp_tag=_sp$(echo ${speed_perturb_factors} | tr ' ' _)
fi
# Each fold's training set: train, or with speed perturbation train_sp<factors> (stage 3 builds it);
# with train_unlab also train_all (+ the same suffix) = that + train_unlab.
train_name=train${sp_tag}; unlab_name=train_all${sp_tag}
feat=$(basename "${feats_conf}" .yaml)
# Dialogue examples (with the extra features) get their own dump dirs and default tags.
[ "${example_unit}" = utterance ] || feat=${feat}$(for f in ${extra_feats_confs}; do printf '+%s' "$(basename "${f}" .yaml)"; done)_dialogue
feat=${feat}${sp_tag}
task_suffix=; [ "${task}" = emotion ] || task_suffix=_${task}
[ -n "${tag}" ] || tag="$(basename "${train_config}" .yaml)_${feat}_${norm}${task_suffix}"
if [ -n "${sources}${targets}" ]; then
  # A corpus pool has its own data, features and experiments (no run resumes another pool's).
  # Its data and features are per task as well (data/<pool>_<task>): stage 1 writes the task's
  # label table (and, for emotion, only the shared classes) into all/ and the folds, so an
  # arousal and a valence run in one recipe directory must not rewrite each other's folds.
  # Experiments go to exp/<pool>/<protocol> (their tags end in _<task>): a pool's cross_corpus and
  # multi_corpus runs have the same tags but different folds.
  # shellcheck disable=SC2086
  pool=$(echo ${sources} | tr ' ' +)${targets:+_to_$(echo ${targets} | tr ' ' +)}
  datadir=${datadir}/${pool}${task_suffix}; dumpdir=${dumpdir}/${pool}${task_suffix}
  expdir=${expdir}/${pool}/${protocol}
fi
# The task's inventory (emotions.txt, arousals.txt, ...) and reference table (utt2emo, ...).
read -r task_inv task_ref < <(python3 -c 'import sys; from espnet_ser.labels import LABEL_SOURCES as L
t = sys.argv[1]
if t not in L or t in ("speaker", "session", "dialog"): sys.exit(f"ser.sh: --task {t}: must be emotion, arousal or valence")
print(L[t][1], L[t][0])' "${task}") || exit 1
[[ " ${label_names} " == *" ${task} "* ]] || label_names="${task} ${label_names}"
case "${train_unlab}" in true|false) ;;
  *) echo "$0: --train_unlab ${train_unlab}: must be true or false" >&2; exit 1 ;; esac
exp=${expdir}/${tag}
foldroot=${datadir}/folds/${protocol}
spdir=${datadir}/sp/${protocol}   # --speed_perturb_factors: the perturbed training data (stage 2)

# ---- other experiments on the same folds (checked here, run around stages 4-8) ----
if [ -n "${baseline_config}" ]; then
  [ -f "${baseline_config}" ] || { echo "$0: --baseline_config ${baseline_config}: no such file (see conf/, or \"\" for none)" >&2; exit 1; }
  [ -n "${baseline_tag}" ] || baseline_tag="$(basename "${baseline_config}" .yaml)_${feat}_${norm}${task_suffix}"
fi
# One --extra_configs entry 'tag:config[:option=value,...]' -> x_tag, x_config, x_opts and
# x_from, the first stage it needs of its own (stages before it are this run's).
parse_extra() {
  local kvs kv name s
  IFS=: read -r x_tag x_config kvs <<< "$1"
  x_tag=${x_tag:+${x_tag}${task_suffix}}
  x_opts=(); x_from=4
  [ -n "${x_tag}" ] && [ -n "${x_config}" ] || { echo "$0: --extra_configs '$1': expected tag:config[:option=value,...]" >&2; exit 1; }
  [ -f "${x_config}" ] || { echo "$0: --extra_configs '$1': ${x_config}: no such file (see conf/)" >&2; exit 1; }
  for kv in ${kvs//,/ }; do
    name=${kv%%=*}
    case "${name}" in
      ""|"${kv}"|*[!a-z0-9_]*|stage|tag|train_config|baseline_config|extra_configs|svm) s=bad ;;
      *) [ -n "${!name+set}" ] && s=ok || s=bad ;;
    esac
    if [ "${s}" = bad ]; then
      echo "$0: --extra_configs '$1': '${kv}' is not option=value for an option of ser.sh an experiment may set (see --help)" >&2; exit 1
    fi
    x_opts+=("--${name}" "${kv#*=}")
    case "${name}" in
      protocol|protocol_opts|local_data_opts|datadir|sources|targets) s=1 ;;
      feats_conf|dumpdir|speed_perturb_factors) s=2 ;;
      norm|label_names|task) s=3 ;;
      *) s=4 ;;
    esac
    [ "${s}" -ge "${x_from}" ] || x_from=${s}
  done
}
compare=("${expdir}/${tag}")
[ -z "${baseline_config}" ] || compare=("${expdir}/${baseline_tag}" "${compare[@]}")
for entry in ${extra_configs}; do
  parse_extra "${entry}"
  compare+=("${expdir}/${x_tag}")
done
svm_tag=svm_compare_2016_speaker${task_suffix}
! ${svm} || compare+=("${expdir}/${svm_tag}")
# --fusions: every part must be an experiment of this run (or already in ${expdir}), checked before
# any training when the run includes stage 7.
# fuse_parts <entry> -> parts (as written, with _ens), ens_bases (the tags to average over seeds).
fuse_parts() {
  local p b t known
  IFS=+ read -r -a parts <<< "$1"
  ens_bases=()
  [ ${#parts[@]} -gt 0 ] && [[ "$1" != +* && "$1" != *+ && "$1" != *++* ]] ||
    { echo "$0: --fusions '$1': expected tag[_ens]+tag[_ens][+...] (or one tag_ens)" >&2; exit 1; }
  [ ${#parts[@]} -gt 1 ] || [[ "$1" == *_ens ]] ||
    { echo "$0: --fusions '$1': one system alone fuses nothing (give a+b, or ${1}_ens for its seed ensemble)" >&2; exit 1; }
  for p in "${parts[@]}"; do
    b=${p%_ens}
    known=false
    for t in "${compare[@]}"; do [ "${t}" != "${expdir}/${b}" ] || known=true; done
    ${known} || [ -d "${expdir}/${b}" ] ||
      { echo "$0: --fusions '$1': '${b}' is neither an experiment of this run (${compare[*]#"${expdir}/"}) nor a directory ${expdir}/${b} (--fusions \"\": no fusion)" >&2; exit 1; }
    [ "${b}" = "${p}" ] || ens_bases+=("${b}")
  done
}
fused=()   # the new systems, for the final table: each seed ensemble once, then each fusion
[ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ] || fusions=   # (stage 7 fuses)
# '@baseline' and '@train' in --fusions stand for the tags of --baseline_config and --train_config
# in this run, so a recipe's default fusion follows --speed_perturb_factors, --feats_conf, --norm.
if [[ "${fusions}" == *@* ]]; then
  if [[ "${fusions}" == *@baseline* ]] && [ -z "${baseline_tag}" ]; then
    echo "$0: --fusions '${fusions}': @baseline names the baseline's tag, but this run has none (--baseline_config \"\" and no --baseline_tag): give --baseline_tag TAG, the tag itself, or --fusions \"\"" >&2; exit 1
  fi
  fusions=${fusions//@baseline/${baseline_tag}}; fusions=${fusions//@train/${tag}}
  [[ "${fusions}" != *@* ]] ||
    { echo "$0: --fusions '${fusions}': '@' is only in @baseline or @train (the tags of --baseline_config and --train_config)" >&2; exit 1; }
fi
for entry in ${fusions}; do
  fuse_parts "${entry}"
  for b in "${ens_bases[@]}"; do
    [[ " ${fused[*]} " == *" ${expdir}/${b}_ens "* ]] || fused+=("${expdir}/${b}_ens")
  done
  [ ${#parts[@]} -eq 1 ] || fused+=("${expdir}/${entry}")
done
# This script again for another experiment: from stage $1 (or --stage if later), options $2...
run_also() {
  local from=$(($1 > stage ? $1 : stage))
  shift
  [ "${from}" -le "${stop_stage}" ] || return 0
  "$0" "${args[@]}" --baseline_config "" --extra_configs "" --svm false --fusions "" --stage "${from}" "$@"
}

sets=("${train_name}" dev test)
fold_list() {
  if [ -n "${folds}" ]; then
    for k in ${folds}; do echo "fold${k}"; done
  else
    find "${foldroot}" -mindepth 1 -maxdepth 1 -type d -name 'fold*' -printf '%f\n' | sort -V
  fi
}

# ---- the runs of a stage as ONE job array (CONTRIBUTING.md, "Pipeline stages") ----
# Stages 4-6 write a run list, one run per line in the sequential order (fold, seed[, set]):
# "<log> <command>", the command's words quoted with printf %q, then submit it once:
#   <cmd> [--max-jobs-run M] JOB=1:N <list minus .list>.JOB.log utils/run_list.sh <list> JOB
# so run.pl runs M at a time and slurm.pl/queue.pl submit one array (--array=1-N%M). Each run
# keeps its own log (e.g. exp/<tag>/seed<S>/fold<K>/train.log, run.pl's markers; a rerun of
# the stage overwrites it, except stage 4 keeps the last train.log as train.log.<N>) and gets
# --num-threads threads (run_list.sh exports OMP/MKL_NUM_THREADS).
# M = --max_parallel; empty = as many runs as CPUs / threads per job on run.pl (1 when a job asks
# for GPUs: run.pl does not share GPUs out, every job would see them all) and no limit on a
# cluster (its scheduler decides). Each run is its own process with its own seed and a fixed
# thread count, so its results do not depend on M or on the order runs finish.
#
# add_run <list> <log> <command words...>: append one run to a run list.
add_run() {
  local list=$1 runlog=$2
  shift 2
  [[ "${runlog}" != *[[:space:]]* ]] || { echo "$0: run log '${runlog}' contains a space: use --expdir/--tag without spaces" >&2; exit 1; }
  { printf '%s' "${runlog}"; printf ' %q' "$@"; echo; } >> "${list}"
}
# rotate_log <log>: a non-empty <log> becomes <log>.<N>, N one more than the last kept.
rotate_log() {
  local n=1
  [ -s "$1" ] || return 0
  while [ -e "$1.${n}" ]; do n=$((n + 1)); done
  mv "$1" "$1.${n}"
}
# submit_array <what> <list> <cmd> [<cmd options>...]: every run of <list> as ONE job array
# through <cmd> (word-split by the caller: ${cuda_cmd} --gpu 1, ${train_cmd} --num-threads 2);
# <what> names the runs in messages. A failing run stops ser.sh with one line naming its log.
submit_array() {
  local what=$1 list=$2 n j threads=1 gpus=0 m=${max_parallel} prev="" w ncpu
  shift 2
  local cmd=("$@") limit=() failed=()
  n=$(wc -l < "${list}")
  [ "${n}" -gt 0 ] || return 0
  for w in "${cmd[@]}"; do   # the job's --num-threads/--gpu (the last one given wins)
    case "${prev}" in --num-threads) threads=${w} ;; --gpu) gpus=${w} ;; esac
    prev=${w}
  done
  if [ -z "${m}" ] && [ "$(basename "${cmd[0]}")" = run.pl ]; then
    # (nproc alone prints OMP_NUM_THREADS when that is set, e.g. to 1 on clusters)
    ncpu=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    m=1; [ "${gpus}" -gt 0 ] || m=$(( ncpu / threads > 1 ? ncpu / threads : 1 ))
  fi
  [ -z "${m}" ] || limit=(--max-jobs-run "${m}")
  log "${what}: ${n} run(s) of ${list} as one job array (${cmd[*]}, ${m:-no limit of ours on how many} at once), logs ${list%.list}.*.log"
  rm -f "${list%.list}".[0-9]*.log   # a task that never starts must not find an old log
  if ! "${cmd[@]}" "${limit[@]}" JOB=1:"${n}" "${list%.list}.JOB.log" \
      utils/run_list.sh --num-threads "${threads}" "${list}" JOB; then
    for ((j = 1; j <= n; j++)); do
      grep -qs '^# Ended (code 0)' "${list%.list}.${j}.log" || failed+=("$(sed -n "${j}s/ .*//p" "${list}")")
    done
    [ ${#failed[@]} -gt 0 ] || failed=("${list%.list}.*.log")
    echo "$0: ${what}: ${#failed[@]} / ${n} run(s) failed, log is in ${failed[0]}$([ ${#failed[@]} -lt 2 ] || echo " (also: ${failed[*]:1})")" >&2
    exit 1
  fi
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
  log "Stage 1: data preparation: local/data.sh -> ${datadir}/all, folds -> ${foldroot}"
  pool_data=(); pool_folds=()
  if [ -n "${sources}${targets}" ]; then
    pool_data=(--sources "${sources}" --targets "${targets}" --task "${task}")
    # No targets: every corpus of the pool is the target in turn (the protocol's default).
    # shellcheck disable=SC2086  # word-split the lists into comma-separated ones
    [ -z "${targets}" ] || pool_folds+=(--train-corpora "$(echo ${sources} | tr ' ' ,)" \
      --test-corpora "$(echo ${targets} | tr ' ' ,)")
  fi
  # shellcheck disable=SC2086
  local/data.sh --datadir "${datadir}" "${pool_data[@]}" ${local_data_opts}
  utils/validate_data_dir.sh --no-feats --no-text "${datadir}/all"
  # shellcheck disable=SC2086
  python3 -m espnet_ser.bin.make_folds --protocol "${protocol}" \
    --data-dir "${datadir}/all" --out-dir "${foldroot}" "${pool_folds[@]}" ${protocol_opts}
fi

# --folds may name folds (protocol.json fold_names, e.g. iemocap_ts settings: --folds "TS_1234 TS_23").
if [ -n "${folds}" ] && [ -f "${foldroot}/protocol.json" ]; then
  folds=$(python3 -c 'import json, sys
names = json.load(open(sys.argv[1])).get("fold_names", {})
by_name = {v: k[len("fold"):] for k, v in names.items()}
out = []
for f in sys.argv[2].split():
    if not f.isdigit() and f not in by_name:
        sys.exit(f"ser.sh: --folds {f}: neither a fold number nor a fold name of {sys.argv[1]} {sorted(by_name)}")
    out.append(f if f.isdigit() else by_name[f])
print(" ".join(out))' "${foldroot}/protocol.json" "${folds}")
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  sp_pairs=()   # "<data dir> <dump sub-dir>" of each speed factor's perturbed copies
  if [ -n "${sp_tag}" ]; then
    # The training utterances of every fold of the protocol, once per factor (not per fold;
    # outside ${foldroot}, which stage 1 rewrites: unchanged input is not perturbed again).
    sp=${spdir}
    log "Stage 2: speed perturbation (${sp_factors[*]:-none}) of ${foldroot}/fold*/train -> ${sp}"
    [ -f "${foldroot}/protocol.json" ] || { echo "$0: ${foldroot}/protocol.json not found: run stage 1 first (--stage 1)" >&2; exit 1; }
    mkdir -p "${sp}"
    cat "${foldroot}"/fold*/train/utt2spk | cut -d' ' -f1 | LC_ALL=C sort -u |
      utils/subset_data_dir.sh --utt-list - "${datadir}/all" "${sp}/train"
    sp_parts=()
    for f in ${speed_perturb_factors}; do
      if [[ " ${sp_factors[*]} " == *" ${f} "* ]]; then
        utils/perturb_data_dir_speed.sh "${f}" "${sp}/train" "${sp}/sp${f}"
        sp_pairs+=("${sp}/sp${f} sp${f}/${protocol}"); sp_parts+=("${sp}/sp${f}")
      else
        sp_parts+=("${sp}/train")
      fi
    done
    # All of them (stage 3 takes each fold's part): utt2uniq only in the perturbed copies.
    utils/combine_data.sh --exclude utt2uniq "${sp}/${train_name}" "${sp_parts[@]}"
  fi
  for fconf in "${feats_conf}" ${extra_feats_confs}; do
    f=$(basename "${fconf}" .yaml)
    for pair in "${datadir}/all all" "${sp_pairs[@]}"; do
      read -r data sub <<< "${pair}"
      out=${dumpdir}/${f}/${sub}
      log "Stage 2: feature extraction (${f}): ${data} -> ${out}"
      n=$(wc -l < "${data}/utt2spk")
      _nj=$(min "${nj}" "${n}")
      utils/split_data.sh --per-utt "${data}" "${_nj}"
      mkdir -p "${out}/log"
      ${train_cmd} JOB=1:"${_nj}" "${out}/log/extract.JOB.log" \
        python3 -m espnet_ser.bin.extract_feats --feats-conf "${fconf}" \
          --data-dir "${data}/split${_nj}utt/JOB" --out-dir "${out}" --job JOB
      python3 -m espnet_ser.bin.extract_feats --merge --nj "${_nj}" \
        --feats-conf "${fconf}" --data-dir "${data}" --out-dir "${out}"
    done
  done
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  for fold in $(fold_list); do
    out=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
    if [ "${example_unit}" = dialogue ]; then
      log "Stage 3: dialogue examples of ${fold} (${norm} statistics from its train set), labels -> ${out}"
      feat_args=()
      for f in "${feats_conf}" ${extra_feats_confs}; do
        feat_args+=(--feats "${dumpdir}/$(basename "${f}" .yaml)/all/feats.scp")
      done
      # shellcheck disable=SC2086
      python3 -m espnet_ser.bin.make_dialogues --fold-dir "${foldroot}/${fold}" "${feat_args[@]}" \
        --out-dir "${out}" --norm "${norm}" --names ${label_names}
      continue
    fi
    f=$(basename "${feats_conf}" .yaml)
    log "Stage 3: ${norm} normalisation from ${fold}/${train_name}, labels: ${dumpdir}/${f}/all -> ${out}"
    fold_sets=("${sets[@]}"); label_train=${train_name}; scps=("${dumpdir}/${f}/all/feats.scp")
    if [ -n "${sp_tag}" ]; then
      # Speed perturbation: train_sp<factors> = the fold's train utterances under each factor's
      # prefix (sp0.9-<utt>; 1.0: <utt>), taken from stage 2's copies of every fold's train set.
      [ -f "${spdir}/${train_name}/utt2spk" ] ||
        { echo "$0: ${spdir}/${train_name}: not found: run stage 2 with --speed_perturb_factors \"${speed_perturb_factors}\"" >&2; exit 1; }
      awk -v fs="${speed_perturb_factors}" 'BEGIN { n = split(fs, F, " ") }
        { for (i = 1; i <= n; i++) print (F[i] == 1 ? "" : "sp" F[i] "-") $1 }' "${foldroot}/${fold}/train/utt2spk" |
        utils/subset_data_dir.sh --utt-list - "${spdir}/${train_name}" "${foldroot}/${fold}/${train_name}" ||
        { echo "$0: ${spdir}/${train_name} lacks perturbed copies of ${fold}/train: rerun stage 2 (--stage 2)" >&2; exit 1; }
      log "Stage 3: ${fold}/${train_name}: $(wc -l < "${foldroot}/${fold}/${train_name}/utt2spk") utterances (${fold}/train: $(wc -l < "${foldroot}/${fold}/train/utt2spk"), factors ${speed_perturb_factors})"
      for sf in "${sp_factors[@]}"; do scps+=("${dumpdir}/${f}/sp${sf}/${protocol}/feats.scp"); done
    fi
    if [ -d "${foldroot}/${fold}/train_unlab" ]; then
      # Unlabelled training data (DANN): train_all = train + train_unlab, for --train_unlab true;
      # the inventories (corpora.txt, ...) come from it so target domains get a class.
      # (train_unlab is never speed-perturbed: it is the target domain's audio as it is.)
      utils/combine_data.sh --allow-partial "${foldroot}/${fold}/${unlab_name}" \
        "${foldroot}/${fold}/${train_name}" "${foldroot}/${fold}/train_unlab" >/dev/null
      fold_sets+=("${unlab_name}"); label_train=${unlab_name}
    fi
    python3 -m espnet_ser.bin.apply_norm --mode "${norm}" --feats "${scps[@]}" --train-set "${train_name}" \
      --fold-dir "${foldroot}/${fold}" --out-dir "${out}" --sets "${fold_sets[@]}"
    set_args=()
    for set in "${fold_sets[@]}"; do
      set_args+=(--set "${foldroot}/${fold}/${set}:${out}/${set}")
      python3 -m espnet_ser.bin.make_shape_file "${out}/${set}"
    done
    # shellcheck disable=SC2086
    python3 -m espnet_ser.bin.prepare_labels --train_dir "${foldroot}/${fold}/${label_train}" \
      --lang_dir "${out}/labels" --names ${label_names} --task "${task}" "${set_args[@]}"
  done
fi

if [ -n "${baseline_config}" ]; then
  log "Baseline ${baseline_tag}: stages 4-${stop_stage} of ${baseline_config} (stages 1-3 shared)"
  run_also 4 --train_config "${baseline_config}" --tag "${baseline_tag}" --baseline_tag ""
fi

# ESPnet data options of one set: features, shape file and one label file per name.
data_args() {
  local mode=$1 dir=$2 name
  echo "--${mode}_data_path_and_name_and_type ${dir}/feats.scp,speech,kaldi_ark"
  echo "--${mode}_shape_file ${dir}/speech_shape"
  for name in ${label_names}; do
    echo "--${mode}_data_path_and_name_and_type ${dir}/${name}.int,${name},text_int"
  done
}

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
  mkdir -p "${exp}/log"
  echo "${run_args}" > "${exp}/run.sh"
  # Every (fold, seed) run is one line of the run list, one job array (submit_array above).
  train_list=${exp}/log/train.list
  : > "${train_list}"
  # Stages 1-3 of these features must have run (e.g. --stage 4 on a fresh directory, or an extra
  # config on other features started at --stage 4): one line naming what is missing.
  if [ -z "${folds}" ] && { [ ! -d "${foldroot}" ] || [ -z "$(fold_list)" ]; }; then
    echo "$0: stage 4: ${foldroot} has no folds: run stages 1-3 first (--stage 1)" >&2; exit 1
  fi
  for fold in $(fold_list); do
    dump=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
    [ -f "${dump}/${train_name}/feats.scp" ] ||
      { echo "$0: stage 4: ${dump}/${train_name}/feats.scp not found: run stages 2-3 for --feats_conf ${feats_conf} --norm ${norm} first (--stage 2)" >&2; exit 1; }
    train_set=${train_name}
    if ${train_unlab} && [ -d "${dump}/${unlab_name}" ]; then
      train_set=${unlab_name}
    elif ${train_unlab}; then
      # e.g. multi_corpus: every domain is labelled in train already
      log "--train_unlab true: ${foldroot}/${fold} has no train_unlab set (make_folds --unlabelled-target true adds one to cross_corpus); training on train"
    fi
    mapfile -t train_data < <(data_args train "${dump}/${train_set}"; data_args valid "${dump}/dev")
    task_args=()
    [ "${task}" = emotion ] || task_args=(--model_conf "target_name=${task}")
    # Normalisation inside the model (statistics travel in the checkpoint); speaker: stage 3 did it.
    norm_args=()
    case "${norm}" in
      global) norm_args=(--normalize global_mvn --normalize_conf "stats_file=${dump}/stats.npz") ;;
      utterance) norm_args=(--normalize utterance_mvn --normalize_conf norm_vars=true) ;;
    esac
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      # --resume true would take a finished run of OTHER data (another protocol, norm or pool
      # under the same tag) as done: its config.yaml names the training data it was given.
      if [ -f "${d}/config.yaml" ]; then
        was=$(sed -n '/^train_data_path_and_name_and_type:/{n;s/^-[[:space:]]*-[[:space:]]*//p;q}' "${d}/config.yaml")
        [ -z "${was}" ] || [ "${was}" = "${dump}/${train_set}/feats.scp" ] ||
          { echo "$0: ${d} was trained on ${was} (its config.yaml), not ${dump}/${train_set}/feats.scp: give another --tag or --expdir, or remove ${d}" >&2; exit 1; }
      fi
      log "Stage 4: training (seed ${seed}): ${dump}/{${train_set},dev} -> ${d}"
      mkdir -p "${d}"
      cp "${feats_conf}" "${d}/feats_conf.yaml"
      cp "${dump}/labels/"*.txt "${d}/"   # emotions.txt, speakers.txt, ... side by side
      cp "${dump}/norm.json" "${d}/norm.json"   # the normalisation mode, for stage 8 and the Python API
      # --resume true: a rerun of the stage continues each run from its checkpoint.pth. run.pl
      # starts its log anew, so the last one is kept as train.log.<N> (1 = oldest): the report
      # and the search read the epochs of all of them (espnet_ser.eval.plots.parse_train_log).
      rotate_log "${d}/train.log"
      dist_launch "${d}"
      # shellcheck disable=SC2086,SC2068
      add_run "${train_list}" "${d}/train.log" \
        "${launch[@]}" python3 -m espnet_ser.bin.ser_train --config "${train_config}" --ngpu "${ngpu}" "${dist_args[@]}" \
          --seed "${seed}" --output_dir "${d}" --resume true \
          --emotion_list "${d}/${task_inv}" "${task_args[@]}" "${norm_args[@]}" ${train_data[@]} ${train_args}
    done
  done
  if [ "${num_nodes}" -gt 1 ]; then
    # Each run is espnet2.bin.launch, which submits its own multi-node job and waits: the launchers
    # run here (run.pl), one at a time unless --max_parallel says more; train.log has the
    # launcher's output, train.nodes.log the nodes' (rank 0 logs the training).
    max_parallel=${max_parallel:-1} submit_array "Stage 4: training (${num_nodes} nodes per run, espnet2.bin.launch)" \
      "${train_list}" utils/run.pl
  else
    # shellcheck disable=SC2086
    submit_array "Stage 4: training" "${train_list}" ${cuda_cmd} --gpu "${ngpu}" --num-threads "${train_threads}"
  fi
fi

# One checkpoint rule: stage 5 decodes, stage 8 packs (and the Python API loads) the same file.
[ -n "${inference_model}" ] || inference_model=$(python3 -c \
  'from espnet_ser.bin.pack_model import DEFAULT_INFERENCE_MODEL as m; print(m)')

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
  # Every (fold, seed, set, split) decode is one line of the run list, one job array (submit_array):
  # CPU through ${decode_cmd}, GPU (--gpu_inference true) through ${cuda_cmd} --gpu 1. A set of
  # more than one split is decoded as key lists of its feats.scp (utils/split_scp.pl,
  # ser_inference --key_file, as ESPnet's asr.sh) into decode_<set>/split<N>/<J> and merged
  # into decode_<set> (espnet_ser.bin.merge_decode) with a single job's file names.
  # shellcheck disable=SC2206  # the commands of cmd.sh are word-split, as everywhere
  { _ngpu=0; decode=(${decode_cmd}); ! ${gpu_inference} || { _ngpu=1; decode=(${cuda_cmd} --gpu 1); }; }
  mkdir -p "${exp}/log"
  decode_list=${exp}/log/decode.list
  : > "${decode_list}"
  merges=()   # "<decode dir> <splits>" of the sets decoded in splits
  for fold in $(fold_list); do
    dump=${dumpdir}/${feat}_${norm}/${protocol}/${fold}
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      for set in $(echo "test ${probe_sets}" | tr " " "\n" | sort -u); do
        out=${d}/decode_${set}
        scp=${dump}/${set}/feats.scp
        [ -f "${scp}" ] || { echo "$0: ${scp}: no such file (stage 3 writes it; run --stage 3)" >&2; exit 1; }
        n=$(wc -l < "${scp}")
        _nj=$(min "${inference_nj}" "$(( n > 1 ? n : 1 ))")
        log "Stage 5: inference: ${dump}/${set} -> ${out} (${_nj} job(s))"
        rm -rf "${out}"/split[0-9]* "${out}"/log/inference.*log   # an earlier run's splits and logs
        mkdir -p "${out}/log"
        unroll=()   # dialogue examples: posteriors and embeddings written per utterance
        [ "${example_unit}" = utterance ] || unroll=(--utt_map "${dump}/${set}/dialogues")
        infer=(python3 -m espnet_ser.bin.ser_inference --ngpu "${_ngpu}"
          --model_file "${d}/${inference_model}" --train_config "${d}/config.yaml"
          --data_path_and_name_and_type "${scp},speech,kaldi_ark" "${unroll[@]}")
        if [ "${_nj}" -eq 1 ]; then
          # shellcheck disable=SC2086
          add_run "${decode_list}" "${out}/log/inference.log" "${infer[@]}" --output_dir "${out}" ${inference_args}
          continue
        fi
        split=${out}/split${_nj}
        keys=(); parts=()
        for ((j = 1; j <= _nj; j++)); do keys+=("${split}/keys.${j}.scp"); parts+=("${split}/${j}"); done
        mkdir -p "${split}"
        utils/split_scp.pl "${scp}" "${keys[@]}"
        for ((j = 1; j <= _nj; j++)); do
          # shellcheck disable=SC2086
          add_run "${decode_list}" "${out}/log/inference.${j}.log" "${infer[@]}" \
            --key_file "${keys[j - 1]}" --output_dir "${parts[j - 1]}" ${inference_args}
        done
        merges+=("${out} ${parts[*]}")
      done
    done
  done
  submit_array "Stage 5: inference" "${decode_list}" "${decode[@]}"
  for m in "${merges[@]}"; do
    read -ra parts <<< "${m}"   # "<decode dir> <splits...>" (no spaces in paths: add_run checks)
    python3 -m espnet_ser.bin.merge_decode --out "${parts[@]:0:1}" "${parts[@]:1}"
  done
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
  mkdir -p "${exp}/log"
  score_list=${exp}/log/score.list
  : > "${score_list}"
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      add_run "${score_list}" "${d}/decode_test/log/score.log" \
        python3 -m espnet_ser.bin.score --posteriors "${d}/decode_test/posteriors" \
          --labels "${d}/${task_inv}" --ref "${task_ref}" --data-dir "${foldroot}/${fold}/test" \
          --out-dir "${d}/decode_test" --tag "${tag}/seed${seed}/${fold}"
    done
  done
  # shellcheck disable=SC2086
  submit_array "Stage 6: scoring (decode_test/posteriors -> results.json)" "${score_list}" ${train_cmd}
  # The runs' WA/UA lines, in the list's order.
  while read -r runlog _; do
    log "Stage 6: $(grep -h 'WA (accuracy)' "${runlog}" | tail -n 1 | sed 's/.*INFO: //')"
  done < "${score_list}"
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
  log "Stage 7: report: ${exp}/seed*/fold*/decode_test/results.json -> ${exp}/results.json, RESULTS.md"
  # Speaker probe on the embeddings of the held-out speakers (${probe_sets}):
  # closed set, cross-validated over each speaker's utterances (espnet_ser.eval.probe).
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      p=${d}/probe_data
      rm -rf "${p}"
      probe_dirs=(); probe_scps=()
      for set in ${probe_sets}; do
        probe_dirs+=("${foldroot}/${fold}/${set}"); probe_scps+=("${d}/decode_${set}/embeddings.scp")
      done
      utils/combine_data.sh --allow-partial "${p}" "${probe_dirs[@]}" >/dev/null
      sort "${probe_scps[@]}" > "${p}/embeddings.scp"
      python3 -m espnet_ser.bin.speaker_probe --embeddings "${p}/embeddings.scp" \
        --data-dir "${p}" --out "${d}/decode_test/probe.json"
    done
  done
  opts=()
  [ -z "${baseline_tag}" ] || opts+=(--baseline "${expdir}/${baseline_tag}")
  [ -z "${paper_table}" ] || opts+=(--paper-table "${paper_table}")
  python3 -m espnet_ser.bin.report --exp-dir "${exp}" --out RESULTS.md "${opts[@]}"
  # AT-Fusion models (Lian et al.): mean modality weight per fold and emotion, plotted.
  if compgen -G "${exp}/seed*/fold*/decode_test/alpha" > /dev/null; then
    python3 -m espnet_ser.bin.plot_modality_weights --exp-dir "${exp}" --fold-root "${foldroot}"
  fi
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
  for fold in $(fold_list); do
    for seed in ${seeds}; do
      d=${exp}/seed${seed}/${fold}
      log "Stage 8: pack: ${d} -> ${d}/packed_model.zip"
      python3 -m espnet_ser.bin.pack_model --exp-dir "${d}" --checkpoint "${inference_model}" \
        --norm "${norm}" --out "${d}/packed_model.zip"
    done
  done
fi

for entry in ${extra_configs}; do
  parse_extra "${entry}"
  log "Extra experiment ${x_tag}: ${x_config} ${x_opts[*]}"
  run_also "${x_from}" --train_config "${x_config}" --tag "${x_tag}" --baseline_tag "${baseline_tag}" "${x_opts[@]}"
done
if ${svm}; then
  log "SVM reference (./svm.sh): stages ${stage}-${stop_stage} on ${foldroot}"
  ./svm.sh --protocol "${protocol}" --folds "${folds}" --nj "${nj}" --max_parallel "${max_parallel}" --task "${task}" --tag "${svm_tag}" --stage "${stage}" \
    --stop_stage "${stop_stage}" --datadir "${datadir}" --dumpdir "${dumpdir}" --expdir "${expdir}"
fi
# The systems of --fusions in the order fused=() lists them (each seed ensemble before the fusions
# that use it); equal weights, or (--fusion_weights dev) weights chosen on dev only (fuse.py).
for sys in "${fused[@]}"; do
  name=${sys#"${expdir}/"}
  if [[ "${name}" == *+* ]]; then
    IFS=+ read -r -a parts <<< "${name}"
    log "Fusion: ${parts[*]} -> ${sys} (weights: ${fusion_weights})"
    python3 -m espnet_ser.bin.fuse "${parts[@]/#/${expdir}/}" --out "${sys}" --fold-root "${foldroot}" --ref "${task_ref}" \
      --weights "${fusion_weights}"
  else
    log "Fusion: seed ensemble of ${sys%_ens} -> ${sys}"
    python3 -m espnet_ser.bin.fuse --ensemble "${sys%_ens}" --fold-root "${foldroot}" --ref "${task_ref}"
  fi
done
compare+=("${fused[@]}")
if [ ${#compare[@]} -gt 1 ] && [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
  # shellcheck disable=SC2086
  python3 -m espnet_ser.bin.compare "${compare[@]}" --fold-root "${foldroot}" ${compare_opts}
fi

log "Successfully finished stages ${stage}-${stop_stage} of ${tag}"
