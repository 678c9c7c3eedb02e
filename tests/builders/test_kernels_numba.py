"""The numba sweep kernel returns exactly the array engine's runs (the ground truth).

Every pattern of formats up to 20 bits; float32 slices around theta, zero, the largest
finite value and the NaN boundary; chunking, overflowing chunk buffers, bad ranges, interrupts.
"""

from __future__ import annotations

import pytest
from _sweep_grid import (
    F32_THETAS,
    SIXTEEN,
    SMALL,
    TWENTY,
    _check_float32_slices,
    assert_same_runs,
    describe,
    specs,
)

from boolgrad import make_spec, parse_format
from boolgrad.builders.array_engine import array_sweep


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
    from boolgrad.builders.kernels import numba_sweep as ns

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




def test_numba_float32_slices_small(numba_sweep):
    _check_float32_slices(numba_sweep, 1 << 17, F32_THETAS)


@pytest.mark.slow
def test_numba_float32_slices_2_24(numba_sweep):
    _check_float32_slices(numba_sweep, 1 << 23, F32_THETAS)


# -- registry and build_table ------------------------------------------------------------
# -- the GPU kernel's host-side logic, on numpy --------------------------------------------
# -- GPU kernel ----------------------------------------------------------------------------
