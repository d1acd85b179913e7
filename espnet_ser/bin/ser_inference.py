"""SER inference: posteriors, labels and embeddings (pipeline stage 5), and a Python API.

Feature sets (scp mode)::

    python -m espnet_ser.bin.ser_inference --model_file exp/x/valid.acc.best.pth \\
        --train_config exp/x/config.yaml \\
        --data_path_and_name_and_type dump/fbank/test/feats.scp,speech,kaldi_ark \\
        --output_dir exp/x/decode_test

writes ``posteriors`` (``utt p_0 ... p_{C-1}`` in emotions.txt order),
``labels.txt`` (``utt label``) and ``embeddings.{ark,scp}`` (the vector where
the speaker adversary attaches, (1, D) per utterance, for the speaker probe).
Segment models average segment posteriors (``--vote true``: fraction of
segment votes instead).

Single files::

    python -m espnet_ser.bin.ser_inference --model_dir exp/x --wav a.wav b.wav

Python::

    >>> from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer
    >>> r = SpeechEmotionRecognizer.from_model_dir("exp/x")
    >>> out = r("a.wav")   # or r(wav_array, sample_rate=16000)
    >>> out["label"], out["posteriors"], out["embedding"].shape

``from_model_dir`` reads ``config.yaml``, the best checkpoint (first found of
``MODEL_FILE_CANDIDATES``), ``feats_conf.yaml`` (the extractor config saved by
the pipeline) and ``norm_stats.npz`` (global ``mean``/``std``; with
per-speaker statistics a new file is normalised with its own statistics).
"""

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import torch
import yaml

MODEL_FILE_CANDIDATES = (
    "valid.acc.best.pth",
    "valid.ua.best.pth",
    "valid.acc.ave.pth",
    "valid.ua.ave.pth",
    "latest.pth",
)

logger = logging.getLogger("ser_inference")


def _pick_embedding_point(model) -> str:
    """Attach point of the speaker head, else of the first reversed head, else embedding."""
    heads = list(model.domain_heads)
    for h in heads:
        if h.data_name == "speaker":
            return h.attach
    for h in heads:
        if h.reverse:
            return h.attach
    return "embedding"


def load_model(train_config, model_file, device: str = "cpu"):
    """Build the model from config.yaml and load a checkpoint strictly.

    Returns:
        (model in eval mode, args namespace).
    """
    from espnet_ser.tasks.ser import SERTask

    train_config, model_file = Path(train_config), Path(model_file)
    for f, what in ((train_config, "--train_config"), (model_file, "--model_file")):
        if not f.is_file():
            raise FileNotFoundError(f"ser_inference: {what} {f} not found")
    with open(train_config, encoding="utf-8") as f:
        args = argparse.Namespace(**yaml.safe_load(f))
    model = SERTask.build_model(args)
    state = torch.load(model_file, map_location=device, weights_only=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"ser_inference: {model_file} does not match {train_config} "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    model.to(device).eval()
    return model, args


def _batches(items: List, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _pad(mats: List[np.ndarray]):
    lens = [m.shape[0] for m in mats]
    out = np.zeros((len(mats), max(lens), mats[0].shape[1]), dtype=np.float32)
    for i, m in enumerate(mats):
        out[i, : m.shape[0]] = m
    return torch.from_numpy(out), torch.tensor(lens, dtype=torch.long)


def infer_scp(
    model,
    feats_scp,
    output_dir,
    batch_size: int = 16,
    vote: bool = False,
    embedding_point: Optional[str] = None,
    device: str = "cpu",
) -> Dict[str, int]:
    """Decode every utterance of ``feats_scp`` into ``output_dir``.

    Returns:
        ``{"n": utterances decoded, "skipped": utterances skipped}``; skipped
        utterances (unreadable or wrong dimension) are listed with the reason
        in ``<output_dir>/skipped``.
    """
    from espnet_ser.features.ark_io import ArkWriter, read_matrix
    from espnet_ser.utils.data_dir import read_table

    table = read_table(feats_scp)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    point = embedding_point or _pick_embedding_point(model)
    labels = model.emotion_labels
    dim = getattr(model, "input_size", None)
    skipped: List[str] = []
    post_lines, label_lines = [], []
    keys = sorted(table, key=lambda k: k.encode("utf-8"))
    with ArkWriter(output_dir / "embeddings.ark", output_dir / "embeddings.scp") as writer:
        for chunk in _batches(keys, batch_size):
            mats, ok = [], []
            for k in chunk:
                try:
                    m = np.asarray(read_matrix(table[k]), dtype=np.float32)
                except (OSError, ValueError) as e:
                    skipped.append(f"{k} unreadable features: {e}")
                    continue
                if m.ndim == 1:
                    m = m[None, :]
                if m.ndim != 2 or m.shape[0] == 0 or (dim is not None and m.shape[1] != dim):
                    skipped.append(f"{k} bad feature shape {m.shape}")
                    continue
                mats.append(m)
                ok.append(k)
            if not ok:
                continue
            xs, lens = _pad(mats)
            out = model.infer(xs.to(device), lens.to(device), vote=vote, point=point)
            post = out["posteriors"].cpu().numpy()
            emb = out["embeddings"].cpu().numpy()
            for k, p, e in zip(ok, post, emb):
                post_lines.append(k + " " + " ".join(f"{v:.6f}" for v in p))
                label_lines.append(f"{k} {labels[int(p.argmax())]}")
                writer[k] = e[None, :].astype(np.float32)
    (output_dir / "posteriors").write_text("".join(x + "\n" for x in post_lines), encoding="utf-8")
    (output_dir / "labels.txt").write_text("".join(x + "\n" for x in label_lines), encoding="utf-8")
    (output_dir / "skipped").write_text("".join(x + "\n" for x in skipped), encoding="utf-8")
    (output_dir / "emotions.txt").write_text("".join(x + "\n" for x in labels), encoding="utf-8")
    logger.info(f"decoded {len(post_lines)} utterances into {output_dir}, skipped {len(skipped)}")
    return {"n": len(post_lines), "skipped": len(skipped)}


class SpeechEmotionRecognizer:
    """Recognise the emotion of a waveform with a trained experiment.

    Args:
        train_config: ``config.yaml`` of the experiment.
        model_file: Checkpoint (state dict).
        feats_conf: Feature YAML (``name:`` + ``conf:``); needed for waveforms.
        norm_stats: ``norm_stats.npz``; global ``mean``/``std`` are applied,
            per-speaker statistics mean "normalise each input with its own".
        device: Torch device.
        vote: Segment models: majority vote instead of mean posterior.
        embedding_point: Attach point of the returned embedding (default: the
            speaker head's).
    """

    def __init__(
        self,
        train_config,
        model_file,
        feats_conf=None,
        norm_stats=None,
        device: str = "cpu",
        vote: bool = False,
        embedding_point: Optional[str] = None,
    ):
        self.model, self.args = load_model(train_config, model_file, device)
        self.device = device
        self.vote = vote
        self.point = embedding_point or _pick_embedding_point(self.model)
        self.labels = list(self.model.emotion_labels)
        self.extractor = None
        if feats_conf is not None:
            from espnet_ser.features import build_extractor, load_feats_conf

            self.extractor = build_extractor(*load_feats_conf(feats_conf))
        self.mean = self.std = None
        self.per_input_norm = False
        if norm_stats is not None:
            from espnet_ser.features.norm import load_stats

            stats = load_stats(norm_stats)
            if "mean" in stats and "std" in stats:
                self.mean, self.std = stats["mean"], stats["std"]
            elif "speaker_mean" in stats:
                # The speaker of a new file is unknown: its own statistics are
                # the closest substitute for per-speaker normalisation.
                self.per_input_norm = True
                logger.warning(
                    f"{norm_stats} holds per-speaker statistics: each input is normalised "
                    "with its own statistics"
                )
            else:
                raise ValueError(f"{norm_stats}: expected 'mean'/'std' or 'speaker_mean' arrays, got {sorted(stats)}")

    @classmethod
    def from_model_dir(
        cls, model_dir, model_file: Optional[str] = None, device: str = "cpu", **kwargs
    ) -> "SpeechEmotionRecognizer":
        """Load an experiment directory (config.yaml, checkpoint, feats_conf.yaml, norm_stats.npz)."""
        model_dir = Path(model_dir)
        if not (model_dir / "config.yaml").is_file():
            raise FileNotFoundError(f"from_model_dir: {model_dir}/config.yaml not found (is it an exp dir?)")
        if model_file is None:
            for name in MODEL_FILE_CANDIDATES:
                if (model_dir / name).exists():
                    model_file = model_dir / name
                    break
            else:
                raise FileNotFoundError(
                    f"from_model_dir: none of {list(MODEL_FILE_CANDIDATES)} in {model_dir}"
                )
        feats_conf = model_dir / "feats_conf.yaml"
        norm = model_dir / "norm_stats.npz"
        return cls(
            model_dir / "config.yaml",
            model_file,
            feats_conf=feats_conf if feats_conf.is_file() else None,
            norm_stats=norm if norm.is_file() else None,
            device=device,
            **kwargs,
        )

    def features(self, wav: Union[str, Path, np.ndarray], sample_rate: Optional[int] = None) -> np.ndarray:
        """Extract and normalise features of a file path or a waveform -> (T, D)."""
        if self.extractor is None:
            raise ValueError(
                "SpeechEmotionRecognizer: no feature config; put feats_conf.yaml into the "
                "exp dir or pass feats_conf="
            )
        from espnet_ser.features.audio import load_audio, resample

        target_sr = self.extractor.sample_rate
        if isinstance(wav, (str, Path)):
            audio, sr = load_audio(str(wav), sample_rate=target_sr)
        else:
            if sample_rate is None:
                raise ValueError("SpeechEmotionRecognizer: sample_rate is required for a waveform array")
            audio = np.asarray(wav, dtype=np.float32)
            if audio.ndim != 1:
                raise ValueError(f"SpeechEmotionRecognizer: expected a mono waveform (N,), got {audio.shape}")
            sr = int(sample_rate)
            if target_sr is not None and sr != target_sr:
                audio, sr = resample(audio, sr, target_sr), target_sr
        feats = np.asarray(self.extractor(audio, sr), dtype=np.float32)
        if self.mean is not None:
            feats = ((feats - self.mean) / self.std).astype(np.float32)
        elif self.per_input_norm:
            from espnet_ser.features.norm import utterance_normalize

            feats = utterance_normalize(feats)
        return feats

    @torch.no_grad()
    def recognize_feats(self, feats: np.ndarray) -> Dict:
        """Recognise precomputed (normalised) features (T, D)."""
        feats = np.asarray(feats, dtype=np.float32)
        if feats.ndim != 2:
            raise ValueError(f"recognize_feats: expected (T, D), got {feats.shape}")
        xs = torch.from_numpy(feats)[None].to(self.device)
        lens = torch.tensor([feats.shape[0]], device=self.device)
        out = self.model.infer(xs, lens, vote=self.vote, point=self.point)
        post = out["posteriors"][0].cpu().numpy()
        return {
            "posteriors": {lab: float(p) for lab, p in zip(self.labels, post)},
            "label": self.labels[int(post.argmax())],
            "embedding": out["embeddings"][0].cpu().numpy(),
        }

    def __call__(self, wav: Union[str, Path, np.ndarray], sample_rate: Optional[int] = None) -> Dict:
        """Recognise one file or waveform.

        Returns:
            ``{"posteriors": {label: p}, "label": str, "embedding": (D,) array}``.
        """
        return self.recognize_feats(self.features(wav, sample_rate))


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_file", help="checkpoint (scp mode)")
    parser.add_argument("--train_config", help="config.yaml of the experiment (scp mode)")
    parser.add_argument("--data_path_and_name_and_type", action="append", default=[],
                        help="feats.scp,speech,kaldi_ark (scp mode)")
    parser.add_argument("--output_dir", help="decode dir (scp mode)")
    parser.add_argument("--model_dir", help="experiment dir (wav mode)")
    parser.add_argument("--wav", nargs="+", default=[], help="audio files (wav mode); prints JSON lines")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--ngpu", type=int, default=0)
    parser.add_argument("--vote", type=lambda x: x.lower() in ("1", "true", "yes"), default=False,
                        help="segment models: majority vote instead of mean posterior")
    parser.add_argument("--embedding_point", choices=["pooled", "embedding"], default=None,
                        help="where to take embeddings (default: where the speaker head attaches)")
    parser.add_argument("--log_level", default="INFO")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s (ser_inference) %(levelname)s: %(message)s")
    device = "cuda" if args.ngpu > 0 else "cpu"
    try:
        if args.model_dir:
            if not args.wav:
                raise ValueError("--model_dir needs --wav FILE [FILE ...]")
            rec = SpeechEmotionRecognizer.from_model_dir(args.model_dir, device=device, vote=args.vote,
                                                         embedding_point=args.embedding_point)
            for w in args.wav:
                out = rec(w)
                print(json.dumps({"wav": w, "label": out["label"], "posteriors": out["posteriors"]}))
            return
        for opt in ("model_file", "train_config", "output_dir"):
            if getattr(args, opt) is None:
                raise ValueError(f"--{opt} is required (or use --model_dir with --wav)")
        speech = [d for d in args.data_path_and_name_and_type if d.split(",")[1:2] == ["speech"]]
        if len(speech) != 1:
            raise ValueError("give exactly one --data_path_and_name_and_type <feats.scp>,speech,kaldi_ark")
        model, _ = load_model(args.train_config, args.model_file, device)
        infer_scp(model, speech[0].split(",")[0], args.output_dir, args.batch_size, args.vote,
                  args.embedding_point, device)
    except (FileNotFoundError, ValueError) as e:
        print(f"ser_inference: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
