"""Exhaustive enumeration: every non-NaN pattern, in value order, reduced to runs (SPEC 6).

The array engine walks ranks ``0 .. n_ranks - 1`` in chunks, turns each chunk of ranks into
patterns, computes every pattern's mask by flipping each bit (:func:`boolgrad.gradient.mask_of`)
and keeps only the positions where the mask changes.  Memory is bounded by the chunk size
(a few arrays of ``chunk`` elements), whatever the format.  The same code runs on numpy
(chunks spread over a thread pool: numpy releases the GIL inside its loops) and on CuPy.

Backends are entries of :data:`SWEEPERS`, so a compiled kernel can be added without an
``if`` chain: each maps ``(spec, start, stop, progress)`` to ``(run_starts, run_masks)``,
the ranks where runs start inside ``[start, stop)`` (the first is always ``start``) and
their masks, as numpy ``uint64`` arrays.  Registered: ``cuda`` (CuPy kernel) and ``numba``
(multi-core CPU kernel) from :mod:`boolgrad.kernels`, ``cupy`` and ``numpy`` (this array
engine).  :func:`run_sweep` also reports which backend ran and how fast (:class:`SweepInfo`).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ._backend import cupy_or_none, to_numpy
from .gradient import GradientSpec, mask_of

__all__ = [
    "MAX_SWEEP_BITS",
    "SWEEPERS",
    "Progress",
    "SweepInfo",
    "array_sweep",
    "available_sweepers",
    "pick_sweeper",
    "run_sweep",
]

#: Formats wider than this are refused by the sweep (2**32 patterns is already minutes).
MAX_SWEEP_BITS = 32


class Progress:
    """A progress bar over patterns (tqdm when installed and wanted, else silent)."""

    def __init__(self, total: int, enabled: bool, desc: str):
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # progress is cosmetic; tqdm is a soft dependency
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=desc, unit="pat", unit_scale=True, leave=False)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _chunk_runs(spec: GradientSpec, r0: int, r1: int, xp):
    """Run starts (absolute ranks) and masks inside one chunk, plus its first/last mask."""
    fmt = spec.fmt
    ranks = xp.arange(r0, r1, dtype=xp.uint64)
    b = fmt.pattern_at_rank(ranks, xp=xp).astype(fmt.dtype)
    m = mask_of(spec, b, xp=xp)
    idx = xp.flatnonzero(m[1:] != m[:-1]) + 1
    return (
        to_numpy(idx).astype(np.uint64) + np.uint64(r0),
        to_numpy(m[idx]).astype(np.uint64),
        int(m[0]),
        int(m[-1]),
    )


def _merge(parts, start: int):
    """Join per-chunk runs; a chunk's first pattern starts a run if its mask changed."""
    starts, masks = [np.asarray([start], dtype=np.uint64)], []
    prev_last = None
    for r0, (idx, m, first, last) in parts:
        if prev_last is None:
            masks.append(np.asarray([first], dtype=np.uint64))
        elif first != prev_last:
            starts.append(np.asarray([r0], dtype=np.uint64))
            masks.append(np.asarray([first], dtype=np.uint64))
        starts.append(idx)
        masks.append(m)
        prev_last = last
    return np.concatenate(starts), np.concatenate(masks)


def array_sweep(
    spec: GradientSpec,
    start: int,
    stop: int,
    progress: bool = False,
    *,
    xp=np,
    chunk: int | None = None,
    workers: int | None = None,
):
    """Array engine over ranks ``[start, stop)``; see the module docstring.

    ``KeyboardInterrupt`` cancels the chunks not yet started and propagates.
    """
    if not 0 <= start < stop <= spec.fmt.n_ranks:
        raise ValueError(f"rank range [{start}, {stop}) is empty or outside 0..{spec.fmt.n_ranks}")
    if chunk is None:
        chunk = 1 << (16 if xp is np else 24)  # numpy: cache-sized; GPU: launch-sized
    bounds = [(r, min(r + chunk, stop)) for r in range(start, stop, chunk)]
    workers = workers or (os.cpu_count() or 1 if xp is np else 1)
    with Progress(stop - start, progress, f"sweep {spec.fmt.name}") as bar:

        def work(bound):
            out = _chunk_runs(spec, bound[0], bound[1], xp)
            bar.update(bound[1] - bound[0])
            return bound[0], out

        if workers == 1 or len(bounds) == 1:
            return _merge(map(work, bounds), start)
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            # submit lazily in windows so an interrupt leaves little queued work behind
            results, window = [], 4 * workers
            for i in range(0, len(bounds), window):
                results.extend(pool.map(work, bounds[i : i + window]))
            return _merge(results, start)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _cupy_sweep(spec, start, stop, progress=False):
    cp = cupy_or_none()
    if cp is None:
        raise RuntimeError("the cupy sweep needs CuPy and a visible CUDA GPU; none found")
    return array_sweep(spec, start, stop, progress, xp=cp)


# -- compiled kernels (boolgrad.kernels); numba and cupy are imported on first use ----------
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken numba: the kernel is unavailable
        return False
    return True


def _numba_sweep(spec, start, stop, progress=False):
    from .kernels.numba_sweep import numba_sweep

    return numba_sweep(spec, start, stop, progress)


def _cuda_sweep(spec, start, stop, progress=False):
    if cupy_or_none() is None:
        raise RuntimeError("the cuda sweep kernel needs CuPy and a visible CUDA GPU; none found")
    from .kernels.cuda_sweep import cuda_sweep

    return cuda_sweep(spec, start, stop, progress)


#: name -> (sweep function, availability check)
SWEEPERS: dict[str, tuple[Callable, Callable[[], bool]]] = {
    "cuda": (_cuda_sweep, lambda: cupy_or_none() is not None),
    "numba": (_numba_sweep, _numba_available),
    "numpy": (array_sweep, lambda: True),
    "cupy": (_cupy_sweep, lambda: cupy_or_none() is not None),
}
#: preference order for ``device="auto"`` (fastest first)
AUTO_ORDER: list[str] = ["cuda", "numba", "cupy", "numpy"]
#: user-facing aliases: the first available backend of each tuple
ALIASES: dict[str, tuple[str, ...]] = {"cpu": ("numba", "numpy"), "gpu": ("cuda", "cupy")}
#: a backend picked in place of a faster one that is missing: what to tell the user
_FALLBACK_NOTICE = {
    "numba": "numba is not installed; sweeping with the numpy array engine "
    "(much slower for formats over 24 bits; pip install 'boolgrad[numba]')",
}


@dataclass(frozen=True)
class SweepInfo:
    """How a sweep ran: backend name, ranks swept, wall-clock seconds."""

    backend: str
    patterns: int
    seconds: float

    @property
    def patterns_per_s(self) -> float:
        return self.patterns / self.seconds if self.seconds > 0 else float("inf")


def available_sweepers() -> list[str]:
    return [name for name in AUTO_ORDER if SWEEPERS[name][1]()]


@functools.cache
def _notice(message: str) -> None:
    """One line on stderr, once per process (a slower backend is not a wrong number)."""
    print(f"boolgrad: {message}", file=sys.stderr)


def _first_available(candidates) -> str:
    for name in candidates:
        if SWEEPERS[name][1]():
            for skipped in candidates[: candidates.index(name)]:
                if skipped in _FALLBACK_NOTICE:
                    _notice(_FALLBACK_NOTICE[skipped])
            return name
    raise RuntimeError(f"none of the sweep backends {', '.join(candidates)} is available")


def pick_sweeper(device: str) -> tuple[str, Callable]:
    """Name and function of the sweep backend for ``device``.

    ``auto``: the first available of :data:`AUTO_ORDER`; an alias (``cpu``, ``gpu``): the
    first available of its tuple; any other name forces that backend.  Falling back past
    the numba kernel prints a one-line notice on stderr.
    """
    if device == "auto":
        name = _first_available(AUTO_ORDER)
    elif device in ALIASES:
        name = _first_available(ALIASES[device])
    else:
        name = device
        if name not in SWEEPERS:
            choices = ", ".join(["auto", *ALIASES, *SWEEPERS])
            raise ValueError(f"unknown device {device!r} (choose from {choices})")
        if not SWEEPERS[name][1]():
            raise RuntimeError(f"device {device!r} is not available on this machine")
    return name, SWEEPERS[name][0]


def run_sweep(spec: GradientSpec, device: str = "auto", progress: bool = False, start: int = 0, stop=None):
    """Sweep ranks ``[start, stop)`` (default: all) on ``device``; ``(starts, masks, SweepInfo)``."""
    stop = spec.fmt.n_ranks if stop is None else stop
    name, sweep = pick_sweeper(device)
    t0 = time.perf_counter()
    starts, masks = sweep(spec, start, stop, progress)
    return starts, masks, SweepInfo(name, stop - start, time.perf_counter() - t0)
