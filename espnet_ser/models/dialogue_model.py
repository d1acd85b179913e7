"""DialogueSERModel: one example = one dialogue (Lian et al.), registered as model ``dialogue``.

Data flow for a batch of B dialogues, the longest with U utterances::

    speech (B, U, D)  one utterance vector per position, modalities concatenated
      -> [normalize]  ESPnet's GlobalMVN (statistics of the training sessions)
      -> encoder      AT-Fusion (or concat fusion) per utterance -> (B, U, d)   = point "pooled"
      -> context      SA-GRU over the dialogue (or none)         -> (B, U, d')  = point "embedding"
      -> classifier   per utterance -> (B, U, C)
      -> domain heads on their attach point, through a GRL if reverse

Only valid positions (< ``speech_lengths``) enter the losses and the stats.
Label streams are per-utterance sequences ``(B, U)`` (``text_int`` lines
``dialog l_1 ... l_U``), ``-1`` = unknown: the emotion cross entropy is masked to
labelled utterances; a speaker head trains on every utterance whose speaker is
known, labelled or not (the unlabelled dialogues of the other sessions).  Lian
et al. attach the speaker classifier after AT-Fusion (``attach: pooled``);
``attach: embedding`` puts it after SA-GRU.

The pooling module the task builds is not used (a dialogue model classifies
every position).  Progress, GRL schedules, the epoch confusion matrix and the
adversary optimizer work as in :class:`~espnet_ser.models.ser_model.ESPnetSERModel`,
which this class extends.
"""

from typing import Dict, Optional, Sequence, Tuple

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask
from espnet2.torch_utils.device_funcs import force_gatherable

from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.heads.abs_classifier import AbsClassifier
from espnet_ser.layers.sa_gru import SAGRU
from espnet_ser.models.domain_head import DomainHead
from espnet_ser.models.ser_model import ESPnetSERModel, NonFiniteLossError, _masked_ce
from espnet_ser.pooling.abs_pooling import AbsPooling

CONTEXTS = ("sa_gru", "none")


def _context_size(encoder_size: int, context: str, context_conf: Optional[Dict]) -> int:
    if context not in CONTEXTS:
        raise ValueError(f"model_conf.context must be one of {CONTEXTS}, got {context!r}")
    return 2 * int((context_conf or {}).get("hidden", 50)) if context == "sa_gru" else encoder_size


class DialogueSERModel(ESPnetSERModel):
    """Context-dependent emotion model over dialogues.

    Args:
        emotion_labels: Emotion inventory.
        encoder: Per-utterance fusion encoder ``(B, U, D) -> (B, U, d)``.
        pooling: Built by the task; unused.
        classifier: Emotion classifier on the context vectors.
        domain_heads: Domain heads (attach ``pooled`` = after fusion, ``embedding`` = after context).
        adapter: Must be the identity (a dialogue is not cut into segments).
        normalize: Feature normalisation (GlobalMVN).
        context: ``sa_gru`` or ``none`` (the no-context baseline).
        context_conf: :class:`~espnet_ser.layers.sa_gru.SAGRU` options.
        **kwargs: The remaining options of ``ESPnetSERModel`` (``total_steps``, ``ce_weight`` ...).
    """

    @staticmethod
    def attach_point_sizes(encoder_size: int, model_conf: Dict) -> Dict[str, int]:
        """Sizes of the attach points (the task builds the classifier and heads with them)."""
        return {"pooled": encoder_size,
                "embedding": _context_size(encoder_size, model_conf.get("context", "sa_gru"),
                                           model_conf.get("context_conf"))}

    def __init__(
        self,
        emotion_labels: Sequence[str],
        encoder: AbsEncoder,
        pooling: AbsPooling,
        classifier: AbsClassifier,
        domain_heads: Sequence[DomainHead] = (),
        adapter=None,
        normalize: Optional[torch.nn.Module] = None,
        context: str = "sa_gru",
        context_conf: Optional[Dict] = None,
        **kwargs,
    ):
        for key in ("embedding_size", "center_loss_weight", "mixup_alpha", "specaug"):
            if kwargs.get(key):
                raise ValueError(f"model dialogue: {'' if key == 'specaug' else 'model_conf.'}{key} is not supported "
                                 "(remove it from the training config)")
        super().__init__(emotion_labels, encoder, pooling, classifier, domain_heads, adapter, normalize,
                         **kwargs)
        if type(self.adapter).__name__ != "IdentityAdapter":
            raise ValueError("model dialogue: input_adapter must be identity (a dialogue is one example)")
        d = encoder.output_size()
        self.context_name = context
        self.point_sizes = self.attach_point_sizes(d, {"context": context, "context_conf": context_conf})
        self.context = SAGRU(d, **(context_conf or {})) if context == "sa_gru" else None
        self.embedding_size = self.point_sizes["embedding"]

    # ------------------------------------------------------------------ helpers
    def encode(self, speech: torch.Tensor, speech_lengths: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Fused and context vectors of the valid utterances.

        Returns:
            ``pooled`` (N, d) after fusion, ``embedding`` (N, d') after context,
            ``mask`` (B, U) valid positions (N = its sum).
        """
        if speech.dim() != 3:
            raise ValueError(f"model dialogue: speech must be (B, U, D) dialogues, got {tuple(speech.shape)}")
        expected = getattr(self, "input_size", None)
        if expected is not None and speech.size(-1) != expected:
            raise ValueError(f"model dialogue: features have dimension {speech.size(-1)} but the model was "
                             f"built for input_size={expected}")
        xs, ilens = speech, speech_lengths.long()
        if self.normalize is not None:
            xs, ilens = self.normalize(xs.clone(), ilens)
        fused, _ = self.encoder(xs, ilens)
        ctx = self.context(fused, ilens) if self.context is not None else fused
        mask = ~make_pad_mask(ilens, maxlen=xs.size(1)).to(xs.device)
        return {"pooled": fused[mask], "embedding": ctx[mask], "mask": mask}

    @staticmethod
    def _labels(kwargs: Dict, name: str, mask: torch.Tensor) -> torch.Tensor:
        """Per-utterance labels of the valid positions (N,), from a (B, L) text_int stream."""
        y = kwargs[name]
        if y.dim() == 1:
            y = y.unsqueeze(1)
        B, U = mask.shape
        if y.size(0) != B or y.size(1) < int(mask.sum(1).max()):
            raise ValueError(f"label stream '{name}': shape {tuple(y.shape)} does not cover the dialogues "
                             f"(B={B}, longest {int(mask.sum(1).max())}); write it with "
                             "espnet_ser.bin.make_dialogues")
        lens = kwargs.get(f"{name}_lengths")
        if lens is not None and not torch.equal(lens.to(mask.device).long(), mask.sum(1).long()):
            raise ValueError(f"label stream '{name}': sequence lengths {lens.tolist()} differ from the "
                             f"dialogue lengths {mask.sum(1).tolist()}")
        if y.size(1) < U:
            y = torch.nn.functional.pad(y, (0, U - y.size(1)), value=-1)
        return y[:, :U].to(mask.device)[mask].long()

    # ------------------------------------------------------------------ forward
    def forward(self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
                ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        """Loss over the valid utterances of a batch of dialogues (see the module docstring)."""
        B = speech.size(0)
        out = self.encode(speech, speech_lengths)
        mask = out["mask"]
        C = len(self.emotion_labels)
        if kwargs.get(self.target_name) is not None:
            y = self._labels(kwargs, self.target_name, mask)
        else:
            y = torch.full((int(mask.sum()),), -1, dtype=torch.long, device=speech.device)
        if bool((y >= C).any()):
            raise ValueError(f"'{self.target_name}' label {int(y.max())} >= {C} classes of the emotion list")
        logits = self.classifier(out["embedding"])
        loss_ce, n_lab = _masked_ce(logits, y)
        loss = self.ce_weight * loss_ce
        stats: Dict[str, Optional[torch.Tensor]] = {"loss_emo": loss_ce.detach() if n_lab else None}
        with torch.no_grad():
            lab = y >= 0
            if n_lab:
                hyp = logits.argmax(-1)
                stats["acc"] = (hyp[lab] == y[lab]).float().mean()
                self.epoch_confusion += torch.bincount(y[lab] * C + hyp[lab], minlength=C * C).view(C, C)
            else:
                stats["acc"] = None
        p = self.progress()
        for head in self.domain_heads:
            if kwargs.get(head.data_name) is None:
                raise ValueError(f"domain head '{head.name}' needs the label stream '{head.data_name}' "
                                 f"({head.data_name}.int from espnet_ser.bin.make_dialogues)")
            y_d = self._labels(kwargs, head.data_name, mask)
            if bool((y_d >= head.num_classes).any()):
                raise ValueError(f"'{head.data_name}' label {int(y_d.max())} >= {head.num_classes} classes "
                                 f"of domain head '{head.name}'")
            lam = head.current_lambda(p)
            logits_d = head(out[head.attach], lam)
            loss_d, n_d = _masked_ce(logits_d, y_d)
            loss = loss + head.weight * loss_d
            stats[f"loss_{head.name}"] = loss_d.detach() if n_d else None
            with torch.no_grad():
                ok = y_d >= 0
                stats[f"acc_{head.name}"] = ((logits_d[ok].argmax(-1) == y_d[ok]).float().mean()
                                             if n_d else None)
            stats[f"lambda_{head.name}"] = torch.tensor(lam)
        if self.training:
            if self.stop_on_nonfinite_loss and not bool(torch.isfinite(loss)):
                raise NonFiniteLossError(f"non-finite training loss {float(loss.detach())} at step "
                                         f"{int(self.num_updates) + 1} (dialogues {list(kwargs.get('utt_id') or [])[:3]})")
            self.num_updates += 1
        stats["loss"] = loss.detach()
        weight = torch.tensor(B, device=loss.device)
        return force_gatherable((loss, stats, weight), loss.device)

    def unit_labels(self, kwargs: Dict, name: str, out: Dict[str, torch.Tensor], batch: int) -> torch.Tensor:
        """Per-turn labels of the valid turns (for ``ESPnetSERModel.adversary_update``)."""
        return self._labels(kwargs, name, out["mask"])

    @torch.no_grad()
    def infer(self, speech: torch.Tensor, speech_lengths: torch.Tensor, vote: bool = False,
              point: str = "embedding") -> Dict[str, torch.Tensor]:
        """Per-utterance posteriors ``(B, U, C)``, vectors at ``point`` ``(B, U, D)`` and
        modality weights ``alpha`` ``(B, U, M)`` when the encoder is AT-Fusion; padding rows are zero.
        ``vote`` is ignored (one unit per utterance)."""
        if point not in self.point_sizes:
            raise ValueError(f"infer: point must be one of {sorted(self.point_sizes)}, got '{point}'")
        out = self.encode(speech, speech_lengths)
        mask = out["mask"]
        B, U = mask.shape
        post = self.classifier(out["embedding"]).float().softmax(-1)
        full = post.new_zeros(B, U, post.size(-1))
        full[mask] = post
        emb = out[point].float()
        full_emb = emb.new_zeros(B, U, emb.size(-1))
        full_emb[mask] = emb
        res = {"posteriors": full, "embeddings": full_emb}
        alpha = getattr(self.encoder, "last_alpha", None)
        if alpha is not None:
            res["alpha"] = alpha.float()
        return res
