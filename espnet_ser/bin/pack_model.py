"""Pack a trained model for sharing (pipeline stage 8).

Usage:
    python -m espnet_ser.bin.pack_model --exp-dir exp/sier/seed0/fold1 --out model.zip \\
        [--checkpoint valid.ua.best.pth] [--norm global]

One checkpoint rule: stage 5 decodes, stage 8 packs and the Python API loads
the same checkpoint, ``ser.sh --inference_model`` (default
:data:`DEFAULT_INFERENCE_MODEL`, the epoch with the best UA on the dev speakers;
ESPnet writes ``valid.ua.best.pth`` when ``best_model_criterion`` lists
``valid ua max``). So the zip's ``results.json`` is the score of the checkpoint
it holds.

The zip holds, flat at its top so that the unpacked folder is a model dir:

    config.yaml           the resolved training config (written by ESPnet)
    <checkpoint>.pth      the checkpoint (``--checkpoint``, default
                          :data:`DEFAULT_INFERENCE_MODEL`); with ``--norm global``
                          its ``normalize.mean``/``normalize.std`` buffers (ESPnet's
                          GlobalMVN) are the training statistics: no stats file
    emotions.txt, ...     label inventories (every ``*.txt`` beside the task's inventory:
                          emotions.txt, or arousals.txt/valences.txt of a binary run;
                          else ``decode_<set>/emotions.txt``)
    feats_conf.yaml       the feature extractor config
    model.json            which checkpoint and normalisation mode this is (read by
                          ``SpeechEmotionRecognizer.from_packed``)
    results.json          ``decode_test/results.json`` of this run (of this checkpoint)
    README.md             generated: what, numbers, file list, how to use
    MANIFEST.sha256       ``sha256sum -c`` compatible checksums of all other files

A required file that is missing is an error naming it; nothing is packed then.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

logger = logging.getLogger("espnet_ser.bin.pack_model")

#: The checkpoint that stage 5 decodes, stage 8 packs and ``from_model_dir``
#: loads (``ser.sh --inference_model`` overrides it for all three): the epoch with
#: the best UA on the dev speakers, as CONTRIBUTING.md's model selection says.
DEFAULT_INFERENCE_MODEL = "valid.ua.best.pth"
#: The packed model's own description: ``{"checkpoint": ..., "norm": ..., "format": 1}``.
MODEL_JSON = "model.json"
NORM_MODES = ("global", "utterance", "speaker", "none")
#: The in-model normalisation (``normalize:`` of config.yaml) that each ``--norm`` needs.
_NORMALIZE_OF = {"global": "global_mvn", "utterance": "utterance_mvn", "speaker": None, "none": None}


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--exp-dir", required=True, help="one trained run: exp/<tag>/seed<S>/<fold>")
    p.add_argument("--out", required=True, help="output zip")
    p.add_argument("--checkpoint", default=DEFAULT_INFERENCE_MODEL,
                   help="checkpoint file name inside --exp-dir (ser.sh: --inference_model)")
    p.add_argument("--decode-set", default="test", help="results.json is read from decode_<set>/")
    p.add_argument("--norm", choices=("auto",) + NORM_MODES, default="auto",
                   help="feature normalisation of the run (auto: norm.json of --exp-dir, written by "
                        "stage 4, else from config.yaml's normalize)")
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found; refusing to pack an incomplete model")
    return path


def run_norm(run: Path, config: dict, norm: str = "auto") -> str:
    """The run's normalisation mode, checked against config.yaml's in-model normalisation.

    Raises:
        ValueError: When ``config.yaml`` does not normalise as the mode needs (e.g. a
            ``--norm global`` run from before the statistics moved into the model).
    """
    if norm == "auto":
        marker = run / "norm.json"
        if marker.is_file():
            norm = json.loads(marker.read_text(encoding="utf-8")).get("mode", "auto")
        if norm not in NORM_MODES:
            inverse = {v: k for k, v in _NORMALIZE_OF.items() if v}
            norm = inverse.get(config.get("normalize"), "none")
    if norm not in NORM_MODES:
        raise ValueError(f"{run}: unknown normalisation mode {norm!r} (one of {NORM_MODES})")
    want, have = _NORMALIZE_OF[norm], config.get("normalize")
    if want is not None and have != want:
        raise ValueError(
            f"{run}/config.yaml: --norm {norm} needs 'normalize: {want}' in the model (statistics in "
            f"the checkpoint), the config has {have!r}; a run from before normalisation moved into "
            "the model: re-run its stages 3-4"
        )
    return norm


def _is_inventory_folder(folder: Path, task_labels: Optional[List[str]]) -> bool:
    """``folder`` holds emotions.txt or a ``*.txt`` whose lines are the model's classes."""
    if (folder / "emotions.txt").is_file():
        return True
    if not task_labels or not folder.is_dir():
        return False
    return any(p.read_text(encoding="utf-8").split() == list(task_labels)
               for p in folder.glob("*.txt") if p.is_file())


def find_inventories(run: Path, decode_set: str = "test",
                     task_labels: Optional[List[str]] = None) -> Dict[str, Path]:
    """Label inventories: archive name -> file.

    The ``*.txt`` files of the first of ``run``, ``run/labels``, its parent and
    grandparent that holds the task's inventory: ``emotions.txt``, or for a
    binary arousal/valence run the file whose lines are ``task_labels`` (the
    model's ``emotion_list`` in config.yaml; stage 3 names it ``arousals.txt``).
    Failing that, the inventory inference wrote to ``decode_<set>/emotions.txt``.
    """
    for folder in (run, run / "labels", run.parent, run.parent.parent):
        if _is_inventory_folder(folder, task_labels):
            return {p.name: p for p in sorted(folder.glob("*.txt")) if p.is_file()}
    copied = run / f"decode_{decode_set}" / "emotions.txt"
    if copied.is_file():
        logger.warning("%s: no label inventory in the experiment; packing %s (the model's classes only)",
                       run, copied)
        return {"emotions.txt": copied}
    raise FileNotFoundError(
        f"{run}: emotions.txt not found in {run}, {run / 'labels'}, {run.parent}, {run.parent.parent} "
        f"nor as decode_{decode_set}/emotions.txt "
        "(stage 3 writes the label inventories into the experiment); refusing to pack"
    )


def collect(run: Path, *, checkpoint: str, decode_set: str, norm: str):
    """Map archive names to the files to pack, and the model.json record.

    Raises:
        FileNotFoundError: Naming a missing required file.
        ValueError: When the normalisation mode and config.yaml disagree.
    """
    import yaml

    if not run.is_dir():
        raise FileNotFoundError(f"{run}: model dir not found (--exp-dir)")
    config_path = _require(run / "config.yaml", "training config config.yaml")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    files: Dict[str, Path] = {"config.yaml": config_path}
    ckpt = _require(run / checkpoint, f"checkpoint --checkpoint {checkpoint} (ser.sh --inference_model)")
    files[ckpt.name] = ckpt
    files.update(find_inventories(run, decode_set, config.get("emotion_list")))
    files["feats_conf.yaml"] = _require(run / "feats_conf.yaml", "feature config feats_conf.yaml")
    files["results.json"] = _require(run / f"decode_{decode_set}" / "results.json",
                                     f"scores decode_{decode_set}/results.json (run stage 6)")
    record = {"format": 1, "checkpoint": ckpt.name, "norm": run_norm(run, config, norm)}
    return files, record


def make_readme(run: Path, record: dict, results: dict, sums: Dict[str, str]) -> str:
    """The packed model's README.md."""
    ckpt = record["checkpoint"]
    how = {"global": "the model applies the training statistics itself (inside the checkpoint)",
           "utterance": "the model normalises each utterance itself",
           "speaker": "features are normalised per speaker before the model: give several files of "
                      "one speaker together (`--one-speaker`); a single file is normalised with its "
                      "own statistics",
           "none": "no normalisation"}[record["norm"]]
    lines = [f"# espnet_ser model: {run}", "",
             f"Packed {datetime.datetime.now().astimezone().isoformat(timespec='seconds')} from `{run}`.", "",
             f"- WA (accuracy): {100 * results['wa']:.2f}%",
             f"- UA (unweighted average recall): {100 * results['ua']:.2f}%",
             f"- macro-F1: {100 * results['macro_f1']:.2f}%",
             f"- scored utterances: {results['n']}; labels: {', '.join(results['labels'])}", "",
             f"Checkpoint: `{ckpt}` (these scores are its scores). Normalisation `{record['norm']}`: "
             f"{how}.", "",
             "Recognise wav files: `python -m espnet_ser.bin.recognize --model <this zip> a.wav [b.wav ...]`; "
             "Python: `SpeechEmotionRecognizer.from_packed(<this zip>)` "
             "(`espnet_ser.bin.ser_inference`). No unzipping needed.", "",
             "Check the files with `sha256sum -c MANIFEST.sha256`.", "",
             "| file | sha256 |", "|---|---|"]
    lines += [f"| {name} | `{sums[name]}` |" for name in sorted(sums)]
    return "\n".join(lines) + "\n"


def pack(run_dir: str, out: str, *, checkpoint: Optional[str] = None, decode_set: str = "test",
         norm: str = "auto") -> Dict[str, str]:
    """Write the zip; returns archive name -> sha256 (README.md and the manifest excluded)."""
    run = Path(run_dir)
    files, record = collect(run, checkpoint=checkpoint or DEFAULT_INFERENCE_MODEL, decode_set=decode_set,
                            norm=norm)
    results = json.loads(files["results.json"].read_text(encoding="utf-8"))
    record_text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    sums = {name: _sha256(path) for name, path in files.items()}
    sums[MODEL_JSON] = hashlib.sha256(record_text.encode("utf-8")).hexdigest()
    readme = make_readme(run, record, results, sums)
    sums_with_readme = dict(sums, **{"README.md": hashlib.sha256(readme.encode("utf-8")).hexdigest()})
    manifest = "".join(f"{h}  {n}\n" for n, h in sorted(sums_with_readme.items()))
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in sorted(files.items()):
            zf.write(path, arcname=name)  # follows symlinks (ESPnet's *.best.pth are links)
        zf.writestr(MODEL_JSON, record_text)
        zf.writestr("README.md", readme)
        zf.writestr("MANIFEST.sha256", manifest)
    tmp.replace(out_path)
    logger.info("packed %d files from %s into %s (checkpoint %s, norm %s)", len(files) + 3, run, out_path,
                record["checkpoint"], record["norm"])
    return sums


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    try:
        pack(args.exp_dir, args.out, checkpoint=args.checkpoint, decode_set=args.decode_set, norm=args.norm)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"pack_model.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
