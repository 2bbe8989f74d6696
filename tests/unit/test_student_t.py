"""The inverse Student t without scipy (core/student_t.py), held against published t tables."""

from __future__ import annotations

import math

import pytest

from wxo_load.core.student_t import regularized_beta, t_cdf, t_quantile, two_sided_t

# (degrees of freedom, confidence, two-sided t) from the standard table (NIST/SEMATECH 1.3.6.7.2)
TABLE = [
    (1, 0.95, 12.706),
    (2, 0.95, 4.303),
    (4, 0.95, 2.776),
    (4, 0.99, 4.604),
    (9, 0.90, 1.833),
    (10, 0.95, 2.228),
    (24, 0.95, 2.064),
    (30, 0.99, 2.750),
    (100, 0.95, 1.984),
]


@pytest.mark.parametrize(("df", "confidence", "expected"), TABLE)
def test_two_sided_t_matches_the_published_table(df: int, confidence: float, expected: float):
    assert two_sided_t(confidence, df) == pytest.approx(expected, abs=5e-4)


def test_the_quantile_inverts_the_cdf_and_is_symmetric() -> None:
    for df in (1, 3, 7.5, 50):
        for p in (0.001, 0.1, 0.5, 0.8, 0.975, 0.9999):
            t = t_quantile(p, df)
            assert t_cdf(t, df) == pytest.approx(p, abs=1e-10)
            assert t_quantile(1 - p, df) == pytest.approx(-t, abs=1e-9)


def test_many_degrees_of_freedom_approach_the_normal() -> None:
    assert two_sided_t(0.95, 100_000) == pytest.approx(1.95996, abs=1e-4)


def test_the_incomplete_beta_has_its_closed_forms() -> None:
    assert regularized_beta(1, 1, 0.3) == pytest.approx(0.3)  # the uniform
    assert regularized_beta(2, 1, 0.5) == pytest.approx(0.25)  # x^2
    assert t_cdf(1.0, 1) == pytest.approx(0.5 + math.atan(1.0) / math.pi)  # Cauchy


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5])
def test_a_level_outside_0_1_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        two_sided_t(bad, 4)
