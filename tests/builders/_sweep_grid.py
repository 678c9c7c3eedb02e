"""Shared grid of the build tests: formats, thresholds, specs, and the run comparison."""

from __future__ import annotations

import itertools

import numpy as np

from boolgrad import make_spec, parse_format
from boolgrad.builders.array_engine import array_sweep

SMALL = [
    "fixed1.0", "ufixed1.0", "fixed8.3", "ufixed8.3", "fixed6.-2", "ufixed7.9", "fixed12.20",
    "e1m0", "e1m0fn", "e2m0", "e2m1", "e1m2", "e3m0fn", "e4m3", "float8_e4m3fn", "float8_e5m2",
    "e3m4fn",
]
SIXTEEN = ["fixed16.8", "ufixed16.16", "float16", "bfloat16"]
TWENTY = ["fixed20.10", "e5m14", "e6m13fn"]

F32_MAX = 3.4028234663852886e38
F32_THETAS = [(1.0, "ge"), (1.0, "gt"), (0.0, "ge"), (-3.5, "gt"), (F32_MAX, "ge"), (-1e-40, "ge")]


def thetas(fmt):
    """Zero, negative, a power of two, between patterns, the extremes, beyond the range."""
    return [0.0, -0.75, 4.0, 0.3, 1e-3, fmt.min_finite, fmt.max_finite, 1e300, -1e300]


def specs(fmt, comparators=("ge", "gt"), wrts=("u", "theta")):
    """Every spec of the grid (``exact_threshold`` for an in-range theta, wrt u only)."""
    fmt = parse_format(fmt)
    for theta, comparator, wrt in itertools.product(thetas(fmt), comparators, wrts):
        yield make_spec(fmt, theta, comparator=comparator, wrt=wrt)
    for comparator in comparators:
        if "u" in wrts and fmt.min_finite <= 0.3 <= fmt.max_finite:
            yield make_spec(fmt, 0.3, comparator=comparator, exact_threshold=True)


def assert_same_runs(got, ref, what):
    assert got[0].dtype == np.uint64 and got[1].dtype == np.uint64, what
    assert np.array_equal(got[0], ref[0]), f"{what}: run starts differ"
    assert np.array_equal(got[1], ref[1]), f"{what}: run masks differ"


def describe(spec):
    t = spec.threshold
    return f"{spec.fmt.name} theta={t.requested!r} {t.comparator} wrt={spec.wrt} exact={t.exact}"


def float32_slices(half):
    """Rank windows of float32: around theta=1, zero, the largest finite value, NaN edges."""
    f = parse_format("float32")
    A, n = f.max_mag, f.n_ranks
    one = int(make_spec(f, 1.0).threshold.rank)
    return {
        "theta": (one - half, one + half),
        "zero": (A - half, A + half),
        "largest finite / +inf / NaN": (n - 2 * half, n),
        "-inf / NaN": (0, 2 * half),
    }


def _check_float32_slices(sweep, half, thetas):
    windows = float32_slices(half).items()
    for (theta, comparator), (where, (start, stop)) in itertools.product(thetas, windows):
        spec = make_spec("float32", theta, comparator=comparator)
        ref = array_sweep(spec, start, stop)
        assert_same_runs(sweep(spec, start, stop), ref, f"{describe(spec)} around {where}")
