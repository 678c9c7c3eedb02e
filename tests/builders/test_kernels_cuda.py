"""The CUDA sweep kernel: host-side logic on numpy, the kernel itself on a GPU (skipped without)."""

from __future__ import annotations

import numpy as np
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
from boolgrad.builders.kernels.cuda_sweep import finish_runs, plan_capacity
from boolgrad.builders.kernels.masks import kernel_params, mask_at_ranks


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


@pytest.mark.gpu
@pytest.mark.parametrize("name", SMALL + SIXTEEN + TWENTY)
def test_cuda_equals_array_engine(cupy, name):
    from boolgrad.builders.kernels.cuda_sweep import cuda_sweep

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
    from boolgrad.builders.kernels import cuda_sweep as cs

    monkeypatch.setattr(cs, "CAP", 1)
    monkeypatch.setattr(cs, "LAUNCH", 1 << 12)
    spec = make_spec("e4m7", 0.01)
    n = spec.fmt.n_ranks
    assert_same_runs(cs.cuda_sweep(spec, 0, n), array_sweep(spec, 0, n), "cap=1")


@pytest.mark.gpu
def test_cuda_float32_slices_2_24(cupy):
    from boolgrad.builders.kernels.cuda_sweep import cuda_sweep

    _check_float32_slices(cuda_sweep, 1 << 23, F32_THETAS[:3])


@pytest.mark.gpu
@pytest.mark.slow
def test_cuda_full_float32_equals_numba(cupy, numba_sweep):
    from boolgrad.builders.kernels.cuda_sweep import cuda_sweep

    for theta, comparator in F32_THETAS:
        spec = make_spec("float32", theta, comparator=comparator)
        n = spec.fmt.n_ranks
        assert_same_runs(cuda_sweep(spec, 0, n), numba_sweep(spec, 0, n), describe(spec) + " full")
    spec = make_spec("fixed32.16", -2.5)
    n = spec.fmt.n_ranks
    assert_same_runs(cuda_sweep(spec, 0, n), numba_sweep(spec, 0, n), describe(spec) + " full")
