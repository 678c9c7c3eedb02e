"""The numba loops of :mod:`boolgrad.torch.multistep` (imported on first use: this module imports numba).

Arrays are ``(T, n)`` (time, flattened batch x neurons), C-contiguous, all of one float dtype
``F``; scalars are ``F`` values too, so every operation is an ``F`` operation in the order the
step loop's torch operations take (no fused multiply-add: numba does not contract without
``fastmath``).  A column ``j`` is one neuron of one sample: columns are independent, so a
parallel call splits them into blocks and each block walks time with its columns innermost
(contiguous, vectorisable).

Forward (``u[-1] = s[-1] = 0``; ``x[t] = I[t] * gain``, ``I[0]`` for every ``t`` when
``const``)::

    t = 0:  u = x[0]
    t > 0:  L = u[t-1] * d;   u = L * (1 - s[t-1]) + x[t]        (zero reset)
                              u = (L - s[t-1] * rb) + x[t]        (subtract reset)
    s[t] = [u >= lo and (not has_hi or u < hi)]

Backward (BPTT, ``go``: dL/ds from above, ``g``: the spike's ``g(u)`` cast to ``F``; ``gu'`` is
dL/du at ``t + 1``, 0 at ``T - 1``)::

    gs = go[t] + (-(gu' * L[t+1]))            (zero reset; gs = go[t] + (-gu') * rb subtracting;
                                               gs = go[t] when the reset is detached)
    gu = gs * g[t] + (gu' * (1 - s[t])) * d    (zero reset; gu' * d subtracting)
    dL/dI[t] = gu * gain;   const: (sum_t gu, from t = T - 1 down) * gain

each product and sum rounded to ``F`` as autograd's nodes round them (a sum of two terms is the
same in either order).  ``gs`` is kept when asked (a learnable threshold's gradient).

``g`` is read from an array (kind 0: the rule evaluated on the whole ``u`` beforehand), or, for
the surrogates whose torch expression is plain arithmetic, computed in the loop by
:func:`surrogate_g` with the torch expression's operations in its order, each rounded to ``F``
(``x = u - th``; ``c0``, ``c1``: the Python scalars torch casts to ``F``)::

    1 arctan            (1 / (1 + (c0 x)^2)) * c1         c0 = pi/2 alpha, c1 = alpha/2
    2 rectangle         [|x| < c0] * c1                   c0 = width, c1 = height
    3 straight_through  1
    4 fast_sigmoid      1 / ((c0 |x| + 1)^2)              c0 = slope
    5 triangle          c1 * max(1 - |x| / c0, 0)         c0 = width, c1 = height

    6 Boolean           cast(element_g(u))                the plan's kernel per element

(torch's ``a / t`` for a scalar ``a`` is ``reciprocal(t) * a``; ``t ** 2`` is ``t * t``.)  The
Boolean spike's ``g`` is :func:`boolgrad.torch.lookup.cpu_loops.element_g` on the plan's kernel
arrays (``bool_args = (bits, tabs, p, rnd, pow2, special)``, ``bits``: ``u`` viewed as
integers), cast to ``F``: the lookup kernel's value bit for bit.  Where the kernel hands an
element to the slow path: at ``+-0`` and ``+-inf`` the slow path's own results (``special``,
computed once per plan); elsewhere (NaN inputs, irregular pieces) the loop counts it and the
caller runs the loop again with ``g`` from the array.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..lookup.cpu_loops import element_g

__all__ = ["BOOLEAN_KIND", "SURROGATE_KINDS", "backward", "boolean_g", "forward", "no_boolean", "surrogate_g"]

_BLOCK = 512  # columns per parallel task
#: surrogate name -> the loop's kind (module doc); others take ``g`` from an array (kind 0)
SURROGATE_KINDS = {"arctan": 1, "rectangle": 2, "straight_through": 3, "fast_sigmoid": 4, "triangle": 5}
BOOLEAN_KIND = 6


@njit(cache=True, inline="always", error_model="numpy")
def _g(kind, x, c0, c1, one, nil):
    """A surrogate's ``g(x)`` in ``x``'s dtype (module doc's table)."""
    if kind == 1:
        y = c0 * x
        return (one / (one + y * y)) * c1
    if kind == 2:
        return (one if abs(x) < c0 else nil) * c1
    if kind == 3:
        return one
    if kind == 4:
        b = c0 * abs(x) + one
        return one / (b * b)
    z = one - abs(x) / c0
    return c1 * (nil if z < nil else z)  # noqa: FURB136 -- keeps a NaN, as torch.clamp


@njit(cache=True, error_model="numpy")
def surrogate_g(kind, u, th, c0, c1):
    """``g(u - th)`` of surrogate ``kind`` (module doc) for a 1-D array, as the loop computes it."""
    one = u.dtype.type(1.0)
    nil = u.dtype.type(0.0)
    out = np.empty_like(u)
    for i in range(u.shape[0]):
        out[i] = _g(kind, u[i] - th, c0, c1, one, nil)
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _boolean(v, bits, tabs, p, rnd, pow2, special):
    """``element_g``, and where it needs the slow path at ``+0, -0, inf, -inf``: the slow path's
    own results there (``special``); NaN: the slow path is needed."""
    x = np.float64(v)
    g = element_g(x, np.int64(bits), tabs, p, rnd, pow2)
    if math.isnan(g):
        if x == 0.0:
            g = special[1 if bits < 0 else 0]
        elif x == np.inf:
            g = special[2]
        elif x == -np.inf:
            g = special[3]
    return g


@njit(cache=True, error_model="numpy")
def boolean_g(u, bits, tabs, p, rnd, pow2, special):
    """The loop's Boolean ``g`` (cast to ``u``'s dtype) for a 1-D array; NaN: the slow path's."""
    out = np.empty_like(u)
    for i in range(u.shape[0]):
        out[i] = u.dtype.type(_boolean(u[i], bits[i], tabs, p, rnd, pow2, special))
    return out


@njit(cache=True, error_model="numpy")
def _forward_cols(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, j0, j1):
    one = s.dtype.type(1.0)
    nil = s.dtype.type(0.0)
    for t in range(u.shape[0]):
        ti = 0 if const else t
        for j in range(j0, j1):
            x = I[ti, j] * gain
            if t == 0:
                v = x
            else:
                lk = u[t - 1, j] * d
                sp = s[t - 1, j]
                if zero_reset:
                    v = lk * (one - sp) + x
                else:
                    v = (lk - sp * rb) + x
            u[t, j] = v
            fire = v >= lo
            if has_hi:
                fire = fire and v < hi
            s[t, j] = one if fire else nil


@njit(cache=True, error_model="numpy")
def _backward_cols(go, s, u, g, kind, th, c0, c1, ba, d, rb, gain, zero_reset, detach, const, want_gs, gI,
                   gs_out, j0, j1):
    one = s.dtype.type(1.0)
    bits, tabs, bp, rnd, pow2, special = ba
    nbad = 0
    nil = s.dtype.type(0.0)
    T = u.shape[0]
    m = j1 - j0
    nxt = np.zeros(m, dtype=u.dtype)
    acc = np.zeros(m, dtype=u.dtype)
    for t in range(T - 1, -1, -1):
        last = t == T - 1
        for k in range(m):
            j = j0 + k
            gs = go[t, j]
            gun = nxt[k]
            if not last and not detach:
                if zero_reset:
                    gs = gs + (-(gun * (u[t, j] * d)))
                else:
                    gs = gs + (-gun) * rb
            if want_gs:
                gs_out[t, j] = gs
            if kind == 0:
                gk = g[t, j]
            elif kind == 6:
                g64 = _boolean(u[t, j], bits[t, j], tabs, bp, rnd, pow2, special)
                nbad += 1 if math.isnan(g64) else 0
                gk = u.dtype.type(g64)
            else:
                gk = _g(kind, u[t, j] - th, c0, c1, one, nil)
            gu = gs * gk
            if not last:
                if zero_reset:
                    gu = gu + (gun * (one - s[t, j])) * d
                else:
                    gu = gu + gun * d
            nxt[k] = gu
            if const:
                acc[k] = gu if last else acc[k] + gu
            else:
                gI[t, j] = gu * gain
    if const:
        for k in range(m):
            gI[0, j0 + k] = acc[k] * gain if T > 0 else nil
    return nbad


@njit(parallel=True, cache=True, error_model="numpy")
def _forward_par(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s):
    n = u.shape[1]
    nb = (n + _BLOCK - 1) // _BLOCK
    for b in prange(nb):
        _forward_cols(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, b * _BLOCK,
                      min(n, (b + 1) * _BLOCK))


@njit(cache=True, error_model="numpy")
def _forward_ser(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s):
    _forward_cols(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, 0, u.shape[1])


@njit(parallel=True, cache=True, error_model="numpy")
def _backward_par(go, s, u, g, kind, th, c0, c1, ba, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out):
    n = u.shape[1]
    nb = (n + _BLOCK - 1) // _BLOCK
    nbad = 0
    # a parallel region takes arrays and scalars, not tuples of them: unpacked here, rebuilt inside
    bits, (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11), bp, rnd, pow2, special = ba
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12 = bp
    r0, r1, r2, r3, r4, r5, r6, r7, r8 = rnd
    for b in prange(nb):
        tabs = (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11)
        args = (bits, tabs, (p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12),
                (r0, r1, r2, r3, r4, r5, r6, r7, r8), pow2, special)
        nbad += _backward_cols(go, s, u, g, kind, th, c0, c1, args, d, rb, gain, zero_reset, detach, const, want_gs,
                               gI, gs_out, b * _BLOCK, min(n, (b + 1) * _BLOCK))
    return nbad


@njit(cache=True, error_model="numpy")
def _backward_ser(go, s, u, g, kind, th, c0, c1, ba, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out):
    return _backward_cols(go, s, u, g, kind, th, c0, c1, ba, d, rb, gain, zero_reset, detach, const, want_gs, gI,
                          gs_out, 0, u.shape[1])


def forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, parallel: bool):
    """Fill ``u`` and ``s`` (module doc); scalars already of the arrays' dtype."""
    (_forward_par if parallel else _forward_ser)(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s)


def backward(go, s, u, g, surr, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out, parallel: bool) -> int:
    """Fill ``gI`` (and ``gs_out`` when ``want_gs``) (module doc); ``surr``: ``(kind, th, c0, c1,
    bool_args)`` (``g`` unused unless ``kind`` is 0).  Returns how many Boolean ``g`` needed the slow
    path (then ``gI`` is void: run again with kind 0)."""
    kind, th, c0, c1, ba = surr
    return (_backward_par if parallel else _backward_ser)(
        go, s, u, g, kind, th, c0, c1, ba, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out
    )


def no_boolean(dtype):
    """Placeholder ``bool_args`` for the other kinds (never read), typed like a plan's."""
    i32, f64 = np.zeros(1, np.int32), np.zeros(2)
    tabs = (f64, f64, f64, f64, i32, i32, f64, f64, f64, f64, f64, np.zeros(33))
    p = (0, False, False, False, 0.0, 0.0, False, False, 0.0, False, 0, 0, False)
    rnd = (0, 0, 0.0, 0.0, 0.0, 0, 0, 0, 0)
    bits = np.zeros((1, 1), np.int32 if dtype == np.float32 else np.int64)
    return bits, tabs, p, rnd, np.zeros(1), np.zeros(4)


def dtype_scalar(dtype, value):
    """``value`` as a numpy scalar of ``dtype`` (what torch casts a Python scalar to)."""
    return np.dtype(dtype).type(value)
