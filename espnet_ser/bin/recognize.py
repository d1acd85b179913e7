"""Recognise the emotion of your own audio files with a trained model.

Usage::

    python -m espnet_ser.bin.recognize --model exp/<tag>/seed0/fold1/packed_model.zip my.wav [more.wav ...]

``--model`` is stage 8's zip (read directly, no unzipping) or an experiment
directory (``exp/<tag>/seed<S>/<fold>``, whose checkpoint is
``--checkpoint``, default the one stage 5 decodes). Each file is read as
``wav.scp`` entries are (any format soundfile reads, resampled to the model's
rate, mixed to mono), its features are extracted with the model's
``feats_conf.yaml``, and one line is printed per file::

    <file> <label> <label_1>:<p_1> <label_2>:<p_2> ...

(``--json``: one JSON object per line instead). Models trained with per-speaker
normalisation (``--norm speaker``) standardise each file with its own
statistics; ``--one-speaker`` says that all the files are one speaker's, and
their pooled statistics are used instead, as in training (better with several
files). Errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m espnet_ser.bin.recognize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="packed_model.zip (stage 8) or an experiment directory")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint inside an experiment directory (default: the one stage 5 decodes)")
    p.add_argument("--one-speaker", action="store_true",
                   help="all files are one speaker's (per-speaker-normalised models pool their statistics)")
    p.add_argument("--json", action="store_true", help="print JSON lines (file, label, posteriors)")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("wavs", nargs="+", metavar="FILE", help="audio files")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints one line per file, errors as one line."""
    args = get_parser().parse_args(argv)
    from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer

    try:
        rec = SpeechEmotionRecognizer.from_model_dir(args.model, model_file=args.checkpoint, device=args.device)
        if args.one_speaker:
            results = rec.recognize_speaker(args.wavs)
        else:
            results = [rec(w) for w in args.wavs]
    except (OSError, ValueError) as exc:
        print(f"recognize: error: {exc}", file=sys.stderr)
        return 1
    for wav, out in zip(args.wavs, results):
        if args.json:
            print(json.dumps({"file": wav, "label": out["label"], "posteriors": out["posteriors"]}))
        else:
            post = " ".join(f"{k}:{v:.6f}" for k, v in out["posteriors"].items())
            print(f"{wav} {out['label']} {post}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
