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
the checkpoints of the last finished epoch in ``--output_dir`` are kept. A key of
``--config`` that no option has is a one-line error naming the file, the key and
the nearest option (instead of ESPnet's whole usage).
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


def check_config_keys(argv: List[str]) -> Optional[str]:
    """The one-line error for a ``--config`` key that no option has, else None.

    ESPnet rejects such a key too, but after printing its whole usage (hundreds of
    lines); this names the file, the key and the nearest option.
    """
    import difflib

    import yaml

    path = None
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
    if not path or not Path(path).is_file():
        return None  # ESPnet's own error for a missing file
    with open(path, encoding="utf-8") as f:
        conf = yaml.safe_load(f)
    if not isinstance(conf, dict):
        return None
    known = {a.dest for a in SERTask.get_parser()._actions}
    for key in conf:
        if key not in known:
            near = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            return (f"ser_train: error: {path}: unknown key '{key}' ({hint}python -m "
                    "espnet_ser.bin.ser_train --print_config lists every key)")
    return None


def main(cmd: Optional[List[str]] = None) -> None:
    """Run ``SERTask.main``; an unknown config key or a non-finite loss is a one-line error."""
    logging.getLogger("espnet_ser").info(
        f"espnet_ser {espnet_ser.__version__} (git {_git_hash()})"
    )
    bad_key = check_config_keys(sys.argv[1:] if cmd is None else list(cmd))
    if bad_key:
        print(bad_key, file=sys.stderr)
        sys.exit(2)
    try:
        SERTask.main(cmd=cmd)
    except NonFiniteLossError as e:
        print(
            f"ser_train: error: {e}; training stopped, the checkpoints of the last "
            "finished epoch in --output_dir are kept (check those utterances' features, "
            "lower the learning rate or set --grad_clip, then rerun with --resume true)",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
