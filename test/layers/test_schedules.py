"""GRL schedules: Leow et al.'s final values, Ganin's shape, registry errors."""

import math

import pytest

from espnet_ser.layers.schedules import SCHEDULES, build_schedule


@pytest.mark.parametrize("gamma,final", [(1.25, 0.555), (2.5, 0.848), (3.33, 0.931)])
def test_dann_leow_final_values(gamma, final):
    s = build_schedule("dann", {"gamma": gamma})
    assert s(0.0) == 0.0
    assert abs(s(1.0) - final) < 1e-3


def test_dann_ganin_monotone_and_clamped():
    s = build_schedule("dann", {"gamma": 10.0})
    values = [s(p / 10) for p in range(11)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert abs(s(0.5) - (2 / (1 + math.exp(-5)) - 1)) < 1e-12
    assert s(2.0) == s(1.0)  # progress beyond the end is clamped


def test_constant_and_linear():
    assert build_schedule("constant", {"value": 0.3})(0.9) == 0.3
    lin = build_schedule("linear", {"warmup": 0.2})
    assert lin(0.1) == pytest.approx(0.5) and lin(0.5) == 1.0


def test_unknown_schedule_lists_choices():
    with pytest.raises(ValueError) as e:
        build_schedule("cosine")
    for name in SCHEDULES:
        assert name in str(e.value)
    with pytest.raises(ValueError, match="schedule_conf"):
        build_schedule("dann", {"gama": 2})


def test_delay_holds_zero_then_ramps_over_the_rest():
    """delay: emotion path first (factor 0), then the same ramp on the remaining progress."""
    plain = build_schedule("dann", {"gamma": 3.33})
    late = build_schedule("dann", {"gamma": 3.33, "delay": 0.3})
    assert late(0.0) == 0.0 and late(0.3) == 0.0 and late(0.29) == 0.0
    assert late(0.65) == pytest.approx(plain(0.5)) and late(1.0) == pytest.approx(plain(1.0))
    assert late(2.0) == late(1.0)
    lin = build_schedule("linear", {"warmup": 0.5, "delay": 0.2})
    assert lin(0.2) == 0.0 and lin(0.4) == pytest.approx(0.5) and lin(0.6) == pytest.approx(1.0) and lin(0.9) == 1.0
    assert "delay=0.3" in repr(late) and "delay" not in repr(plain)
    for name, conf in (("dann", {"delay": 1.0}), ("linear", {"delay": -0.1})):
        with pytest.raises(ValueError, match="delay must be in"):
            build_schedule(name, conf)
