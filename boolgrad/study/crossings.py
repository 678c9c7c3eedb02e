"""What a threshold crossing receives: exact moments of ``g`` at the samples around theta.

A membrane potential that crosses ``theta`` with per-step increment ``dU`` and uniform phase
has its last sample below theta at ``theta - x`` and its first at/above at ``theta - x + dU``,
``x ~ U(0, dU)``.  The gradient each receives has moments (``p = 1, 2``)

    E_below^p(dU) = (1/dU) int_{theta-dU}^{theta} h(u)**p du,
    E_above^p(dU) = (1/dU) int_{theta}^{theta+dU} h(u)**p du,

mean ``E^1``, second moment ``E^2`` and ``CV = sqrt(E^2 - (E^1)**2) / E^1`` (NaN when the mean
is 0).  ``h`` is

* :class:`BooleanGrad`: a table's ``g`` read as the step function of spec §7's area (each
  pattern's ``g`` on ``[v(b), v(next b))``, i.e. ``u`` rounded *down* to a pattern; see
  :mod:`boolgrad.integrals`), scaled as the spike function scales it
  (:mod:`boolgrad.rules.scalings`: ``clip(g / d, lo, hi)``, integrated by
  :meth:`~boolgrad.rules.scalings.Scaling.integral`).  ``theta`` is the table's ``theta_used``
  (the stored threshold), not the requested one, plus ``offset`` (half an LSB for the
  fixed-point kinds whose forward is not quantised: :meth:`KindSpec.window_offset`).  Exact
  (float64 rounding).
* :class:`SurrogateGrad`: ``g(u - theta)`` of :mod:`boolgrad.rules.surrogates`; every ``g`` is
  even, so below and above agree: ``E^p = P_p(dU) / dU`` in closed form.

:func:`crossing_moments_for` applies the theory to a distribution of ``dU`` (samples from a
simulation): the moments of the mixture, ``E[h] = mean_k E^1(dU_k)``,
``E[h**2] = mean_k E^2(dU_k)``.

:func:`mixture_moments` is the reset-aware theory: the uniform phase fails for a crossing that
starts from a reset.  With a hard reset ``u[t] = e^{-a} u[t-1] (1 - s[t-1]) + c I[t]``, the
sample after a spike at ``t - 2`` is ``u[t-1] = c I[t-1]`` exactly (the decayed pre-reset value is
multiplied by 0), and the sample before the first step is the rest value ``u[-1] = 0``; a crossing
whose sample below is one of these (it fires two steps after a reset, or at ``t = 0, 1`` from
rest) has that sample *pinned*: its phase is not uniform but known.  Such crossings (fraction
``w``, below-values ``v_j``) receive ``h(v_j)`` exactly, the others the uniform-phase moments of
their ``dU_k``::

    E[h**p] = w mean_j h(v_j)**p + (1 - w) mean_k E^p(dU_k)      (p = 1, 2)

(above the crossing the pinned sample is the next one, ``c I[t-1] e^{-a} + c I[t]``, or
``c I[0]`` at ``t = 0``).  With ``w = 0`` it is :func:`crossing_moments_for`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..rules import surrogates as sf
from ..rules.scalings import get_scaling

__all__ = [
    "BooleanGrad",
    "CrossingMoments",
    "SurrogateGrad",
    "crossing_moments",
    "crossing_moments_for",
    "mixture_moments",
]


@dataclass(frozen=True)
class CrossingMoments:
    """Mean, second moment and coefficient of variation (floats, or arrays over ``dU``)."""

    mean: object
    second_moment: object
    cv: object


@dataclass(frozen=True, eq=False)
class BooleanGrad:
    """A table's ``g`` with a scaling (module doc); ``grad_max`` is needed for the clamps."""

    table: object = field(repr=False)
    scale: str = "none"
    grad_max: float | None = None
    offset: float = 0.0  # the window's anchor above theta_used (KindSpec.window_offset)

    def __post_init__(self):
        if get_scaling(self.scale).uses_grad_max:
            G = self.grad_max
            if G is None or not (math.isfinite(float(G)) and float(G) > 0):
                raise ValueError(f"scale={self.scale!r} needs a positive finite grad_max, got {G!r}")

    @property
    def theta(self) -> float:
        return float(self.table.meta.theta_used) + self.offset

    @property
    def divisor(self) -> float:
        return get_scaling(self.scale).divisor(self.table, self.grad_max)

    def integral(self, lo: float, hi: float, power: int) -> float:
        """``int_lo^hi h(u)**power du``."""
        return get_scaling(self.scale).integral(self.table, lo, hi, power, self.divisor)

    def integrals(self, lo, hi, power: int) -> np.ndarray:
        """:meth:`integral` over arrays of windows at once (:func:`boolgrad.integral_index.integrals_many`;
        ``clip(g, 0, c)**p = min(g, c)**p - min(g, 0)**p`` as :meth:`Scaling.integral`)."""
        from ..integral_index import integrals_many, supported

        lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
        if not supported(self.table.fmt):
            return np.vectorize(lambda a, b: self.integral(a, b, power), otypes=[np.float64])(lo, hi)
        sc, d = get_scaling(self.scale), self.divisor
        total = integrals_many(self.table, lo, hi, power=power, clamp=None if sc.hi is None else sc.hi * d)
        if sc.lo is not None:
            total = total - integrals_many(self.table, lo, hi, power=power, clamp=sc.lo * d)
        return total / d**power

    def values(self, u) -> np.ndarray:
        """``h(u)`` at points: the step function of the module doc (``u`` rounded down to a
        pattern), scaled as :meth:`integral` scales it."""
        from ..integrals import step_gradient

        return get_scaling(self.scale).apply(step_gradient(self.table, u), self.divisor)


@dataclass(frozen=True)
class SurrogateGrad:
    """Surrogate ``g(u - theta)``; ``params`` a mapping or tuple of pairs (defaults as the zoo)."""

    name: str
    theta: float = 0.0
    params: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "name", sf.canonical_name(self.name))
        items = self.params.items() if isinstance(self.params, dict) else self.params
        object.__setattr__(self, "params", tuple(sorted((str(k), float(v)) for k, v in items)))
        sf.grad(self.name, 0.0, **dict(self.params))  # validates the parameters
        if not math.isfinite(float(self.theta)):
            raise ValueError(f"theta must be finite, got {self.theta!r}")

    def integral(self, lo: float, hi: float, power: int) -> float:
        P = sf.p1 if power == 1 else sf.p2
        kw = dict(self.params)
        return float(P(self.name, hi - self.theta, **kw) - P(self.name, lo - self.theta, **kw))

    def values(self, u) -> np.ndarray:
        """``h(u) = g(u - theta)`` at points."""
        return np.asarray(sf.grad(self.name, np.asarray(u, dtype=np.float64) - self.theta, **dict(self.params)),
                          dtype=np.float64)


def _check_du(du) -> np.ndarray:
    d = np.asarray(du, dtype=np.float64)
    if d.size == 0 or not (np.isfinite(d).all() and (d > 0).all()):
        raise ValueError("du must be positive and finite")
    return d


def _moments(m1, m2) -> CrossingMoments:
    m1, m2 = np.asarray(m1, dtype=np.float64), np.asarray(m2, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.sqrt(np.maximum(m2 - m1 * m1, 0.0)) / m1
    cv = np.where(m1 == 0, np.nan, cv)
    if m1.ndim == 0:
        return CrossingMoments(float(m1), float(m2), float(cv))
    return CrossingMoments(m1, m2, cv)


def _window(theta: float, d, side: str):
    return (theta - d, theta) if side == "below" else (theta, theta + d)


def _side(side: str) -> str:
    if side not in ("below", "above"):
        raise ValueError(f"side must be 'below' or 'above', got {side!r}")
    return side


def crossing_moments(grad, du, *, side: str = "below") -> CrossingMoments:
    """``E^1``, ``E^2`` and CV at a crossing with step ``du`` (scalar or array; module doc)."""
    side = _side(side)
    d = _check_du(du)
    if isinstance(grad, SurrogateGrad):
        P1 = sf.p1(grad.name, d, **dict(grad.params))
        P2 = sf.p2(grad.name, d, **dict(grad.params))
        return _moments(P1 / d, P2 / d)  # g even: both sides alike
    theta = grad.theta
    lo, hi = _window(theta, d, side)
    m1, m2 = grad.integrals(lo, hi, 1) / d, grad.integrals(lo, hi, 2) / d
    return _moments(m1 if d.ndim else m1[()], m2 if d.ndim else m2[()])


def crossing_moments_for(grad, du_samples, *, side: str = "below") -> CrossingMoments:
    """Moments over a simulated ``dU`` distribution: the mixture of :func:`crossing_moments`.

    ``mean = mean_k E^1(dU_k)``, ``second_moment = mean_k E^2(dU_k)``, CV from these.
    Boolean tables: one integral per distinct ``dU``, all windows at once.
    """
    side = _side(side)
    d = _check_du(du_samples).ravel()
    if isinstance(grad, SurrogateGrad):
        m = crossing_moments(grad, d, side=side)
        return _moments(np.mean(m.mean), np.mean(m.second_moment))
    uniq, counts = np.unique(d, return_counts=True)
    lo, hi = _window(grad.theta, uniq, side)
    I1, I2 = grad.integrals(lo, hi, 1), grad.integrals(lo, hi, 2)
    n = d.size
    return _moments(math.fsum(counts * I1 / uniq) / n, math.fsum(counts * I2 / uniq) / n)


def mixture_moments(grad, du_samples=(), reset_values=(), *, side: str = "below", values=None) -> CrossingMoments:
    """The reset-aware theory (module doc): crossings of uniform phase with steps ``du_samples``
    and crossings started from a reset whose sample on ``side`` is known, ``reset_values``.

    ``mean = w mean_j h(v_j) + (1 - w) mean_k E^1(dU_k)`` with ``w = len(v) / (len(v) + len(dU))``,
    likewise the second moment with ``h**2`` and ``E^2``; CV from these.  ``values``: ``h`` at
    points, default ``grad.values`` (a table read with ``u`` rounded down, at ``grad.theta``);
    pass the kind's own gradient where the values come from a simulation whose forward fires
    elsewhere (:meth:`boolgrad.study.kinds.KindSpec.firing_threshold`).
    """
    side = _side(side)
    d = np.asarray(du_samples, dtype=np.float64).ravel()
    v = np.asarray(reset_values, dtype=np.float64).ravel()
    if d.size == 0 and v.size == 0:
        raise ValueError("mixture_moments needs crossings: du_samples or reset_values")
    if v.size and not np.isfinite(v).all():
        raise ValueError("reset_values must be finite")
    n = d.size + v.size
    s1 = s2 = 0.0
    if d.size:
        u = crossing_moments_for(grad, d, side=side)
        s1, s2 = u.mean * d.size, u.second_moment * d.size
    if v.size:
        h = np.asarray((values or grad.values)(v), dtype=np.float64)
        s1, s2 = s1 + math.fsum(h), s2 + math.fsum(h * h)
    return _moments(s1 / n, s2 / n)
