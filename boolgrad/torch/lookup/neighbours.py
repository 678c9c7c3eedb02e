"""Theta's one-bit neighbours: the only patterns at which a bit flip lands exactly on theta.

Flipping bit ``i`` of ``u`` gives ``theta`` exactly iff ``u = theta XOR 2**i``, so the tie rule
(spec §3: ``ge`` fires at ``u == theta``, ``gt`` does not) changes the masks of these 32 patterns
and theta's own, and nothing else.  Under ``gt`` (snnTorch's rule, Yoo & Jeong's) each of them is
a piece of one pattern: ``1 + 2**-j`` for theta = 1, and the buckets holding them are cut
(``plan.mixed``, ``plan.split``), which costs the CPU kernel a search or a second entry.

:func:`neighbour_tables` gives the kernel those patterns' results in a table of 33 (the kernel
knows them by their bits: ``d = bits XOR theta_bits`` has at most one bit set, and the exponent
of ``float(d)`` is the bit) and fills each cut bucket whose pieces, those single patterns left
out, are one piece, with that piece's ``P, Q``.  The results are today's by construction: the
table holds the torch path's own values at the 33 patterns, and a filled bucket's other patterns
get ``P + Q / v`` with the coefficients the slow path's search would find for them.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["neighbour_tables"]


def _patterns(plan) -> np.ndarray:
    """The 32 one-bit neighbours of theta's float32 pattern, then theta's own (uint32)."""
    tb = np.float32(plan.table.meta.theta_used).view(np.uint32)
    return np.concatenate([tb ^ (np.uint32(1) << np.arange(32, dtype=np.uint32)), [tb]]).astype(np.uint32)


def _common(b, ks, P, Q, bounds, pats):
    """The ``(P, Q)`` that gives every pattern of bucket ``b`` but theta's neighbours its own
    float64 result, or ``None``.  A piece's part in the bucket (``ks``: the bucket's pieces) is
    left out when it is one neighbour pattern; parts of several patterns must share the
    coefficients; a part of one other pattern must get the same ``P + Q / v`` from them."""
    ends = np.array([b << 16, (b << 16) | 0xFFFF], dtype=np.uint32).view(np.float32)
    lo, hi = ends.min(), ends.max()
    inf = np.float32(np.inf)
    parts = []  # (piece, its first value in the bucket, one pattern?)
    for k in ks:
        first = lo if k == 0 else max(bounds[k - 1], lo)
        end = np.nextafter(hi, inf) if k == len(bounds) else min(bounds[k], np.nextafter(hi, inf))
        one = np.nextafter(first, inf) == end
        if one and np.isin(np.float32(first).view(np.uint32), pats):
            continue
        parts.append((k, np.float64(first), one))
    multi = [k for k, _, one in parts if not one] or [k for k, _, _ in parts[:1]]
    if not multi:
        return None
    c = multi[0]
    qc = 0.0 if Q is None else Q[c]
    for k, v, one in parts:
        qk = 0.0 if Q is None else Q[k]
        if (P[k], qk) != (P[c], qc) and not (one and P[k] + qk / v == P[c] + qc / v):
            return None
    return P[c], qc


def neighbour_tables(plan, gradient):
    """``(theta_bits, gx, PB, QB, split)`` for the CPU kernel, or ``None`` (module doc).

    Only for float32 inputs on a table of float32's own format.  ``gradient(plan, u)``: the
    torch path's scaled float64 ``g`` (``evaluate._gradient``).  ``PB``/``QB``: the plan's
    buckets with the filled ones; ``split``: the plan's ``(K, PB2, QB2)`` with the same buckets
    filled, or ``None`` when no bucket cut once is left."""
    from .plan import dtype_format

    if plan.dtype != torch.float32 or plan.direct or plan.fmt != dtype_format(torch.float32) or plan.mixed is None:
        return None
    pats = _patterns(plan)
    bounds = plan.bounds.numpy()  # float32: piece k is [bounds[k-1], bounds[k])
    P, Q = plan.P.numpy(), plan.Q.numpy() if plan.QB is not None else None
    PB = plan.PB.numpy().copy()
    QB = plan.QB.numpy().copy() if plan.QB is not None else None
    KL, KH = plan.mixed
    filled = []
    for b in np.flatnonzero(KL >= 0):
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = _common(int(b), range(KL[b], KH[b] + 1), P, Q, bounds, pats)
        if fill is not None:
            PB[b] = fill[0]
            if QB is not None:
                QB[b] = fill[1]
            filled.append(b)
    if not filled:
        return None
    gx = gradient(plan, torch.from_numpy(pats.view(np.float32).copy())).numpy()
    split = plan.split
    if split is not None:
        K, PB2, QB2 = split
        PB2, QB2 = PB2.copy(), None if QB2 is None else QB2.copy()
        f = np.asarray(filled)
        for two, one_b in ((PB2, PB), (QB2, QB)):
            if two is not None:
                two[2 * f], two[2 * f + 1] = one_b[f], one_b[f]
        lo_hi = np.isfinite(PB2[0::2]) & np.isnan(PB)  # buckets the loop still resolves by offset
        split = (K, PB2, QB2) if lo_hi.any() else None
    return int(pats[-1]), gx, PB, QB, split
