#!/usr/bin/env bash
# Usage: utils/perturb_data_dir_speed.sh [--pipe] <factor> <srcdir> <destdir>
#   e.g. utils/perturb_data_dir_speed.sh 0.9 data/train data/train_sp0.9
#
# Speed perturbation as Kaldi's script of the same name: utterance AND speaker ids prefixed
# sp<factor>-, every table carried over (utt2dur, reco2dur, segments divided by the factor,
# utt2uniq added), feats.scp/utt2num_frames/cmvn.scp dropped; the result validates.
# Difference from Kaldi: sox is not a dependency, so the audio (tempo and pitch together, as
# sox 'speed') is written once as FLAC under <destdir>/audio (soxr resampling) instead of a
# 'sox ... speed F |' pipe per recording; --pipe writes pipes through python3 instead.
# Implemented in Python: espnet_ser/utils/perturb_speed.py (its docstring says why).
# Errors are one line, exit 1.
set -euo pipefail

# shellcheck source=utils/lib/ser_python.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ser_python.sh"
ser_exec_python espnet_ser.utils.perturb_speed dir "$@"
