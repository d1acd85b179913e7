"""Schedules of the gradient-reversal coefficient lambda over training progress.

A schedule maps training progress ``p = step / total_steps`` in [0, 1] to a
factor; the model multiplies it by the domain head's ``coeff``.  Registered
names (``schedule:`` in a domain head's config):

* ``constant``: ``value`` for every p.
* ``dann``: ``lambda(p) = 2 / (1 + exp(-gamma p)) - 1`` (Ganin et al. 2016,
  gamma = 10; Leow et al. use gamma in {1.25, 2.5, 3.33}, whose final values
  at p = 1 are 0.555, 0.848, 0.931).
* ``linear``: ramps from 0 to 1 over the first ``warmup`` fraction of
  training, then stays at 1 (a simple warm-up for the speaker adversary).

``dann`` and ``linear`` take ``delay`` (default 0): the factor is 0 for the first
``delay`` fraction of training and the ramp runs over the rest, on the progress
``(p - delay) / (1 - delay)``: the emotion path trains first while the domain head
learns the domains (its own gradient is never scaled), then the reversal ramps in.

Example:
    >>> build_schedule("dann", {"gamma": 2.5})(1.0)
    0.8482836399575131
"""

import math
from typing import Dict, Optional


class AbsSchedule:
    """Callable ``progress (float in [0, 1]) -> factor (float)``."""

    #: Whether the schedule depends on progress (so total_steps must be known).
    needs_progress: bool = True

    def __call__(self, progress: float) -> float:
        raise NotImplementedError


class ConstantSchedule(AbsSchedule):
    """Constant factor.

    Args:
        value: The factor returned for every progress value.
    """

    needs_progress = False

    def __init__(self, value: float = 1.0):
        self.value = float(value)

    def __call__(self, progress: float) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"ConstantSchedule(value={self.value})"


def _check_delay(name: str, delay: float) -> float:
    if not 0 <= delay < 1:
        raise ValueError(f"{name} schedule: delay must be in [0, 1), got {delay}")
    return float(delay)


def _delayed(progress: float, delay: float) -> float:
    """Progress clipped to [0, 1], then 0 until ``delay`` and rescaled to [0, 1] after it."""
    p = min(max(float(progress), 0.0), 1.0)
    return max(p - delay, 0.0) / (1.0 - delay)


class DANNSchedule(AbsSchedule):
    """Ganin's annealing ``2 / (1 + exp(-gamma p)) - 1``, 0 at p = 0.

    Args:
        gamma: Steepness (Ganin: 10; Leow: 1.25, 2.5 or 3.33).
        delay: Fraction of training [0, 1) with factor 0 before the ramp starts.
    """

    def __init__(self, gamma: float = 10.0, delay: float = 0.0):
        if gamma <= 0:
            raise ValueError(f"dann schedule: gamma must be > 0, got {gamma}")
        self.gamma = float(gamma)
        self.delay = _check_delay("dann", delay)

    def __call__(self, progress: float) -> float:
        p = _delayed(progress, self.delay)
        return 2.0 / (1.0 + math.exp(-self.gamma * p)) - 1.0

    def __repr__(self) -> str:
        return f"DANNSchedule(gamma={self.gamma}" + (f", delay={self.delay})" if self.delay else ")")


class LinearWarmupSchedule(AbsSchedule):
    """Linear ramp 0 -> 1 over the first ``warmup`` fraction of training.

    Args:
        warmup: Fraction of training (0, 1] over which the factor ramps up
            (of the training after ``delay``).
        delay: Fraction of training [0, 1) with factor 0 before the ramp starts.
    """

    def __init__(self, warmup: float = 0.1, delay: float = 0.0):
        if not 0 < warmup <= 1:
            raise ValueError(f"linear schedule: warmup must be in (0, 1], got {warmup}")
        self.warmup = float(warmup)
        self.delay = _check_delay("linear", delay)

    def __call__(self, progress: float) -> float:
        return min(_delayed(progress, self.delay) / self.warmup, 1.0)

    def __repr__(self) -> str:
        return f"LinearWarmupSchedule(warmup={self.warmup}" + (f", delay={self.delay})" if self.delay else ")")


SCHEDULES = {
    "constant": ConstantSchedule,
    "dann": DANNSchedule,
    "linear": LinearWarmupSchedule,
}


def build_schedule(name: str, conf: Optional[Dict] = None) -> AbsSchedule:
    """Build a registered schedule.

    Args:
        name: One of ``SCHEDULES`` (constant, dann, linear).
        conf: Keyword arguments of the schedule class.

    Returns:
        The schedule object.

    Raises:
        ValueError: Unknown name (the message lists the registered ones) or
            bad keyword arguments.
    """
    if name not in SCHEDULES:
        raise ValueError(
            f"unknown GRL schedule '{name}': choose one of {sorted(SCHEDULES)}"
        )
    try:
        return SCHEDULES[name](**(conf or {}))
    except TypeError as e:
        raise ValueError(f"schedule '{name}': bad schedule_conf {conf}: {e}") from e
