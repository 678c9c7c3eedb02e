"""Shared fixtures and the GPU skip rule."""

import pytest

from boolgrad.xp import cupy_or_none


@pytest.fixture(scope="session")
def cupy():
    """The cupy module, or a skip that says why there is none."""
    cp = cupy_or_none()
    if cp is None:
        pytest.skip("CuPy with a visible CUDA GPU is not available on this machine")
    return cp
