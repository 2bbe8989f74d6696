"""The simulator's `--slow FACTOR` (and $WXO_LOAD_MOCK_SLOW): every latency of the profile's
timing scaled by a known amount, for testing regression gates."""

from __future__ import annotations

import random

import pytest

from wxo_load.core.errors import ConfigError
from wxo_load.mock.profile_model import TIME_FIELDS, slow_factor, slowed
from wxo_load.mock.profiles import load_profile


def test_every_latency_scales_by_the_factor_and_the_step_count_does_not() -> None:
    profile = load_profile("default")
    slower = slowed(profile, 1.15)
    for name in TIME_FIELDS:
        before, after = getattr(profile.timing, name), getattr(slower.timing, name)
        a, b = random.Random(7), random.Random(7)
        for _ in range(50):
            assert after.sample(a) == pytest.approx(before.sample(b) * 1.15)
    assert slower.timing.steps == profile.timing.steps


def test_the_option_wins_over_the_environment_and_a_bad_factor_is_refused() -> None:
    assert slow_factor(None, None, "X") == 1.0
    assert slow_factor(None, "1.15", "X") == 1.15
    assert slow_factor(2.0, "1.15", "X") == 2.0
    with pytest.raises(ConfigError, match=r"\$X: expected a factor above 0"):
        slow_factor(None, "fast", "X")
    with pytest.raises(ConfigError, match="option --slow"):
        slow_factor(0.0, None, "X")
