"""SER inference: posteriors, labels and embeddings (pipeline stage 5), and a Python API.

Feature sets (scp mode)::

    python -m espnet_ser.bin.ser_inference --model_file exp/x/valid.ua.best.pth \\
        --train_config exp/x/config.yaml \\
        --data_path_and_name_and_type dump/fbank/test/feats.scp,speech,kaldi_ark \\
        --output_dir exp/x/decode_test

writes ``posteriors`` (``utt p_0 ... p_{C-1}`` in emotions.txt order),
``labels.txt`` (``utt label``) and ``embeddings.{ark,scp}`` (the vector where
the speaker adversary attaches, (1, D) per utterance, for the speaker probe),
``skipped`` (``utt reason``: unreadable features or a wrong shape) and
``emotions.txt``. Segment models average segment posteriors (``--vote true``:
fraction of segment votes instead). As ESPnet's inference does, the model is
built with ``SERTask.build_model_from_file`` (the weights read with
``weights_only=True``, see :func:`load_model`) and the features are read with
``SERTask.build_streaming_iterator``; ``--key_file`` decodes only the ids it
lists, so a set can be split into jobs (``python -m espnet_ser.bin.split_scp``)
whose outputs ``python -m espnet_ser.bin.merge_decode`` joins (stage 5 with
``ser.sh --inference_nj N``).

Single files: ``python -m espnet_ser.bin.recognize --model packed_model.zip a.wav``
(:mod:`espnet_ser.bin.recognize`). Python::

    >>> from espnet_ser.bin.ser_inference import SpeechEmotionRecognizer
    >>> r = SpeechEmotionRecognizer.from_packed("exp/x/packed_model.zip")  # or from_model_dir("exp/x")
    >>> out = r("a.wav")   # or r(wav_array, sample_rate=16000)
    >>> out["label"], out["posteriors"], out["embedding"].shape

Checkpoint: one rule for stage 5, stage 8 and this API,
:data:`~espnet_ser.bin.pack_model.DEFAULT_INFERENCE_MODEL` (the best dev UA)
unless ``ser.sh --inference_model`` chose another; a packed zip records its
checkpoint in ``model.json``.

Normalisation: ``global`` and ``utterance`` models normalise inside the model
(ESPnet's GlobalMVN with the training statistics as checkpoint buffers, or
UtteranceMVN), so a waveform needs only the feature extractor
(``feats_conf.yaml``). A ``speaker`` model was trained on features standardised
per speaker (:mod:`espnet_ser.features.norm`); here the speaker's statistics come
from the files given together (:meth:`SpeechEmotionRecognizer.recognize_speaker`),
and a single file falls back to its OWN statistics (the one file is the only
sample of its speaker that there is; the pooled training statistics would leave
the speaker's offset in, which the model never saw). Few files give noisy
statistics: give several files of the speaker when you have them.
"""

import argparse
import json
import logging
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import torch
import yaml

from espnet_ser.bin.pack_model import DEFAULT_INFERENCE_MODEL, MODEL_JSON, NORM_MODES, run_norm

__all__ = ["DEFAULT_INFERENCE_MODEL", "SpeechEmotionRecognizer", "infer_scp", "load_model"]

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
    """Build the model with ESPnet's ``SERTask.build_model_from_file`` and load a checkpoint strictly.

    ESPnet's loader unpickles the checkpoint with ``weights_only=False``
    (a pickle can run code, and a packed model is something people download) and
    loads it with ``strict=False`` (a checkpoint of another model would load
    silently). So ESPnet builds the model from ``config.yaml`` only
    (``model_file=None``: its build path, device placement and adapters), and
    the weights are read here first, with ``weights_only=True``, and loaded
    strictly. A ``normalize: global_mvn`` model is built from a copy of the
    config whose statistics file is a placeholder: the statistics are the
    checkpoint's buffers and the training stats file need not exist here.

    Returns:
        (model in eval mode, args namespace of ``config.yaml``).
    """
    import tempfile

    from espnet_ser.tasks.ser import SERTask

    train_config, model_file = Path(train_config), Path(model_file)
    for f, what in ((train_config, "--train_config"), (model_file, "--model_file")):
        if not f.is_file():
            raise FileNotFoundError(f"ser_inference: {what} {f} not found")
    state = torch.load(model_file, map_location=device, weights_only=True)
    with open(train_config, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    if config.get("normalize") == "global_mvn":
        with tempfile.TemporaryDirectory() as tmp:
            model, args = SERTask.build_model_from_file(
                _placeholder_stats_config(config, train_config, Path(tmp)), None, device)
        args.normalize_conf = config.get("normalize_conf")  # as trained (the stats file's own path)
    else:
        model, args = SERTask.build_model_from_file(train_config, None, device)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"ser_inference: {model_file} does not match {train_config} "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    model.to(device).eval()
    return model, args


def model_dir_norm(model_dir, config: dict) -> str:
    """The normalisation mode of a model dir, checked against its config.yaml.

    From ``model.json`` (a packed zip), else ``norm.json`` (stage 4), else, for a
    run from before stage 4 wrote it, its ``norm_stats.npz``, else the config.

    Raises:
        ValueError: A global-norm run whose model does not normalise (trained on
            features normalised outside the model): re-run its stages 3-4.
    """
    model_dir = Path(model_dir)
    record, old_stats = model_dir / MODEL_JSON, model_dir / "norm_stats.npz"
    norm = json.loads(record.read_text(encoding="utf-8"))["norm"] if record.is_file() else "auto"
    if norm == "auto" and not (model_dir / "norm.json").is_file() and old_stats.is_file():
        with np.load(old_stats) as stats:
            norm = "speaker" if "speaker_mean" in stats.files else "global"
    return run_norm(model_dir, config, norm)


def _placeholder_stats_config(config: dict, train_config: Path, tmp: Path) -> Path:
    """A copy of a ``global_mvn`` config in ``tmp`` whose stats file is a placeholder (D from input_size)."""
    dim = config.get("input_size")
    if not dim:
        raise ValueError(f"ser_inference: {train_config}: global_mvn model without input_size")
    placeholder = tmp / "stats.npz"
    np.savez(placeholder, count=np.array(1), sum=np.zeros(int(dim)), sum_square=np.ones(int(dim)))
    config = dict(config, normalize_conf=dict(config.get("normalize_conf") or {}, stats_file=str(placeholder)))
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _as_matrix(uid: str, data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Preprocess of the streaming iterator: a stored (D,) vector is one (1, D) row."""
    speech = data["speech"]
    return dict(data, speech=speech[None, :] if speech.ndim == 1 else speech)


def check_keys(table: Dict[str, str], keys: List[str], dim: Optional[int]):
    """Read each utterance's features once; split the keys into decodable ones and skips.

    ESPnet's streaming iterator stops at the first entry it cannot read, so
    the entries are checked here first and a bad one becomes an accounted skip.

    Args:
        table: ``feats.scp`` as ``{utt: ark spec}``.
        keys: Utterances to check, in ``feats.scp`` order.
        dim: Feature dimension the model expects (``None``: the first readable one's).

    Returns:
        ``(good keys, ["utt reason", ...])``.
    """
    from espnet_ser.features.ark_io import read_matrix

    good, skipped = [], []
    for k in keys:
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
        dim = m.shape[1] if dim is None else dim
        good.append(k)
    return good, skipped


def _selected_keys(table: Dict[str, str], feats_scp, key_file) -> List[str]:
    """The keys of ``feats_scp`` to decode, in its order (all, or those of ``key_file``)."""
    from espnet_ser.utils.data_dir import read_table

    if key_file is None:
        return list(table)
    wanted = read_table(key_file, allow_empty_value=True)  # ids, or scp lines (first column)
    unknown = [k for k in wanted if k not in table]
    if unknown:
        raise ValueError(f"--key_file {key_file}: {len(unknown)} id(s) not in {feats_scp} "
                         f"(first: {unknown[0]}); list ids of that feats.scp")
    return [k for k in table if k in wanted]


def infer_scp(
    model,
    feats_scp,
    output_dir,
    batch_size: int = 16,
    vote: bool = False,
    embedding_point: Optional[str] = None,
    device: str = "cpu",
    utt_map: Optional[str] = None,
    key_file=None,
    num_workers: int = 0,
) -> Dict[str, int]:
    """Decode the utterances of ``feats_scp`` (all, or those of ``key_file``) into ``output_dir``.

    The features are read with ESPnet's streaming iterator
    (``SERTask.build_streaming_iterator``, as ``espnet2/bin/asr_inference.py``
    does), restricted to ``key_file``'s ids; entries that cannot be read or
    have the wrong shape are listed in ``skipped`` with the reason before the
    iterator starts (:func:`check_keys`).

    With ``utt_map`` (``example utt_1 ... utt_U``, the ``dialogues`` file of
    ``bin/make_dialogues``) an example is a dialogue: the model returns one
    posterior row per utterance and every output is written per utterance id
    (plus ``alpha``, the modality weights, when the model has them).

    Args:
        key_file: Ids to decode (one per line, or scp lines: the first column),
            each one of ``feats_scp``; ``None``: all of it.
        num_workers: Data-loader workers (0: read in this process; features
            are precomputed matrices, so a worker process only adds a process
            per decoding job).

    Returns:
        ``{"n": utterances decoded, "skipped": utterances skipped}``; skipped
        utterances (unreadable or wrong dimension) are listed with the reason
        in ``<output_dir>/skipped``. Every table is sorted bytewise.

    Raises:
        ValueError: A ``key_file`` id that is not in ``feats_scp``, or an
            ``utt_map`` that does not match the features.
    """
    import tempfile

    from espnet_ser.features.ark_io import ArkWriter
    from espnet_ser.tasks.ser import SERTask
    from espnet_ser.utils.data_dir import read_table

    table = read_table(feats_scp)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    point = embedding_point or _pick_embedding_point(model)
    labels = model.emotion_labels
    units = read_table(utt_map) if utt_map else None
    keys, skipped = check_keys(table, _selected_keys(table, feats_scp, key_file), getattr(model, "input_size", None))
    rows = []  # (utt, posteriors, embedding, alpha or None)
    if keys:
        with tempfile.TemporaryDirectory(prefix="ser_inference.") as tmp:
            good = Path(tmp) / "keys"
            good.write_text("".join(k + "\n" for k in keys), encoding="utf-8")
            loader = SERTask.build_streaming_iterator(
                [(str(feats_scp), "speech", "kaldi_ark")],
                preprocess_fn=_as_matrix,
                collate_fn=SERTask.build_collate_fn(argparse.Namespace(), False),
                key_file=str(good),
                batch_size=batch_size,
                dtype="float32",
                num_workers=num_workers,
                ngpu=int(str(device).startswith("cuda")),
                inference=True,
            )
            with torch.no_grad():
                for ok, batch in loader:
                    lens = batch["speech_lengths"]
                    out = model.infer(batch["speech"].to(device), lens.to(device), vote=vote, point=point)
                    rows += _rows(ok, lens, out, units, utt_map)
    rows.sort(key=lambda r: r[0].encode("utf-8"))
    alpha_lines = []
    with ArkWriter(output_dir / "embeddings.ark", output_dir / "embeddings.scp") as writer:
        for k, p, e, a in rows:
            writer[k] = e[None, :].astype(np.float32)
            if a is not None:
                alpha_lines.append(k + " " + " ".join(f"{v:.6f}" for v in a))
    post_lines = [k + " " + " ".join(f"{v:.6f}" for v in p) for k, p, _, _ in rows]
    label_lines = [f"{k} {labels[int(p.argmax())]}" for k, p, _, _ in rows]
    (output_dir / "posteriors").write_text("".join(x + "\n" for x in post_lines), encoding="utf-8")
    (output_dir / "labels.txt").write_text("".join(x + "\n" for x in label_lines), encoding="utf-8")
    (output_dir / "skipped").write_text("".join(x + "\n" for x in skipped), encoding="utf-8")
    (output_dir / "emotions.txt").write_text("".join(x + "\n" for x in labels), encoding="utf-8")
    if alpha_lines:
        (output_dir / "alpha").write_text("".join(x + "\n" for x in alpha_lines), encoding="utf-8")
    reasons: Dict[str, int] = {}
    for line in skipped:
        reason = line.split(" ", 1)[1].split(":", 1)[0].split(" (", 1)[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    logger.info(f"decoded {len(post_lines)} utterances into {output_dir}, skipped {len(skipped)}"
                + "".join(f"; {r}: {n}" for r, n in sorted(reasons.items())))
    return {"n": len(post_lines), "skipped": len(skipped)}


def _rows(keys: List[str], lens: torch.Tensor, out: Dict[str, torch.Tensor], units, utt_map) -> List:
    """One output row per utterance (a dialogue example: one per turn, in its matrix order)."""
    post = out["posteriors"].cpu().numpy()
    emb = out["embeddings"].cpu().numpy()
    if units is None:
        return [(k, p, e, None) for k, p, e in zip(keys, post, emb)]
    alpha = out["alpha"].cpu().numpy() if "alpha" in out else None
    rows = []
    for i, k in enumerate(keys):
        utts = units.get(k, "").split()
        if len(utts) != int(lens[i]):
            raise ValueError(f"{utt_map}: {k} lists {len(utts)} utterances, its features have "
                             f"{int(lens[i])} rows (re-run stage 3)")
        rows += [(u, post[i, j], emb[i, j], None if alpha is None else alpha[i, j]) for j, u in enumerate(utts)]
    return rows


class SpeechEmotionRecognizer:
    """Recognise the emotion of waveforms with a trained model.

    Args:
        train_config: ``config.yaml`` of the experiment.
        model_file: Checkpoint (state dict).
        feats_conf: Feature YAML (``name:`` + ``conf:``); needed for waveforms.
        norm: The run's normalisation (``global``, ``utterance``, ``speaker``,
            ``none``). Only ``speaker`` acts here: each group of files given
            together (:meth:`recognize_speaker`) is standardised with its own
            statistics, a single file with its own (the fallback, see the
            module docstring); the other modes normalise inside the model.
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
        norm: str = "none",
        device: str = "cpu",
        vote: bool = False,
        embedding_point: Optional[str] = None,
    ):
        if norm not in NORM_MODES:
            raise ValueError(f"SpeechEmotionRecognizer: norm={norm!r}; one of {NORM_MODES}")
        self.model, self.args = load_model(train_config, model_file, device)
        self.model_file = Path(model_file).name
        self.norm = norm
        self.device = device
        self.vote = vote
        self.point = embedding_point or _pick_embedding_point(self.model)
        self.labels = list(self.model.emotion_labels)
        self.extractor = None
        if feats_conf is not None:
            from espnet_ser.features import build_extractor, load_feats_conf

            self.extractor = build_extractor(*load_feats_conf(feats_conf))

    @classmethod
    def from_model_dir(
        cls, model_dir, model_file: Optional[str] = None, device: str = "cpu", **kwargs
    ) -> "SpeechEmotionRecognizer":
        """Load an experiment directory or a packed zip (stage 8's ``packed_model.zip``).

        Args:
            model_dir: ``exp/<tag>/seed<S>/<fold>`` (config.yaml, the checkpoint,
                feats_conf.yaml, norm.json) or a ``.zip`` (see :meth:`from_packed`).
            model_file: Checkpoint name in the directory; default
                :data:`DEFAULT_INFERENCE_MODEL`, the one stage 5 decodes (a zip
                records its own).
            device: Torch device.
            **kwargs: ``vote``, ``embedding_point``.

        Raises:
            FileNotFoundError: Missing config.yaml or checkpoint.
            ValueError: A global-norm run from before the statistics moved into
                the model (its config.yaml does not normalise).
        """
        model_dir = Path(model_dir)
        if model_dir.is_file() or model_dir.suffix == ".zip":
            return cls.from_packed(model_dir, device=device, **kwargs)
        if not model_dir.is_dir():
            raise FileNotFoundError(f"from_model_dir: {model_dir}: no such directory or packed .zip")
        if not (model_dir / "config.yaml").is_file():
            raise FileNotFoundError(f"from_model_dir: {model_dir}/config.yaml not found (is it an exp dir?)")
        path = model_dir / (model_file or DEFAULT_INFERENCE_MODEL)
        if not path.exists():
            raise FileNotFoundError(
                f"from_model_dir: {path} not found (the checkpoint stage 5 decodes; "
                "pass model_file=<name>.pth for another)"
            )
        with open(model_dir / "config.yaml", encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
        norm = model_dir_norm(model_dir, config)
        feats_conf = model_dir / "feats_conf.yaml"
        return cls(
            model_dir / "config.yaml",
            path,
            feats_conf=feats_conf if feats_conf.is_file() else None,
            norm=norm,
            device=device,
            **kwargs,
        )

    @classmethod
    def from_packed(cls, zip_path, device: str = "cpu", **kwargs) -> "SpeechEmotionRecognizer":
        """Load stage 8's zip directly (no manual unzip).

        The files are checked against ``MANIFEST.sha256``, extracted into a
        temporary directory, loaded, and the directory is removed again.
        ``model.json`` names the checkpoint (the one whose scores ship in
        ``results.json``) and the normalisation mode; no statistics file is
        needed (global statistics are buffers of the checkpoint).

        Raises:
            FileNotFoundError: No such zip, or a member it needs is missing.
            ValueError: Not a zip, or a member does not match its checksum.
        """
        import hashlib
        import tempfile

        zip_path = Path(zip_path)
        if not zip_path.is_file():
            raise FileNotFoundError(f"from_packed: {zip_path}: no such file (stage 8 writes packed_model.zip)")
        if not zipfile.is_zipfile(zip_path):
            raise ValueError(f"from_packed: {zip_path}: not a zip file (stage 8 writes packed_model.zip)")
        with zipfile.ZipFile(zip_path) as zf, tempfile.TemporaryDirectory(prefix="espnet_ser_model.") as tmp:
            names = set(zf.namelist())
            for need in ("config.yaml", MODEL_JSON):
                if need not in names:
                    raise FileNotFoundError(f"from_packed: {zip_path} has no {need} (pack it with stage 8)")
            if "MANIFEST.sha256" in names:
                for line in zf.read("MANIFEST.sha256").decode("utf-8").splitlines():
                    digest, name = line.split("  ", 1)
                    if name not in names or hashlib.sha256(zf.read(name)).hexdigest() != digest:
                        raise ValueError(f"from_packed: {zip_path}: {name} is missing or does not match "
                                         "MANIFEST.sha256 (corrupt download?)")
            record = json.loads(zf.read(MODEL_JSON).decode("utf-8"))
            zf.extractall(tmp)
            return cls.from_model_dir(tmp, model_file=record["checkpoint"], device=device, **kwargs)

    def features(self, wav: Union[str, Path, np.ndarray], sample_rate: Optional[int] = None) -> np.ndarray:
        """Extract the features of a file path or a waveform -> (T, D), as stage 2 does."""
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
        return np.asarray(self.extractor(audio, sr), dtype=np.float32)

    def speaker_normalize(self, feats: List[np.ndarray]) -> List[np.ndarray]:
        """Standardise the features of ONE speaker's files with their pooled statistics.

        What stage 3 does for ``--norm speaker`` (:mod:`espnet_ser.features.norm`),
        with the given files as the speaker's data; one file uses its own
        statistics. Other models get their features back unchanged.

        Raises:
            ValueError: Utterance-level ``(1, D)`` features of a single file
                (its own statistics would make every value 0).
        """
        if self.norm != "speaker":
            return feats
        from espnet_ser.features.norm import speaker_stats, standardize

        if sum(f.shape[0] for f in feats) < 2:
            raise ValueError(
                "SpeechEmotionRecognizer: a per-speaker-normalised model with utterance-level (1, D) "
                "features needs at least 2 files of the speaker (one file's own statistics make it 0)"
            )
        table = {str(i): f for i, f in enumerate(feats)}
        mean, std, _ = speaker_stats(table, {k: "spk" for k in table}, sorted(table))["spk"]
        return [standardize(f, mean, std) for f in feats]

    @torch.no_grad()
    def recognize_feats(self, feats: np.ndarray) -> Dict:
        """Recognise features (T, D) as the model's input (speaker models: already normalised)."""
        feats = np.array(feats, dtype=np.float32)  # a copy: the caller's array stays as it was
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

    def recognize_speaker(self, wavs: List[Union[str, Path]]) -> List[Dict]:
        """Recognise several files of ONE speaker (per-speaker models pool their statistics).

        Returns:
            One result per file, as :meth:`__call__`.
        """
        feats = self.speaker_normalize([self.features(w) for w in wavs])
        return [self.recognize_feats(f) for f in feats]

    def __call__(self, wav: Union[str, Path, np.ndarray], sample_rate: Optional[int] = None) -> Dict:
        """Recognise one file or waveform (per-speaker models: its own statistics).

        Returns:
            ``{"posteriors": {label: p}, "label": str, "embedding": (D,) array}``.
        """
        return self.recognize_feats(self.speaker_normalize([self.features(wav, sample_rate)])[0])


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_file", help=f"checkpoint (ser.sh: <exp>/${{inference_model}}, default "
                                              f"{DEFAULT_INFERENCE_MODEL})")
    parser.add_argument("--train_config", help="config.yaml of the experiment")
    parser.add_argument("--data_path_and_name_and_type", action="append", default=[],
                        help="feats.scp,speech,kaldi_ark (features as stage 3 lists them)")
    parser.add_argument("--output_dir", help="decode dir")
    parser.add_argument("--key_file", default=None,
                        help="decode only these ids of the feats.scp (one per line, or scp lines: the first "
                        "column; ser.sh stage 5 splits feats.scp into --inference_nj such lists)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_workers", type=int, default=0,
                        help="data-loader workers of the streaming iterator (0: this process)")
    parser.add_argument("--ngpu", type=int, default=0)
    parser.add_argument("--vote", type=lambda x: x.lower() in ("1", "true", "yes"), default=False,
                        help="segment models: majority vote instead of mean posterior")
    parser.add_argument("--embedding_point", choices=["pooled", "embedding"], default=None,
                        help="where to take embeddings (default: where the speaker head attaches)")
    parser.add_argument("--utt_map", default=None,
                        help="dialogue models: 'example utt_1 ... utt_U' (make_dialogues' dialogues file); "
                        "outputs are written per utterance")
    parser.add_argument("--log_level", default="INFO")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s (ser_inference) %(levelname)s: %(message)s")
    device = "cuda" if args.ngpu > 0 else "cpu"
    try:
        for opt in ("model_file", "train_config", "output_dir"):
            if getattr(args, opt) is None:
                raise ValueError(f"--{opt} is required (wav files: python -m espnet_ser.bin.recognize)")
        speech = [d for d in args.data_path_and_name_and_type if d.split(",")[1:2] == ["speech"]]
        if len(speech) != 1:
            raise ValueError("give exactly one --data_path_and_name_and_type <feats.scp>,speech,kaldi_ark")
        model, train_args = load_model(args.train_config, args.model_file, device)
        # Features and model must agree on normalisation (an old global run's model expects
        # normalised copies, which stage 3 no longer writes): one clear error instead.
        model_dir_norm(Path(args.model_file).parent, vars(train_args))
        infer_scp(model, speech[0].split(",")[0], args.output_dir, args.batch_size, args.vote,
                  args.embedding_point, device, args.utt_map, key_file=args.key_file,
                  num_workers=args.num_workers)
    except (FileNotFoundError, ValueError) as e:  # DataDirError is a ValueError
        print(f"ser_inference: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
