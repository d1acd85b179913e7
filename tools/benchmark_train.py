#!/usr/bin/env python3
"""Training throughput (utterances/s) of an SER config on random features.

Builds the model of a training YAML exactly as ser_train does, then times
optimizer steps (forward + backward + Adam) on random (B, T, D) batches, on
CPU and, when available, on CUDA.  Prints one line per device.

Usage::

    tools/venv/bin/python tools/benchmark_train.py egs/TEMPLATE/ser1/conf/train_adv_speaker.yaml \\
        --batch_size 32 --frames 300 --steps 20
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml


def benchmark(conf_path, device, batch_size, frames, steps, warmup, input_size=None):
    from espnet_ser.labels import LABEL_SOURCES
    from espnet_ser.tasks.ser import SERTask

    with tempfile.TemporaryDirectory() as tmp:
        for name, (_, inv) in LABEL_SOURCES.items():
            Path(tmp, inv).write_text("".join(f"{name}{i}\n" for i in range(8)))
        cfg = vars(SERTask.get_parser().parse_args([]))
        cfg.update(yaml.safe_load(Path(conf_path).read_text(encoding="utf-8")))
        cfg["emotion_list"] = str(Path(tmp, "emotions.txt"))
        cfg["input_size"] = input_size or cfg.get("input_size") or 40
        model = SERTask.build_model(argparse.Namespace(**cfg)).to(device).train()
    model.set_total_steps(steps + warmup)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    T = 1 if cfg["encoder"] == "mlp" else frames
    xs = torch.randn(batch_size, T, cfg["input_size"], device=device)
    lens = torch.full((batch_size,), T, dtype=torch.long, device=device)
    # Dialogue models (Lian et al.): one example = T turns, one label per turn.
    dialogue = cfg.get("model") == "dialogue"
    n_lab = T if dialogue else 1
    labels = {n: torch.randint(0, 8, (batch_size, n_lab), device=device) for n in LABEL_SOURCES}
    for i in range(warmup + steps):
        if i == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        loss, _, _ = model(xs, lens, **labels)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    # Segment models (Gao et al., ADARL): the adapter's units per utterance, for units/s;
    # dialogue models: the turns per example.
    units = T if dialogue else int(model.adapter(xs[:1], lens[:1])[0].size(0))
    return steps * batch_size / elapsed, elapsed, units


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", default=str(Path(__file__).resolve().parents[1] / "egs/TEMPLATE/ser1/conf/train_adv_speaker.yaml"))
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--frames", type=int, default=300,
                   help="frames per utterance (frame-level encoders); turns per dialogue (dialogue models)")
    p.add_argument("--input_size", type=int, default=None, help="feature dim (default: config's, else 40)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = p.parse_args(argv)
    if not Path(args.config).is_file():
        print(f"benchmark_train: error: config {args.config} not found", file=sys.stderr)
        sys.exit(1)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        ups, sec, units = benchmark(args.config, dev, args.batch_size, args.frames, args.steps, args.warmup,
                                    args.input_size)
        name = torch.cuda.get_device_name() if dev == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
        what = "turns" if yaml.safe_load(Path(args.config).read_text()).get("model") == "dialogue" else "segments"
        seg = f", {ups * units:.1f} {what}/s ({units} per example)" if units > 1 else ""
        print(f"{args.config}: {dev} [{name}] batch {args.batch_size} x {args.frames} frames: "
              f"{ups:.1f} utterances/s{seg} ({args.steps} steps in {sec:.2f} s)")


if __name__ == "__main__":
    main()
