"""Numerical crossing expectation: an independent check of the exact theory (``crossings.py``).

If the potential's last sample below the threshold is uniform in ``[theta - dU, theta)`` (the
phase of the crossing relative to the sampling grid is uniform), the gradient it receives has
mean

    E_below(dU) = (1 / dU) * integral_{theta - dU}^{theta} g(u) du

and the first sample at or above theta, uniform in ``[theta, theta + dU)``, has
``E_above(dU) = (1/dU) integral_theta^{theta + dU} g``.  :func:`expected_mean` tabulates the
cumulative integral of ``g`` (the kind's own numpy gradient, :meth:`KindSpec.gradient`) by the
midpoint rule on ``n`` cells of ``[theta - du_max, theta]`` (or ``[theta, theta + du_max]``) and
returns ``E(dU)`` by linear interpolation of the cumulative integral.  The midpoint rule misses
peaks narrower than a cell (float32's, ~1e-8 wide): their contribution to the integral is at most
their width times the clamped peak 1, i.e. relative error ~ ``cell / dU``; formats whose peak is
as wide as a step (the matched kind) are resolved.

:func:`compare` is the one function that confronts simulation and theory: it takes any callable
``expected(du) -> mean`` (this reference, or ``crossings.crossing_moments(...).mean``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["compare", "expected_mean", "theory_expected"]


def expected_mean(kind, theta: float, *, side: str = "below", du_max: float = 2.0, n: int = 1 << 18,
                  threshold: float | None = None):
    """Callable ``E(dU)`` (vectorised) for ``0 < dU <= du_max`` by the midpoint rule (module doc).

    The window sits at ``threshold`` (default ``theta``): where the crossings are.  A quantised
    kind fires at :meth:`KindSpec.firing_threshold`, half an LSB below its rounded theta; pass that
    to compare with the crossing theory and the simulation (:func:`boolgrad.study.simulate.simulate`
    records its crossings there).  ``du_max`` is rounded up to a power of two and the tabulation
    cached per (kind, theta, side, threshold).
    """
    if side not in ("below", "above"):
        raise ValueError(f"side must be 'below' or 'above', got {side!r}")
    du_max = 2.0 ** math.ceil(math.log2(du_max))
    at = float(theta) if threshold is None else float(threshold)
    return _expected_cached(kind, float(theta), side, du_max, int(n), at)


@lru_cache(maxsize=128)
def _expected_cached(kind, theta, side, du_max, n, at):
    h = du_max / n
    x = (np.arange(n) + 0.5) * h  # distance from the threshold
    u = at - x if side == "below" else at + x
    g = kind.gradient(u, theta)
    cum = np.concatenate([[0.0], np.cumsum(g) * h])
    grid = np.arange(n + 1) * h

    def expected(du):
        du = np.asarray(du, dtype=np.float64)
        if np.any(du <= 0) or np.any(du > du_max):
            raise ValueError(f"dU must lie in (0, {du_max}]")
        return np.interp(du, grid, cum) / du

    return expected


#: the cumulative integral ``F(dU) = int_window g`` is evaluated exactly on a log grid of this
#: many points per octave spanning the sample and interpolated linearly in between: ``F`` is
#: monotone, so each interpolated value lies between its exact neighbours (a bracket a few
#: percent wide at worst, far inside the 10% agreement band), and a simulation's thousands of
#: crossings cost about a hundred exact integrals
GRID_PER_OCTAVE = 16


def theory_expected(kind, theta: float, *, side: str = "below"):
    """``E(dU) = F(dU) / dU`` from the exact integrals of the crossing theory
    (:mod:`boolgrad.study.crossings`), ``F`` interpolated on :data:`GRID_PER_OCTAVE`."""
    from .crossings import SurrogateGrad, crossing_moments

    grad = kind.crossing_grad(theta)
    if side not in ("below", "above"):
        raise ValueError(f"side must be 'below' or 'above', got {side!r}")

    def expected(du):
        du = np.asarray(du, dtype=np.float64)
        if isinstance(grad, SurrogateGrad):  # closed form: no grid needed
            return np.asarray(crossing_moments(grad, du, side=side).mean, dtype=np.float64)
        lo, hi = np.log2(du.min()), np.log2(du.max())
        n = max(2, int(np.ceil((hi - lo) * GRID_PER_OCTAVE)) + 1)
        grid = np.unique(np.concatenate([2.0 ** np.linspace(lo, hi, n), [du.min(), du.max()]]))
        t = grad.theta
        F = grad.integrals(t - grid, t, 1) if side == "below" else grad.integrals(t, t + grid, 1)
        return np.interp(du, grid, F) / du

    return expected


def compare(du, g_observed, expected, *, tolerance: float = 0.10, exact=None) -> dict:
    """Mean observed gradient at crossings against the theory on the same ``dU`` sample.

    ``mean_theory = mean_k expected(dU_k)``; ``agree`` when ``|sim / theory - 1| <= tolerance``.

    ``exact = (mask, values)``: the reset-aware mixture (:func:`boolgrad.study.crossings.mixture_moments`):
    at the crossings in ``mask`` (started from a reset) the theory is ``values`` (the gradient at
    the known sample), at the others ``expected(dU_k)``.  The result adds ``n_exact`` and the
    comparison over the other crossings alone (``mean_sim_uniform``, ``mean_theory_uniform``,
    ``ratio_uniform``; ``None`` when every crossing is in ``mask``): the part the uniform phase
    predicts.
    """
    du = np.asarray(du, dtype=np.float64)
    g = np.asarray(g_observed, dtype=np.float64)
    if du.shape != g.shape:
        raise ValueError(f"dU {du.shape} and gradients {g.shape} differ in shape")
    if exact is not None:
        return _compare_mixture(du, g, expected, tolerance, *exact)
    if du.size == 0:
        return {"n": 0, "mean_sim": None, "mean_theory": None, "ratio": None, "agree": None}
    sim = float(g.mean())
    th = float(np.mean(expected(du)))
    ratio = _ratio(sim, th)
    return {"n": int(du.size), "mean_sim": sim, "mean_theory": th, "ratio": float(ratio),
                "agree": bool(abs(ratio - 1.0) <= tolerance)}


def _ratio(sim: float, th: float) -> float:
    return sim / th if th != 0 else (1.0 if sim == 0 else float("inf"))


def _compare_mixture(du, g, expected, tolerance, mask, values) -> dict:
    mask = np.asarray(mask, dtype=bool)
    values = np.asarray(values, dtype=np.float64)
    if mask.shape != du.shape or values.shape != (int(mask.sum()),):
        raise ValueError(f"exact: a mask of shape {du.shape} and one value per masked crossing")
    out = {"n": int(du.size), "n_exact": int(mask.sum()), "mean_sim": None, "mean_theory": None, "ratio": None,
           "agree": None, "mean_sim_uniform": None, "mean_theory_uniform": None, "ratio_uniform": None}
    if du.size == 0:
        return out
    e = np.empty(du.shape, dtype=np.float64)
    e[mask] = values
    rest = ~mask
    if rest.any():
        e[rest] = expected(du[rest])
        sim_u, th_u = float(g[rest].mean()), float(e[rest].mean())
        out.update(mean_sim_uniform=sim_u, mean_theory_uniform=th_u, ratio_uniform=float(_ratio(sim_u, th_u)))
    sim, th = float(g.mean()), float(e.mean())
    ratio = _ratio(sim, th)
    out.update(mean_sim=sim, mean_theory=th, ratio=float(ratio), agree=bool(abs(ratio - 1.0) <= tolerance))
    return out
