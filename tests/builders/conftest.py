"""Fixtures of the build tests."""

import pytest


@pytest.fixture(scope="module")
def numba_sweep():
    pytest.importorskip("numba", reason="the CPU kernel needs numba")
    from boolgrad.builders.kernels.numba_sweep import numba_sweep

    return numba_sweep
