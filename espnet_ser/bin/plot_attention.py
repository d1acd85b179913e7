"""The learned domain-aware frequency attention of ADARL models, per gender.

For every trained model ``<exp>/[seed<S>/]fold<K>/`` this decodes the fold's
``--set`` (default test) with the embedding taken at the attach point
``attention`` (the ``(F,)`` weights ``I^D`` of
:class:`~espnet_ser.layers.domain_aware_attention.DomainAwareAttention`, mean
over an utterance's sub-segments; ``espnet_ser.bin.ser_inference.infer_scp``
into ``<model>/decode_<set>_attention/``), groups the utterances by
``utt2gender`` and writes into ``--out-dir``:

* ``attention.json``: ``{"bands_hz": [[lo, hi], ...], "genders": {g: {"n", "mean",
  "std"}}, "models": [...]}`` (mean and std over utterances of all models);
* ``attention.png``: mean +- std per gender over the frequency bands.

Each attention weight covers a band of ``product of the frequency poolings``
input bins (the encoder's ``input_pool`` and block ``pools``): 48 bins of 10 Hz
= 480 Hz in the paper's model.

Usage:
    python -m espnet_ser.bin.plot_attention --exp exp/adarl \\
        --dump dump/multiwin_logspec_global/emodb_loso --data-dir data/all \\
        --out-dir exp/adarl/attention
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import yaml


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exp", required=True, help="experiment dir exp/<tag> (with [seed<S>/]fold<K>/)")
    p.add_argument("--dump", required=True, help="dump/<feat>_<norm>/<protocol> (holding fold<K>/<set>/feats.scp)")
    p.add_argument("--data-dir", required=True, help="data dir with utt2gender (e.g. data/all)")
    p.add_argument("--out-dir", required=True, help="where attention.json and attention.png go")
    p.add_argument("--set", default="test", help="set to decode (default test)")
    p.add_argument("--inference-model", default=None, help="checkpoint name (default: the one rule's)")
    return p


def band_edges(model, feats_conf: Optional[Path]) -> List[List[float]]:
    """``[lo, hi]`` Hz of each attention weight, from the encoder's poolings and the bin spacing."""
    enc = model.encoder
    per_band = enc.input_pool[0]
    for blk in enc.emotion_blocks:
        per_band *= blk.pool[0]
    spacing = 10.0
    if feats_conf is not None and feats_conf.is_file():
        spacing = float((yaml.safe_load(feats_conf.read_text()) or {}).get("conf", {}).get("freq_resolution", spacing))
    return [[k * per_band * spacing, (k + 1) * per_band * spacing] for k in range(enc.out_freq)]


def model_dirs(exp: Path) -> List[Path]:
    """``fold<K>`` dirs below ``exp`` (directly or under ``seed<S>/``) that hold a config.yaml."""
    return sorted(p for p in list(exp.glob("fold*")) + list(exp.glob("seed*/fold*"))
                  if (p / "config.yaml").is_file())


def collect(exp: Path, dump: Path, data_dir: Path, set_name: str = "test",
            inference_model: Optional[str] = None) -> Dict:
    """Decode every model's ``set_name`` at point ``attention``; return the per-gender summary."""
    from espnet_ser.bin.pack_model import DEFAULT_INFERENCE_MODEL
    from espnet_ser.bin.ser_inference import infer_scp, load_model
    from espnet_ser.features.ark_io import load_scp
    from espnet_ser.utils.data_dir import read_table

    gender_file = data_dir / "utt2gender"
    if not gender_file.is_file():
        raise FileNotFoundError(f"{gender_file} not found: the attention is summarised per gender")
    utt2gender = read_table(gender_file)
    dirs = model_dirs(exp)
    if not dirs:
        raise FileNotFoundError(f"{exp}: no [seed<S>/]fold<K>/config.yaml (run stage 4 first)")
    per_gender: Dict[str, List[np.ndarray]] = {}
    bands = None
    for d in dirs:
        ckpt = d / (inference_model or DEFAULT_INFERENCE_MODEL)
        model, _ = load_model(d / "config.yaml", ckpt)
        if "attention" not in model.point_sizes:
            raise ValueError(f"{d}: the model has no domain-aware attention (encoder adarl with "
                             "domain_pathway: true)")
        scp = dump / d.name / set_name / "feats.scp"
        if not scp.is_file():
            raise FileNotFoundError(f"{scp} not found (stage 3 of the same protocol)")
        out = d / f"decode_{set_name}_attention"
        infer_scp(model, scp, out, embedding_point="attention")
        bands = bands or band_edges(model, d / "feats_conf.yaml")
        for utt, mat in load_scp(out / "embeddings.scp").items():
            per_gender.setdefault(utt2gender.get(utt, "unknown"), []).append(np.asarray(mat).reshape(-1))
    genders = {g: {"n": len(v), "mean": np.mean(v, 0).round(6).tolist(), "std": np.std(v, 0).round(6).tolist()}
               for g, v in sorted(per_gender.items())}
    return {"bands_hz": bands, "genders": genders, "models": [str(d) for d in dirs], "set": set_name}


def main(argv: Optional[Sequence[str]] = None) -> int:
    from espnet_ser.eval.plots import plot_band_weights

    args = get_parser().parse_args(argv)
    try:
        summary = collect(Path(args.exp), Path(args.dump), Path(args.data_dir), args.set, args.inference_model)
    except (FileNotFoundError, ValueError) as e:
        print(f"plot_attention: error: {e}", file=sys.stderr)
        return 1
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attention.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    plot_band_weights(summary["bands_hz"], summary["genders"], out / "attention.png",
                      title=f"ADARL attention per gender ({len(summary['models'])} models, {summary['set']})")
    counts = ", ".join(f"{g}: {v['n']}" for g, v in summary["genders"].items())
    print(f"plot_attention: {out / 'attention.png'} ({counts} utterances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
