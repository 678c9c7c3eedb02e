"""Array backends: numpy always, CuPy when installed and a GPU is visible.

CuPy is imported only when asked for (``device="gpu"``/``"auto"``) or when an input array
already is a CuPy array, so the core stays importable with numpy alone (einops keeps its
backends apart the same way).
"""

from __future__ import annotations

import numpy as np

__all__ = ["array_module", "cupy_or_none", "resolve_xp", "to_numpy"]


def array_module(x):
    """``numpy`` or ``cupy``, whichever owns ``x`` (without importing cupy otherwise)."""
    if type(x).__module__.split(".")[0] == "cupy":
        import cupy

        return cupy
    return np


def cupy_or_none():
    """The cupy module if it imports and sees at least one GPU, else ``None``."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:  # noqa: BLE001 - any import/driver failure means "no GPU here"
        return None
    return None


def resolve_xp(device: str):
    """Array module for ``device`` in ``{"auto", "cpu", "numpy", "gpu", "cupy"}``."""
    if device in ("cpu", "numpy"):
        return np
    if device in ("gpu", "cupy"):
        cp = cupy_or_none()
        if cp is None:
            raise RuntimeError("device='gpu' needs CuPy and a visible CUDA GPU; none found")
        return cp
    if device == "auto":
        return cupy_or_none() or np
    raise ValueError(f"unknown device {device!r} (auto, cpu, gpu)")


def to_numpy(x):
    """Host copy of a numpy or cupy array (numpy arrays pass through)."""
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    return np.asarray(x)
