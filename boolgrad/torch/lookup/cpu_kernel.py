"""The lookup's fast path as numba loops on CPU (optional: ``pip install boolgrad[numba]``).

Per element, one pass: bucket ``b = (bits >> shift) & 0xFFFF`` of the element's own pattern,
``g = PB[b] (+ QB[b] / v)`` in float64 (``v`` the element, rounded to the table's format unless
``fits``), clipped to ``[lo, hi]``, the one patched pattern, then ``out = cast(g) * grad_out`` in
the input's dtype -- the same operations in the same order as the torch path of
:mod:`.evaluate` (float64 division is correctly rounded in both), so the results are identical.

* Buckets cut by one piece bound at the plan's pattern offset ``K`` (``plan.split``) are resolved
  in the loop: entry ``2 b + [low bits >= K]`` of ``PB2``/``QB2``.  Buckets cut by several
  (``plan.mixed``) are flagged and :func:`~.cpu_loops.fix` finds the piece by a binary search
  over their bounds -- the piece ``k`` that the slow path's ``searchsorted`` finds -- and
  evaluates the slow path's own ``P[k] (+ Q[k] / v)``.
* float32 on a float32 table: theta's one-bit neighbours are flagged by their bits and take
  their own results from a table of 33; the buckets only they cut are filled
  (:mod:`.neighbours`) -- under ``gt`` that leaves no cut bucket near theta.  bfloat16 tables on
  float32 (``plan.direct``): ``g`` per rounded pattern (:func:`~.evaluate.direct_table`).
* Rounding ``v`` to a narrower float format adds and subtracts ``C = 2**(q+52)`` (``q``: the
  exponent of one ulp at ``|v|``, from the element's bits): float64 addition rounds to nearest
  even on the ulp grid, as ``quantize`` does.  Rare cases (subnormal inputs, ``C`` out of
  float64's normal range) are flagged; ``fix`` uses frexp/ldexp (:func:`~.cpu_loops.round_slow`).
* float32 and subnormals: a float32 operation with a subnormal operand or result costs a
  microcode assist (~100 cycles) on x86, and exact Boolean gradients are often that small
  (``g ~ 2**-128 / u`` between the comparison's exponent flips).  The *protected* loop never
  forms one: ``cast(g)`` and ``grad_out`` as float64 values (subnormals from their bits), the
  product exactly in float64 (24 x 24 bits), rounded once as the float32 multiply rounds it, and
  a subnormal result written as its bits ``rint(|y| 2**149)``.  It costs about 1 ns an element,
  so :func:`run` switches it on and off by how many subnormal results the plan's recent calls
  had.  Both loops give identical results.

The loops live in :mod:`.cpu_loops` (numba, cached on disk).  A NaN ``g`` that ``fix`` cannot
resolve (irregular pieces, ``+-0``, NaN) stays flagged in ``bad`` for the caller's exact slow
path.  Below :data:`_PARALLEL_MIN` elements the loop runs on
one thread.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

__all__ = ["available", "flushing", "params", "run", "start_pool"]

_PARALLEL_MIN = 1 << 15  # smaller inputs: the serial loop (torch's own grain size for elementwise ops)
_LOCK = threading.Lock()  # some numba threading layers forbid concurrent parallel launches


@functools.lru_cache(maxsize=1)
def start_pool():
    """Import numba and start its thread pool now, keeping torch's thread count; returns numba.

    numba's OpenMP threading layer sets OpenMP's thread count to ``NUMBA_NUM_THREADS`` when its
    pool starts (the first parallel launch), and torch reads its own count from OpenMP: without
    this, the first Boolean backward silently turned ``torch.set_num_threads(1)`` into
    ``NUMBA_NUM_THREADS`` torch threads.  Every parallel numba launch of the torch layer goes
    through here first."""
    import numba
    import torch

    threads = torch.get_num_threads()
    try:
        from numba.np.ufunc.parallel import _launch_threads
    except ImportError:  # a private function of numba: without it, start the pool by a launch
        _launch_threads = None
    if _launch_threads is not None:
        _launch_threads()
    else:
        numba.get_num_threads()
    torch.set_num_threads(threads)
    return numba


@functools.lru_cache(maxsize=1)
def _numba():
    numba = start_pool()

    from .cpu_loops import kernel_for

    return numba, kernel_for


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """numba importable."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _rounding(plan):
    """``(rnd, pow2)``: the constants of :func:`~.cpu_loops.round_to` for ``plan`` (inert when
    ``fits``)."""
    f64 = plan.dtype is not None and str(plan.dtype) == "torch.float64"
    es, emask, ebias = (52, 0x7FF, 1023) if f64 else (23, 0xFF, 127)
    fmt = plan.fmt
    if plan.fits or plan.QB is None:
        return (0, 0, 0.0, 0.0, math.inf, es, emask, ebias, 0), np.zeros(1)
    over = math.inf if fmt.has_inf else math.nan
    emin, man, maxf = 1 - fmt.bias, fmt.man_bits, float(fmt.max_finite)
    emax = math.frexp(maxf)[1] - 1
    qmin = emin - man
    with np.errstate(over="ignore", under="ignore"):  # inf / subnormal C: round_slow
        pow2 = np.ldexp(1.0, np.arange(qmin, emax - man + 1) + 52)
    if man > 51:  # (|v| + C) - C needs a spare bit: every element takes round_slow
        pow2[:] = math.inf
    big = 2.0 ** (emax + 1) if emax < 1023 else math.inf  # inf itself is still >= big
    return (emin, man, maxf, over, big, es, emask, ebias, qmin), pow2


def params(plan, direct=None, neighbours=None):
    """The kernel's arguments from a plan: numpy tables and constants.  ``direct``: ``g`` per
    pattern of a ``plan.direct`` format (:func:`~.evaluate.direct_table`), looked up by the
    rounded pattern instead of the buckets; ``neighbours``: :func:`~.neighbours.neighbour_tables`."""
    exc = np.asarray(plan.exceptions, dtype=np.float64).reshape(-1, 2)
    has_exc = exc.shape[0] > 0
    if not has_exc:
        exc = np.full((1, 2), np.nan)
    PB = plan.PB.numpy() if direct is None else np.ascontiguousarray(direct, dtype=np.float64)
    QB = plan.QB.numpy() if plan.QB is not None and direct is None else np.zeros_like(PB)
    split, tb, gx = plan.split, 0, np.zeros(33)
    if neighbours is not None:
        tb, gx, PB, QB, split = neighbours
        QB = np.zeros_like(PB) if QB is None else QB
    n = PB.shape[0]
    KL, KH = plan.mixed if plan.mixed is not None else (np.full(n, -1, np.int32),) * 2
    bounds = plan.bounds.cpu().to(dtype=plan.P.dtype).numpy()
    tabs = (PB, QB, exc[:, 0].copy(), exc[:, 1].copy(), KL, KH, bounds, plan.P.numpy(), plan.Q.numpy())
    K = 0
    if split is not None and direct is None:
        K, PB2, QB2 = split
        tabs += (PB2, QB2 if QB2 is not None else np.zeros_like(PB2))
    else:
        tabs += (np.zeros(2), np.zeros(2))
    tabs += (gx,)
    lo = -math.inf if plan.lo is None else float(plan.lo)
    hi = math.inf if plan.hi is None else float(plan.hi)
    f32 = str(plan.dtype) == "torch.float32"
    has_q = plan.QB is not None and direct is None
    p = (int(plan.shift), has_q, bool(plan.fits), False, lo, hi, f32, has_exc, 0.0, direct is not None, K, tb,
         neighbours is not None)
    return tabs, p, _rounding(plan), {}  # {}: run()'s specialised kernels and arguments, by call kind


_QUIET_CALLS = 16  # protect stays on until this many calls in a row had few subnormal results
_PROTECT_RATE = 1.0 / 256  # fraction of subnormal results above which protect pays
_TINY_A, _TINY_B = np.float32(2.0**-100), np.float32(2.0**-30)  # their product is subnormal: 2**-130


def flushing() -> bool:
    """Subnormals flushed on this thread (FTZ: ``torch.set_flush_denormal(True)``, how the study
    trains): a float32 product that should be subnormal is then 0.  There no operation costs an
    assist, so the unprotected loop runs: its float32 stores flush what protection would write
    exactly, and DAZ reads those exact subnormals as 0 in every later operation anyway."""
    return float(_TINY_A * _TINY_B) == 0.0


def run(bits, u, go, out, bad, kparams, threads: int, state=None, offset: float = 0.0) -> int:
    """Fill ``out`` (and ``bad``) for 1-D numpy arrays; returns the number of flagged elements.

    ``offset`` (float32 ``u`` only): evaluate at ``fl(u + offset)`` (float32 addition, as torch's
    ``u + offset``); ``bits`` are then unused.

    ``state``: a per-plan ``[quiet, protect]`` list that :func:`run` keeps (``None``: protect):
    ``quiet`` counts the calls in a row whose subnormal results were rare (both loops count
    them).  One plan serves every layer of a network, and an unprotected call on subnormal-rich
    data costs ~40 ns an element against ~1 ns for protection, so protection is switched on by
    one such call and off only after :data:`_QUIET_CALLS` quiet ones.  While subnormals are
    flushed (:func:`flushing`) and the loop runs on this thread (one thread: the study's
    training), the unprotected loop runs whatever the state: nothing costs an assist then (the
    protected loop counts the exact ``g`` below float32's normal range, which kept it on for
    kinds whose tails lie there).
    """
    nb, kernel_for = _numba()
    tabs, p, (rnd, pow2), calls = kparams
    f32 = bool(p[6])
    if offset and not f32:
        raise ValueError("offset is for float32 inputs")
    state = [0, True] if state is None else state
    n = u.shape[0]
    want = 1 if n < _PARALLEL_MIN else max(1, min(threads, nb.config.NUMBA_NUM_THREADS))
    # FTZ is per thread: numba's pool threads do not flush, so only a loop run on this thread may skip protection
    protect = f32 and bool(state[1]) and not (want == 1 and flushing())
    key = (go is not None, float(offset), protect)
    hit = calls.get(key)
    if hit is None:  # once per kind of call: a call costs microseconds, what a small tensor's loop costs
        p = p[:3] + (key[0],) + p[4:8] + (key[1],) + p[9:]
        clip = p[4] > -math.inf or p[5] < math.inf
        hit = calls[key] = (kernel_for(f32, p[3], p[1], p[2], protect, p[10] > 0, bool(offset), p[9], p[12], clip), p)
    kernel, p = hit
    go = u if go is None else go
    out_bits = out.view(np.int32) if out.dtype == np.float32 else bits
    go_bits = go.view(np.int32) if go.dtype == np.float32 else bits
    with _LOCK:
        if nb.get_num_threads() != want:
            nb.set_num_threads(want)
        ntiny, nbad = kernel(bits, u, go, go_bits, out, out_bits, bad, tabs, p, rnd, pow2)
    if f32:
        state[0] = 0 if ntiny > n * _PROTECT_RATE else state[0] + 1
        state[1] = state[0] < _QUIET_CALLS
    return nbad
