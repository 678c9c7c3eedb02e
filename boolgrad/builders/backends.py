"""Sweep backends: one table of entries, each ``(spec, start, stop, progress) -> (starts, masks)``.

A backend returns the ranks where runs start inside ``[start, stop)`` (the first is always
``start``) and their masks, as numpy ``uint64`` arrays -- the same arrays for every backend.
Adding one means adding one :class:`Backend` to :data:`BACKENDS`; its module is imported only
when it runs (numba and CuPy are optional).  The table's order is the preference of
``device="auto"``, fastest first; ``auto`` skips a backend whose start-up costs more than the
sweep (``auto_from``: the smallest sweep it is picked for, measured with
``benchmarks/bench_sweep.py --auto``).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..xp import cupy_or_none

__all__ = ["ALIASES", "BACKENDS", "Backend", "SweepInfo", "pick_backend", "run_sweep"]


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken numba: the kernel is unavailable
        return False
    return True


def _gpu_available() -> bool:
    return cupy_or_none() is not None


def _numpy_sweep():
    from .array_engine import array_sweep

    return array_sweep


def _cupy_sweep():
    from .array_engine import array_sweep

    return functools.partial(array_sweep, xp=cupy_or_none())


def _numba_sweep():
    from .kernels.numba_sweep import numba_sweep

    return numba_sweep


def _cuda_sweep():
    from .kernels.cuda_sweep import cuda_sweep

    return cuda_sweep


@dataclass(frozen=True)
class Backend:
    """A sweep backend: ``load()`` imports and returns its sweep function."""

    name: str
    available: Callable[[], bool]
    load: Callable[[], Callable]
    description: str
    auto_from: int = 0  # device="auto" picks it only for sweeps of at least this many ranks
    missing_notice: str | None = None  # said once when "auto"/an alias falls back past it

    def sweep(self, spec, start: int, stop: int, progress: bool = False):
        if not self.available():
            raise RuntimeError(f"device {self.name!r} is not available on this machine")
        return self.load()(spec, start, stop, progress)


#: every backend, in ``device="auto"`` order (fastest first)
BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("cuda", _gpu_available, _cuda_sweep, "CuPy RawKernel on a CUDA GPU"),
        Backend(
            "numba",
            _numba_available,
            _numba_sweep,
            "multi-core CPU kernel (numba)",
            auto_from=1 << 20,  # below: numba's import and cache load cost more than numpy's sweep
            missing_notice="numba is not installed; sweeping with the numpy array engine "
            "(much slower for formats over 24 bits; pip install 'boolgrad[numba]')",
        ),
        Backend("cupy", _gpu_available, _cupy_sweep, "array engine on CuPy"),
        Backend("numpy", lambda: True, _numpy_sweep, "array engine on numpy"),
    )
}
#: user-facing aliases: the first available backend of each tuple
ALIASES: dict[str, tuple[str, ...]] = {"cpu": ("numba", "numpy"), "gpu": ("cuda", "cupy")}


@dataclass(frozen=True)
class SweepInfo:
    """How a sweep ran: backend name, ranks swept, wall-clock seconds."""

    backend: str
    patterns: int
    seconds: float

    @property
    def patterns_per_s(self) -> float:
        return self.patterns / self.seconds if self.seconds > 0 else float("inf")


@functools.cache
def _notice(message: str) -> None:
    """One line on stderr, once per process (a slower backend is not a wrong number)."""
    print(f"boolgrad: {message}", file=sys.stderr)


def _first_available(candidates, patterns: int | None) -> Backend:
    missing = []  # skipped because not installed (not because the sweep is too small for them)
    for i, name in enumerate(candidates):
        b = BACKENDS[name]
        if patterns is not None and patterns < b.auto_from and i < len(candidates) - 1:
            continue  # too small to pay for this backend's start-up
        if b.available():
            for skipped in missing:
                if skipped.missing_notice:
                    _notice(skipped.missing_notice)
            return b
        missing.append(b)
    raise RuntimeError(f"none of the sweep backends {', '.join(candidates)} is available")


def pick_backend(device: str, patterns: int | None = None) -> Backend:
    """The backend for ``device`` (``auto``, an alias of :data:`ALIASES`, or a name).

    ``auto`` takes the first available backend, in order, that suits a sweep of ``patterns``
    ranks (``None``: a large one); an alias its first available backend; a name forces it.
    """
    if device == "auto":
        return _first_available(list(BACKENDS), patterns)
    if device in ALIASES:  # an alias names a device class: no size heuristics
        return _first_available(ALIASES[device], None)
    if device not in BACKENDS:
        choices = ", ".join(["auto", *ALIASES, *BACKENDS])
        raise ValueError(f"unknown device {device!r} (choose from {choices})")
    b = BACKENDS[device]
    if not b.available():
        raise RuntimeError(f"device {device!r} is not available on this machine")
    return b


def run_sweep(spec, device: str = "auto", progress: bool = False, start: int = 0, stop=None):
    """Sweep ranks ``[start, stop)`` (default: all) on ``device``; ``(starts, masks, SweepInfo)``."""
    stop = spec.fmt.n_ranks if stop is None else stop
    backend = pick_backend(device, stop - start)
    t0 = time.perf_counter()
    starts, masks = backend.sweep(spec, start, stop, progress)
    return starts, masks, SweepInfo(backend.name, stop - start, time.perf_counter() - t0)
