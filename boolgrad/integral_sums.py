"""Sums of ``h(g(m))`` over integer ranges, ``g(m) = C + sum_k w_k / (m + x_k)`` (one float segment).

:func:`power_sum` (the reference, used by :func:`boolgrad.integrals.integral_exact`): directly where
``m + x_k < 4096`` (at most 4096 terms), else by Euler--Maclaurin to the ``B_6`` term with the
integral in closed form (``log1p`` forms; cross terms ``1/((m+x_j)(m+x_k))`` by partial fractions
written cancellation-free) -- remainder below ``1e-20`` relative; a clamp ``min(g, G)`` splits the
range where ``g`` crosses ``G`` (:func:`crossings`: roots of the numerator polynomial, confirmed by
bisection on integers).  :class:`Curve` is the same sum with the terms as numpy arrays, the
Euler--Maclaurin derivatives and closed form vectorised and the clamp crossings cached: the fast
path of :mod:`boolgrad.integral_index`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

import numpy as np

__all__ = ["Curve", "clamped_power", "clamped_power_exact", "crossings", "power_sum"]


def clamped_power(g, power: int, clamp):
    """``min(g, clamp)**power`` in float64, elementwise (``clamp=None``: ``g**power``); overflow
    gives inf without a warning (the callers fall back to :func:`clamped_power_exact`)."""
    g = np.asarray(g, dtype=np.float64)
    if clamp is not None:
        g = np.minimum(g, clamp)
    with np.errstate(over="ignore", invalid="ignore"):
        return g**power


def clamped_power_exact(g: Fraction, width: Fraction, power: int, clamp) -> float:
    """``min(g, clamp)**power * width`` in exact rationals, rounded once (``+-inf`` beyond float64)."""
    if clamp is not None:
        g = min(g, Fraction(clamp))
    x = g**power * width
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf

_HEAD = 4096.0  # below this m + x, sum directly; above it Euler--Maclaurin is ~exact


def _deriv(C, ws, xs, m: float, k: int) -> float:
    """``g^(k)(m)``."""
    s = C if k == 0 else 0.0
    f = (-1) ** k * math.factorial(k)
    return s + sum(w * f / (m + x) ** (k + 1) for w, x in zip(ws, xs))


def _f_deriv(C, ws, xs, m, k, p):
    if p == 1:
        return _deriv(C, ws, xs, m, k)
    d = [_deriv(C, ws, xs, m, j) for j in range(k + 1)]
    return sum(math.comb(k, j) * d[j] * d[k - j] for j in range(k + 1))


def _integral_closed(C, ws, xs, A: float, B: float, p: int) -> float:
    """``int_A^B g(m)**p dm`` (p = 1, 2), cancellation-free forms."""
    L = B - A
    logs = [math.log1p(L / (A + x)) for x in xs]
    if p == 1:
        return C * L + sum(w * lg for w, lg in zip(ws, logs))
    total = C * C * L + 2 * C * sum(w * lg for w, lg in zip(ws, logs))
    total += sum(w * w * L / ((A + x) * (B + x)) for w, x in zip(ws, xs))
    for j in range(len(xs)):
        for k in range(j + 1, len(xs)):
            d = xs[k] - xs[j]
            base = L / ((A + xs[j]) * (B + xs[k]))
            z = d * base
            ratio = math.log1p(z) / z if z != 0 else 1.0
            total += 2 * ws[j] * ws[k] * base * ratio
    return total


def _direct(C, ws, xs, s: int, t: int, p: int, cap) -> float:
    m = np.arange(s, t + 1, dtype=np.float64)
    g = np.full(m.shape, C)
    for w, x in zip(ws, xs):
        g = g + w / (m + x)
    if cap is not None:
        g = np.minimum(g, cap)
    return math.fsum(g**p)


def _smooth_sum(C, ws, xs, s: int, t: int, p: int) -> float:
    """``sum_{m=s}^t g(m)**p`` where ``g`` is smooth (no cap)."""
    if t < s:
        return 0.0
    if not ws:
        return (t - s + 1) * C**p
    head_end = min(t, max(s - 1, math.ceil(_HEAD - min(xs))))
    if t - s < 4096:
        head_end = t
    total = _direct(C, ws, xs, s, head_end, p, None) if head_end >= s else 0.0
    a = head_end + 1
    if a > t:
        return total
    A, B = float(a), float(t)
    em = _integral_closed(C, ws, xs, A, B, p)
    em += 0.5 * (_f_deriv(C, ws, xs, A, 0, p) + _f_deriv(C, ws, xs, B, 0, p))
    for k, coef in ((1, 1 / 12), (3, -1 / 720), (5, 1 / 30240)):
        em += coef * (_f_deriv(C, ws, xs, B, k, p) - _f_deriv(C, ws, xs, A, k, p))
    return total + em


def crossings(C, ws, xs, s: int, t: int, cap: float) -> list[int]:
    """Integers ``m`` in ``(s, t]`` where ``[g(m) >= cap]`` differs from ``[g(m-1) >= cap]``."""
    # numerator of g - cap over prod (m + x): real roots locate every crossing; in y = m / S with
    # S a power of two (exact scaling: the same roots, times S) so that prod (y + x/S) cannot overflow
    big = max((abs(x) for x in xs), default=1.0)
    S = 2.0 ** math.ceil(math.log2(big)) if big > 1 else 1.0
    poly = np.poly1d([C - cap])
    for x in xs:
        poly = poly * np.poly1d([1.0, x / S])
    for k, w in enumerate(ws):
        other = np.poly1d([w / S])
        for j, x in enumerate(xs):
            if j != k:
                other = other * np.poly1d([1.0, x / S])
        poly = poly + other
    cand = {s, t}
    for root in S * np.roots(poly.coeffs) if poly.order > 0 else []:
        if abs(root.imag) <= 1e-6 * (1 + abs(root.real)) and s - 8 <= root.real <= t + 8:
            c = math.floor(root.real)
            cand.update(min(t, max(s, c + d)) for d in (-8, 0, 1, 8))
    pts = sorted(cand)

    def above(m):
        return _deriv(C, ws, xs, float(m), 0) >= cap

    out = []
    for a, b in pairwise(pts):
        fa, fb = above(a), above(b)
        while fa != fb and b - a > 1:  # bisection keeps one crossing bracketed
            mid = (a + b) // 2
            if above(mid) == fa:
                a = mid
            else:
                b = mid
        if fa != fb:
            out.append(b)
    return out


def power_sum(C, terms, s: int, t: int, p: int = 1, cap=None) -> float:
    """``sum_{m=s}^{t} h(g(m))``, ``g(m) = C + sum_{(w, x) in terms} w / (m + x)``, ``m + x > 0``.

    ``h(g) = g**p`` or ``min(g, cap)**p``.  Float64 inputs; see the module doc for the method.
    """
    if t < s:
        return 0.0
    grouped: dict[float, float] = {}
    for w, x in terms:
        grouped[float(x)] = grouped.get(float(x), 0.0) + float(w)
    xs = [x for x, w in grouped.items() if w != 0]
    ws = [grouped[x] for x in xs]
    C = float(C)
    if t - s < 4096:
        return _direct(C, ws, xs, s, t, p, cap)
    if cap is None:
        return _smooth_sum(C, ws, xs, s, t, p)
    cuts = [s, *crossings(C, ws, xs, s, t, cap), t + 1]
    total = 0.0
    for a, b in pairwise(cuts):
        if _deriv(C, ws, xs, float(a), 0) >= cap:
            total += (b - a) * cap**p
        else:
            total += _smooth_sum(C, ws, xs, a, b - 1, p)
    return total


# -- the fast path: one segment's g with numpy terms, sums vectorised over many ranges -------------
_SIGNED_FACT = np.array([(-1.0) ** k * math.factorial(k) for k in range(6)])
_COMB = np.zeros((6, 6, 6))
for _k in range(6):
    for _j in range(_k + 1):
        _COMB[_k, _j, _k - _j] = math.comb(_k, _j)
_EM_COEF = np.array([1 / 12, -1 / 720, 1 / 30240])  # B_2/2!, B_4/4!, B_6/6! on g', g''', g^(5)
_EM_HEAD = 256.0  # Euler--Maclaurin from m + x >= 256: remainder < 1e-18 of one term (2e-2 / (m+x)**7)


class Curve:
    """``g(m) = C + sum_k w_k / (m + x_k)`` on the integers ``[a, b]`` (float64 numpy terms).

    :meth:`sums` gives ``sum_{m=s}^{t} h(g(m))`` for many ranges at once: Euler--Maclaurin to
    the ``B_6`` term (closed-form integral as in :func:`power_sum`) wherever ``m + x >= 256``
    (remainder below ``1e-18`` relative), direct sums below; a clamp splits ``[a, b]`` at the
    crossings of :func:`crossings`, found once per cap and cached.
    """

    __slots__ = ("C", "_cuts", "_jj", "_kk", "a", "b", "w", "x", "xmin")

    def __init__(self, C, terms, a: int, b: int):
        grouped: dict[float, float] = {}
        for w, x in terms:
            grouped[float(x)] = grouped.get(float(x), 0.0) + float(w)
        xs = [x for x, w in grouped.items() if w != 0]
        self.C, self.a, self.b = float(C), int(a), int(b)
        self.x = np.asarray(xs, dtype=np.float64)
        self.w = np.asarray([grouped[x] for x in xs], dtype=np.float64)
        self.xmin = float(self.x.min()) if xs else math.inf
        self._jj, self._kk = np.triu_indices(len(xs), 1)
        self._cuts: dict[float, list] = {}

    def g(self, m) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        return self.C + (1.0 / (m[..., None] + self.x)) @ self.w

    def h(self, m, p: int, cap) -> np.ndarray:
        g = self.g(m)
        if cap is not None:
            g = np.minimum(g, cap)
        with np.errstate(over="ignore"):
            return g**p

    def _closed(self, A, B, p: int) -> np.ndarray:
        """``int_A^B g**p`` (arrays A, B), the cancellation-free forms of :func:`power_sum`."""
        L = B - A
        Ax, Bx = A[:, None] + self.x, B[:, None] + self.x
        logs = np.log1p(L[:, None] / Ax)
        if p == 1:
            return self.C * L + logs @ self.w
        C, w = self.C, self.w
        total = C * C * L + 2 * C * (logs @ w) + (L[:, None] / (Ax * Bx)) @ (w * w)
        if self._jj.size:
            jj, kk = self._jj, self._kk
            base = L[:, None] / (Ax[:, jj] * Bx[:, kk])
            z = (self.x[kk] - self.x[jj]) * base
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(z != 0, np.log1p(z) / np.where(z != 0, z, 1.0), 1.0)
            total = total + (base * ratio) @ (2 * w[jj] * w[kk])
        return total

    def _derivs(self, m, p: int) -> np.ndarray:
        """``(h)^(k)(m)``, k = 0..5, of ``h = g**p`` (rows: the points ``m``)."""
        inv = 1.0 / (m[:, None] + self.x)
        pw = np.cumprod(np.broadcast_to(inv[:, None, :], (len(m), 6, len(self.x))), axis=1)
        d = (pw @ self.w) * _SIGNED_FACT
        d[:, 0] += self.C
        return d if p == 1 else np.einsum("kij,ni,nj->nk", _COMB, d, d)

    def _smooth(self, s, t, p: int) -> np.ndarray:
        """``sum_{m=s}^{t} g(m)**p`` (no cap) for arrays ``s <= t``."""
        out = np.zeros(len(s))
        if len(self.x) == 0:
            return (t - s + 1) * self.C**p
        head = math.ceil(_EM_HEAD - self.xmin)  # m >= head: Euler--Maclaurin; below, direct sums
        need = s < head
        if need.any():  # every h below head once, each range's part summed by reduceat (pairwise)
            sn, e = s[need], np.minimum(t[need], head - 1)
            lo0 = int(sn.min())
            H = np.append(self.h(np.arange(lo0, int(e.max()) + 1), p, None), 0.0)
            idx = np.empty(2 * len(sn), dtype=np.int64)
            idx[0::2], idx[1::2] = sn - lo0, e - lo0 + 1
            out[need] = np.add.reduceat(H, idx)[0::2]
            s = s.copy()
            s[need] = e + 1
        ok = s <= t
        if ok.any():
            A, B = s[ok].astype(np.float64), t[ok].astype(np.float64)
            dA, dB = self._derivs(A, p), self._derivs(B, p)
            em = self._closed(A, B, p) + 0.5 * (dA[:, 0] + dB[:, 0]) + (dB[:, 1::2] - dA[:, 1::2]) @ _EM_COEF
            out[ok] += em
        return out

    def _parts(self, cap: float) -> list:
        """``[(first, last, above)]`` covering ``[a, b]``: where ``g >= cap`` or not (cached)."""
        parts = self._cuts.get(cap)
        if parts is None:
            xs, ws = self.x.tolist(), self.w.tolist()
            cuts = [self.a, *crossings(self.C, ws, xs, self.a, self.b, cap), self.b + 1]
            parts = [(c0, c1 - 1, bool(self.g(float(c0)) >= cap)) for c0, c1 in pairwise(cuts)]
            self._cuts[cap] = parts
        return parts

    def sums(self, s, t, p: int, cap=None) -> np.ndarray:
        """``sum_{m=s}^{t} h(g(m))`` for integer arrays ``s``, ``t`` (0 where ``t < s``)."""
        s, t = np.asarray(s, dtype=np.int64), np.asarray(t, dtype=np.int64)
        if cap is None:
            out = np.zeros(len(s))
            ok = s <= t
            if ok.any():
                out[ok] = self._smooth(s[ok], t[ok], p)
            return out
        out = np.zeros(len(s))
        for c0, c1, above in self._parts(cap):
            lo, hi = np.maximum(s, c0), np.minimum(t, c1)
            ok = lo <= hi
            if not ok.any():
                continue
            if above:
                out[ok] += (hi[ok] - lo[ok] + 1) * cap**p
            else:
                out[ok] += self._smooth(lo[ok], hi[ok], p)
        return out
