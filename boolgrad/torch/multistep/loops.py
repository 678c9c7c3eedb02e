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
asked, and can keep each column's spike count over time instead (the mean over time of a last
layer: ``count / T`` is ``s.mean(t)`` bit for bit, the count being an exact integer); and a
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

import numpy as np
from numba import njit, prange

__all__ = ["SURROGATE_KINDS", "backward", "dtype_scalar", "forward", "surrogate_g"]

_BLOCK = 1024  # columns per task: a row of a block stays in L1 while time is walked
#: surrogate name -> its number in :func:`surrogate_g` (module doc); the others' ``g`` is the rule's own
SURROGATE_KINDS = {"arctan": 1, "rectangle": 2, "straight_through": 3, "fast_sigmoid": 4, "triangle": 5}


@njit(cache=True, error_model="numpy")
def _surrogate_loop(kind, u, th, c0, c1, out):
    one = u.dtype.type(1.0)
    nil = u.dtype.type(0.0)
    n = u.shape[0]
    if kind == 1:
        for i in range(n):
            y = c0 * (u[i] - th)
            out[i] = (one / (one + y * y)) * c1
    elif kind == 2:
        for i in range(n):
            out[i] = (one if abs(u[i] - th) < c0 else nil) * c1
    elif kind == 3:
        for i in range(n):
            out[i] = one
    elif kind == 4:
        for i in range(n):
            b = c0 * abs(u[i] - th) + one
            out[i] = one / (b * b)
    else:
        for i in range(n):
            z = one - abs(u[i] - th) / c0
            out[i] = c1 * (nil if z < nil else z)  # noqa: FURB136 -- keeps a NaN, as torch.clamp


def surrogate_g(kind, u, th, c0, c1):
    """``g(u - th)`` of surrogate ``kind`` (module doc), the shape and dtype of ``u``."""
    out = np.empty_like(u)
    _surrogate_loop(kind, u.reshape(-1), th, c0, c1, out.reshape(-1))
    return out


@njit(cache=True, error_model="numpy")
def _spikes(v, so, lo, hi, has_hi):
    one = so.dtype.type(1.0)
    nil = so.dtype.type(0.0)
    if has_hi:
        for j in range(v.shape[0]):
            so[j] = one if (v[j] >= lo) & (v[j] < hi) else nil
    else:
        for j in range(v.shape[0]):
            so[j] = one if v[j] >= lo else nil


@njit(cache=True, inline="always", error_model="numpy")
def _spike(v, lo, hi, nohi, one, nil):
    """``s = [lo <= v (< hi)]`` of one element, as :func:`_spikes` writes it (branch-free)."""
    return one if (v >= lo) & (nohi | (v < hi)) else nil


@njit(cache=True, error_model="numpy")
def _forward_block(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, store_s, cnt, count, k, j0, j1):
    one = u.dtype.type(1.0)
    nil = u.dtype.type(0.0)
    nohi = not has_hi
    for t in range(u.shape[1]):
        x = I[k, 0 if const else t, j0:j1]
        uo = u[k, t, j0:j1]
        if t == 0:
            for j in range(uo.shape[0]):
                uo[j] = x[j] * gain
        else:
            up = u[k, t - 1, j0:j1]  # s[t-1] is spike(u[t-1]): read from u, not from s
            if zero_reset:
                for j in range(uo.shape[0]):
                    uo[j] = (up[j] * d) * (one - _spike(up[j], lo, hi, nohi, one, nil)) + x[j] * gain
            else:
                for j in range(uo.shape[0]):
                    uo[j] = ((up[j] * d) - _spike(up[j], lo, hi, nohi, one, nil) * rb) + x[j] * gain
        if store_s:
            _spikes(uo, s[k, t, j0:j1], lo, hi, has_hi)
        if count:  # exact: integers below 2**24
            c = cnt[k, j0:j1]
            if t == 0:
                for j in range(c.shape[0]):
                    c[j] = _spike(uo[j], lo, hi, nohi, one, nil)
            else:
                for j in range(c.shape[0]):
                    c[j] = c[j] + _spike(uo[j], lo, hi, nohi, one, nil)


@njit(cache=True, error_model="numpy")
def _through(gs, gr, ur, nxt, d, lo, hi, nohi, zero_reset, last):
    """``nxt``: dL/du at ``t`` from ``gs`` (dL/ds), ``g`` and ``nxt`` (dL/du at ``t + 1``)."""
    one = ur.dtype.type(1.0)
    nil = ur.dtype.type(0.0)
    m = gs.shape[0]
    if last:
        for j in range(m):
            nxt[j] = gs[j] * gr[j]
    elif zero_reset:
        for j in range(m):
            nxt[j] = gs[j] * gr[j] + (nxt[j] * (one - _spike(ur[j], lo, hi, nohi, one, nil))) * d
    else:
        for j in range(m):
            nxt[j] = gs[j] * gr[j] + nxt[j] * d


@njit(cache=True, error_model="numpy")
def _backward_block(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi,
                    has_hi, kind, th, c0, c1, k, j0, j1):
    T = u.shape[1]
    m = j1 - j0
    nohi = not has_hi
    nxt = np.zeros(m, dtype=u.dtype)  # dL/du at t + 1
    gs = np.empty(m, dtype=u.dtype)
    acc = np.zeros(m, dtype=u.dtype)
    grow = np.empty(m if kind else 0, dtype=u.dtype)  # a surrogate's g, one row at a time
    for t in range(T - 1, -1, -1):
        last = t == T - 1
        gor = go[k, 0 if go_const else t, j0:j1]
        ur = u[k, t, j0:j1]
        if last or detach:
            gs[:] = gor
        elif zero_reset:
            for j in range(m):
                gs[j] = gor[j] + (-(nxt[j] * (ur[j] * d)))
        else:
            for j in range(m):
                gs[j] = gor[j] + (-nxt[j]) * rb
        if want_gs:
            gs_out[k, t, j0:j1] = gs
        if kind:
            _surrogate_loop(kind, ur, th, c0, c1, grow)
            _through(gs, grow, ur, nxt, d, lo, hi, nohi, zero_reset, last)
        else:
            _through(gs, g[k, t, j0:j1], ur, nxt, d, lo, hi, nohi, zero_reset, last)
        if const:
            if last:
                acc[:] = nxt
            else:
                for j in range(m):
                    acc[j] = acc[j] + nxt[j]
        else:
            out = gI[k, t, j0:j1]
            for j in range(m):
                out[j] = nxt[j] * gain
    if const:
        out = gI[k, 0, j0:j1]
        for j in range(m):
            out[j] = acc[j] * gain


def _blocks(K, n, parallel):
    """``(k, j0, j1)`` of each task, as three int64 arrays."""
    size = _BLOCK if parallel else max(n, 1)
    starts = np.arange(0, n, size, dtype=np.int64)
    k = np.repeat(np.arange(K, dtype=np.int64), len(starts))
    j0 = np.tile(starts, K)
    return k, j0, np.minimum(j0 + size, n)


@njit(parallel=True, cache=True, error_model="numpy")
def _forward_par(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, store_s, cnt, count, bk, b0, b1):
    for b in prange(bk.shape[0]):
        _forward_block(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, store_s, cnt, count,
                       bk[b], b0[b], b1[b])


@njit(cache=True, error_model="numpy")
def _forward_ser(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, store_s, cnt, count):
    for k in range(u.shape[0]):
        _forward_block(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, store_s, cnt, count, k, 0,
                       u.shape[2])


@njit(parallel=True, cache=True, error_model="numpy")
def _backward_par(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
                  kind, th, c0, c1, bk, b0, b1):
    for b in prange(bk.shape[0]):
        _backward_block(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi,
                        has_hi, kind, th, c0, c1, bk[b], b0[b], b1[b])


@njit(cache=True, error_model="numpy")
def _backward_ser(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
                  kind, th, c0, c1):
    for k in range(u.shape[0]):
        _backward_block(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi,
                        has_hi, kind, th, c0, c1, k, 0, u.shape[2])


def forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, cnt, parallel: bool) -> None:
    """Fill ``u`` (``(K, T, n)``; ``I``: ``(K, 1 or T, n)``) and, when not None, ``s`` (the same
    shape) and ``cnt`` (``(K, n)``: the spike count over time) (module doc); scalars already of
    the arrays' dtype."""
    dummy = np.empty((1, 1, 1), dtype=u.dtype)
    args = (I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, dummy if s is None else s, s is not None,
            dummy[0] if cnt is None else cnt, cnt is not None)
    if parallel:
        _forward_par(*args, *_blocks(u.shape[0], u.shape[2], True))
    else:
        _forward_ser(*args)


def backward(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
             surrogate, parallel: bool) -> None:
    """Fill ``gI`` (``(K, 1 or T, n)``) and, when ``want_gs``, ``gs_out`` (module doc); ``go`` is
    ``(K, 1, n)`` when ``go_const``; ``s`` is recomputed from ``u`` (``lo``, ``hi``, ``has_hi``);
    ``g`` is ``(K, T, n)``, or None with ``surrogate`` = ``(kind, th, c0, c1)``: the surrogate's
    ``g`` computed row by row in the loop (:func:`surrogate_g`'s values)."""
    if g is None:
        kind, th, c0, c1 = surrogate
        g = np.empty((1, 1, 1), dtype=u.dtype)
    else:
        kind, th, c0, c1 = 0, u.dtype.type(0.0), u.dtype.type(0.0), u.dtype.type(0.0)
    args = (go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
            kind, th, c0, c1)
    if parallel:
        _backward_par(*args, *_blocks(u.shape[0], u.shape[2], True))
    else:
        _backward_ser(*args)


def dtype_scalar(dtype, value):
    """``value`` as a numpy scalar of ``dtype`` (what torch casts a Python scalar to)."""
    return np.dtype(dtype).type(value)
