"""Shared grid of the table tests: formats, thresholds, options."""

import numpy as np

FORMATS = ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "fixed16.12", "ufixed16.12", "e3m4", "fixed7.9",
           "ufixed5.-2"]


def thresholds(fmt):
    """0, a negative, a power of two, one between two patterns, the largest finite value."""
    r = int(fmt.rank(fmt.encode(np.array([0.3]), saturate=True))[0])
    r = min(r, fmt.n_ranks - 3)  # 0.3 may saturate (fixed7.9 tops out at 0.123)
    lo, hi = fmt.decode(fmt.pattern_at_rank(np.array([r, r + 1], dtype=np.uint64)))
    return [0.0, -1.25, 0.5, float(lo + (hi - lo) * 5 / 8), fmt.max_finite]


def all_patterns(fmt):
    return np.arange(fmt.n_patterns, dtype=np.uint64)


OPTIONS = [dict(), dict(comparator="gt"), dict(convention="paper"), dict(wrt="theta"),
           dict(wrt="theta", comparator="gt", convention="paper")]


