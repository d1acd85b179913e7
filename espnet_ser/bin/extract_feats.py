"""Pipeline stage 2: extract features of a Kaldi data directory into ark/scp.

One job (the recipe runs ``nj`` of them through ``$cmd``)::

    $cmd JOB=1:nj dump/mfcc/all/log/extract.JOB.log \\
      python -m espnet_ser.bin.extract_feats --feats-conf conf/feats/mfcc.yaml \\
        --data-dir data/all/split4utt/JOB --out-dir dump/mfcc/all --job JOB

then the merge::

    python -m espnet_ser.bin.extract_feats --merge --nj 4 \\
      --feats-conf conf/feats/mfcc.yaml --data-dir data/all --out-dir dump/mfcc/all

Job ``J`` reads ``--split-dir`` if given, else ``--data-dir`` (usually a split
made by ``utils/split_data.sh --per-utt``; or, with ``--nj N`` and an unsplit
dir, its J-th contiguous chunk of utterances) and writes to ``--out-dir``:

* ``feats.J.ark`` / ``feats.J.scp``: one ``(T, D)`` float32 matrix per utterance;
* ``utt2num_frames.J``: ``utt T``;
* ``skipped.J``: ``utt reason`` for utterances that gave no features (unreadable
  or empty audio, too short for one frame, non-finite values, empty text);
* ``extract.J.json``: counts (skip reasons; ``converted``: written files that were
  downmixed to mono or resampled), feature dim, the resolved config, the seconds
  spent in the extraction loop and a hash of the options and inputs. A job whose outputs exist with the same hash is not
  redone (delete the json to force it).

and logs a progress bar and the accounting line
``extract_feats: job J: N in, W written, S skipped (reasons: ...)`` to stderr.

The merge concatenates the job files into ``feats.scp``, ``utt2num_frames`` and
``skipped`` (sorted), writes ``feats_conf.yaml``, and fails (exit 1, one line)
when an utterance of ``--data-dir`` is neither written nor skipped, when jobs
disagree on the feature dimension or config, or when more than
``--max-skip-frac`` of the utterances were skipped.

Audio extractors read ``wav.scp`` (and ``segments``); text extractors
(``sentence_embedding``, ``bpe_ids``) read ``text``.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.utils.data_dir import read_table, write_table

PROG = "extract_feats"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, non-zero exit
        print(f"{PROG}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def get_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m espnet_ser.bin.extract_feats",
        description="Extract features of a data directory (one job), or merge the jobs' outputs.",
    )
    p.add_argument("--feats-conf", required=True, help="feature YAML (name: + conf:)")
    p.add_argument("--data-dir", required=True, help="data dir (a split for a job; the whole set for --merge)")
    p.add_argument("--split-dir", default=None,
                   help="job input: this split of --data-dir (e.g. data/all/split4utt/2) instead of --data-dir")
    p.add_argument("--out-dir", required=True, help="output dir, e.g. dump/mfcc/all")
    p.add_argument("--job", type=int, default=1, help="job index J (1-based) of this run")
    p.add_argument(
        "--nj", type=int, default=None,
        help="number of jobs: with --merge, how many to merge; in a job with an unsplit "
        "--data-dir, process only chunk J of N",
    )
    p.add_argument("--merge", action="store_true", help="merge the outputs of jobs 1..nj")
    p.add_argument(
        "--max-skip-frac", type=float, default=0.05,
        help="merge fails when more than this fraction of utterances was skipped",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------


def utterance_list(data_dir: Path, input_kind: str) -> List[str]:
    """Sorted utterance ids of a data dir (``utt2spk`` keys, the canonical key set)."""
    for name in ("utt2spk", "segments", "wav.scp") if input_kind == "audio" else ("utt2spk", "text"):
        if (data_dir / name).is_file():
            return sorted(read_table(data_dir / name, allow_empty_value=(name == "text")))
    raise FileNotFoundError(
        f"{data_dir}: no utt2spk, segments or wav.scp/text: not a data directory "
        "(run stage 1 / local/data.sh)"
    )


def _inputs(data_dir: Path, utts: Sequence[str], input_kind: str) -> Dict[str, Tuple]:
    """``utt -> (kind, value, segment, missing)``; ``missing`` says which entry is absent, else None."""
    out: Dict[str, Tuple] = {}
    if input_kind == "text":
        if not (data_dir / "text").is_file():
            raise FileNotFoundError(
                f"{data_dir}/text: missing; a text extractor needs transcripts (use an audio "
                "extractor for a corpus without text)"
            )
        text = read_table(data_dir / "text", allow_empty_value=True)
        for utt in utts:
            out[utt] = ("text", text.get(utt), None, None if utt in text else "no text entry")
        return out
    if not (data_dir / "wav.scp").is_file():
        raise FileNotFoundError(f"{data_dir}/wav.scp: missing (run stage 1 / local/data.sh)")
    wav = read_table(data_dir / "wav.scp")
    if (data_dir / "segments").is_file():
        segs = read_table(data_dir / "segments")
        for utt in utts:
            if utt not in segs:
                out[utt] = ("audio", None, None, "no segments entry")
                continue
            fields = segs[utt].split()
            if len(fields) != 3:
                raise ValueError(
                    f"{data_dir}/segments: line of {utt} must be '<utt> <reco> <start> <end>', "
                    f"got {segs[utt]!r}"
                )
            reco, start, end = fields[0], float(fields[1]), float(fields[2])
            out[utt] = ("audio", wav.get(reco), (start, end),
                        None if reco in wav else f"no wav.scp entry for recording {reco}")
    else:
        for utt in utts:
            out[utt] = ("audio", wav.get(utt), None, None if utt in wav else "no wav.scp entry")
    return out


def _options_hash(name: str, conf: dict, inputs: Dict[str, Tuple]) -> str:
    import espnet_ser

    h = hashlib.sha256()
    h.update(json.dumps({"name": name, "conf": conf, "version": espnet_ser.__version__},
                        sort_keys=True, default=str).encode())
    for utt in sorted(inputs):
        h.update(json.dumps([utt, *inputs[utt]], default=str).encode())
    return h.hexdigest()[:16]


def _reason_summary(counts: Dict[str, int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# ---------------------------------------------------------------------------
# one job
# ---------------------------------------------------------------------------


def run_job(
    feats_conf: Path, data_dir: Path, out_dir: Path, job: int, nj: Optional[int] = None,
    progress: bool = True,
) -> dict:
    """Extract the features of one job; returns the job summary (also in ``extract.J.json``).

    Raises:
        ValueError: Bad config, or a feature dimension that differs from the
            extractor's ``output_dim`` / between utterances (names both dims).
        FileNotFoundError: Missing data-dir files or config.
    """
    from tqdm import tqdm

    from espnet_ser.features import ExtractionError, build_extractor, load_feats_conf
    from espnet_ser.features.ark_io import ArkWriter
    from espnet_ser.features.audio import AudioError, load_audio, resample

    name, conf = load_feats_conf(feats_conf)
    try:
        extractor = build_extractor(name, conf)
    except (TypeError, ValueError) as exc:  # unknown key or bad value: name the file
        raise ValueError(f"{feats_conf}: {exc}") from exc
    resolved = extractor.get_config()
    kind = extractor.input_kind
    utts = utterance_list(data_dir, kind)
    if nj is not None:
        if not 1 <= job <= nj:
            raise ValueError(f"--job {job} must be in 1..--nj {nj}")
        # Contiguous chunks of the sorted list, sizes differ by at most one.
        bounds = np.linspace(0, len(utts), nj + 1).round().astype(int)
        utts = utts[bounds[job - 1]: bounds[job]]
    inputs = _inputs(data_dir, utts, kind)
    digest = _options_hash(name, resolved, inputs)

    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f"extract.{job}.json"
    outputs = [out_dir / f"feats.{job}.scp", out_dir / f"feats.{job}.ark",
               out_dir / f"utt2num_frames.{job}", out_dir / f"skipped.{job}"]
    if marker.is_file() and all(p.is_file() for p in outputs):
        try:
            prev = json.loads(marker.read_text())
        except json.JSONDecodeError:
            prev = {}
        if prev.get("hash") == digest:
            print(f"{PROG}: job {job}: up to date (options hash {digest}), not redone", file=sys.stderr)
            return prev
    marker.unlink(missing_ok=True)

    print(f"{PROG}: job {job}: {name} {json.dumps(resolved, sort_keys=True)} "
          f"(D={extractor.output_dim}, sample_rate={extractor.sample_rate}); "
          f"{data_dir}: {len(utts)} utterances -> {out_dir}", file=sys.stderr)

    num_frames: Dict[str, int] = {}
    skipped: Dict[str, str] = {}
    reasons: Dict[str, int] = collections.Counter()
    # Written, but not as stored: downmixed to mono or resampled (counted, never silent).
    converted: Dict[str, int] = collections.Counter()
    dim: Optional[int] = None

    def skip(utt: str, kind_: str, msg: str) -> None:
        skipped[utt] = msg.replace("\n", " ")
        reasons[kind_] += 1

    import time

    if kind == "audio":
        # Warm-up: lazy imports (librosa, numba JIT) happen here, so the timed
        # loop measures extraction only. Its output is discarded.
        try:
            extractor(np.zeros(extractor.sample_rate or 16000, dtype=np.float32) + 1e-3,
                      extractor.sample_rate or 16000)
        except ExtractionError:
            pass
    t_start = time.perf_counter()
    with ArkWriter(out_dir / f"feats.{job}.ark", out_dir / f"feats.{job}.scp") as writer:
        bar = tqdm(utts, desc=f"{PROG} job {job}", file=sys.stderr, ascii=True,
                   mininterval=5.0 if not sys.stderr.isatty() else 0.5, disable=not progress)
        for utt in bar:
            what, value, segment, missing = inputs[utt]
            try:
                if missing is not None:
                    raise ExtractionError(missing, kind=missing.split(" for ")[0])
                if what == "text":
                    feats = extractor(value)
                else:
                    # The file's own rate first (min_source_rate), then the extractor's.
                    src: dict = {}
                    wav, sr = load_audio(value, segment=segment, utt_id=utt, info=src)
                    extractor.check_source_rate(sr)
                    conv = []
                    if src["channels"] > 1:
                        conv.append(f"downmixed from {src['channels']} channels")
                    if extractor.sample_rate is not None and sr != extractor.sample_rate:
                        conv.append(f"resampled {sr} -> {extractor.sample_rate} Hz")
                        wav, sr = resample(wav, sr, extractor.sample_rate), extractor.sample_rate
                    feats = extractor(wav, sr)
            except (AudioError, ExtractionError) as exc:
                skip(utt, exc.kind, str(exc))
                continue
            if feats.ndim != 2 or feats.shape[1] != extractor.output_dim:
                raise ValueError(
                    f"{name}: utterance {utt} gave shape {feats.shape}, expected "
                    f"(T, {extractor.output_dim}) (feature dim {feats.shape[-1]} != {extractor.output_dim})"
                )
            if dim is not None and feats.shape[1] != dim:
                raise ValueError(f"{name}: utterance {utt} has feature dim {feats.shape[1]}, earlier ones {dim}")
            dim = feats.shape[1]
            if not np.isfinite(feats).all():
                skip(utt, "non-finite output",
                     f"{name}: {int((~np.isfinite(feats)).sum())} non-finite values")
                continue
            writer[utt] = feats.astype(np.float32, copy=False)
            num_frames[utt] = int(feats.shape[0])
            if what != "text":
                converted.update(conv)
        bar.close()

    write_table(out_dir / f"utt2num_frames.{job}", num_frames)
    write_table(out_dir / f"skipped.{job}", skipped)
    summary = {
        "job": job, "hash": digest, "name": name, "conf": resolved,
        "output_dim": extractor.output_dim, "frame_shift": extractor.frame_shift,
        "sample_rate": extractor.sample_rate, "n_in": len(utts), "written": len(num_frames),
        "skipped": len(skipped), "reasons": dict(reasons), "converted": dict(converted),
        # Loading + extraction + writing, without start-up and model loading.
        "extract_seconds": round(time.perf_counter() - t_start, 3),
    }
    marker.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(f"{PROG}: job {job}: {len(utts)} in, {len(num_frames)} written, {len(skipped)} skipped "
          f"(reasons: {_reason_summary(reasons)}); converted: {_reason_summary(converted)}",
          file=sys.stderr)
    return summary


# ---------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------


def _examples(keys, n: int = 3) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def merge_jobs(
    feats_conf: Path, data_dir: Path, out_dir: Path, nj: int, max_skip_frac: float = 0.05,
) -> dict:
    """Merge jobs 1..nj into ``feats.scp``, ``utt2num_frames``, ``skipped``, ``feats_conf.yaml``.

    Raises:
        FileNotFoundError: A job's outputs are missing (it did not finish).
        ValueError: Dimension/config disagreement, an utterance neither written
            nor skipped, or too many skipped (the outputs are written first).
    """
    import yaml

    from espnet_ser.features import EXTRACTORS, load_feats_conf

    name, conf = load_feats_conf(feats_conf)
    if name not in EXTRACTORS:
        raise ValueError(f"{feats_conf}: unknown feature extractor '{name}' (choices: {sorted(EXTRACTORS)})")
    if nj < 1:
        raise ValueError(f"--nj {nj} must be >= 1")
    scp: Dict[str, str] = {}
    frames: Dict[str, str] = {}
    skipped: Dict[str, str] = {}
    reasons: Dict[str, int] = collections.Counter()
    converted: Dict[str, int] = collections.Counter()
    first = None
    for j in range(1, nj + 1):
        marker = out_dir / f"extract.{j}.json"
        if not marker.is_file():
            raise FileNotFoundError(
                f"{marker}: missing: job {j} of {nj} did not finish (see {out_dir}/log/extract.{j}.log)"
            )
        info = json.loads(marker.read_text())
        if info["name"] != name or any(
            json.dumps(info["conf"].get(k), default=str) != json.dumps(list(v) if isinstance(v, tuple) else v,
                                                                        default=str)
            for k, v in conf.items() if v is not None  # null = the extractor's default, resolved in the job
        ):
            raise ValueError(
                f"{marker}: job {j} used {info['name']} {info['conf']}, which differs from "
                f"{feats_conf} ({name} {conf}); re-run the jobs"
            )
        if first is None:
            first = info
        elif info["output_dim"] != first["output_dim"]:
            raise ValueError(
                f"feature dim mismatch: job {first['job']} has {first['output_dim']}, "
                f"job {j} has {info['output_dim']}"
            )
        for table, src in ((scp, f"feats.{j}.scp"), (frames, f"utt2num_frames.{j}"),
                           (skipped, f"skipped.{j}")):
            part = read_table(out_dir / src) if (out_dir / src).stat().st_size else {}
            dup = set(part) & set(table)
            if dup:
                raise ValueError(f"{out_dir}/{src}: utterances also in another job: {_examples(dup)}")
            table.update(part)
        for k, v in info["reasons"].items():
            reasons[k] += v
        for k, v in info.get("converted", {}).items():
            converted[k] += v

    utts = set(utterance_list(data_dir, EXTRACTORS[name].input_kind))
    if set(scp) != set(frames):
        raise ValueError(f"{out_dir}: feats.*.scp and utt2num_frames.* disagree: "
                         f"{_examples(set(scp) ^ set(frames))}")
    missing = utts - set(scp) - set(skipped)
    if missing:
        raise ValueError(
            f"{data_dir}: {len(missing)} utterance(s) neither written nor skipped by jobs 1..{nj}: "
            f"{_examples(missing)} (was --nj {nj} the number of jobs run?)"
        )
    extra = (set(scp) | set(skipped)) - utts
    if extra:
        raise ValueError(f"{out_dir}: {len(extra)} utterance(s) not in {data_dir}: {_examples(extra)} "
                         "(stale job outputs? delete them and re-run)")

    write_table(out_dir / "feats.scp", scp)
    write_table(out_dir / "utt2num_frames", frames)
    write_table(out_dir / "skipped", skipped)
    with open(out_dir / "feats_conf.yaml", "w", encoding="utf-8") as f:
        f.write(f"# written by {PROG} --merge: output_dim {first['output_dim']}, "
                f"frame_shift {first['frame_shift']}, sample_rate {first['sample_rate']}\n")
        yaml.safe_dump({"name": name, "conf": first["conf"]}, f, sort_keys=False)
    summary = {"n_in": len(utts), "written": len(scp), "skipped": len(skipped), "reasons": dict(reasons),
               "converted": dict(converted), "output_dim": first["output_dim"]}
    print(f"{PROG}: merge: {len(utts)} in, {len(scp)} written, {len(skipped)} skipped "
          f"(reasons: {_reason_summary(reasons)}); converted: {_reason_summary(converted)} "
          f"-> {out_dir}/feats.scp", file=sys.stderr)
    if utts and len(skipped) > max_skip_frac * len(utts):
        raise ValueError(
            f"{len(skipped)} of {len(utts)} utterances skipped (> --max-skip-frac {max_skip_frac}); "
            f"see {out_dir}/skipped"
        )
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        if args.merge:
            if args.nj is None:
                raise ValueError("--merge needs --nj (the number of jobs that ran)")
            merge_jobs(Path(args.feats_conf), Path(args.data_dir), Path(args.out_dir), args.nj,
                       args.max_skip_frac)
        else:
            run_job(Path(args.feats_conf), Path(args.split_dir or args.data_dir), Path(args.out_dir), args.job,
                    args.nj,
                    progress=not args.no_progress)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
