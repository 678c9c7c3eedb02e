"""Formats (spec §1): decoders bit for bit against numpy and ml_dtypes, encoders, ranks."""

from fractions import Fraction

import numpy as np
import pytest

from boolgrad import FixedFormat, FloatFormat, parse_format

ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes is the reference for bfloat16/float8")

ORACLES = {
    "float16": np.float16,
    "bfloat16": ml_dtypes.bfloat16,
    "float8_e5m2": ml_dtypes.float8_e5m2,
    "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
}


def _same(a, b):
    """Equal bit for bit as float64, NaN matching NaN (payloads are not values)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    nan = np.isnan(a)
    return np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan].view(np.uint64), b[~nan].view(np.uint64))


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_decode_every_pattern_matches_oracle(name):
    fmt = parse_format(name)
    b = np.arange(fmt.n_patterns, dtype=np.uint64)
    with np.errstate(invalid="ignore"):
        ref = b.astype(fmt.dtype).view(ORACLES[name]).astype(np.float64)
    assert _same(fmt.decode(b), ref)
    assert np.array_equal(fmt.is_nan(b), np.isnan(ref))


@pytest.mark.parametrize("name,dt", [("float32", np.float32), ("float64", np.float64)])
def test_decode_random_wide_patterns(name, dt):
    fmt = parse_format(name)
    rng = np.random.default_rng(1)
    b = rng.integers(0, 2**fmt.bits, size=200_000, dtype=np.uint64, endpoint=False)
    specials = np.array([0, 1, 2 ** (fmt.bits - 1), fmt.max_mag, fmt.max_mag + 1, 2**fmt.bits - 1], dtype=np.uint64)
    b = np.concatenate([b, specials])
    with np.errstate(invalid="ignore"):
        ref = b.astype(fmt.dtype).view(dt).astype(np.float64)
    assert _same(fmt.decode(b), ref)


@pytest.mark.parametrize("name", ["float16", "float8_e5m2", "float8_e4m3fn", "bfloat16"])
def test_encode_matches_oracle_rounding(name):
    fmt = parse_format(name)
    dt = ORACLES[name]
    rng = np.random.default_rng(2)
    b = np.arange(fmt.n_patterns, dtype=np.uint64)
    v = fmt.decode(b)
    fin = np.sort(np.unique(v[np.isfinite(v)]))
    mids = (fin[:-1] + fin[1:]) / 2  # exact ties: ties-to-even decides
    x = np.concatenate([mids, rng.standard_normal(50_000) * 10.0 ** rng.integers(-12, 8, 50_000),
                        [0.0, -0.0, np.inf, -np.inf, 1e300, -1e300]])
    # ml_dtypes converts float64 via float32 (double rounding); feed float32-exact inputs
    with np.errstate(over="ignore", invalid="ignore"):
        x = x.astype(np.float32).astype(np.float64)
        ref = x.astype(dt)
    got = fmt.encode(x)
    ref_b = ref.view(fmt.dtype).astype(np.uint64)
    ref_nan = np.isnan(ref.astype(np.float64))
    assert np.array_equal(got[~ref_nan], ref_b[~ref_nan])
    assert fmt.is_nan(got[ref_nan]).all()


def test_encode_float32_float64_exactly_like_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(100_000) * 10.0 ** rng.integers(-45, 39, 100_000)
    f32 = parse_format("float32")
    with np.errstate(over="ignore"):
        ref = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    assert np.array_equal(f32.encode(x), ref)
    f64 = parse_format("float64")
    assert np.array_equal(f64.encode(x), x.view(np.uint64))


def test_encode_saturate_and_nan():
    f16 = parse_format("float16")
    assert int(f16.encode(np.array([1e9]))[0]) == 0x7C00  # overflow -> inf
    assert int(f16.encode(np.array([1e9]), saturate=True)[0]) == 0x7BFF  # largest finite
    assert int(f16.encode(np.array([-np.inf]), saturate=True)[0]) == 0xFBFF
    assert f16.is_nan(f16.encode(np.array([np.nan])))[0]
    e4 = parse_format("float8_e4m3fn")
    assert e4.decode(np.array([0x7E], np.uint64))[0] == 448.0
    assert int(e4.encode(np.array([464.0]))[0]) == 0x7E  # tie between 448 and 480: to even
    assert e4.is_nan(e4.encode(np.array([470.0])))[0]  # beyond the top: NaN (no inf in fn)
    assert int(e4.encode(np.array([470.0]), saturate=True)[0]) == 0x7E


def test_fixed_point_decode_encode():
    f = parse_format("fixed16.12")
    b = np.arange(2**16, dtype=np.uint64)
    ints = np.where(b >= 2**15, b.astype(np.int64) - 2**16, b.astype(np.int64))
    assert np.array_equal(f.decode(b), ints / 4096.0)
    assert np.array_equal(f.encode(ints / 4096.0), b)
    # ties to even, saturation, odd formats
    assert list(f.encode(np.array([0.5 / 4096, 1.5 / 4096, 100.0, -100.0, np.inf]))) == [0, 2, 0x7FFF, 0x8000, 0x7FFF]
    u = parse_format("ufixed5.-2")  # steps of 4, 0..124
    assert list(u.decode(np.array([0, 1, 31], np.uint64))) == [0.0, 4.0, 124.0]
    assert list(u.encode(np.array([2.0, 6.0, -3.0, 1e9]))) == [0, 2, 0, 31]
    f79 = parse_format("fixed7.9")
    assert f79.decode(np.array([0x40], np.uint64))[0] == -64 / 512
    with pytest.raises(ValueError, match="NaN"):
        f.encode(np.array([np.nan]))


@pytest.mark.parametrize("signed", [True, False])
def test_fixed64_extremes(signed):
    f = FixedFormat(64, 0, signed)
    top = np.array([2**63 - 1 if signed else 2**64 - 1], dtype=np.uint64)
    assert f.exact_value(int(top[0])) == (2**63 - 1 if signed else 2**64 - 1)
    assert int(f.encode(np.array([1e30]))[0]) == int(top[0])
    assert int(f.encode(np.array([-1e30]))[0]) == (2**63 if signed else 0)
    assert f.decode(top)[0] == float(2**63 if signed else 2**64)  # nearest float64


@pytest.mark.parametrize("name", ["float16", "float8_e4m3fn", "e3m4", "e2m1", "fixed7.9", "ufixed5.-2", "fixed16.12"])
def test_rank_is_the_value_order(name):
    fmt = parse_format(name)
    b = np.arange(fmt.n_patterns, dtype=np.uint64)
    b = b[~fmt.is_nan(b)]
    key = sorted(range(len(b)), key=lambda k: (fmt.exact_value(int(b[k])), int(b[k])))
    expected = b[key]
    ranks = np.arange(fmt.n_ranks, dtype=np.uint64)
    assert len(b) == fmt.n_ranks
    assert np.array_equal(fmt.pattern_at_rank(ranks), expected)
    assert np.array_equal(fmt.rank(expected), ranks)


def test_exact_value_agrees_with_decode():
    for name in ["float16", "bfloat16", "float8_e4m3fn", "e3m4", "fixed7.9"]:
        fmt = parse_format(name)
        b = np.arange(fmt.n_patterns, dtype=np.uint64)
        v = fmt.decode(b)
        for p in range(0, fmt.n_patterns, 37):
            ev = fmt.exact_value(p)
            if isinstance(ev, Fraction):
                assert Fraction(float(v[p])) == ev
            else:
                assert (np.isnan(v[p]) and ev != ev) or v[p] == ev


@pytest.mark.parametrize(
    "name,expected",
    [
        ("float32", FloatFormat(8, 23, preset="float32")),
        ("e5m10", FloatFormat(5, 10)),
        ("e4m3fn", FloatFormat(4, 3, "fn")),
        ("fixed16.12", FixedFormat(16, 12, True)),
        ("ufixed5.-2", FixedFormat(5, -2, False)),
        ("UFIXED16.12", FixedFormat(16, 12, False)),
    ],
)
def test_parse_format(name, expected):
    fmt = parse_format(name)
    assert fmt == expected
    assert parse_format(fmt.name) == fmt
    assert hash(fmt) == hash(expected)  # frozen: usable as a cache key


@pytest.mark.parametrize(
    "bad,msg",
    [("float128", "unknown format"), ("fixed65.0", "1..64"), ("e12m3", "exponent bits"),
     ("e5m60", "mantissa bits"), ("fixed0.0", "1..64"), ("fixed8.2000", "fraction bits"), ("int8", "unknown format")],
)
def test_parse_format_errors(bad, msg):
    with pytest.raises(ValueError, match=msg):
        parse_format(bad)


def test_patterns_must_fit():
    with pytest.raises(ValueError, match="does not fit"):
        parse_format("float16").decode(np.array([1 << 16], np.uint64))


def test_a_format_is_its_bits_not_its_name():
    """The preset name is display only: equal formats compare and hash equal (cache keys)."""
    from boolgrad import FloatFormat

    assert FloatFormat(8, 23) == parse_format("float32") == parse_format("e8m23")
    assert hash(FloatFormat(8, 23)) == hash(parse_format("float32"))
    assert parse_format("float32").name == "float32" and FloatFormat(8, 23).name == "e8m23"
    assert len({FloatFormat(5, 10), parse_format("float16"), parse_format("e5m10")}) == 1
    assert FloatFormat(4, 3, variant="fn") == parse_format("float8_e4m3fn") != FloatFormat(4, 3)
