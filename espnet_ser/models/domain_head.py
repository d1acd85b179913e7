"""One domain head of ``ESPnetSERModel``: a classifier on a nuisance label.

A head predicts a domain label (speaker, gender, corpus, language, session,
...) read from its own label stream (data name).  With ``reverse: true`` its
input passes a gradient reversal layer whose coefficient is
``coeff * schedule(progress)``: the head learns the domain while the layers
below are pushed to remove it (invariance).  With ``reverse: false`` it is an
auxiliary task trained with plain cross entropy (e.g. ADARL's gender pathway).
"""

from typing import Dict, Optional, Sequence

import torch

from espnet_ser.heads.abs_classifier import AbsClassifier
from espnet_ser.layers.grl import grad_reverse
from espnet_ser.layers.schedules import build_schedule

# "domain" (and "attention") exist only with an encoder that exposes them
# (``extra_point_sizes``; ADARL's domain pathway): the task checks against the model's sizes.
ATTACH_POINTS = ("pooled", "embedding", "domain", "attention")


class DomainHead(torch.nn.Module):
    """Classifier head on a domain label, optionally behind a GRL.

    Args:
        name: Head name; used in stats keys (``loss_<name>``, ``acc_<name>``,
            ``lambda_<name>``).
        data_name: Label stream (``--train_data_path_and_name_and_type
            ...,<data_name>,text_int``); -1 marks unknown labels.
        labels: Label inventory (line order of e.g. ``speakers.txt``).
        classifier: The classifier (input D of the attach point -> C logits).
        weight: Weight of this head's loss in the total loss.
        reverse: Put a gradient reversal layer in front of the classifier.
        coeff: GRL coefficient (multiplied by the schedule).
        schedule: Schedule name (constant, dann, linear).
        schedule_conf: Schedule keyword arguments.
        attach: Where the head reads the model: ``pooled``, ``embedding``, or a point
            of the encoder (``domain``: ADARL's domain pathway).
    """

    def __init__(
        self,
        name: str,
        data_name: str,
        labels: Sequence[str],
        classifier: AbsClassifier,
        weight: float = 1.0,
        reverse: bool = True,
        coeff: float = 1.0,
        schedule: str = "constant",
        schedule_conf: Optional[Dict] = None,
        attach: str = "embedding",
    ):
        super().__init__()
        if attach not in ATTACH_POINTS:
            raise ValueError(
                f"domain head '{name}': attach must be one of {ATTACH_POINTS}, got '{attach}'"
            )
        if coeff < 0:
            raise ValueError(f"domain head '{name}': coeff must be >= 0, got {coeff}")
        self.name = name
        self.data_name = data_name
        self.labels = list(labels)
        self.classifier = classifier
        self.weight = float(weight)
        self.reverse = bool(reverse)
        self.coeff = float(coeff)
        self.schedule = build_schedule(schedule, schedule_conf)
        self.attach = attach

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def current_lambda(self, progress: float) -> float:
        """GRL coefficient at training progress ``progress`` in [0, 1]."""
        return self.coeff * self.schedule(progress) if self.reverse else 0.0

    def forward(self, x: torch.Tensor, lam: float) -> torch.Tensor:
        """Classify the domain.

        Args:
            x: Vectors at the attach point (N, D).
            lam: GRL coefficient for this step (ignored if not ``reverse``).

        Returns:
            Logits (N, C).
        """
        if self.reverse:
            x = grad_reverse(x, lam)
        return self.classifier(x)

    def extra_repr(self) -> str:
        return (
            f"name={self.name}, data_name={self.data_name}, classes={self.num_classes}, "
            f"weight={self.weight}, reverse={self.reverse}, coeff={self.coeff}, "
            f"schedule={self.schedule}, attach={self.attach}"
        )
