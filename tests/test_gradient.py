"""Per-pattern gradient (spec §2-5): the exact-fraction reference, properties, thresholds."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import float_value, reference_g, round_theta_float

from boolgrad import gradient_at, gradient_from_spec, make_spec, make_threshold, parse_format
from boolgrad.gradient import mask_of

THETAS32 = [0.3, -0.3, 0.0, 1.0, 2.0**-130, -2.0**-149, 3.0e38, 1.5, -1.0e-3, 6.0e4]


def _near(fmt, theta_pattern, k):
    """Every pattern within ``k`` ranks of the threshold's pattern."""
    r = int(fmt.rank(np.array([theta_pattern], np.uint64))[0])
    ranks = np.arange(max(r - k, 0), min(r + k + 1, fmt.n_ranks), dtype=np.uint64)
    return fmt.pattern_at_rank(ranks)


def _binade_edges(fmt):
    """Patterns at and next to every exponent boundary, +-0, +-inf and NaN neighbours."""
    out = []
    for e in range(1 << fmt.exp_bits):
        base = e << fmt.man_bits
        for sign in (0, 1 << (fmt.bits - 1)):
            for d in (0, 1, (1 << fmt.man_bits) - 1):
                out.append(sign | (base + d) % (1 << (fmt.bits - 1)))
    return np.unique(np.array(out, dtype=np.uint64))


def _check_against_reference(name, theta, patterns, **kw):
    bits = parse_format(name).bits
    r = gradient_at(name, theta, patterns, **kw)
    wrt = kw.get("wrt", "u")
    tp, tv = round_theta_float(bits, theta)
    spec = r.spec
    for p, m, g in zip(patterns, r.mask, r.g):
        rm, rg = reference_g(lambda q: float_value(bits, q), bits, int(p), tv, comparator=kw.get("comparator", "ge"),
                             convention=kw.get("convention", "secant"), excluded=spec.excluded, wrt=wrt,
                             theta_pattern=tp)
        assert int(m) == rm, (hex(int(p)), bin(int(m)), bin(rm))
        try:
            expected = float(rg)
        except OverflowError:  # g beyond float64 (1/2**-1074 near a zero threshold): inf
            expected = math.inf if rg > 0 else -math.inf
        assert math.isclose(float(g), expected, rel_tol=1e-12, abs_tol=0.0), (hex(int(p)), float(g), expected)


@pytest.mark.parametrize("theta", THETAS32)
@pytest.mark.parametrize("convention", ["secant", "paper"])
def test_float32_against_fraction_reference(theta, convention):
    fmt = parse_format("float32")
    rng = np.random.default_rng(abs(hash((theta, convention))) % 2**32)
    tp, _ = round_theta_float(32, theta)
    pats = np.concatenate([
        _near(fmt, tp, 6),
        _binade_edges(fmt)[::7],
        rng.integers(0, 2**32, 150, dtype=np.uint64),
        np.array([0x7F800001, 0xFFC00000], np.uint64),  # NaNs are evaluated too
    ])
    _check_against_reference("float32", theta, pats, convention=convention)


@pytest.mark.parametrize("theta", [0.3, -2.5, 0.0, 1e-310, 1.7e308])
@pytest.mark.parametrize("comparator,wrt", [("ge", "u"), ("gt", "u"), ("ge", "theta"), ("gt", "theta")])
def test_float64_against_fraction_reference(theta, comparator, wrt):
    fmt = parse_format("float64")
    rng = np.random.default_rng(7)
    tp, _ = round_theta_float(64, theta)
    pats = np.concatenate([_near(fmt, tp, 3), rng.integers(0, 2**63, 40, dtype=np.uint64) * np.uint64(2),
                           np.array([0, 2**63, 0x7FF0000000000000, 0x7FEFFFFFFFFFFFFF], np.uint64)])
    _check_against_reference("float64", theta, pats, comparator=comparator, wrt=wrt)


def test_fixed_point_against_integer_reference():
    fmt = parse_format("fixed12.5")
    b = np.arange(fmt.n_patterns, dtype=np.uint64)
    for theta in (0.3, -7.0, 63.97, 0.0):
        thr = make_threshold(fmt, theta)
        tv = fmt.exact_value(thr.pattern)
        r = gradient_at(fmt, theta, b, convention="paper")
        for p in range(0, fmt.n_patterns, 13):
            rm, rg = reference_g(fmt.exact_value, fmt.bits, p, tv, convention="paper")
            assert int(r.mask[p]) == rm and Fraction(float(r.g[p])) == rg  # dyadic: exact


def test_bad_options():
    with pytest.raises(ValueError, match="comparator"):
        make_spec("float16", 0.3, comparator="le")
    with pytest.raises(ValueError, match="convention"):
        make_spec("float16", 0.3, convention="surrogate")
    with pytest.raises(ValueError, match="wrt"):
        make_spec("float16", 0.3, wrt="w")
    with pytest.raises(ValueError, match="outside 0..15"):
        make_spec("float16", 0.3, excluded_bits=[16])


def test_paper_convention_defaults_and_sign_terms():
    spec = make_spec("float32", 0.3, convention="paper")
    assert spec.excluded == (30,)  # the most significant exponent bit, as the authors' code
    assert make_spec("fixed16.12", 0.3, convention="paper").excluded == ()
    # sign-bit terms are negative under the paper convention (faithful to the reference)
    r = gradient_at("float32", 0.3, np.array([0.5]), convention="paper", terms=True)
    assert r.chi[0, 31] and r.c[0, 31] == 1 / r.D[0, 31] < 0


def test_terms_and_degenerate_counts():
    f16 = parse_format("float16")
    # +inf: flipping a mantissa bit gives NaN (D NaN), lowering the top exponent bit a finite value
    r = gradient_at(f16, 0.3, np.array([0x7C00], np.uint64), terms=True)
    assert r.chi.shape == (1, 16)
    assert r.g[0] == 0.0 and r.degenerate[0] == int(r.chi[0].sum())
    assert np.all(r.c[0][r.chi[0]] == 0)


float16_patterns = st.integers(0, 2**16 - 1)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["float16", "bfloat16", "fixed16.12", "ufixed16.12", "e3m4", "float8_e4m3fn"]),
       st.floats(-70000, 70000, allow_nan=False), st.integers(0, 2**16 - 1), st.sampled_from(["ge", "gt"]),
       st.sampled_from(["u", "theta"]))
def test_chi_is_symmetric(name, theta, p, comparator, wrt):
    fmt = parse_format(name)
    p %= fmt.n_patterns
    spec = make_spec(fmt, theta, comparator=comparator, wrt=wrt)
    if wrt == "u":
        flips = np.array([p ^ (1 << i) for i in range(fmt.bits)], dtype=fmt.dtype)
        m = mask_of(spec, np.array([p], dtype=fmt.dtype))[0]
        mf = mask_of(spec, flips)
        for i in range(fmt.bits):
            assert ((int(m) >> i) & 1) == ((int(mf[i]) >> i) & 1)
    # secant sign: >= 0 in u, <= 0 in theta
    g = gradient_from_spec(spec, np.array([p], np.uint64)).g[0]
    assert (g >= 0) if wrt == "u" else (g <= 0)


def test_gradient_at_values_and_patterns_agree():
    x = np.array([0.29, 0.3, 0.31, -1.0])
    a = gradient_at("float32", 0.3, x)
    b = gradient_at("float32", 0.3, x.astype(np.float32).view(np.uint32))
    assert np.array_equal(a.g, b.g) and np.array_equal(a.mask, b.mask)
    assert a.spike.tolist() == [False, True, True, False]
    # u == theta exactly fires with ge, not with gt
    assert gradient_at("float32", 0.3, np.float32(0.3).reshape(1), comparator="gt").spike[0] == False  # noqa: E712


def test_api_edges_are_clean_errors_or_defined_results():
    # an int is one excluded bit; anything else that is not bit indices is refused
    assert make_spec("float16", 0.3, excluded_bits=5).excluded == (5,)
    assert make_spec("float16", 0.3, excluded_bits=np.int64(3)).excluded == (3,)
    with pytest.raises(ValueError, match="excluded_bits must be bit indices"):
        make_spec("float16", 0.3, excluded_bits="ab")
    # values must be real numbers
    for bad in (None, "0.3", np.array(["1"]), np.array([1 + 2j]), [object()]):
        with pytest.raises(TypeError, match="expected values or patterns"):
            gradient_at("float16", 0.3, bad)
    # a signalling NaN is a NaN, without a numpy warning (warnings are errors in this suite)
    snan = np.array([0x7F800001], np.uint32).view(np.float32)
    qnan = np.array([np.nan], np.float32)
    a, b = gradient_at("float32", 0.3, snan), gradient_at("float32", 0.3, qnan)
    assert a.patterns[0] == b.patterns[0] and a.g[0] == b.g[0] and not a.spike[0]
