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
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["backward", "forward"]

_BLOCK = 512  # columns per parallel task


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
def _backward_cols(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out, j0, j1):
    one = s.dtype.type(1.0)
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
            gu = gs * g[t, j]
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
def _backward_par(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out):
    n = u.shape[1]
    nb = (n + _BLOCK - 1) // _BLOCK
    for b in prange(nb):
        _backward_cols(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out,
                       b * _BLOCK, min(n, (b + 1) * _BLOCK))


@njit(cache=True, error_model="numpy")
def _backward_ser(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out):
    _backward_cols(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out, 0, u.shape[1])


def forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, parallel: bool):
    """Fill ``u`` and ``s`` (module doc); scalars already of the arrays' dtype."""
    (_forward_par if parallel else _forward_ser)(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s)


def backward(go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out, parallel: bool):
    """Fill ``gI`` (and ``gs_out`` when ``want_gs``) (module doc)."""
    (_backward_par if parallel else _backward_ser)(
        go, s, u, g, d, rb, gain, zero_reset, detach, const, want_gs, gI, gs_out
    )


def dtype_scalar(dtype, value):
    """``value`` as a numpy scalar of ``dtype`` (what torch casts a Python scalar to)."""
    return np.dtype(dtype).type(value)
