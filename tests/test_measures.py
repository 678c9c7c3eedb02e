"""Area and peak over runs (boolgrad.measures) against brute force over every pattern."""

import math

import numpy as np
import pytest
from _grid import FORMATS, OPTIONS, thresholds

from boolgrad import build_table, gradient_at, parse_format
from boolgrad.measures import recip_sum


def _brute_area_peak(fmt, g_by_rank):
    ranks = np.arange(fmt.n_ranks, dtype=np.uint64)
    v = fmt.decode(fmt.pattern_at_rank(ranks))
    if fmt.kind == "fixed":
        area = math.fsum(g_by_rank * 2.0**-fmt.frac)
    else:
        ok = np.isfinite(v[:-1]) & np.isfinite(v[1:])
        area = math.fsum(g_by_rank[:-1][ok] * (v[1:] - v[:-1])[ok])
    k = int(np.flatnonzero(g_by_rank == g_by_rank.max())[0])
    return area, (g_by_rank[k], v[k])


@pytest.mark.parametrize("name", FORMATS + ["e5m10fn", "e2m1", "e4m3"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_area_and_peak_against_brute_force(name, opts):
    fmt = parse_format(name)
    for theta in thresholds(fmt):
        table = build_table(fmt, theta, device="cpu", **opts)
        g = gradient_at(fmt, theta, fmt.pattern_at_rank(np.arange(fmt.n_ranks, dtype=np.uint64)), **opts).g
        area, (gmax, at) = _brute_area_peak(fmt, g)
        assert math.isclose(table.area(), area, rel_tol=1e-12, abs_tol=1e-300), (theta, table.area(), area)
        peak = table.peak()
        assert peak[0] == gmax and np.float64(peak[1]).tobytes() == np.float64(at).tobytes(), (theta, peak, gmax, at)


def test_known_values_at_theta_0_3():
    f16 = build_table("float16", 0.3)
    assert f16.meta.theta_used == 0.300048828125 and f16.n_runs == 43
    u16 = build_table("ufixed16.12", 0.3)
    # fixed point: g is constant on a run and the area is exact (a dyadic rational)
    assert u16.peak() == (6555.875, 0.2998046875)
    assert u16.area() == 16.40545654296875


def test_recip_sum_against_direct_sums():
    for y, n in [(1.0, 10), (0.5, 100_000), (3.25, 1 << 16), (1 << 23, 1 << 23), (4097.5, 3_000_000), (1e-3, 50_000)]:
        direct = math.fsum(1.0 / (y + np.arange(n, dtype=np.float64)))
        assert math.isclose(recip_sum(y, n), direct, rel_tol=1e-13), (y, n)


@pytest.mark.parametrize("name", ["e11m2", "fixed6.1070"])
@pytest.mark.parametrize("opts", [dict(), dict(convention="paper", comparator="gt")])
def test_overflowing_terms_are_summed_exactly(name, opts):
    """Weights below 2**-1024 (float64-range subnormals, F > 1024): 1/D overflows float64,
    so g is summed exactly and rounded (to inf when the exact g is beyond float64); the area
    and peak still equal an exact brute force over every pattern."""
    from fractions import Fraction

    from boolgrad.gradient import exact_g

    fmt = parse_format(name)
    table = build_table(fmt, 0.0, **opts)
    ranks = np.arange(fmt.n_ranks, dtype=np.uint64)
    b = fmt.pattern_at_rank(ranks)
    ref = gradient_at(fmt, 0.0, b, **opts)
    assert not np.isnan(ref.g).any() and np.isinf(ref.g).any()
    assert np.array_equal(table.gradient(b), ref.g)
    exact = [exact_g(table.spec, int(p), int(m)) for p, m in zip(b, ref.mask)]
    for e, g in zip(exact, ref.g):
        try:
            assert math.isclose(g, float(e), rel_tol=1e-12, abs_tol=1e-300)
        except OverflowError:  # the exact g is beyond float64
            assert np.isinf(g) and (g > 0) == (e > 0)
    vals = [fmt.exact_value(int(p)) for p in b]
    if fmt.kind == "fixed":
        area = sum(exact) * Fraction(2) ** -fmt.frac
    else:
        area = sum(e * (v1 - v0) for e, v0, v1 in zip(exact, vals, vals[1:])
                   if not isinstance(v0, float) and not isinstance(v1, float))
    assert math.isclose(table.area(), float(area), rel_tol=1e-12)
