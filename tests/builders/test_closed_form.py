"""Closed-form tables (boolgrad.builders.closed_form) against enumeration, the ground truth.

* Formats of at most 16 bits: ``closed_form_table == build_table`` (same runs, masks and
  metadata) over a grid of formats x thresholds x options.  The default run takes a
  deterministic sample of the grid; ``-m slow`` runs all of it.
* Wider formats (float32, float64, fixed64, random e<E>m<M> up to 64 bits): the closed-form
  table's masks and ``g`` equal :func:`boolgrad.gradient.gradient_at` (every bit flipped) on
  every run boundary +-2 patterns and on random patterns.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import boolgrad as bg
from boolgrad import build_table
from boolgrad.builders.closed_form import closed_form_table
from boolgrad.formats import FixedFormat, FloatFormat

# -- the <= 16-bit grid ----------------------------------------------------------------------
PRESETS_16 = [f for f, fmt in bg.PRESETS.items() if fmt.bits <= 16]
FLOATS_16 = [f"e{E}m{M}" for E in range(2, 6) for M in range(1, 11)]
FIXED_16 = [
    f"{u}fixed{W}.{F}" for u in ("", "u") for W in range(2, 17) for F in range(-3, W + 4)
]
GRID_FORMATS = PRESETS_16 + FLOATS_16 + FIXED_16
OPTIONS = [
    dict(comparator=c, convention=v, wrt=w)
    for c in ("ge", "gt")
    for v in ("secant", "paper")
    for w in ("u", "theta")
]


def grid_thresholds(fmt) -> list[tuple[float, bool]]:
    """``(theta, exact_threshold)`` pairs covering the cases of the issue, deterministic.

    0 and -0, negatives, powers of two, midpoints between neighbours (ties to even),
    the range extremes and beyond (saturation), subnormals, values strictly between two
    patterns (rounded, and compared exactly with ``exact_threshold=True``).
    """
    pats = np.arange(fmt.n_patterns, dtype=np.uint64)
    v = fmt.decode(pats)
    v = np.unique(v[np.isfinite(v)])  # sorted finite values (+0 and -0 merge)
    rng = np.random.default_rng(int(hashlib.sha256(fmt.name.encode()).hexdigest()[:8], 16))
    picks = rng.choice(len(v) - 1, size=3, replace=False) if len(v) > 4 else range(len(v) - 1)
    out = [(0.0, False), (-0.0, False), (float(v[0]), False), (float(v[-1]), False)]
    out += [(float(v[-1]) * 4 + 1, False), (float(v[0]) * 4 - 1, False)]  # saturate
    pos = v[v > 0]
    neg = v[v < 0]
    for k in sorted({0, -fmt.frac if fmt.kind == "fixed" else 0, 1, 3}):  # powers of two
        for s in (1, -1):
            x = s * 2.0**k
            if v[0] <= x <= v[-1]:
                out.append((x, False))
    if len(pos):
        out.append((float(pos[0]), False))  # smallest positive (a subnormal for floats)
        p2 = 2.0 ** np.floor(np.log2(pos[len(pos) // 2]))
        out.append((float(p2), False))
    if len(neg):
        out.append((float(neg[len(neg) // 2]), False))
    if fmt.kind == "float" and fmt.man_bits:
        sub = float(fmt.exact_value(1))  # subnormals: smallest, largest, between
        out += [(sub * ((1 << fmt.man_bits) - 1), False), (-sub * 1.5, False)]
    for k in picks:
        a, b = float(v[k]), float(v[k + 1])
        out.append(((a + b) / 2, False))  # midpoint: a tie, resolved to even
        between = a + (b - a) / 3
        out.append((between, False))
        if a < between < b:
            out.append((between, True))  # compared exactly, not representable
    seen, uniq = set(), []
    for th, ex in out:
        key = (np.float64(th).tobytes(), ex)
        if key not in seen:
            seen.add(key)
            uniq.append((th, ex))
    return uniq


def grid_cases(fmt_name):
    fmt = bg.parse_format(fmt_name)
    for th, exact in grid_thresholds(fmt):
        for opt in OPTIONS:
            if exact and opt["wrt"] == "theta":
                continue  # theta must be representable to differentiate its pattern
            yield th, exact, opt


def _sampled(fmt_name, keep_one_in: int):
    """Deterministic subsample of a format's cases (hash of the case, not order)."""
    cases = list(grid_cases(fmt_name))
    if bg.parse_format(fmt_name).bits <= 6:
        return cases  # enumeration is instant there: keep all
    out = []
    for th, exact, opt in cases:
        h = hashlib.sha256(repr((fmt_name, th, exact, sorted(opt.items()))).encode()).digest()
        if h[0] % keep_one_in == 0:
            out.append((th, exact, opt))
    return out


def _check_equal(fmt_name, th, exact, opt):
    a = build_table(fmt_name, th, exact_threshold=exact, device="cpu", progress=False, **opt)
    b = closed_form_table(fmt_name, th, exact_threshold=exact, **opt)
    assert b.meta.method == "closed-form"
    assert a == b, f"{fmt_name} theta={th!r} exact={exact} {opt}: runs differ"


def _default_formats():
    """All presets and e<E>m<M>; every third fixed format (W, F, signedness vary)."""
    return PRESETS_16 + FLOATS_16 + FIXED_16[::3]


@pytest.mark.parametrize("fmt_name", _default_formats())
def test_closed_form_equals_enumeration_sampled(fmt_name):
    cases = _sampled(fmt_name, keep_one_in=16)
    assert cases, "the sample must not be empty"
    for th, exact, opt in cases:
        _check_equal(fmt_name, th, exact, opt)


@pytest.mark.slow
@pytest.mark.parametrize("fmt_name", GRID_FORMATS)
def test_closed_form_equals_enumeration_full_grid(fmt_name):
    for th, exact, opt in grid_cases(fmt_name):
        _check_equal(fmt_name, th, exact, opt)


def test_grid_covers_the_issue_cases():
    """The threshold grid really contains the kinds of thresholds the issue names."""
    th = dict(grid_thresholds(bg.parse_format("e5m10")))
    fmt = bg.parse_format("e5m10")
    sub_max = float(fmt.exact_value((1 << 10) - 1))
    assert 0.0 in th and any(t < 0 for t in th) and 1.0 in th and 8.0 in th
    assert fmt.max_finite in th and -fmt.max_finite in th and sub_max in th
    assert any(exact for exact in th.values())  # a value between two patterns, exactly
    fx = dict(grid_thresholds(bg.parse_format("fixed8.3")))
    assert 2.0**-3 in fx and -16.0 in fx  # one ulp, and the most negative value


@pytest.mark.parametrize("fmt_name", ["fixed5.2", "ufixed5.-1", "e2m2", "e2m1fn"])
def test_every_threshold_of_small_formats(fmt_name):
    """Every representable threshold (and one between each pair), all option combinations."""
    fmt = bg.parse_format(fmt_name)
    v = fmt.decode(np.arange(fmt.n_patterns, dtype=np.uint64))
    v = np.unique(v[np.isfinite(v)])
    for th in [*v, *((v[1:] + v[:-1]) / 2)]:
        for opt in OPTIONS:
            _check_equal(fmt_name, float(th), False, opt)


STORED = {  # tests/data: float32 tables made by enumeration (build_table, minutes each)
    "float32_1.0_secant_ge": dict(theta=1.0, comparator="ge", convention="secant"),
    "float32_1.0_paper_ge": dict(theta=1.0, comparator="ge", convention="paper"),
    "float32_0.3_secant_gt": dict(theta=0.3, comparator="gt", convention="secant"),
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_stored_enumerated_float32_tables(name):
    """Closed form == a full 2**32-pattern enumeration, stored (checksummed) in tests/data."""
    stored = bg.GradientTable.load(Path(__file__).parents[1] / "data" / f"{name}.npz")
    assert stored.meta.method == "enumerate"
    kw = dict(STORED[name])
    assert closed_form_table("float32", kw.pop("theta"), **kw) == stored


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STORED))
def test_stored_tables_rebuild(name):
    """The stored tables are what enumeration gives today (seconds with numba)."""
    kw = dict(STORED[name])
    stored = bg.GradientTable.load(Path(__file__).parents[1] / "data" / f"{name}.npz")
    assert bg.build_table("float32", kw.pop("theta"), device="auto", **kw) == stored


def test_bad_options_raise():
    with pytest.raises(ValueError, match="comparator"):
        closed_form_table("float16", 1.0, comparator="lt")
    with pytest.raises(ValueError, match="convention"):
        closed_form_table("float16", 1.0, convention="bogus")
    with pytest.raises(ValueError, match="not representable"):
        closed_form_table("fixed8.2", 0.1, wrt="theta", exact_threshold=True)
    with pytest.raises(ValueError, match="finite"):
        closed_form_table("float64", float("nan"))
    with pytest.raises(ValueError, match="excluded bits"):
        closed_form_table("float64", 1.0, excluded_bits=[64])


# -- wide formats: against the per-pattern reference -----------------------------------------
def _boundary_patterns(table, pad: int = 2):
    """Patterns at every run start and end, +-pad ranks, clipped to the rank range."""
    fmt = table.fmt
    r = table.first_rank.astype(np.int64)
    n = fmt.n_ranks
    near = np.concatenate([r + d for d in range(-pad, pad + 1)])
    near = np.unique(np.clip(near, 0, n - 1)).astype(np.uint64)
    return fmt.pattern_at_rank(near)


def _random_patterns(fmt, count, seed):
    rng = np.random.default_rng(seed)
    if fmt.bits == 64:
        return rng.integers(0, 2**64, size=count, dtype=np.uint64)
    return rng.integers(0, 1 << fmt.bits, size=count, dtype=np.uint64)


def check_against_reference(table, patterns):
    """Table masks and g equal gradient_at's (every bit flipped) on ``patterns``."""
    ref = bg.gradient_from_spec(table.spec, patterns)
    got_mask = table.mask_at(patterns)
    got_g = table.gradient(patterns)
    bad = np.flatnonzero(got_mask != ref.mask)
    assert not bad.size, f"mask differs at pattern {int(patterns[bad[0]]):#x}"
    assert not np.isnan(got_g).any()
    assert np.array_equal(got_g, ref.g), "g differs"
    return len(patterns)


WIDE_THRESHOLDS = [1.0, 0.1, -1.0, 0.0, -0.0, 1e-40, 3.0e38, 2.0**-126, -7.25, 1e300]


@pytest.mark.parametrize("fmt_name", ["float32", "float64", "fixed64.20", "ufixed64.0", "fixed40.-3"])
@pytest.mark.parametrize("theta", WIDE_THRESHOLDS[:5])
def test_wide_formats_against_gradient_at(fmt_name, theta):
    for opt in (dict(), dict(comparator="gt", convention="paper"), dict(wrt="theta")):
        t = closed_form_table(fmt_name, theta, **opt)
        t.validate()
        check_against_reference(t, _boundary_patterns(t))
        check_against_reference(t, _random_patterns(t.fmt, 2000, seed=7))


def _random_format(rng):
    if rng.random() < 0.4:
        W = int(rng.integers(1, 65))
        return FixedFormat(W, int(rng.integers(-4, W + 5)), signed=bool(rng.integers(2)))
    E = int(rng.integers(1, 12))
    M = int(rng.integers(0, 53))
    return FloatFormat(E, M, variant="fn" if rng.random() < 0.3 else "ieee")


def test_random_formats_up_to_64_bits():
    """Random fixed/float formats (fn variant too), random thresholds and options."""
    rng = np.random.default_rng(2025)
    for _ in range(40):
        fmt = _random_format(rng)
        v = float(fmt.exact_value(int(_random_patterns(fmt, 1, int(rng.integers(1 << 30)))[0])))
        theta = v if np.isfinite(v) else 1.0
        if rng.random() < 0.3:
            theta *= 1.0 + 2.0**-60 + rng.random() * 1e-3  # usually not representable
        opt = dict(
            comparator=str(rng.choice(["ge", "gt"])),
            convention=str(rng.choice(["secant", "paper"])),
            wrt=str(rng.choice(["u", "theta"])),
        )
        t = closed_form_table(fmt, theta, **opt)
        t.validate()
        check_against_reference(t, _boundary_patterns(t))
        check_against_reference(t, _random_patterns(fmt, 500, seed=int(rng.integers(1 << 30))))


@pytest.mark.parametrize(
    "fmt_name, theta", [("float32", 1.0 + 2.0**-30), ("fixed64.0", -0.5), ("e11m40", 1.0 + 2.0**-45)]
)
def test_exact_threshold_between_patterns_wide(fmt_name, theta):
    """exact_threshold with a real between two patterns (R from the exact search)."""
    for comp in ("ge", "gt"):
        t = closed_form_table(fmt_name, theta, comparator=comp, exact_threshold=True)
        assert t.meta.exact_threshold and t.spec.threshold.pattern is None
        check_against_reference(t, _boundary_patterns(t))


# -- slow: the scale checks of the issue --------------------------------------------------------
FLOAT_THRESHOLDS_20 = [
    1.0, 0.5, 0.1, 1.7, -1.0, -0.3, 0.0, -0.0, 3.0, 100.0,
    2.0**-126, 1e-40, -1e-42, 3.0e38, -3.0e38, 65504.0, 1e-10, 7.0, 0.999, -123.456,
]


@pytest.mark.slow
@pytest.mark.parametrize("theta", FLOAT_THRESHOLDS_20)
def test_float32_boundaries_and_1e5_random(theta):
    for opt in (dict(), dict(comparator="gt"), dict(wrt="theta")):
        t = closed_form_table("float32", theta, **opt)
        check_against_reference(t, _boundary_patterns(t))
        check_against_reference(t, _random_patterns(t.fmt, 100_000, seed=11))


@pytest.mark.slow
@pytest.mark.parametrize(
    "theta",
    FLOAT_THRESHOLDS_20[:14] + [1e300, -1e-310, 2.0**-1022, 1.0 + 2**-52, -7.0e-300, 1.7976931348623157e308],
)
def test_float64_boundaries_and_1e6_random(theta):
    t = closed_form_table("float64", theta)
    check_against_reference(t, _boundary_patterns(t))
    check_against_reference(t, _random_patterns(t.fmt, 1_000_000, seed=13))


@pytest.mark.slow
@pytest.mark.parametrize("theta", [1.0, -0.1])
def test_float32_full_enumeration(theta):
    """Every one of the 2**32 patterns (minutes on a CPU; fastest sweeper via device='auto')."""
    assert build_table("float32", theta, device="auto") == closed_form_table("float32", theta)


