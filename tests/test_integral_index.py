"""The fast integral (boolgrad.integral_index) against the exact oracle and per-pattern sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _cells import enumerated_cells

from boolgrad import build_table, closed_form_table
from boolgrad.integral_index import integrals_many
from boolgrad.integrals import integral, integral_exact

CASES = [(1, None), (2, None), (1, 500.0), (2, 500.0), (1, 0.0), (2, 0.0), (1, 2.0)]


def _brute(cells, lo, hi, power, clamp):
    left, right, g = cells
    w = np.clip(np.minimum(right, hi) - np.maximum(left, lo), 0.0, None)
    h = g if clamp is None else np.minimum(g, clamp)
    keep = w > 0
    return math.fsum((h[keep] ** power) * w[keep]), math.fsum(np.abs(h[keep] ** power) * w[keep])


@pytest.mark.parametrize("fmt", ["float16", "bfloat16", "fixed16.12", "fixed16.3", "float8_e4m3fn", "e5m4"])
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_fast_equals_every_pattern_sum(fmt, convention):
    table = closed_form_table(fmt, 0.3, convention=convention)
    cells = enumerated_cells(table)
    v = np.unique(np.concatenate(cells[:2]))
    rng = np.random.default_rng(3)
    th = table.meta.theta_used
    ends = np.concatenate([rng.choice(v, 60), th + rng.normal(0, 1, 30), th - np.geomspace(1e-3, 2, 15),
                           th + np.geomspace(1e-3, 2, 15), [0.0, -0.0, th, v[0], v[-1], -np.inf, np.inf]])
    lo, hi = rng.choice(ends, 150), rng.choice(ends, 150)
    for power, clamp in CASES:
        got = integrals_many(table, lo, hi, power=power, clamp=clamp)
        for a, b, x in zip(lo, hi, got):
            want, scale = _brute(cells, min(a, b), max(a, b), power, clamp)
            want = want if a <= b else -want
            assert x == pytest.approx(want, rel=1e-12, abs=1e-12 * scale + 1e-300), (a, b, power, clamp)


@pytest.mark.parametrize("fmt", ["float32", pytest.param("float64", marks=pytest.mark.slow)])  # float64: ~25 s each
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_fast_equals_exact_oracle_on_wide_formats(fmt, convention):
    table = closed_form_table(fmt, 0.3, convention=convention)
    fm = table.fmt
    th = table.meta.theta_used
    tiny = float(fm.decode(fm.pattern_at_rank(np.asarray([fm.max_mag + 2], dtype=np.uint64)))[0])
    rng = np.random.default_rng(4)
    d = float(rng.choice(np.geomspace(1e-3, 2, 50)))
    windows = [(th - d, th), (th, th + d), (th - 0.05, th), (-tiny, 3 * tiny), (0.0, th), (-0.3, 0.0),
               (0.25, 0.5), (np.nextafter(0.25, 0), 0.375), (th - 1.7, th + 0.3), (-2.0, -1.0 + 1e-9),
               (th, np.nextafter(th, 1)), (-np.inf, th), (*sorted(rng.normal(0, 1, 2)),)]
    for power, clamp in CASES[:4] + CASES[5:6]:
        for lo, hi in windows:
            want = integral_exact(table, lo, hi, power=power, clamp=clamp)
            got = integral(table, lo, hi, power=power, clamp=clamp)
            scale = integral_exact(table, lo, hi, power=2, clamp=None) ** (power / 2) if convention == "paper" else 0
            assert got == pytest.approx(want, rel=1e-12, abs=1e-12 * abs(scale)), (lo, hi, power, clamp)


def test_methods_and_scalar_batch_agree():
    table = build_table("float16", 0.3)
    lo, hi = np.array([0.1, 0.3, 0.5]), np.array([0.3, 0.2, 2.0])
    many = integrals_many(table, lo, hi, power=2, clamp=3.0)
    assert many.tolist() == [integral(table, a, b, power=2, clamp=3.0) for a, b in zip(lo, hi)]
    assert integral(table, 0.1, 0.3, power=2, clamp=3.0, method="exact") == pytest.approx(many[0], rel=1e-13)
    with pytest.raises(ValueError, match="method"):
        integral(table, 0.1, 0.3, method="midpoint")
