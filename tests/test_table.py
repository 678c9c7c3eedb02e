"""Tables (SPEC 6-7): enumeration == per-pattern evaluation, area/peak, files, CSV."""

import csv
import json
import math
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boolgrad import GradientTable, TableFileError, build_table, gradient_at, parse_format
from boolgrad.measures import recip_sum

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


@pytest.mark.parametrize("name", FORMATS)
def test_table_equals_per_pattern_evaluation(name):
    fmt = parse_format(name)
    b = all_patterns(fmt)
    for theta in thresholds(fmt):
        for opts in OPTIONS:
            table = build_table(fmt, theta, device="cpu", **opts)
            ref = gradient_at(fmt, theta, b, **opts)
            assert np.array_equal(table.mask_at(b), ref.mask), (theta, opts)
            g = table.gradient(b)
            assert np.allclose(g, ref.g, rtol=1e-12, atol=0, equal_nan=True), (theta, opts)
            table.validate()


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


# -- files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table():
    return build_table("float16", 0.3)


def test_save_load_round_trip_and_portable_layout(table, tmp_path):
    path = table.save(tmp_path / "t.npz")
    again = GradientTable.load(path)
    assert again == table
    assert np.array_equal(again.gradient(all_patterns(table.fmt)), table.gradient(all_patterns(table.fmt)))
    # readable with numpy + json alone, as the README documents
    with np.load(path) as d:
        meta = json.loads(str(d["meta"]))
        assert meta["format"] == "float16" and meta["schema"] == 1 and len(meta["checksum"]) == 64
        assert d["first"].dtype == np.uint64 and len(d["mask"]) == table.n_runs


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["float8_e4m3fn", "e3m2", "fixed6.2", "ufixed7.3", "float8_e5m2"]),
       st.floats(-500, 500, allow_nan=False), st.sampled_from(["secant", "paper"]), st.sampled_from(["u", "theta"]),
       st.sampled_from(["ge", "gt"]))
def test_round_trip_property(tmp_path_factory, name, theta, convention, wrt, comparator):
    t = build_table(name, theta, convention=convention, wrt=wrt, comparator=comparator)
    t.validate()  # runs partition the non-NaN patterns, maximal, values match
    assert int(t.counts.sum()) == t.fmt.n_ranks
    path = t.save(tmp_path_factory.mktemp("rt") / "t.npz")
    u = GradientTable.load(path)
    assert u == t and u.meta == t.meta


def _rewrite(src, dst, change):
    with np.load(src) as d:
        arrays = {k: d[k] for k in d.files}
    change(arrays)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)


def test_load_errors_name_file_and_problem(table, tmp_path):
    good = table.save(tmp_path / "good.npz")
    raw = good.read_bytes()

    cases = {}
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    cases["trunc.npz"] = "not a readable table file"
    (tmp_path / "text.npz").write_text("hello")
    cases["text.npz"] = "not a readable table file"
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    cases["foreign.npz"] = "not a boolgrad table"

    def edit_mask(a):
        a["mask"] = a["mask"].copy()
        a["mask"][3] ^= 1
    _rewrite(good, tmp_path / "edited.npz", edit_mask)
    cases["edited.npz"] = "checksum mismatch"

    def schema(a):
        m = json.loads(str(a["meta"]))
        m["schema"] = 99
        a["meta"] = np.asarray(json.dumps(m))
    _rewrite(good, tmp_path / "schema.npz", schema)
    cases["schema.npz"] = "schema version 99"

    def bad_json(a):
        a["meta"] = np.asarray("{not json")
    _rewrite(good, tmp_path / "json.npz", bad_json)
    cases["json.npz"] = "corrupted metadata"

    # a byte flipped inside the compressed data: zip CRC or checksum catches it
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    cases["flipped.npz"] = "not a readable table file|checksum mismatch|corrupted"
    cases["missing.npz"] = "no such file"

    for fname, problem in cases.items():
        with pytest.raises(TableFileError, match=problem) as info:
            GradientTable.load(tmp_path / fname)
        assert fname in str(info.value)


def test_inconsistent_runs_are_refused(table, tmp_path):
    good = table.save(tmp_path / "good.npz")

    def drop_run(a):
        for k in ("first", "last", "first_value", "last_value", "mask"):
            a[k] = a[k][1:]
        m = json.loads(str(a["meta"]))
        m.pop("checksum")
        from boolgrad.table_io import checksum
        m["checksum"] = checksum(m, a)
        a["meta"] = np.asarray(json.dumps(m))
    _rewrite(good, tmp_path / "short.npz", drop_run)
    with pytest.raises(TableFileError, match="inconsistent table.*cover"):
        GradientTable.load(tmp_path / "short.npz")


def test_to_csv(table, tmp_path):
    path = table.to_csv(tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    meta = {ln[2:].split(": ", 1)[0]: json.loads(ln[2:].split(": ", 1)[1]) for ln in lines if ln.startswith("# ")}
    assert meta["format"] == "float16" and meta["theta_used"] == table.meta.theta_used
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    assert len(rows) == table.n_runs
    assert [int(r["mask"]) for r in rows] == table.mask.tolist()
    assert [int(r["first_pattern"]) for r in rows] == table.first.tolist()
    assert sum(int(r["count"]) for r in rows) == table.fmt.n_ranks
    assert all(len(r["mask_bits"]) == 16 for r in rows)


def test_values_are_rounded_to_the_format_first(table):
    x = np.array([0.3, 0.30001, 0.2999, 1e6, -1e6])
    b = table.fmt.encode(x)
    assert np.array_equal(table.gradient(x), table.gradient(b))
    assert table.gradient(np.array([np.nan]))[0] == gradient_at("float16", 0.3, np.array([np.nan])).g[0]


def test_wide_formats_are_refused():
    with pytest.raises(ValueError, match="closed-form"):
        build_table("fixed40.8", 0.3)
    with pytest.raises(ValueError, match="unknown device"):
        build_table("float16", 0.3, device="tpu")


def test_cupy_and_numpy_tables_identical(cupy):
    for name, theta in [("float16", 0.3), ("ufixed16.12", 0.3), ("e3m4", -1.0), ("bfloat16", 0.0)]:
        for opts in OPTIONS:
            assert build_table(name, theta, device="gpu", **opts) == build_table(name, theta, device="cpu", **opts)
    b = cupy.arange(2**16, dtype=cupy.uint64)
    t = build_table("float16", 0.3, device="cpu")
    assert np.array_equal(cupy.asnumpy(t.gradient(b)), t.gradient(np.arange(2**16, dtype=np.uint64)))
    assert np.array_equal(cupy.asnumpy(gradient_at("float16", 0.3, b).g), gradient_at("float16", 0.3, cupy.asnumpy(b)).g)


def test_zipfile_is_a_real_npz(table, tmp_path):
    path = table.save(tmp_path / "t.npz")
    assert zipfile.is_zipfile(path)


def test_interrupt_stops_the_sweep_and_cli_writes_nothing(monkeypatch, tmp_path, capsys):
    import boolgrad.build.array_engine as sweep
    from boolgrad.cli import main

    calls = []
    real = sweep._chunk_runs

    def flaky(spec, r0, r1, xp):
        calls.append(r0)
        if len(calls) >= 3:
            raise KeyboardInterrupt
        return real(spec, r0, r1, xp)

    monkeypatch.setattr(sweep, "_chunk_runs", flaky)
    spec = __import__("boolgrad").make_spec("float16", 0.3)
    with pytest.raises(KeyboardInterrupt):
        sweep.array_sweep(spec, 0, spec.fmt.n_ranks, chunk=1024, workers=2)
    assert len(calls) < spec.fmt.n_ranks // 1024  # queued chunks were cancelled
    out = tmp_path / "t.npz"
    # "numpy": the patched chunk function is the array engine's ("cpu" may pick the numba kernel)
    assert main(["table", "float16", "-t", "0.3", "-o", str(out), "--device", "numpy"]) == 130
    assert not out.exists() and "interrupted" in capsys.readouterr().err


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
