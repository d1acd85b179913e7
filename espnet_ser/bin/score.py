"""Score utterance posteriors against a data directory (pipeline stage 6).

Usage:
    python -m espnet_ser.bin.score \\
        --posteriors exp/sier/seed0/fold1/decode_test/posteriors \\
        --labels exp/sier/seed0/fold1/emotions.txt \\
        --data-dir data/fold1/test \\
        --out-dir exp/sier/seed0/fold1/decode_test

Writes into ``--out-dir``:
    results.json    ``{"wa", "ua", "macro_f1", "n", "per_class", "per_speaker",
                    "labels", "confusion"}`` (espnet_ser.eval.metrics; fractions in [0, 1]),
                    and ``per_corpus`` when ``--data-dir/utt2corpus`` names 2+ corpora
                    (a multi-corpus test set: each corpus scored on its own)
    confusion.txt   aligned table, rows = reference, columns = hypothesis
    confusion.png   the same as an image
    per_utt         ``<utt> <spk> <ref> <hyp>`` per scored utterance (used by the
                    report for t-SNE colours and the speaker probe)

Every labelled utterance of ``--data-dir/<ref>`` must have a posterior (error
otherwise); posteriors of utterances without a label are ignored and counted.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

from espnet_ser.eval.metrics import format_confusion, per_group_metrics, read_posteriors, score_posteriors
from espnet_ser.eval.plots import plot_confusion
from espnet_ser.labels import read_label_list
from espnet_ser.utils.data_dir import read_table

logger = logging.getLogger("espnet_ser.bin.score")


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--posteriors", required=True, help="text file 'utt p_0 ... p_{C-1}' (stage 5)")
    p.add_argument("--labels", required=True, help="label inventory, one label per line (emotions.txt)")
    p.add_argument("--data-dir", required=True, help="Kaldi data dir of the scored set (utt2spk + --ref)")
    p.add_argument("--out-dir", required=True, help="where results.json and confusion.{txt,png} go")
    p.add_argument("--ref", default="utt2emo",
                   help="reference table inside --data-dir (e.g. utt2arousal for binary arousal)")
    p.add_argument("--tag", default="", help="name shown in the log and the confusion plot title")
    return p


def score_dir(posteriors: str, labels: str, data_dir: str, out_dir: str, *, ref: str = "utt2emo",
              tag: str = "") -> dict:
    """Score one decode directory and write its outputs.

    Args:
        posteriors: posterior file.
        labels: label inventory file.
        data_dir: data directory with ``utt2spk`` and ``ref``.
        out_dir: output directory (created).
        ref: reference table name inside ``data_dir``.
        tag: title for the plot and log.

    Returns:
        The results dict written to ``results.json``.
    """
    label_list = read_label_list(labels, "--labels")
    post = read_posteriors(posteriors, len(label_list))
    data = Path(data_dir)
    utt2ref = read_table(data / ref)
    utt2spk = read_table(data / "utt2spk")
    results, per_utt, counts = score_posteriors(post, label_list, utt2ref, utt2spk, ref_name=str(data / ref))
    if (data / "utt2corpus").is_file():
        utt2corpus = read_table(data / "utt2corpus")
        if len({utt2corpus.get(u) for u, *_ in per_utt}) > 1:
            results["per_corpus"] = per_group_metrics(per_utt, utt2corpus, label_list,
                                                      what=str(data / "utt2corpus"))
            logger.info("%s: UA per corpus %s", tag or posteriors, ", ".join(
                f"{c} {100 * m['ua']:.2f}% (n={m['n']})" for c, m in results["per_corpus"].items()))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / "results.json")
    (out / "confusion.txt").write_text(format_confusion(results["confusion"], label_list), encoding="utf-8")
    (out / "per_utt").write_text("".join(f"{u} {s} {r} {h}\n" for u, s, r, h in per_utt), encoding="utf-8")
    plot_confusion(results["confusion"], label_list, out / "confusion.png",
                   title=f"{tag} WA {100 * results['wa']:.1f}% UA {100 * results['ua']:.1f}%".strip())
    logger.info("%s: scored %d utterances, ignored %d posteriors of unlabelled utterances: "
                "WA (accuracy) %.2f%%, UA (unweighted average recall) %.2f%%, macro-F1 %.2f%% -> %s",
                tag or posteriors, counts["scored"], counts["ignored_unlabelled"], 100 * results["wa"],
                100 * results["ua"], 100 * results["macro_f1"], out / "results.json")
    return results


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    try:
        score_dir(args.posteriors, args.labels, args.data_dir, args.out_dir, ref=args.ref, tag=args.tag)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"score.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
