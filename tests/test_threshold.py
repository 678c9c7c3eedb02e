"""Threshold resolution (boolgrad.threshold): rounding, rank, the pattern shortcut, errors."""


import numpy as np
import pytest

from boolgrad import make_spec, make_threshold, parse_format
from boolgrad.threshold import pattern_threshold_rank, threshold_rank


def test_threshold_rounding_and_rank():
    f16 = parse_format("float16")
    thr = make_threshold(f16, 0.3)
    assert thr.pattern == 0x34CD and thr.used == float(np.float16(0.3))
    assert make_threshold(f16, 1e9).used == 65504.0  # saturates
    assert make_threshold(f16, 0.3, exact_threshold=True).pattern is None
    # the threshold rank is the first pattern that fires
    b = np.arange(2**16, dtype=np.uint64)
    v = f16.decode(b)
    for theta, cmp in [(0.3, "ge"), (0.0, "ge"), (0.0, "gt"), (-0.0, "ge"), (-1.5, "gt"), (65504.0, "gt")]:
        for exact in (False, True):
            thr = make_threshold(f16, theta, cmp, exact)
            with np.errstate(invalid="ignore"):
                expected = (v >= thr.used) if cmp == "ge" else (v > thr.used)
            assert np.array_equal(thr.fires(b), expected & ~np.isnan(v)), (theta, cmp, exact)


@pytest.mark.parametrize("name", ["e2m2", "e2m1fn", "e3m2", "fixed4.1", "ufixed4.0", "float8_e4m3fn"])
def test_pattern_threshold_rank_equals_the_search(name):
    """The closed-form rank of a pattern threshold equals the exact bisection, for every
    pattern (NaN, +-inf and +-0 included) and both comparators."""
    fmt = parse_format(name)
    for p in range(fmt.n_patterns):
        for cmp in ("ge", "gt"):
            assert pattern_threshold_rank(fmt, p, cmp) == threshold_rank(fmt, fmt.exact_value(p), cmp), (p, cmp)


@pytest.mark.parametrize("theta", [float("nan"), float("inf"), -float("inf"), "abc"])
def test_bad_threshold(theta):
    with pytest.raises(ValueError, match="threshold"):
        make_threshold("float16", theta)


def test_exact_threshold_out_of_range():
    with pytest.raises(ValueError, match="outside the finite range"):
        make_threshold("ufixed8.4", -1.0, exact_threshold=True)
    with pytest.raises(ValueError, match="not representable"):
        make_spec("float16", 0.3, exact_threshold=True, wrt="theta")


def test_thresholds_beyond_float64_and_non_reals():
    with pytest.raises(ValueError, match="beyond float64's range"):
        make_threshold("float16", 10**400)
    with pytest.raises(ValueError, match="beyond float64's range"):
        make_threshold("float16", -(10**400))
    for bad in ("0.3", 1j, None):
        with pytest.raises(ValueError, match="real number"):
            make_threshold("float16", bad)
    # a finite float64 beyond the format saturates (spec §2) ...
    assert make_threshold("float16", 1e300).used == 65504.0
    # ... unless the comparison is exact
    with pytest.raises(ValueError, match="outside the finite range"):
        make_threshold("float16", 1e300, exact_threshold=True)
