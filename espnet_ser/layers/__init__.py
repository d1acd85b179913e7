"""Building blocks of the adversarial SER models.

* :mod:`grl`: gradient reversal (``grad_reverse``, ``GradientReversal``)
* :mod:`schedules`: lambda schedules (``build_schedule``, ``SCHEDULES``)
* :mod:`center_loss`: ``CenterLoss`` (Wen et al.)
* :mod:`stats_pooling`: masked mean / statistics pooling functions
"""

from espnet_ser.layers.center_loss import CenterLoss
from espnet_ser.layers.grl import GradientReversal, GradReverse, grad_reverse
from espnet_ser.layers.schedules import SCHEDULES, AbsSchedule, build_schedule
from espnet_ser.layers.stats_pooling import (
    masked_mean_pooling,
    masked_stats_pooling,
)

__all__ = [
    "AbsSchedule",
    "CenterLoss",
    "GradReverse",
    "GradientReversal",
    "SCHEDULES",
    "build_schedule",
    "grad_reverse",
    "masked_mean_pooling",
    "masked_stats_pooling",
]
