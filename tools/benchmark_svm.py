#!/usr/bin/env python3
"""Time per fold and dev/test scores of the SVM reference's solvers on a recipe's folds.

Reads what ``svm.sh`` stage 5 reads (the ComParE_2016 functionals of ``dump/compare_2016/all``
and the fold data dirs), runs ``espnet_ser.bin.svm_baseline`` per fold with each solver
(C path with early stopping, ``--patience``; ``--patience 0``: the whole grid) and prints one
table: seconds per fold, the C values tried, chosen C, dev UA and test WA/UA.

Usage (from a recipe after ``./svm.sh --stage 2 --stop_stage 2``)::

    ../../../tools/venv/bin/python ../../../tools/benchmark_svm.py --protocol emodb_l2so \\
        --solvers linearsvc sgd logreg --patience 2 0
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path


def _subset(feats: Path, data_dir: Path, out: Path) -> Path:
    keep = {line.split()[0] for line in (data_dir / "utt2spk").read_text().splitlines()}
    out.write_text("".join(line + "\n" for line in feats.read_text().splitlines()
                           if line.split()[0] in keep))
    return out


def main(argv=None) -> int:
    from espnet_ser.bin.svm_baseline import DEFAULT_C_GRID, SOLVERS, run_svm_baseline

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--protocol", required=True)
    p.add_argument("--datadir", default="data")
    p.add_argument("--feats", default="dump/compare_2016/all/feats.scp")
    p.add_argument("--folds", nargs="*", default=None, help="fold numbers (default: all)")
    p.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    p.add_argument("--patience", nargs="+", type=int, default=[2])
    p.add_argument("--c", default=",".join(f"{c:g}" for c in DEFAULT_C_GRID))
    p.add_argument("--norm", default="speaker")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    root = Path(args.datadir) / "folds" / args.protocol
    folds = [f"fold{k}" for k in args.folds] if args.folds else sorted(
        (d.name for d in root.glob("fold*") if d.is_dir()), key=lambda n: int(n[4:]))
    grid = [float(c) for c in args.c.split(",")]
    print("| solver | patience | fold | seconds | C tried | chosen C | dev UA | test WA | test UA |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for solver in args.solvers:
            for patience in args.patience:
                tot, was, uas = 0.0, [], []
                for fold in folds:
                    fd, t = root / fold, Path(tmp, fold)
                    t.mkdir(exist_ok=True)
                    scp = {s: _subset(Path(args.feats), fd / s, t / f"{s}.scp") for s in ("train", "dev", "test")}
                    r = run_svm_baseline(scp["train"], fd / "train", scp["test"], fd / "test", t / "out",
                                         dev_feats=scp["dev"], dev_dir=fd / "dev", norm=args.norm,
                                         c_grid=grid, solver=solver, patience=patience)
                    dev_ua = max(d["ua"] for d in r["dev_scores"])
                    tot += r["seconds"]
                    was.append(r["test_wa"])
                    uas.append(r["test_ua"])
                    print(f"| {solver} | {patience} | {fold} | {r['seconds']:.1f} | "
                          f"{' '.join(f'{c:g}' for c in r['c_tried'])} | {r['chosen_c']:g} | "
                          f"{100 * dev_ua:.1f} | {100 * r['test_wa']:.2f} | {100 * r['test_ua']:.2f} |",
                          flush=True)
                print(f"| **{solver}** | {patience} | **all {len(folds)}** | **{tot:.1f}** | | | | "
                      f"**{100 * sum(was) / len(was):.2f}** | **{100 * sum(uas) / len(uas):.2f}** |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
