"""Sweep kernels (issue 5): every backend returns exactly the array engine's runs.

The array engine (``boolgrad.build.array_engine.array_sweep``: flip every bit, compare) is the ground
truth.  Checked here, in order: the integer reformulation itself (numpy, every pattern),
the closed-form ``wrt="theta"`` runs, the numba kernel (every pattern of formats up to 20
bits; float32 slices around theta, zero, the largest finite value and the NaN boundary),
the registry / ``build_table`` plumbing, the GPU kernel's host-side logic on numpy, and the
GPU kernel itself (``gpu`` marker).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from boolgrad import build_table, make_spec, parse_format
from boolgrad.build import backends as sweep_mod
from boolgrad.build.array_engine import array_sweep
from boolgrad.build.backends import pick_backend
from boolgrad.build.kernels.cuda_sweep import finish_runs, plan_capacity
from boolgrad.build.kernels.masks import kernel_params, mask_at_ranks, single_run
from boolgrad.build.runs import theta_runs
from boolgrad.gradient import mask_of

SMALL = [
    "fixed1.0", "ufixed1.0", "fixed8.3", "ufixed8.3", "fixed6.-2", "ufixed7.9", "fixed12.20",
    "e1m0", "e1m0fn", "e2m0", "e2m1", "e1m2", "e3m0fn", "e4m3", "float8_e4m3fn", "float8_e5m2",
    "e3m4fn",
]
SIXTEEN = ["fixed16.8", "ufixed16.16", "float16", "bfloat16"]
TWENTY = ["fixed20.10", "e5m14", "e6m13fn"]


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


# -- the integer reformulation (numpy) ---------------------------------------------------
@pytest.mark.parametrize("name", SMALL + ["float16", "fixed16.8"])
def test_mask_formula_equals_bit_flips_on_every_pattern(name):
    fmt = parse_format(name)
    ranks = np.arange(fmt.n_ranks, dtype=np.uint64)
    b = fmt.pattern_at_rank(ranks).astype(fmt.dtype)
    for spec in specs(fmt, wrts=("u",)):
        ref = mask_of(spec, b).astype(np.uint64)
        assert np.array_equal(mask_at_ranks(kernel_params(spec), ranks), ref), describe(spec)


@pytest.mark.parametrize("name", SMALL + SIXTEEN)
def test_theta_runs_equal_array_engine(name):
    fmt = parse_format(name)
    n = fmt.n_ranks
    for spec in specs(fmt, wrts=("theta",)):
        for start, stop in [(0, n), (n // 3, n), (1, n // 2 + 1), (n - 1, n)]:
            if start < stop:
                ref = array_sweep(spec, start, stop)
                assert_same_runs(theta_runs(spec, start, stop), ref, f"{describe(spec)} [{start},{stop})")


def test_single_run_when_nothing_fires():
    # gt the largest value of a format without infinity: s = 0 everywhere, mask 0
    for name, theta in [("float8_e4m3fn", 448.0), ("fixed8.3", 127 / 8), ("ufixed4.0", 15.0)]:
        spec = make_spec(name, theta, comparator="gt")
        assert single_run(kernel_params(spec))
        starts, masks = array_sweep(spec, 0, spec.fmt.n_ranks)
        assert list(starts) == [0] and list(masks) == [0]
    assert not single_run(kernel_params(make_spec("float16", 65504.0, comparator="gt")))  # +inf fires


def test_numba_32_bit_fixed_point_edges(numba_sweep):
    # threshold rank 2**32 (nothing passes) must not reach the uint32 kernel arguments
    spec = make_spec("fixed32.0", 2**31 - 1, comparator="gt")
    assert spec.threshold.rank == 2**32
    starts, masks = numba_sweep(spec, 0, 2**32)
    assert list(starts) == [0] and list(masks) == [0]
    for theta, comparator in [(2**31 - 1, "ge"), (-(2**31), "gt"), (0, "ge")]:
        spec = make_spec("fixed32.0", theta, comparator=comparator)
        for start, stop in [(0, 1 << 20), (2**32 - (1 << 20), 2**32), (2**31 - 5000, 2**31 + 5000)]:
            ref = array_sweep(spec, start, stop)
            assert_same_runs(numba_sweep(spec, start, stop), ref, f"{describe(spec)} [{start},{stop})")


# -- numba kernel ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def numba_sweep():
    pytest.importorskip("numba", reason="the CPU kernel needs numba")
    from boolgrad.build.kernels.numba_sweep import numba_sweep

    return numba_sweep


@pytest.mark.parametrize("name", SMALL + SIXTEEN)
def test_numba_equals_array_engine_every_pattern(numba_sweep, name):
    fmt = parse_format(name)
    for spec in specs(fmt):
        ref = array_sweep(spec, 0, fmt.n_ranks)
        assert_same_runs(numba_sweep(spec, 0, fmt.n_ranks), ref, describe(spec))


@pytest.mark.parametrize("name", TWENTY)
def test_numba_equals_array_engine_20_bits(numba_sweep, name):
    fmt = parse_format(name)
    for theta, comparator in [(0.0, "ge"), (-0.75, "gt"), (1e-3, "ge"), (fmt.max_finite, "gt")]:
        spec = make_spec(fmt, theta, comparator=comparator)
        ref = array_sweep(spec, 0, fmt.n_ranks)
        assert_same_runs(numba_sweep(spec, 0, fmt.n_ranks), ref, describe(spec))


@pytest.mark.parametrize("name", ["fixed12.4", "e4m7", "e3m4fn"])
def test_numba_chunking_and_overflow_do_not_change_runs(numba_sweep, name):
    # tiny chunks (a chunk's predecessor mask), cap=1 (chunks redone alone), odd sub-ranges
    fmt = parse_format(name)
    n = fmt.n_ranks
    for theta in (0.3, -0.75, fmt.max_finite):
        spec = make_spec(fmt, theta)
        for start, stop in [(0, n), (7, n - 5), (n // 2, n // 2 + 1)]:
            ref = array_sweep(spec, start, stop)
            for chunk, cap in [(97, 1), (1000, 2), (1, 1)]:
                if chunk == 1 and stop - start > 5000:
                    continue
                got = numba_sweep(spec, start, stop, chunk=chunk, cap=cap)
                assert_same_runs(got, ref, f"{describe(spec)} [{start},{stop}) chunk={chunk} cap={cap}")


def test_numba_rejects_bad_ranges(numba_sweep):
    spec = make_spec("float8_e5m2", 1.0)
    for start, stop in [(5, 5), (-1, 3), (0, spec.fmt.n_ranks + 1)]:
        with pytest.raises(ValueError, match="rank range"):
            numba_sweep(spec, start, stop)


def test_numba_interrupt_propagates_between_groups(numba_sweep, monkeypatch):
    from boolgrad.build.kernels import numba_sweep as ns

    calls = []
    real = ns._run_group

    def flaky(*args):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(ns, "_run_group", flaky)
    monkeypatch.setattr(ns, "GROUP", 4)
    spec = make_spec("float16", 0.3)
    with pytest.raises(KeyboardInterrupt):
        numba_sweep(spec, 0, spec.fmt.n_ranks, chunk=1024)
    assert len(calls) == 2  # nothing ran after the interrupt


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


F32_MAX = 3.4028234663852886e38
F32_THETAS = [(1.0, "ge"), (1.0, "gt"), (0.0, "ge"), (-3.5, "gt"), (F32_MAX, "ge"), (-1e-40, "ge")]


def _check_float32_slices(sweep, half, thetas):
    windows = float32_slices(half).items()
    for (theta, comparator), (where, (start, stop)) in itertools.product(thetas, windows):
        spec = make_spec("float32", theta, comparator=comparator)
        ref = array_sweep(spec, start, stop)
        assert_same_runs(sweep(spec, start, stop), ref, f"{describe(spec)} around {where}")


def test_numba_float32_slices_small(numba_sweep):
    _check_float32_slices(numba_sweep, 1 << 17, F32_THETAS)


@pytest.mark.slow
def test_numba_float32_slices_2_24(numba_sweep):
    _check_float32_slices(numba_sweep, 1 << 23, F32_THETAS)


# -- registry and build_table ------------------------------------------------------------
def test_auto_order_prefers_kernels():
    assert list(sweep_mod.BACKENDS) == ["cuda", "numba", "cupy", "numpy"]
    assert sweep_mod.ALIASES == {"cpu": ("numba", "numpy"), "gpu": ("cuda", "cupy")}


def test_build_table_reports_backend_and_tables_are_identical(numba_sweep):
    for conv, wrt in itertools.product(("secant", "paper"), ("u", "theta")):
        kw = dict(comparator="gt", convention=conv, wrt=wrt)
        ref = build_table("bfloat16", -0.3, device="numpy", **kw)
        got = build_table("bfloat16", -0.3, device="cpu", **kw)
        assert got == ref
        assert got.meta.method == "enumerate"
        assert (got.sweep_info.backend, ref.sweep_info.backend) == ("numba", "numpy")
        assert got.sweep_info.patterns == parse_format("bfloat16").n_ranks
        assert got.sweep_info.seconds > 0 and got.sweep_info.patterns_per_s > 0


def test_sweep_info_is_not_part_of_the_table(tmp_path, numba_sweep):
    t = build_table("float8_e5m2", 1.0, device="numba")
    path = t.save(tmp_path / "t.npz")
    loaded = type(t).load(path)
    assert loaded.sweep_info is None and loaded == t


def test_fallback_without_numba_prints_one_notice(monkeypatch, capsys):
    for name in ("numba", "cuda", "cupy"):
        missing = dataclasses.replace(sweep_mod.BACKENDS[name], available=lambda: False)
        monkeypatch.setitem(sweep_mod.BACKENDS, name, missing)
    sweep_mod._notice.cache_clear()
    try:
        assert pick_backend("auto").name == "numpy"
        assert pick_backend("cpu").name == "numpy"
        t = build_table("float8_e5m2", 1.0)
        assert t.sweep_info.backend == "numpy"
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "numba is not installed" in err
        with pytest.raises(RuntimeError, match="not available"):
            pick_backend("numba")
    finally:
        sweep_mod._notice.cache_clear()


def test_auto_skips_numba_start_up_on_small_sweeps(numba_sweep):
    assert pick_backend("auto", 1 << 16).name == "numpy"
    assert pick_backend("auto", 1 << 24).name == "numba"
    assert build_table("float16", 0.3).sweep_info.backend == "numpy"
    assert pick_backend("cpu", 1 << 16).name == "numba"  # an alias is not second-guessed


def test_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="unknown device"):
        pick_backend("tpu")


# -- the GPU kernel's host-side logic, on numpy --------------------------------------------
def test_finish_runs_orders_what_the_kernel_appends():
    # what the kernel appends: every rank whose mask differs from its predecessor's, plus
    # the start, in whatever order warps reached the atomic counter
    spec = make_spec("float16", 0.5, comparator="gt")
    start, stop = 100, spec.fmt.n_ranks - 3
    m = mask_at_ranks(kernel_params(spec), np.arange(start, stop, dtype=np.uint64))
    at = np.flatnonzero(np.r_[True, m[1:] != m[:-1]])
    order = np.random.default_rng(0).permutation(len(at))
    got = finish_runs((at + start)[order].astype(np.uint32), m[at][order].astype(np.uint32), start)
    assert_same_runs(got, array_sweep(spec, start, stop), "finish_runs")


def test_finish_runs_rejects_inconsistent_output():
    with pytest.raises(RuntimeError, match="start rank"):
        finish_runs(np.array([5, 9], np.uint32), np.array([1, 2], np.uint32), 3)
    with pytest.raises(RuntimeError, match="duplicated"):
        finish_runs(np.array([3, 9, 9], np.uint32), np.array([1, 2, 3], np.uint32), 3)
    with pytest.raises(RuntimeError, match="repeated"):
        finish_runs(np.array([3, 9], np.uint32), np.array([1, 1], np.uint32), 3)


def test_plan_capacity():
    assert plan_capacity(10, 16) is None
    assert plan_capacity(16, 16) is None
    assert plan_capacity(17, 16) == 17


# -- GPU kernel ----------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name", SMALL + SIXTEEN + TWENTY)
def test_cuda_equals_array_engine(cupy, name):
    from boolgrad.build.kernels.cuda_sweep import cuda_sweep

    fmt = parse_format(name)
    grid = list(specs(fmt)) if fmt.bits <= 16 else list(specs(fmt, comparators=("gt",), wrts=("u",)))
    for spec in grid:
        ref = array_sweep(spec, 0, fmt.n_ranks)
        assert_same_runs(cuda_sweep(spec, 0, fmt.n_ranks), ref, describe(spec))
        if fmt.n_ranks > 10:
            assert_same_runs(cuda_sweep(spec, 3, fmt.n_ranks - 7), array_sweep(spec, 3, fmt.n_ranks - 7),
                             describe(spec) + " sub-range")


@pytest.mark.gpu
def test_cuda_overflowing_buffer_is_rerun(cupy, monkeypatch):
    from boolgrad.build.kernels import cuda_sweep as cs

    monkeypatch.setattr(cs, "CAP", 1)
    monkeypatch.setattr(cs, "LAUNCH", 1 << 12)
    spec = make_spec("e4m7", 0.01)
    n = spec.fmt.n_ranks
    assert_same_runs(cs.cuda_sweep(spec, 0, n), array_sweep(spec, 0, n), "cap=1")


@pytest.mark.gpu
def test_cuda_float32_slices_2_24(cupy):
    from boolgrad.build.kernels.cuda_sweep import cuda_sweep

    _check_float32_slices(cuda_sweep, 1 << 23, F32_THETAS[:3])


@pytest.mark.gpu
@pytest.mark.slow
def test_cuda_full_float32_equals_numba(cupy, numba_sweep):
    from boolgrad.build.kernels.cuda_sweep import cuda_sweep

    for theta, comparator in F32_THETAS:
        spec = make_spec("float32", theta, comparator=comparator)
        n = spec.fmt.n_ranks
        assert_same_runs(cuda_sweep(spec, 0, n), numba_sweep(spec, 0, n), describe(spec) + " full")
    spec = make_spec("fixed32.16", -2.5)
    n = spec.fmt.n_ranks
    assert_same_runs(cuda_sweep(spec, 0, n), numba_sweep(spec, 0, n), describe(spec) + " full")
