"""Multi-core CPU sweep: numba kernel over fixed chunks of ranks, emitting run starts only.

The mask of each rank is the branch-free uint32 formula of :mod:`boolgrad.builders.kernels.masks`
(copied from :func:`~boolgrad.builders.kernels.masks.mask_at_ranks` line by line).  Each chunk of
``CHUNK`` ranks (one ``prange`` iteration) computes masks block by block into a small
buffer that stays in L1 -- that loop has no branch and LLVM vectorises it (8 uint32 lanes
under AVX2) -- ORs the differences of neighbours, and only when a block holds a change walks
it to record ``(rank, mask)``.  Each chunk starts from the mask of the rank just before it,
so chunks are independent and their outputs simply concatenate; nothing the size of the
range is ever allocated.

``fastmath`` stays off: there is no floating point here at all, and the flag would let
LLVM assume facts about NaN that the comparator must not (the issue's warning).
numba is imported when this module is, so :mod:`boolgrad.builders.backends` imports it lazily.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ...gradient import GradientSpec
from ...numba_cache import install as _race_free_cache
from ...progress import Progress
from ..runs import check_rank_range, theta_runs
from .masks import kernel_params, single_run

__all__ = ["numba_sweep", "CHUNK", "BLOCK"]

_race_free_cache()  # before anything here compiles (boolgrad.numba_cache)

#: ranks per prange iteration (a unit of work for one thread)
CHUNK = 1 << 18
#: ranks per vectorised block (the buffer is 4 * BLOCK bytes, well inside L1)
BLOCK = 1024
#: run starts a chunk can hold before it is redone alone with room for every rank
CAP = 64
#: ranges up to this many ranks run on the calling thread
SERIAL_BELOW = 1 << 20
#: chunks per kernel call; between calls the progress bar moves and Ctrl-C is seen
GROUP = 1 << 8

_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
_U = np.uint32


# numba widens uint32 arithmetic to uint64; wrapping every operation in _U keeps it in
# uint32, which LLVM then narrows back (trunc of zext) and vectorises 8 lanes per AVX2 op.
@njit(inline="always", **_OPTS)
def _flip(x, T, strict):
    """Bits whose flip changes ``[x >= T]`` (``[x > T]`` if strict); and the comparison."""
    d = _U(x ^ T)
    d = _U(d | _U(d >> _U(1)))
    d = _U(d | _U(d >> _U(2)))
    d = _U(d | _U(d >> _U(4)))
    d = _U(d | _U(d >> _U(8)))
    d = _U(d | _U(d >> _U(16)))
    low = _U(d >> _U(1))
    top = _U(d ^ low)
    xl = _U(x & low)
    tl = _U(T & low)
    if strict:
        c = x > T
        c_low = xl > tl
    else:
        c = x >= T
        c_low = xl >= tl
    keep = x if c else _U(~x)
    f = _U(_U(_U(~d) & keep) | (top if c != c_low else _U(0)))
    return f, c


@njit(inline="always", **_OPTS)
def _mask(r, family, R, A, L0, U0, L1, U1, wm, top_shift):
    """``m`` at rank ``r`` (uint32): format family 0 fixed point, 1 floating point."""
    if family == 0:
        f, _ = _flip(r, R, False)
        return _U(f & wm)
    A1 = _U(A + _U(1))
    neg = r < A
    mag = _U(A - r) if neg else (_U(r - A1) if r > A1 else _U(0))
    sign = neg | (r == A1)
    L = L1 if sign else L0
    U = U1 if sign else U0
    fa, a = _flip(mag, L, False)
    fb, b = _flip(mag, U, True)
    ones = _U(0xFFFFFFFF)
    all_a = ones if a else _U(0)
    all_b = ones if b else _U(0)
    inside = _U(all_a & _U(~all_b))
    chi = _U(inside ^ _U(_U(all_a ^ fa) & _U(~_U(all_b ^ fb))))
    in0 = (mag >= L0) & (mag <= U0)
    in1 = (mag >= L1) & (mag <= U1)
    sbit = _U(_U(1) << top_shift) if in0 != in1 else _U(0)
    return _U(_U(chi & wm) | sbit)


@njit(**_OPTS)
def _chunk(c, first, stop, global_start, chunk, cap, params, out_r, out_m, counts):
    """Chunk ``c`` = ranks ``[first + c*chunk, ...)`` up to ``stop``: run starts into ``out_*[c]``.

    ``counts[c]`` is the number of starts found (may exceed ``cap``: the caller redoes
    that chunk).  The rank ``global_start`` always starts a run.
    """
    family, R, A, L0, U0, L1, U1, wm, top_shift = params
    r0 = first + c * chunk
    r1 = min(r0 + chunk, stop)
    buf = np.empty(BLOCK, dtype=np.uint32)
    if r0 == global_start:  # differs from the first mask: the start is recorded
        prev = _U(~_mask(_U(r0), family, R, A, L0, U0, L1, U1, wm, top_shift))
    else:
        prev = _mask(_U(r0 - 1), family, R, A, L0, U0, L1, U1, wm, top_shift)
    cnt = 0
    for b0 in range(r0, r1, BLOCK):
        nb = min(BLOCK, r1 - b0)
        rb = _U(b0)
        for k in range(nb):  # branch-free: vectorised
            buf[k] = _mask(_U(rb + _U(k)), family, R, A, L0, U0, L1, U1, wm, top_shift)
        diff = _U(buf[0] ^ prev)
        for k in range(1, nb):
            diff |= _U(buf[k] ^ buf[k - 1])
        if diff != 0:  # rare: a run starts in this block
            for k in range(nb):
                if buf[k] != prev:
                    if cnt < cap:
                        out_r[c, cnt] = b0 + k
                        out_m[c, cnt] = buf[k]
                    cnt += 1
                    prev = buf[k]
        prev = buf[nb - 1]
    counts[c] = cnt


# Two entry points, not one function compiled twice: numba's on-disk cache keys entries by
# function name and signature, so twin compilations of one function would share an entry.
@njit(parallel=True, **_OPTS)
def _sweep_parallel(first, stop, global_start, chunk, cap, params, out_r, out_m, counts):
    for c in prange(counts.shape[0]):
        _chunk(c, first, stop, global_start, chunk, cap, params, out_r, out_m, counts)


@njit(**_OPTS)
def _sweep_serial(first, stop, global_start, chunk, cap, params, out_r, out_m, counts):
    """Same as :func:`_sweep_parallel` on the calling thread (waking the pool costs more
    than a small range does)."""
    for c in range(counts.shape[0]):
        _chunk(c, first, stop, global_start, chunk, cap, params, out_r, out_m, counts)


def _params(p):
    """Kernel arguments (a uint32 tuple) from :class:`~boolgrad.builders.kernels.masks.KernelParams`."""
    family = 0 if p.family == "fixed" else 1
    top = p.n - 1 if p.family == "float" else 0
    return tuple(_U(v) for v in (family, p.R, p.A, p.L0, p.U0, p.L1, p.U1, p.width_mask, top))


def _run_group(spec_params, first, stop, global_start, chunk, cap):
    n_chunks = -(-(stop - first) // chunk)
    out_r = np.empty((n_chunks, cap), dtype=np.int64)
    out_m = np.empty((n_chunks, cap), dtype=np.uint32)
    counts = np.zeros(n_chunks, dtype=np.int64)
    kernel = _sweep_serial if stop - first <= SERIAL_BELOW else _sweep_parallel
    kernel(first, stop, global_start, chunk, cap, spec_params, out_r, out_m, counts)
    rs, ms = [], []
    for c in range(n_chunks):
        k = int(counts[c])
        if k <= cap:
            rs.append(out_r[c, :k])
            ms.append(out_m[c, :k])
        else:  # a chunk with more runs than room: redo it alone with room for all
            c0 = first + c * chunk
            c1 = min(c0 + chunk, stop)
            r, m = _run_group(spec_params, c0, c1, global_start, c1 - c0, k)
            rs.append(r)
            ms.append(m)
    return np.concatenate(rs), np.concatenate(ms)


def numba_sweep(
    spec: GradientSpec, start: int, stop: int, progress: bool = False, *, chunk: int = CHUNK, cap: int = CAP
):
    """Run starts and masks over ranks ``[start, stop)``, exactly as ``array_sweep``.

    ``wrt="theta"`` needs no enumeration (:func:`~boolgrad.builders.runs.theta_runs`).
    ``chunk`` (ranks per thread task) and ``cap`` (run starts a chunk holds before it is
    redone alone) are tuning knobs; results do not depend on them.
    ``KeyboardInterrupt`` is seen between groups of chunks and propagates.
    """
    if chunk < 1 or cap < 1:
        raise ValueError(f"chunk and cap must be positive, got {chunk} and {cap}")
    check_rank_range(spec, start, stop)
    if spec.wrt == "theta":
        return theta_runs(spec, start, stop)
    p = kernel_params(spec)
    if single_run(p):  # before the uint32 tuple: R = 2**32 would not fit
        return np.asarray([start], dtype=np.uint64), np.zeros(1, dtype=np.uint64)
    params = _params(p)
    step = chunk * GROUP
    rs, ms = [], []
    with Progress(stop - start, progress, f"sweep {spec.fmt.name} (numba)") as bar:
        for g0 in range(start, stop, step):
            g1 = min(g0 + step, stop)
            r, m = _run_group(params, g0, g1, start, chunk, cap)
            rs.append(r)
            ms.append(m)
            bar.update(g1 - g0)
    return np.concatenate(rs).astype(np.uint64), np.concatenate(ms).astype(np.uint64)

