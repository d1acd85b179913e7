"""Pack a trained model for sharing (pipeline stage 8).

Usage:
    python -m espnet_ser.bin.pack_model --exp-dir exp/sier/seed0/fold1 --out model.zip \\
        [--checkpoint valid.acc.best.pth] [--norm global]

The zip holds, flat at its top so that the unpacked folder is a model dir:

    config.yaml           the resolved training config (written by ESPnet)
    <checkpoint>.pth      the selected checkpoint (``--checkpoint``; default: from
                          ``best_model_criterion`` in config.yaml, the n-best average
                          ``<phase>.<crit>.ave.pth`` if present, else ``<phase>.<crit>.best.pth``)
    emotions.txt, ...     label inventories (every ``*.txt`` beside emotions.txt, else
                          ``decode_<set>/labels.txt`` as emotions.txt)
    feats_conf.yaml       the feature extractor config
    norm_stats.npz        normalisation statistics (required with ``--norm global``;
                          with ``auto`` packed when present); plus ``normalize_conf.stats_file``
                          of config.yaml when it names one
    results.json          ``decode_test/results.json`` of this run
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


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--exp-dir", required=True, help="one trained run: exp/<tag>/seed<S>/<fold>")
    p.add_argument("--out", required=True, help="output zip")
    p.add_argument("--checkpoint", default=None, help="checkpoint file name inside --exp-dir (default: see above)")
    p.add_argument("--decode-set", default="test", help="results.json is read from decode_<set>/")
    p.add_argument("--norm", choices=["auto", "global", "utterance", "speaker", "none"], default="auto",
                   help="feature normalisation of the run; 'global' requires norm_stats.npz")
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


def select_checkpoint(run: Path, config: dict) -> Path:
    """The checkpoint chosen by the run's ``best_model_criterion`` (n-best average first)."""
    crits = config.get("best_model_criterion") or []
    tried: List[str] = []
    for crit in crits:
        if not isinstance(crit, (list, tuple)) or len(crit) < 2:
            continue
        phase, name = crit[0], crit[1]
        for cand in (f"{phase}.{name}.ave.pth", f"{phase}.{name}.best.pth"):
            tried.append(cand)
            if (run / cand).is_file():
                return run / cand
    raise FileNotFoundError(
        f"{run}: no selected checkpoint (tried {tried or 'none: config.yaml has no best_model_criterion'}); "
        "pass --checkpoint <file>.pth"
    )


def find_inventories(run: Path, decode_set: str = "test") -> Dict[str, Path]:
    """Label inventories: archive name -> file.

    The ``*.txt`` files of the first of ``run``, ``run/labels``, its parent and
    grandparent that holds ``emotions.txt``; failing that, the emotion inventory
    that inference copied to ``decode_<set>/labels.txt`` (packed as emotions.txt).
    """
    for folder in (run, run / "labels", run.parent, run.parent.parent):
        if (folder / "emotions.txt").is_file():
            return {p.name: p for p in sorted(folder.glob("*.txt")) if p.is_file()}
    copied = run / f"decode_{decode_set}" / "labels.txt"
    if copied.is_file():
        logger.warning("%s: no emotions.txt in the experiment; packing %s as emotions.txt", run, copied)
        return {"emotions.txt": copied}
    raise FileNotFoundError(
        f"{run}: emotions.txt not found in {run}, {run / 'labels'}, {run.parent}, {run.parent.parent} "
        f"nor as decode_{decode_set}/labels.txt "
        "(stage 3 writes the label inventories into the experiment); refusing to pack"
    )


def collect(run: Path, *, checkpoint: Optional[str], decode_set: str, norm: str) -> Dict[str, Path]:
    """Map archive names to the files to pack; raises FileNotFoundError naming a missing one."""
    import yaml

    if not run.is_dir():
        raise FileNotFoundError(f"{run}: model dir not found (--exp-dir)")
    config_path = _require(run / "config.yaml", "training config config.yaml")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    files: Dict[str, Path] = {"config.yaml": config_path}
    ckpt = _require(run / checkpoint, "checkpoint (--checkpoint)") if checkpoint else select_checkpoint(run, config)
    files[ckpt.name] = ckpt
    files.update(find_inventories(run, decode_set))
    files["feats_conf.yaml"] = _require(run / "feats_conf.yaml", "feature config feats_conf.yaml")
    stats = run / "norm_stats.npz"
    if norm == "global":
        files["norm_stats.npz"] = _require(stats, "normalisation statistics (--norm global)")
    elif stats.is_file():
        files["norm_stats.npz"] = stats
    stats_file = (config.get("normalize_conf") or {}).get("stats_file")
    if stats_file:
        files[Path(stats_file).name] = _require(Path(stats_file), "normalize_conf.stats_file of config.yaml")
    files["results.json"] = _require(run / f"decode_{decode_set}" / "results.json",
                                     f"scores decode_{decode_set}/results.json (run stage 6)")
    return files


def make_readme(run: Path, files: Dict[str, Path], results: dict, sums: Dict[str, str]) -> str:
    """The packed model's README.md."""
    ckpt = next(n for n in files if n.endswith(".pth"))
    lines = [f"# espnet_ser model: {run}", "",
             f"Packed {datetime.datetime.now().astimezone().isoformat(timespec='seconds')} from `{run}`.", "",
             f"- WA (accuracy): {100 * results['wa']:.2f}%",
             f"- UA (unweighted average recall): {100 * results['ua']:.2f}%",
             f"- macro-F1: {100 * results['macro_f1']:.2f}%",
             f"- scored utterances: {results['n']}; labels: {', '.join(results['labels'])}", "",
             f"Checkpoint: `{ckpt}`. Unzip into a folder and use it as the model dir of "
             "`python -m espnet_ser.bin.ser_inference --model_dir <folder> ...`; extract features with "
             "`feats_conf.yaml` and normalise them as in training (`norm_stats.npz` when packed).", "",
             "Check the files with `sha256sum -c MANIFEST.sha256`.", "",
             "| file | sha256 |", "|---|---|"]
    lines += [f"| {name} | `{sums[name]}` |" for name in sorted(sums)]
    return "\n".join(lines) + "\n"


def pack(run_dir: str, out: str, *, checkpoint: Optional[str] = None, decode_set: str = "test",
         norm: str = "auto") -> Dict[str, str]:
    """Write the zip; returns archive name -> sha256 (README.md and the manifest excluded)."""
    run = Path(run_dir)
    files = collect(run, checkpoint=checkpoint, decode_set=decode_set, norm=norm)
    if "norm_stats.npz" not in files:
        logger.warning("%s: no norm_stats.npz packed (normalisation %s); users must normalise features as "
                       "the recipe did", run, norm)
    results = json.loads(files["results.json"].read_text(encoding="utf-8"))
    sums = {name: _sha256(path) for name, path in files.items()}
    readme = make_readme(run, files, results, sums)
    sums_with_readme = dict(sums, **{"README.md": hashlib.sha256(readme.encode("utf-8")).hexdigest()})
    manifest = "".join(f"{h}  {n}\n" for n, h in sorted(sums_with_readme.items()))
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in sorted(files.items()):
            zf.write(path, arcname=name)  # follows symlinks (ESPnet's *.best.pth are links)
        zf.writestr("README.md", readme)
        zf.writestr("MANIFEST.sha256", manifest)
    tmp.replace(out_path)
    logger.info("packed %d files from %s into %s", len(files) + 2, run, out_path)
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
