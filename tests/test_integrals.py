"""boolgrad.integrals: exact integrals of a table's step-function g, against sums over every
pattern (the ground truth), the area (spec §7), and Monte Carlo for float32/float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _cells import enumerated_cells

from boolgrad import build_table, closed_form_table
from boolgrad.gradient import mask_of, sum_terms
from boolgrad.integrals import power_sum, step_gradient, step_ranks


def _brute(cells, lo, hi, power, clamp):
    left, right, g = cells
    w = np.clip(np.minimum(right, hi) - np.maximum(left, lo), 0.0, None)
    h = g if clamp is None else np.minimum(g, clamp)
    keep = w > 0
    return math.fsum((h[keep] ** power) * w[keep])


FORMATS = [
    "fixed8.4",
    "ufixed10.6",
    "fixed12.3",
    "float16",
    "bfloat16",
    "float8_e4m3fn",
    "float8_e5m2",
    "e3m4",
    "e4m3",
    "e2m5",
    "e5m4",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_integral_equals_sum_over_every_pattern(fmt, convention):
    theta = 0.3 if "fixed" not in fmt else 0.75
    table = build_table(fmt, theta, convention=convention)
    cells = enumerated_cells(table)
    th = table.meta.theta_used
    v = np.unique(np.concatenate([cells[0], cells[1]]))
    v = v[np.isfinite(v)]
    near = v[np.argsort(np.abs(v - th))[:6]]  # pattern values next to theta (boundaries)
    edges = [
        -math.inf,
        math.inf,
        float(v[0]),
        float(v[-1]),
        0.0,
        -0.0,
        th,
        th - 0.25,
        th + 0.5,
        th - 1e-3,
        th + 1e-3,
        *map(float, near),
        th - 3.7,
        th + 2.1,
    ]
    rng = np.random.default_rng(0)
    pairs = [(a, b) for a in edges for b in edges if a < b][::3] + [
        tuple(sorted(rng.normal(th, 2, 2))) for _ in range(10)
    ]
    for power in (1, 2):
        for clamp in (None, 0.0, 2.0, 37.5):
            for lo, hi in pairs:
                got = table.integral(lo, hi, power=power, clamp=clamp)
                want = _brute(cells, lo, hi, power, clamp)
                scale = (
                    _brute(cells, lo, hi, power, clamp)
                    if convention == "secant"
                    else math.fsum(
                        np.abs(np.minimum(cells[2], clamp or math.inf)) ** power
                        * np.clip(np.minimum(cells[1], hi) - np.maximum(cells[0], lo), 0, None)
                    )
                )
                assert got == pytest.approx(want, rel=1e-11, abs=1e-12 * (scale + 1e-300)), (
                    lo,
                    hi,
                    power,
                    clamp,
                )


@pytest.mark.parametrize("fmt", ["fixed8.4", "float16", "float8_e4m3fn", "float32", "float64"])
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_whole_range_is_the_area(fmt, convention):
    table = closed_form_table(fmt, 0.3, convention=convention)
    assert table.integral(-math.inf, math.inf) == pytest.approx(table.area(), rel=1e-12)
    lo, hi = -1.0, 2.0
    assert table.integral(hi, lo) == -table.integral(lo, hi)
    assert table.integral(0.5, 0.5) == 0.0


def test_step_ranks_round_down():
    table = build_table("float16", 0.3)
    fmt = table.fmt
    v = fmt.decode(fmt.pattern_at_rank(np.arange(1, fmt.n_ranks - 2, dtype=np.uint64)))
    u = np.concatenate([v, np.nextafter(v, np.inf), (v[:-1] + v[1:]) / 2])
    r, inside = step_ranks(fmt, u)
    assert inside.all()
    got = fmt.decode(fmt.pattern_at_rank(r))
    assert (got <= u).all()
    nxt = fmt.decode(fmt.pattern_at_rank(r + np.uint64(1)))
    assert (u < nxt).all() | ((nxt == 0) & (u == 0)).all()
    # u = 0 and -0 belong to -0's cell; outside the finite range g = 0
    r0, _ = step_ranks(fmt, [0.0, -0.0])
    assert (r0 == fmt.max_mag + 1).all()
    assert step_gradient(table, [np.inf, -np.inf, 65504.0, -1e6]).tolist() == [0, 0, 0, 0]


def test_power_sum_matches_direct_sums():
    rng = np.random.default_rng(1)
    for _ in range(20):
        C = rng.normal()
        terms = [(rng.normal() * 1e3, x) for x in rng.uniform(1, 3e4, 3)]
        s, t = int(rng.integers(0, 5000)), int(rng.integers(6000, 200000))
        m = np.arange(s, t + 1, dtype=np.float64)
        g = C + sum(w / (m + x) for w, x in terms)
        for p in (1, 2):
            for cap in (None, float(np.median(g))):
                want = math.fsum((g if cap is None else np.minimum(g, cap)) ** p)
                scale = math.fsum(np.abs(g) ** p)
                assert power_sum(C, terms, s, t, p, cap) == pytest.approx(want, rel=1e-12, abs=1e-12 * scale)


def _enumerated_range(table, lo, hi, power, clamp):
    """Ground truth on a window of a wide format: every pattern whose cell meets [lo, hi]."""
    fmt, spec = table.fmt, table.spec
    r_lo, _ = step_ranks(fmt, [lo])
    r_hi, _ = step_ranks(fmt, [hi])
    r = np.arange(int(r_lo[0]), int(r_hi[0]) + 2, dtype=np.uint64)
    b = fmt.pattern_at_rank(r)
    g, _, _, _ = sum_terms(spec, b[:-1], mask_of(spec, b[:-1]))
    v = fmt.decode(b)
    return _brute((v[:-1], v[1:], g), lo, hi, power, clamp)


@pytest.mark.parametrize("fmt, half", [("float32", 3e-3), pytest.param("float64", 1e-12, marks=pytest.mark.slow)])
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_wide_formats_against_enumerated_windows(fmt, half, convention):
    table = closed_form_table(fmt, 0.3, convention=convention)
    th = table.meta.theta_used
    for lo, hi in [(th - half, th), (th, th + half), (th - half / 3, th + half), (th - half, th - half / 7)]:
        for power, clamp in [(1, None), (2, None), (1, 500.0), (2, 500.0), (1, 0.0), (2, 0.0)]:
            got = table.integral(lo, hi, power=power, clamp=clamp)
            assert got == pytest.approx(_enumerated_range(table, lo, hi, power, clamp), rel=1e-10)


@pytest.mark.parametrize("fmt", ["float32", pytest.param("float64", marks=pytest.mark.slow)])  # float64: ~18 s each
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_wide_formats_against_monte_carlo(fmt, convention):
    """Bounded integrands (clamped) over wide windows: stratified sampling within 5 s.e."""
    table = closed_form_table(fmt, 0.3, convention=convention)
    rng = np.random.default_rng(2)
    th = table.meta.theta_used
    for lo, hi in [(th - 1e-3, th), (th, th + 1e-2), (th - 0.5, th + 0.5), (th - 1.0, th)]:
        n = 200_000
        u = lo + (hi - lo) * (np.arange(n) + rng.random(n)) / n
        for power, clamp in [(2, 500.0), (1, 500.0), (1, 20.0)]:
            h = np.minimum(step_gradient(table, u), clamp) ** power
            mc = h.mean() * (hi - lo)
            se = h.std() * (hi - lo) / math.sqrt(n)
            assert abs(table.integral(lo, hi, power=power, clamp=clamp) - mc) <= 5 * se + 1e-9 * abs(mc)
