"""Train an SER model: a thin ``SERTask.main()``.

Usage (from a recipe directory)::

    python -m espnet_ser.bin.ser_train --config conf/train.yaml \\
        --emotion_list exp/x/emotions.txt \\
        --train_data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark \\
        --train_data_path_and_name_and_type dump/fbank/train/emotion.int,emotion,text_int \\
        --train_shape_file dump/fbank/train/speech_shape \\
        --valid_data_path_and_name_and_type dump/fbank/dev/feats.scp,speech,kaldi_ark \\
        --valid_data_path_and_name_and_type dump/fbank/dev/emotion.int,emotion,text_int \\
        --valid_shape_file dump/fbank/dev/speech_shape \\
        --output_dir exp/x

All ESPnet trainer options work (``--ngpu``, ``--resume``, ``--max_epoch``,
``--keep_nbest_models``, ``--use_amp``, ``--best_model_criterion valid ua max``).
A NaN/inf training loss stops training with a one-line error naming the step;
the checkpoints of the last finished epoch in ``--output_dir`` are kept.
"""

import logging
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import espnet_ser
from espnet_ser.models.ser_model import NonFiniteLossError
from espnet_ser.tasks.ser import SERTask


def _git_hash() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(espnet_ser.__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(cmd: Optional[List[str]] = None) -> None:
    """Run ``SERTask.main`` and turn a non-finite loss into a one-line error."""
    logging.getLogger("espnet_ser").info(
        f"espnet_ser {espnet_ser.__version__} (git {_git_hash()})"
    )
    try:
        SERTask.main(cmd=cmd)
    except NonFiniteLossError as e:
        print(
            f"ser_train: error: {e}; training stopped, the checkpoints of the last "
            "finished epoch in --output_dir are kept (lower the learning rate or set "
            "--grad_clip, then rerun with --resume true)",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
