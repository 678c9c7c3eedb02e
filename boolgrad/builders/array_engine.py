"""The array engine: every non-NaN pattern's mask by flipping bits, reduced to runs (spec §6).

It walks ranks ``[start, stop)`` in chunks, turns each chunk of ranks into patterns, computes
every pattern's mask (:func:`boolgrad.gradient.mask_of`) and keeps only the positions where
the mask changes.  Memory is bounded by the chunk size whatever the format.  The same code
runs on numpy (chunks spread over a thread pool: numpy releases the GIL inside its loops) and
on CuPy (``xp=cupy``).  It is the reference the compiled kernels
(:mod:`boolgrad.builders.kernels`) are tested against.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..gradient import GradientSpec, mask_of
from ..progress import Progress
from ..xp import to_numpy
from .runs import check_rank_range, merge_chunks

__all__ = ["array_sweep"]


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
    """``(run_starts, run_masks)`` over ranks ``[start, stop)`` (module doc), any ``wrt``.

    ``KeyboardInterrupt`` cancels the chunks not yet started and propagates.
    """
    check_rank_range(spec, start, stop)
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
            return merge_chunks(map(work, bounds), start)
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            # submit lazily in windows so an interrupt leaves little queued work behind
            results, window = [], 4 * workers
            for i in range(0, len(bounds), window):
                results.extend(pool.map(work, bounds[i : i + window]))
            return merge_chunks(results, start)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
