"""The numba loops of :mod:`boolgrad.torch.multistep` (imported on first use: this module imports numba).

Arrays are ``(K, T, n)`` (independent problems -- stacked models --, time, flattened batch x
neurons), C-contiguous, all of one float dtype ``F``; scalars are ``F`` values too, so every
operation is an ``F`` operation in the order the step loop's torch operations take (no fused
multiply-add: numba does not contract without ``fastmath``).  A column ``j`` of problem ``k`` is
one neuron of one sample: columns are independent, so the loops split them into blocks (tasks of
a parallel call) and each block walks time one row at a time; every row is one branch-free loop
over contiguous columns, which LLVM vectorises (the flags are tested outside it).

Forward (``u[-1] = s[-1] = 0``; ``x[t] = I[t] * gain``, ``I[0]`` for every ``t`` when
``const``)::

    t = 0:  u = x[0]
    t > 0:  L = u[t-1] * d;   u = L * (1 - s[t-1]) + x[t]        (zero reset)
                              u = (L - s[t-1] * rb) + x[t]        (subtract reset)
    s[t] = [u >= lo and (not has_hi or u < hi)]

Backward (BPTT, ``go``: dL/ds from above -- ``(K, 1, n)`` when ``go_const``: the same at every
step, as a mean over time hands it down --, ``g``: the spike's ``g(u)`` in ``F``; ``gu'`` is
dL/du at ``t + 1``, 0 at ``T - 1``)::

    gs = go[t] + (-(gu' * L[t+1]))            (zero reset; gs = go[t] + (-gu') * rb subtracting;
                                               gs = go[t] when the reset is detached)
    gu = gs * g[t] + (gu' * (1 - s[t])) * d    (zero reset; gu' * d subtracting)
    dL/dI[t] = gu * gain;   const: (sum_t gu, from t = T - 1 down) * gain

each product and sum rounded to ``F`` as autograd's nodes round them (a sum of two terms is the
same in either order).  ``gs`` is kept when asked (a learnable threshold's gradient).

Memory traffic, not arithmetic, bounds these loops, so they touch as few ``(K, T, n)`` arrays
as they can: ``s[t]`` is a function of ``u[t]``, so both passes recompute it from ``u`` (the
same comparison, the same bits) instead of reading ``s``; the forward writes ``s`` only when
asked, and can keep each column's spike rate over time instead (the mean over time of a last
layer: the count, an exact integer, divided by T once is ``s.mean(t)`` bit for bit); and a
surrogate's ``g`` is computed row by row inside the backward (:func:`surrogate_g`'s arithmetic
on one row, in L1) instead of being read from a ``g`` array.

:func:`surrogate_g` evaluates the surrogates whose torch expression is plain arithmetic with
that expression's operations in its order, each rounded to ``F`` (``x = u - th``; ``c0``,
``c1``: the Python scalars torch casts to ``F``), in one vectorised pass::

    1 arctan            (1 / (1 + (c0 x)^2)) * c1         c0 = pi/2 alpha, c1 = alpha/2
    2 rectangle         [|x| < c0] * c1                   c0 = width, c1 = height
    3 straight_through  1
    4 fast_sigmoid      1 / ((c0 |x| + 1)^2)              c0 = slope
    5 triangle          c1 * max(1 - |x| / c0, 0)         c0 = width, c1 = height

(torch's ``a / t`` for a scalar ``a`` is ``reciprocal(t) * a``; ``t ** 2`` is ``t * t``.)
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from ...numba_cache import install as _race_free_cache
from .rule import SURROGATE_KINDS

__all__ = ["SURROGATE_KINDS", "backward", "forward", "surrogate_g"]

_race_free_cache()  # before anything here compiles (boolgrad.numba_cache)

_BLOCK = 1024  # columns per task: a row of a block stays in L1 while time is walked
_RECOMPUTE_ELEMENTS = 1 << 16  # a recomputed block's u (T x columns): 256 KiB of float32, in L2


@njit(cache=True, inline="always", error_model="numpy")
def _surrogate(kind, v, th, c0, c1, one, nil):
    """Surrogate ``kind``'s ``g`` at one element (module doc); ``kind`` a compile-time constant
    where it is inlined (the branch folds away)."""
    if kind == 1:
        y = c0 * (v - th)
        return (one / (one + y * y)) * c1
    if kind == 2:
        return (one if abs(v - th) < c0 else nil) * c1
    if kind == 3:
        return one
    if kind == 4:
        b = c0 * abs(v - th) + one
        return one / (b * b)
    z = one - abs(v - th) / c0
    return c1 * (nil if z < nil else z)  # noqa: FURB136 -- keeps a NaN, as torch.clamp


@functools.cache
def _surrogate_loop(kind: int):
    @njit(cache=True, error_model="numpy")
    def loop(u, th, c0, c1, out):
        one = u.dtype.type(1.0)
        nil = u.dtype.type(0.0)
        for i in range(u.shape[0]):
            out[i] = _surrogate(kind, u[i], th, c0, c1, one, nil)

    return loop


def surrogate_g(kind, u, th, c0, c1):
    """``g(u - th)`` of surrogate ``kind`` (module doc), the shape and dtype of ``u``."""
    out = np.empty_like(u)
    _surrogate_loop(int(kind))(u.reshape(-1), th, c0, c1, out.reshape(-1))
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _spike(v, lo, hi, nohi, one, nil):
    """``s = [lo <= v (< hi)]`` of one element (branch-free)."""
    return one if (v >= lo) & (nohi | (v < hi)) else nil


def _blocks(K, n, parallel):
    """``(k, j0, j1)`` of each task, as three int64 arrays."""
    size = _BLOCK if parallel else max(n, 1)
    starts = np.arange(0, n, size, dtype=np.int64)
    k = np.repeat(np.arange(K, dtype=np.int64), len(starts))
    j0 = np.tile(starts, K)
    return k, j0, np.minimum(j0 + size, n)


# The loops are made per combination of the flags that shape their inner loops (factories whose
# closures hold only those flags: compile-time constants, so each row is one branch-free loop
# that LLVM vectorises -- a runtime flag inside it defeats that -- and numba's on-disk cache finds
# each specialisation again by the closure's values).  A block is one problem's columns j0:j1 of
# the inputs (I, go, gI, gs_out); its u (and s, cnt) are columns ju:ju+m of problem ku, so
# the recomputing backward can run both blocks on a buffer of its own (ku = ju = 0).

@functools.cache
def _forward_block(store_u: bool, store_s: bool, count: bool, has_hi: bool):
    """The forward over time of one block, writing ``u`` if ``store_u`` (else one row, reused),
    ``s`` if ``store_s``, the spike rate (count / T) if ``count``; the spike ``u < hi`` too if
    ``has_hi``."""

    @njit(cache=True, error_model="numpy")
    def block(I, const, gain, d, rb, zero_reset, lo, hi, u, s, cnt, k, j0, j1, ku, ju):
        one = u.dtype.type(1.0)
        nil = u.dtype.type(0.0)
        nohi = not has_hi
        T = u.shape[1]  # (a (1, T, 0) stand-in when u is not kept)
        m = j1 - j0
        row = np.empty(m, dtype=u.dtype)  # u[t-1], then u[t], when u is not kept
        c = cnt[ku, ju:ju + m] if count else row
        for t in range(T):
            x = I[k, 0 if const else t, j0:j1]
            uo = u[ku, t, ju:ju + m] if store_u else row
            if t == 0:
                for j in range(m):
                    uo[j] = x[j] * gain
                if count:
                    c[:] = nil
                continue
            up = u[ku, t - 1, ju:ju + m] if store_u else row  # s[t-1] = spike(u[t-1]), computed here
            so = s[ku, t - 1, ju:ju + m] if store_s else row
            if zero_reset:
                for j in range(m):
                    sp = _spike(up[j], lo, hi, nohi, one, nil)
                    uo[j] = (up[j] * d) * (one - sp) + x[j] * gain
                    if store_s:
                        so[j] = sp
                    if count:  # exact: integers below 2**24
                        c[j] = c[j] + sp
            else:
                for j in range(m):
                    sp = _spike(up[j], lo, hi, nohi, one, nil)
                    uo[j] = ((up[j] * d) - sp * rb) + x[j] * gain
                    if store_s:
                        so[j] = sp
                    if count:
                        c[j] = c[j] + sp
        ul = u[ku, T - 1, ju:ju + m] if store_u else row
        so = s[ku, T - 1, ju:ju + m] if store_s else row
        steps = u.dtype.type(T)
        for j in range(m):
            sp = _spike(ul[j], lo, hi, nohi, one, nil)
            if store_s:
                so[j] = sp
            if count:  # the rate: count / T, one correctly rounded division (as torch's)
                c[j] = (c[j] + sp) / steps

    return block


@functools.cache
def _forward_loops(store_u: bool, store_s: bool, count: bool, has_hi: bool):
    """``(serial, parallel)`` forward loops (:func:`_forward_block`)."""
    block = _forward_block(store_u, store_s, count, has_hi)

    @njit(cache=True, error_model="numpy")
    def serial(I, const, gain, d, rb, zero_reset, lo, hi, u, s, cnt):
        for k in range(cnt.shape[0]):
            block(I, const, gain, d, rb, zero_reset, lo, hi, u, s, cnt, k, 0, cnt.shape[1], k, 0)

    @njit(parallel=True, cache=True, error_model="numpy")
    def parallel(I, const, gain, d, rb, zero_reset, lo, hi, u, s, cnt, bk, b0, b1):
        for b in prange(bk.shape[0]):
            block(I, const, gain, d, rb, zero_reset, lo, hi, u, s, cnt, bk[b], b0[b], b1[b], bk[b], b0[b])

    return serial, parallel


@functools.cache
def _backward_block(kind: int, zero_reset: bool, detach: bool, const: bool, want_gs: bool, has_hi: bool):
    """BPTT over one block (module doc): ``g`` read from its array (``kind`` 0) or surrogate
    ``kind``'s computed in the loop; one pass over a row per step."""

    @njit(cache=True, error_model="numpy")
    def block(go, u, g, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1, k, j0, j1, ku, ju):
        one = u.dtype.type(1.0)
        nil = u.dtype.type(0.0)
        nohi = not has_hi
        T = u.shape[1]
        m = j1 - j0
        nxt = np.zeros(m, dtype=u.dtype)  # dL/du at t + 1 (0 beyond the last step)
        acc = np.zeros(m, dtype=u.dtype)
        for t in range(T - 1, -1, -1):
            last = t == T - 1
            gor = go[k, 0 if go_const else t, j0:j1]
            ur = u[ku, t, ju:ju + m]
            gr = g[k, t, j0:j1] if kind == 0 else ur
            gso = gs_out[k, t, j0:j1] if want_gs else ur
            out = gI[k, 0 if const else t, j0:j1]
            for j in range(m):
                v = ur[j]
                n1 = nxt[j]
                if detach:
                    gs = gor[j]
                elif zero_reset:
                    gs = gor[j] + (-(n1 * (v * d)))
                else:
                    gs = gor[j] + (-n1) * rb
                gs = gor[j] if last else gs  # nothing from beyond the last step (not even a -0 or a NaN)
                if want_gs:
                    gso[j] = gs
                gv = gr[j] if kind == 0 else _surrogate(kind, v, th, c0, c1, one, nil)
                if zero_reset:
                    nu = gs * gv + (n1 * (one - _spike(v, lo, hi, nohi, one, nil))) * d
                else:
                    nu = gs * gv + n1 * d
                nu = gs * gv if last else nu
                nxt[j] = nu
                if const:
                    acc[j] = acc[j] + nu
                else:
                    out[j] = nu * gain
        if const:
            out = gI[k, 0, j0:j1]
            for j in range(m):
                out[j] = acc[j] * gain

    return block


@functools.cache
def _backward_loops(kind: int, zero_reset: bool, detach: bool, const: bool, want_gs: bool, has_hi: bool):
    """``(serial, parallel)`` BPTT loops over a recorded ``u`` (:func:`_backward_block`)."""
    block = _backward_block(kind, zero_reset, detach, const, want_gs, has_hi)

    @njit(cache=True, error_model="numpy")
    def serial(go, u, g, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1):
        for k in range(u.shape[0]):
            block(go, u, g, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1, k, 0, u.shape[2], k, 0)

    @njit(parallel=True, cache=True, error_model="numpy")
    def parallel(go, u, g, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1, bk, b0, b1):
        for b in prange(bk.shape[0]):
            block(go, u, g, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1, bk[b], b0[b], b1[b],
                  bk[b], b0[b])

    return serial, parallel


@functools.cache
def _recompute_loops(kind: int, zero_reset: bool, detach: bool, const: bool, want_gs: bool, has_hi: bool):
    """``loop(I, ..., bk, b0, b1)``: per block, the forward again into a buffer of the block's
    ``u`` (the same loop, the same bits), then the BPTT over it (surrogate ``kind`` only)."""
    forward_block = _forward_block(True, False, False, has_hi)
    backward_block = _backward_block(kind, zero_reset, detach, const, want_gs, has_hi)

    @njit(cache=True, error_model="numpy")
    def block(I, T, gain, d, rb, lo, hi, go, go_const, gI, gs_out, th, c0, c1, k, j0, j1):
        buf = np.empty((1, T, j1 - j0), dtype=I.dtype)
        forward_block(I, const, gain, d, rb, zero_reset, lo, hi, buf, buf, buf[:, 0], k, j0, j1, 0, 0)
        backward_block(go, buf, buf, d, rb, gain, go_const, gI, gs_out, lo, hi, th, c0, c1, k, j0, j1, 0, 0)

    @njit(cache=True, error_model="numpy")
    def serial(I, T, gain, d, rb, lo, hi, go, go_const, gI, gs_out, th, c0, c1, bk, b0, b1):
        for b in range(bk.shape[0]):
            block(I, T, gain, d, rb, lo, hi, go, go_const, gI, gs_out, th, c0, c1, bk[b], b0[b], b1[b])

    @njit(parallel=True, cache=True, error_model="numpy")
    def parallel(I, T, gain, d, rb, lo, hi, go, go_const, gI, gs_out, th, c0, c1, bk, b0, b1):
        for b in prange(bk.shape[0]):
            block(I, T, gain, d, rb, lo, hi, go, go_const, gI, gs_out, th, c0, c1, bk[b], b0[b], b1[b])

    return serial, parallel


def forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, cnt, parallel: bool, T=None) -> None:
    """Fill ``u`` (``(K, T, n)``; ``I``: ``(K, 1 or T, n)``) and, when not None, ``s`` (the same
    shape) and ``cnt`` (``(K, n)``: the spike rate, count / T) (module doc); scalars already of
    the arrays' dtype.  ``u`` None: not kept (``cnt`` and ``T`` given; ``s`` None)."""
    if u is None and (cnt is None or s is not None or T is None):
        raise ValueError("a forward that keeps no u gives the spike rate over T steps and writes no s")
    serial, par = _forward_loops(u is not None, s is not None, cnt is not None, bool(has_hi))
    if u is None:  # the block reads T off u's shape
        u = np.empty((1, T, 0), dtype=cnt.dtype)
    args = (I, const, gain, d, rb, zero_reset, lo, hi, u, u if s is None else s,
            u[:, 0] if cnt is None else cnt)
    if parallel:
        par(*args, *_blocks(I.shape[0], I.shape[2], True))
    else:
        serial(*args)


def backward(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
             surrogate, parallel: bool) -> None:
    """Fill ``gI`` (``(K, 1 or T, n)``) and, when ``want_gs``, ``gs_out`` (module doc); ``go`` is
    ``(K, 1, n)`` when ``go_const``; ``s`` is recomputed from ``u`` (``lo``, ``hi``, ``has_hi``);
    ``g`` is ``(K, T, n)``, or None with ``surrogate`` = ``(kind, th, c0, c1)``: the surrogate's
    ``g`` computed in the loop (:func:`surrogate_g`'s arithmetic)."""
    if g is None:
        kind, th, c0, c1 = surrogate
    else:
        kind, th, c0, c1 = 0, d, d, d
    serial, par = _backward_loops(int(kind), bool(zero_reset), bool(detach), bool(const), bool(want_gs),
                                  bool(has_hi))
    args = (go, u, u if g is None else g, d, rb, gain, go_const, gI, gs_out if want_gs else u, lo, hi, th, c0, c1)
    if parallel:
        par(*args, *_blocks(u.shape[0], u.shape[2], True))
    else:
        serial(*args)


def backward_recompute(I, T, const, gain, d, rb, zero_reset, lo, hi, has_hi, go, go_const, detach, want_gs, gI,
                       gs_out, surrogate, parallel: bool) -> None:
    """:func:`backward` without a recorded ``u``: each block's ``u`` computed again from ``I`` as
    :func:`forward` computes it (bit for bit), in a buffer that stays in cache, then walked back
    -- two passes of arithmetic instead of a write and a read of ``(K, T, n)`` in memory.
    Surrogates only (``surrogate`` = ``(kind, th, c0, c1)``)."""
    kind, th, c0, c1 = surrogate
    serial, par = _recompute_loops(int(kind), bool(zero_reset), bool(detach), bool(const), bool(want_gs),
                                   bool(has_hi))
    K, n = I.shape[0], I.shape[2]
    size = max(64, min(_BLOCK, _RECOMPUTE_ELEMENTS // max(T, 1)))
    starts = np.arange(0, n, size, dtype=np.int64)
    blocks = (np.repeat(np.arange(K, dtype=np.int64), len(starts)), np.tile(starts, K))
    blocks += (np.minimum(blocks[1] + size, n),)
    (par if parallel else serial)(I, T, gain, d, rb, lo, hi, go, go_const, gI,
                                  gs_out if want_gs else go, th, c0, c1, *blocks)

