"""ESPnetSERModel: emotion classifier with any number of (adversarial) domain heads.

Data flow (shapes for a batch of B utterances cut into N >= B units)::

    speech (B, T, D) -> [mixup] -> [specaug] -> [normalize] -> adapter -> units (N, T, D)
      -> encoder (N, T', H) -> pooling (N, P)             = point "pooled"
      -> [embedding layer] (N, E)                          = point "embedding"
      -> emotion classifier (N, C)
      -> domain heads, each on its attach point, through a GRL if reverse

Loss: ``L = ce_weight * CE_emo + center_loss_weight * L_center
+ sum_k weight_k * CE_k``.  With a GRL the domain losses are ADDED (the GRL
flips their gradient below the attach point).  Labels are per utterance and
copied to every unit; ``-1`` marks an unknown label, masked out of that loss,
so unlabelled utterances (emotion -1) train only the domain heads while going
through the same forward pass as the labelled ones (batch-norm statistics are
shared).

Augmentation, in training-mode forwards only (validation and inference see the
features as they are):

* ``specaug`` (the task's ``specaug`` registry, ESPnet's ``SpecAug``: time warp,
  frequency and time masks) runs before ``normalize``, as in ESPnet's ASR model;
  it needs frame sequences and refuses utterance-level functionals (T = 1).
* ``mixup_alpha > 0`` (Zhang et al., *mixup*): every training batch is mixed with
  a permutation of itself, ``x = lam x_i + (1 - lam) x_perm(i)`` with
  ``lam ~ Beta(alpha, alpha)`` drawn once per batch; the mixed utterance is as
  long as the longer of the two (padding is zeros).  Losses are mixed the same
  way: ``lam CE(y_i) + (1 - lam) CE(y_perm(i))``, for the emotion AND for every
  domain head (a mixed utterance carries both speakers; the adversary learns and
  reverses the same mixture the emotion classifier sees).  The adversary-only
  updates (``adversary_update``) see the unmixed batch.  Accuracies and the
  epoch confusion count the dominant label (``y_i`` when ``lam >= 0.5``).

Training progress ``p = num_updates / total_steps`` drives the GRL schedules.
``num_updates`` is a registered buffer incremented by every training-mode
forward, so it is saved in checkpoints and continues after ``--resume``.
``total_steps`` comes from ``model_conf.total_steps`` or is derived by the SER
trainer as ``max_epoch x batches per epoch`` at the start of every run.

Stats per step: ``loss``, ``loss_emo`` (CE), ``loss_center``, ``acc``
(utterance-level accuracy on labelled utterances, from the mean of the unit
posteriors), and per head ``loss_<name>``, ``acc_<name>``, ``lambda_<name>``.
The trainer adds epoch-level ``wa`` and ``ua`` (unweighted accuracy = macro
recall) from the confusion matrix this model accumulates (see
``espnet_ser.tasks.ser_trainer``), computed by the project's one definition,
``espnet_ser.eval.metrics.wa_ua_from_confusion``.  The per-batch ``acc`` stays a
tensor for ESPnet's reporter; it is the same definition as WA (accuracy over the
batch's labelled utterances) and is for the logs only: model selection uses
the epoch ``ua``.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel

from espnet_ser.adapters.abs_adapter import AbsAdapter
from espnet_ser.adapters.identity_adapter import IdentityAdapter
from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.heads.abs_classifier import AbsClassifier
from espnet_ser.layers.center_loss import CenterLoss
from espnet_ser.layers.nn_utils import get_activation
from espnet_ser.models.domain_head import DomainHead
from espnet_ser.pooling.abs_pooling import AbsPooling


class NonFiniteLossError(FloatingPointError):
    """Raised by a training-mode forward whose loss is NaN or infinite."""


def _labels_1d(y: torch.Tensor, name: str, batch: int) -> torch.Tensor:
    """Turn a collated label tensor (B,) or (B, 1) into (B,) int64."""
    if y.dim() == 2:
        # text_int streams arrive as (B, L) padded with -1; one label per utt.
        y = y[:, 0]
    if y.dim() != 1 or y.size(0) != batch:
        raise ValueError(
            f"label stream '{name}': expected shape ({batch},) or ({batch}, 1), "
            f"got {tuple(y.shape)}"
        )
    return y.long()


def _masked_ce(logits: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, int]:
    """Mean cross entropy over items with y >= 0; (0 with graph, 0) if none."""
    valid = y >= 0
    n = int(valid.sum())
    if n == 0:
        # Keep the graph connected so DDP/AMP see every parameter used.
        return logits.sum() * 0.0, 0
    return F.cross_entropy(logits[valid], y[valid]), n


def _mixed_ce(logits: torch.Tensor, y_unit: torch.Tensor, mix: Optional[Tuple[float, torch.Tensor]],
              y_utt: torch.Tensor, unit2utt: torch.Tensor) -> Tuple[torch.Tensor, int]:
    """``_masked_ce``, or ``lam CE(y) + (1 - lam) CE(y[perm])`` when ``mix = (lam, perm)``."""
    loss, n = _masked_ce(logits, y_unit)
    if mix is None:
        return loss, n
    lam, perm = mix
    loss_b, n_b = _masked_ce(logits, y_utt[perm][unit2utt])
    return lam * loss + (1.0 - lam) * loss_b, n + n_b


def _units_to_utts(x: torch.Tensor, unit2utt: torch.Tensor, batch: int) -> torch.Tensor:
    """Average unit rows (N, D) into utterance rows (B, D)."""
    if x.size(0) == batch:
        return x
    out = x.new_zeros(batch, x.size(1))
    out.index_add_(0, unit2utt, x)
    counts = torch.bincount(unit2utt, minlength=batch).clamp(min=1).to(x.dtype)
    return out / counts.unsqueeze(1)


class ESPnetSERModel(AbsESPnetModel):
    """Speech emotion recognition model with domain heads.

    Args:
        emotion_labels: Emotion inventory (line order of ``emotions.txt``).
        encoder: Sequence encoder.
        pooling: Sequence pooling.
        classifier: Emotion classifier (embedding -> C logits).
        domain_heads: Domain heads (speaker, gender, corpus, ...).
        adapter: Input adapter (identity if None).
        normalize: Optional feature normalisation ``(xs, ilens) -> (xs, ilens)``.
        embedding_size: If set, a ``Linear -> [BN] -> activation -> Dropout``
            layer after pooling; its output is attach point ``embedding``
            (otherwise ``embedding`` is the pooled vector).
        embedding_batch_norm: BatchNorm1d in the embedding layer.
        embedding_activation: Activation of the embedding layer.
        embedding_dropout: Dropout of the embedding layer.
        target_name: Data name of the classification target (``emotion``;
            ``arousal``/``valence`` for the binary tasks).
        ce_weight: Weight of the emotion cross entropy.
        center_loss_weight: Weight of the center loss on the embedding (0 = off).
        center_loss_alpha: Center update rate alpha.
        total_steps: Training steps of the whole run for the GRL schedules
            (0 = let the trainer derive it).
        stop_on_nonfinite_loss: Raise ``NonFiniteLossError`` on a NaN/inf
            training loss (ESPnet's trainer would silently skip the step).
        specaug: SpecAugment module ``(xs, ilens) -> (xs, ilens)`` applied in
            training only, before ``normalize`` (the task's ``specaug`` registry).
        mixup_alpha: Beta(alpha, alpha) of mixup in training (0 = off; 0.2 is
            the usual value); see the module docstring.
    """

    def __init__(
        self,
        emotion_labels: Sequence[str],
        encoder: AbsEncoder,
        pooling: AbsPooling,
        classifier: AbsClassifier,
        domain_heads: Sequence[DomainHead] = (),
        adapter: Optional[AbsAdapter] = None,
        normalize: Optional[torch.nn.Module] = None,
        embedding_size: Optional[int] = None,
        embedding_batch_norm: bool = False,
        embedding_activation: str = "relu",
        embedding_dropout: float = 0.0,
        target_name: str = "emotion",
        ce_weight: float = 1.0,
        center_loss_weight: float = 0.0,
        center_loss_alpha: float = 0.5,
        total_steps: int = 0,
        stop_on_nonfinite_loss: bool = True,
        specaug: Optional[torch.nn.Module] = None,
        mixup_alpha: float = 0.0,
    ):
        super().__init__()
        self.emotion_labels = list(emotion_labels)
        if len(self.emotion_labels) < 2:
            raise ValueError(
                f"ESPnetSERModel: need >= 2 emotion classes, got {self.emotion_labels}"
            )
        self.adapter = adapter if adapter is not None else IdentityAdapter()
        self.normalize = normalize
        self.specaug = specaug
        if not float(mixup_alpha) >= 0.0:
            raise ValueError(f"model_conf.mixup_alpha: must be >= 0 (0 = off, e.g. 0.2), got {mixup_alpha}")
        self.mixup_alpha = float(mixup_alpha)
        self.encoder = encoder
        self.pooling = pooling
        pooled_size = pooling.output_size()
        if embedding_size:
            layers: List[torch.nn.Module] = [torch.nn.Linear(pooled_size, embedding_size)]
            if embedding_batch_norm:
                layers.append(torch.nn.BatchNorm1d(embedding_size))
            layers += [get_activation(embedding_activation, "model_conf.embedding_activation"),
                       torch.nn.Dropout(embedding_dropout)]
            self.embedding = torch.nn.Sequential(*layers)
            self.embedding_size = int(embedding_size)
        else:
            self.embedding = None
            self.embedding_size = pooled_size
        # Encoders may add attach points (ADARL: "domain", "attention"), see encode().
        self.point_sizes = {"pooled": pooled_size, "embedding": self.embedding_size,
                            **getattr(encoder, "extra_point_sizes", dict)()}
        self.classifier = classifier
        names = [h.name for h in domain_heads]
        if len(set(names)) != len(names):
            raise ValueError(f"ESPnetSERModel: domain head names must be unique, got {names}")
        self.domain_heads = torch.nn.ModuleList(domain_heads)
        self.target_name = target_name
        self.ce_weight = float(ce_weight)
        self.center_loss_weight = float(center_loss_weight)
        self.center_loss = (
            CenterLoss(len(self.emotion_labels), self.embedding_size, center_loss_alpha)
            if self.center_loss_weight > 0
            else None
        )
        self.stop_on_nonfinite_loss = stop_on_nonfinite_loss
        self.total_steps = int(total_steps)
        self._total_steps_from_conf = self.total_steps > 0
        # Persistent: survives --resume (checkpoint.pth holds the state dict).
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))
        # Not persistent: epoch-level confusion for WA/UA, reset by the trainer.
        C = len(self.emotion_labels)
        self.register_buffer(
            "epoch_confusion", torch.zeros(C, C, dtype=torch.long), persistent=False
        )
        # Each DDP worker counts its own shard (the trainer sums them at the epoch's end):
        # DDP's per-forward buffer broadcast from rank 0 would overwrite the other workers'
        # counts (test/tasks/test_ddp.py).
        self._ddp_params_and_buffers_to_ignore = ["epoch_confusion"]

    # ------------------------------------------------------------------ progress
    def set_total_steps(self, total_steps: int) -> None:
        """Set the schedule length unless ``model_conf.total_steps`` fixed it."""
        if not self._total_steps_from_conf:
            self.total_steps = int(total_steps)

    def progress(self) -> float:
        """Training progress p in [0, 1] (0 while total_steps is unknown)."""
        if self.total_steps <= 0:
            return 0.0
        return min(float(self.num_updates) / self.total_steps, 1.0)

    def current_lambdas(self) -> Dict[str, float]:
        """GRL coefficient of each domain head at the current progress."""
        p = self.progress()
        return {h.name: h.current_lambda(p) for h in self.domain_heads}

    def reset_confusion(self) -> None:
        """Zero the epoch-level confusion matrix (rows: reference, cols: hypothesis)."""
        self.epoch_confusion.zero_()

    # ------------------------------------------------------------------ forward
    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Dict[str, torch.Tensor]:
        """Run everything up to the emotion classifier.

        Args:
            speech: Features (B, T, D).
            speech_lengths: Valid lengths (B,).

        Returns:
            Dict with ``pooled`` (N, P), ``embedding`` (N, E), ``unit2utt`` (N,), and
            the encoder's extra attach points (``extra_point_sizes``/``forward_points``,
            e.g. ADARL's ``domain`` and ``attention``), (N, size) each.
        """
        if speech.dim() != 3:
            raise ValueError(
                f"ESPnetSERModel: speech must be (B, T, D) features, got {tuple(speech.shape)}; "
                "utterance-level features are stored as (1, D) matrices"
            )
        expected = getattr(self, "input_size", None)
        if expected is not None and speech.size(-1) != expected:
            raise ValueError(
                f"ESPnetSERModel: features have dimension {speech.size(-1)} but the model was "
                f"built for input_size={expected}; check --input_size / the feature config"
            )
        xs, ilens = speech, speech_lengths.long()
        if self.specaug is not None and self.training:
            if xs.size(1) <= 1:
                raise ValueError(
                    f"specaug: SpecAugment needs frame sequences, but the features are utterance-level "
                    f"(functionals, (1, {xs.size(-1)}) per utterance); remove specaug/specaug_conf from the "
                    "training config (or give --specaug none) for these features")
            # Time warp and masks on a copy (adversary_steps reuse the batch).
            xs, ilens = self.specaug(xs.clone(), ilens)
        if self.normalize is not None:
            # ESPnet's GlobalMVN/UtteranceMVN work in place on tensors without grad:
            # a copy keeps the caller's batch intact (adversary_steps reuse it).
            xs, ilens = self.normalize(xs.clone(), ilens)
        units, unit_lens, unit2utt = self.adapter(xs, ilens)
        if hasattr(self.encoder, "forward_points"):
            # An encoder with extra attach points returns them with hs/olens.
            extra = dict(self.encoder.forward_points(units, unit_lens))
            hs, olens = extra.pop("hs"), extra.pop("olens")
        else:
            (hs, olens), extra = self.encoder(units, unit_lens), {}
        pooled = self.pooling(hs, olens.clamp(min=1))
        emb = self.embedding(pooled) if self.embedding is not None else pooled
        return {"pooled": pooled, "embedding": emb, "unit2utt": unit2utt, **extra}

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        """Compute the training loss and statistics.

        Args:
            speech: Features (B, T, D).
            speech_lengths: Valid lengths (B,).
            **kwargs: Label streams (B,) or (B, 1) int with -1 = unknown, named
                ``target_name`` (``emotion``) and each head's ``data_name``;
                ``*_lengths`` and ``utt_id`` from the trainer are ignored.

        Returns:
            loss (scalar), stats (dict of scalars or None), weight (B).
        """
        B = speech.size(0)
        mix = None
        if self.training and self.mixup_alpha > 0 and B > 1:
            a = torch.tensor(self.mixup_alpha)
            mix_lam = float(torch.distributions.Beta(a, a).sample())
            perm = torch.randperm(B).to(speech.device)
            speech = mix_lam * speech + (1.0 - mix_lam) * speech[perm]
            speech_lengths = torch.maximum(speech_lengths, speech_lengths[perm])
            mix = (mix_lam, perm)
        out = self.encode(speech, speech_lengths)
        unit2utt = out["unit2utt"]
        emb = out["embedding"]

        if self.target_name in kwargs and kwargs[self.target_name] is not None:
            y_utt = _labels_1d(kwargs[self.target_name], self.target_name, B)
        else:
            y_utt = torch.full((B,), -1, dtype=torch.long, device=speech.device)
        C = len(self.emotion_labels)
        if bool((y_utt >= C).any()):
            raise ValueError(
                f"'{self.target_name}' label {int(y_utt.max())} >= {C} classes of the "
                "emotion list; the <name>.int files and the label inventory disagree "
                "(rerun espnet_ser.bin.prepare_labels)"
            )
        # Mixup: the dominant label of each mixed utterance counts for accuracy and center loss.
        dominant = (lambda y: y) if mix is None or mix[0] >= 0.5 else (lambda y: y[mix[1]])
        y_unit = y_utt[unit2utt]

        logits = self.classifier(emb)
        loss_ce, n_lab = _mixed_ce(logits, y_unit, mix, y_utt, unit2utt)
        y_utt, y_unit = dominant(y_utt), dominant(y_utt)[unit2utt]
        loss = self.ce_weight * loss_ce
        stats: Dict[str, Optional[torch.Tensor]] = {}
        stats["loss_emo"] = loss_ce.detach() if n_lab else None
        if self.center_loss is not None:
            loss_center = self.center_loss(emb, y_unit)
            loss = loss + self.center_loss_weight * loss_center
            stats["loss_center"] = loss_center.detach() if n_lab else None

        # Utterance-level accuracy from the mean of the unit posteriors.
        with torch.no_grad():
            post = _units_to_utts(logits.float().softmax(-1), unit2utt, B)
            hyp = post.argmax(-1)
            lab = y_utt >= 0
            if bool(lab.any()):
                stats["acc"] = (hyp[lab] == y_utt[lab]).float().mean()
                idx = y_utt[lab] * C + hyp[lab]
                self.epoch_confusion += torch.bincount(idx, minlength=C * C).view(C, C)
            else:
                stats["acc"] = None

        p = self.progress()
        for head in self.domain_heads:
            if head.data_name not in kwargs or kwargs[head.data_name] is None:
                raise ValueError(
                    f"domain head '{head.name}' needs the label stream '{head.data_name}': add "
                    f"--train_data_path_and_name_and_type <dir>/{head.data_name}.int,"
                    f"{head.data_name},text_int (and the same for valid)"
                )
            y_d = _labels_1d(kwargs[head.data_name], head.data_name, B)
            if bool((y_d >= head.num_classes).any()):
                raise ValueError(
                    f"'{head.data_name}' label {int(y_d.max())} >= {head.num_classes} classes "
                    f"of domain head '{head.name}'; regenerate the label files with "
                    "espnet_ser.bin.prepare_labels"
                )
            if self.training and head.reverse and head.schedule.needs_progress and self.total_steps <= 0:
                raise RuntimeError(
                    f"domain head '{head.name}': schedule {head.schedule} needs the run length; "
                    "set model_conf.total_steps or train through espnet_ser.bin.ser_train"
                )
            lam = head.current_lambda(p)
            logits_d = head(out[head.attach], lam)
            loss_d, n_d = _mixed_ce(logits_d, y_d[unit2utt], mix, y_d, unit2utt)
            y_d_unit = dominant(y_d)[unit2utt]
            loss = loss + head.weight * loss_d
            stats[f"loss_{head.name}"] = loss_d.detach() if n_d else None
            with torch.no_grad():
                valid = y_d_unit >= 0
                stats[f"acc_{head.name}"] = (
                    (logits_d[valid].argmax(-1) == y_d_unit[valid]).float().mean() if n_d else None
                )
            stats[f"lambda_{head.name}"] = torch.tensor(lam)

        if self.training:
            if self.stop_on_nonfinite_loss and not bool(torch.isfinite(loss)):
                parts = {k: (None if v is None else float(v)) for k, v in stats.items()}
                utts = kwargs.get("utt_id")
                raise NonFiniteLossError(
                    f"non-finite training loss {float(loss.detach())} at step {int(self.num_updates) + 1} "
                    f"(stats {parts}; first utterances {list(utts)[:3] if utts else 'n/a'})"
                )
            self.num_updates += 1
        stats["loss"] = loss.detach()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # ESPnet's trainer drops None stats and then all-gathers the rest key by key: a
            # worker whose shard lacks a label stream would pair its keys with other workers'
            # (wrong values or a hang). NaN is what ESPnet averages over for a missing value.
            stats = {k: torch.tensor(float("nan"), device=loss.device) if v is None else v
                     for k, v in stats.items()}
        weight = torch.tensor(B, device=loss.device)
        loss, stats, weight = force_gatherable((loss, stats, weight), loss.device)
        return loss, stats, weight

    def adversary_update(
        self,
        optimizer: torch.optim.Optimizer,
        steps: int,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        grad_clip: float = 0.0,
        world_size: int = 1,
        **kwargs,
    ) -> Dict[str, float]:
        """Extra updates of the reversed domain heads (the adversaries) on one batch.

        The batch is encoded once without gradients; each of ``steps`` updates
        then trains every adversary on the detached vectors at its attach point
        (cross entropy on its own labels, -1 masked) and steps ``optimizer``
        (optimizer 2 of ``SERTask.build_optimizers``, which holds only the
        adversaries' parameters).  The encoder and the step counter are not
        touched.  Keeping the adversary close to its best response is what
        makes the reversed gradient carry the speaker information that is
        really there (the k discriminator steps per generator step of GAN
        training); with one joint step the encoder learns to fool a lagging
        head instead.

        Args:
            optimizer: Optimizer over the adversaries' parameters.
            steps: Number of updates.
            speech: Features (B, T, D); speech_lengths: (B,).
            grad_clip: Clip the adversaries' gradient norm (0 = off).
            world_size: Under DDP (> 1), each head's gradient is averaged over the labelled
                items of all workers' shards (each worker's mean weighted by its count), so
                the update is the one-process update on the global batch
                (``test/tasks/test_ddp.py``).
            **kwargs: Label streams as for ``forward``.

        Returns:
            ``{"loss_<name>_adv": last loss}`` per adversary.
        """
        heads = [h for h in self.domain_heads if h.reverse]
        if steps <= 0 or not heads:
            return {}
        B = speech.size(0)
        with torch.no_grad():
            out = self.encode(speech, speech_lengths)
        targets = []
        for h in heads:
            if kwargs.get(h.data_name) is None:
                raise ValueError(f"adversary_update: head '{h.name}' needs the label stream '{h.data_name}'")
            targets.append(self.unit_labels(kwargs, h.data_name, out, B))
        params = [p for h in heads for p in h.parameters()]
        share = [1.0] * len(heads)
        if world_size > 1:
            # This worker's labelled items per head over all workers' (0 where none has any).
            n_local = torch.tensor([float((y >= 0).sum()) for y in targets], device=speech.device)
            n_all = n_local.clone()
            torch.distributed.all_reduce(n_all)
            share = [float(a / b) if b > 0 else 0.0 for a, b in zip(n_local.tolist(), n_all.tolist())]
        last: Dict[str, float] = {}
        for _ in range(steps):
            optimizer.zero_grad()
            total = 0.0
            for h, y in zip(heads, targets):
                loss, n = _masked_ce(h.classifier(out[h.attach].detach()), y)
                total = total + h.weight * loss
                last[f"loss_{h.name}_adv"] = float(loss.detach()) if n else float("nan")
            total.backward()
            if world_size > 1:
                for h, w in zip(heads, share):
                    for p in h.parameters():
                        if p.grad is not None:
                            p.grad.mul_(w)
                            torch.distributed.all_reduce(p.grad)
            if grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
        optimizer.zero_grad()
        return last

    def unit_labels(self, kwargs: Dict, name: str, out: Dict[str, torch.Tensor], batch: int) -> torch.Tensor:
        """Labels of stream ``name`` for the rows of ``encode``'s output ``out`` (one per unit).

        A model whose examples hold several labelled units (a dialogue of turns) overrides it.
        """
        return _labels_1d(kwargs[name], name, batch)[out["unit2utt"]]

    @torch.no_grad()
    def infer(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        vote: bool = False,
        point: str = "embedding",
    ) -> Dict[str, torch.Tensor]:
        """Utterance posteriors and embeddings (call in eval mode).

        Args:
            speech: Features (B, T, D).
            speech_lengths: Valid lengths (B,).
            vote: Segment models: posterior = fraction of segments voting for
                each class instead of the mean segment posterior.
            point: Attach point whose vector is returned as the embedding.

        Returns:
            ``posteriors`` (B, C) (rows sum to 1) and ``embeddings`` (B, D)
            (mean over an utterance's units).
        """
        if point not in self.point_sizes:
            raise ValueError(f"infer: point must be one of {sorted(self.point_sizes)}, got '{point}'")
        B = speech.size(0)
        out = self.encode(speech, speech_lengths)
        unit_post = self.classifier(out["embedding"]).float().softmax(-1)
        if vote:
            unit_post = F.one_hot(unit_post.argmax(-1), unit_post.size(-1)).float()
        post = _units_to_utts(unit_post, out["unit2utt"], B)
        emb = _units_to_utts(out[point].float(), out["unit2utt"], B)
        return {"posteriors": post, "embeddings": emb}

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        """Features are precomputed: return them (for ESPnet's collect_stats)."""
        return {"feats": speech, "feats_lengths": speech_lengths}

