"""LIF crossing statistics: how far past the threshold does the potential land at each step?

Neuron (hard reset, as in Yoo & Jeong's code), constant input current ``I`` per sample (direct
encoding: the same ``I = x W`` every step), ``a = dt / tau``:

* ``scheme="exact"``: exact exponential integration of a current held constant over the step,
  ``u[t] = u[t-1] e^{-a} (1 - s[t-1]) + (1 - e^{-a}) I``; between spikes ``u -> I`` whatever
  ``dt`` (the scheme converges as ``dt -> 0``);
* ``scheme="authors"``: ``u[t] = u[t-1] e^{-a} (1 - s[t-1]) + I`` (Yoo & Jeong's form; its
  steady state ``I / (1 - e^{-a})`` grows as ``dt -> 0``).

``s[t] = [u[t] >= theta]``, ``u[-1] = 0``.  The simulated time is fixed, ``steps = horizon / a``
(default horizon ``8 tau``).  A *crossing* is a step ``t`` with ``u[t-1] < theta <= u[t]``
(the first sample at/above theta after a sample below; a spike at ``t-1`` resets ``u``, so
``u[t-1]`` is always the pre-reset sample); its increment is ``dU = u[t] - u[t-1]``.  At each
crossing the gradient of every kind is taken at the sample below (``side="below"``, the step
that did not fire and would have with a slightly larger ``u``) and at the sample above.
Crossings use the float comparator at theta, except for kinds whose forward is quantised:
they fire from :meth:`KindSpec.firing_threshold` (``fixed16.3`` at 0.3: from 0.1875), so
:func:`simulate` runs their trajectories with that threshold and records their crossings there
-- where the crossing theory (window at the rounded theta, ``u`` rounded down) puts them.
(:class:`CrossingRecorder` alone records at one ``threshold`` for every kind.)

Spike-train inputs (binned counts ``x`` ``(n, T, F)``, :mod:`boolgrad.study.spiketrains`): the
current varies per step, ``n[t] W``, and every spike is an impulse (gain 1 whatever the
scheme, as in :mod:`boolgrad.study.network`): ``u[t] = u[t-1] e^{-a} (1 - s[t-1]) + n[t] W``
(:func:`lif_driven`).  :func:`simulate` and :func:`typical_du` take either kind of ``x``.

A crossing *starts from a reset* when its sample below is the rest value (``t = 0``) or the first
sample after rest or after a spike (``t = 1``, or a spike at ``t - 2``): that sample is pinned,
``0`` or exactly the drive of step ``t - 1`` (``c I``; ``n[t-1] W`` for spike trains: the hard
reset multiplies the decayed potential by 0), not of uniform phase.  The recorder flags these
crossings, and each kind's row holds two comparisons with the theory: ``theory_<side>``, the
uniform phase at every crossing, and ``mixture_<side>``,
the reset-aware mixture (:func:`boolgrad.study.crossings.mixture_moments`): the gradient at the
pinned sample for the crossings from a reset, the uniform phase for the others
(:func:`boolgrad.study.reference.compare` with ``exact=``; its ``ratio_uniform`` compares the
others alone).
"""

from __future__ import annotations

import math

import numpy as np

from .kinds import KINDS, get_kind
from .reference import compare, expected_mean, theory_expected

__all__ = ["DT_OVER_TAU", "SCHEMES", "CrossingRecorder", "kind_gradient", "lif_driven", "lif_trajectory",
           "simulate", "steps_for"]

DT_OVER_TAU = (2.0, 1.0, 0.5, 0.25, 0.125, 0.0625)
SCHEMES = ("exact", "authors")
HIST_EDGES = np.linspace(-1.5, 1.5, 121)  # u - theta
DU_EDGES = np.logspace(-5, 1, 61)  # dU


def steps_for(dt_over_tau: float, horizon: float = 8.0) -> int:
    """Steps covering ``horizon`` membrane time constants at step ``dt / tau``."""
    if not (dt_over_tau > 0 and math.isfinite(dt_over_tau)):
        raise ValueError(f"dt/tau must be positive, got {dt_over_tau!r}")
    return max(1, round(horizon / dt_over_tau))


def input_gain(dt_over_tau: float, scheme: str) -> float:
    """Factor on ``I`` in the update: ``1 - e^{-a}`` (exact) or ``1`` (authors)."""
    if scheme == "exact":
        return -math.expm1(-dt_over_tau)
    if scheme == "authors":
        return 1.0
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def lif_trajectory(current, dt_over_tau: float, steps: int, *, scheme: str = "exact", theta: float = 0.3):
    """Membrane potentials ``u`` (steps, *current.shape) and spikes for a constant current."""
    current = np.asarray(current, dtype=np.float64)
    decay, gain = math.exp(-dt_over_tau), input_gain(dt_over_tau, scheme)
    drive = gain * current
    us = np.empty((steps, *current.shape))
    u = np.zeros_like(current)
    s = np.zeros_like(current)
    for t in range(steps):
        u = u * decay * (1.0 - s) + drive
        s = (u >= theta).astype(np.float64)
        us[t] = u
    return us, us >= theta


def lif_driven(drive, dt_over_tau: float, *, theta: float = 0.3):
    """Membrane potentials ``u`` ``drive.shape`` and spikes for a per-step increment ``drive``
    ``(T, ...)``: ``u[t] = u[t-1] e^{-a} (1 - s[t-1]) + drive[t]`` (spike-train input)."""
    drive = np.asarray(drive, dtype=np.float64)
    decay = math.exp(-dt_over_tau)
    us = np.empty(drive.shape)
    u = np.zeros(drive.shape[1:])
    s = np.zeros(drive.shape[1:])
    for t in range(len(drive)):
        u = u * decay * (1.0 - s) + drive[t]
        s = (u >= theta).astype(np.float64)
        us[t] = u
    return us, us >= theta


def _currents(x, weights, steps):
    """``x @ weights`` in float64: ``(n, H)`` (features) or, for counts ``(n, T, F)``, ``(T, n, H)``."""
    x = np.asarray(x, np.float64)
    if x.ndim == 2:
        return x @ weights
    if x.ndim != 3 or x.shape[1] != steps:
        raise ValueError(f"x must be (n, features) or counts (n, {steps}, n_in), got {x.shape}")
    return (x @ weights).transpose(1, 0, 2)


def _trajectory(current, dt_over_tau, steps, scheme, theta):
    """``u`` of a constant current ``(n, H)`` or of per-step currents ``(T, n, H)`` (impulses)."""
    if current.ndim == 3:
        return lif_driven(current, dt_over_tau, theta=theta)[0]
    return lif_trajectory(current, dt_over_tau, steps, scheme=scheme, theta=theta)[0]


def kind_gradient(kind, u, theta: float) -> np.ndarray:
    """``kind.gradient(u, theta)``, for a Boolean kind evaluated once per distinct table pattern.

    A Boolean kind's ``g(u)`` is a function of ``b = encode(u)``, the table format's pattern of
    ``u`` (round to nearest), alone -- ``g(b) = sum_{i: m_i(b)} c_i(b)`` (spec §3), scaled --
    and every ``b`` of mask ``m(b) = 0`` has the empty sum ``g = 0``.  So ``u`` is grouped by
    ``b`` (all zero-mask patterns in one group), ``kind.gradient`` is evaluated at one value of
    each group and spread back: the same float64s as ``kind.gradient(u, theta)`` (tested bit for
    bit).  Crossings repeat values -- a neuron with a constant input restarts from 0 after each
    spike and retraces the same ``u`` -- and a fixed-point format has few patterns near theta, so
    a simulation's 50-90k crossings hold a few thousand groups; the exact table gradient (~3 us an
    element for float32) is the cost of :meth:`CrossingRecorder.finish`.  Surrogates (closed
    form, cheap) are evaluated directly.
    """
    u = np.asarray(u, dtype=np.float64)
    if kind.family != "boolean" or u.size < 2:
        return kind.gradient(u, theta)
    flat = u.reshape(-1)
    table = kind.table(theta)
    b = table.fmt.encode(flat)
    zero = table.mask_at(b, read_as="patterns") == 0
    key = np.where(zero, b[np.argmax(zero)], b) if zero.any() else b
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return kind.gradient(flat[first], theta)[inverse.reshape(-1)].reshape(u.shape)


class CrossingRecorder:
    """Accumulates u - theta over all steps and at crossings from trajectories ``(T, ...)``."""

    def __init__(self, theta: float, max_samples: int = 200_000, seed: int = 0, threshold: float | None = None):
        self.theta, self.max_samples = float(theta), int(max_samples)
        # crossings of ``threshold`` (default theta); the kinds' tables are built at theta
        self.threshold = self.theta if threshold is None else float(threshold)
        self._picked = None
        self.rng = np.random.default_rng(seed)
        self.hist_all = np.zeros(len(HIST_EDGES) - 1, np.int64)
        self.n_steps = 0
        self.n_from_reset = 0
        self.below, self.above, self.from_reset, self.u_all = [], [], [], []

    def update(self, us: np.ndarray) -> None:
        us = np.asarray(us, dtype=np.float64)
        th = self.threshold
        self.n_steps += us.size
        self.hist_all += np.histogram(np.clip(us - th, -1.5, 1.5), HIST_EDGES)[0]
        prev = np.concatenate([np.zeros_like(us[:1]), us[:-1]])  # u[-1] = 0
        fired = us >= th
        cross = (prev < th) & fired
        # below sample = rest (t = 0) or the first sample after rest / a reset (t = 1, or s[t-2])
        reset2 = np.concatenate([np.ones_like(fired[:2]), fired[:-2]])[: len(us)]
        self.n_from_reset += int(np.count_nonzero(cross & reset2))
        self.below.append(prev[cross])
        self.above.append(us[cross])
        self.from_reset.append(reset2[cross])
        flat = us.reshape(-1)
        take = min(flat.size, 20_000)
        self.u_all.append(flat[self.rng.choice(flat.size, take, replace=False)] if take < flat.size else flat)

    def _samples(self):
        """``(below, above)`` at the crossings, subsampled to ``max_samples`` (once)."""
        return self._picks()[:2]

    def _picks(self):
        """``(below, above, from_reset)`` at the crossings, subsampled to ``max_samples`` (once)."""
        if self._picked is None:
            below, above = np.concatenate(self.below), np.concatenate(self.above)
            reset = np.concatenate(self.from_reset).astype(bool)
            if below.size > self.max_samples:
                pick = np.sort(self.rng.choice(below.size, self.max_samples, replace=False))
                below, above, reset = below[pick], above[pick], reset[pick]
            self._picked = (below, above, reset)
        return self._picked

    def finish(self, kinds, *, with_theory: bool = True, record=None, with_reference: bool = False) -> dict:
        """Statistics and, per kind, the gradient at crossings against the crossing theory.

        ``record(threshold)``: a recorder of the same trajectories fired at ``threshold``; a kind
        whose :meth:`~KindSpec.firing_threshold` is not this recorder's threshold takes its
        crossings from there (without ``record``, every kind's from here).  ``with_reference``:
        also ``reference_below``, the uniform-phase mean below by the midpoint-rule reference
        (:func:`~boolgrad.study.reference.expected_mean` at the kind's firing threshold) beside
        the exact integrals' (``ratio``: exact / reference)."""
        n_cross = int(sum(b.size for b in self.below))
        below, above = self._samples()
        du = above - below
        th = self.threshold
        q = np.quantile(du, [0.05, 0.25, 0.5, 0.75, 0.95]).tolist() if du.size else [None] * 5
        out = {
            "n_steps": int(self.n_steps),
            "n_crossings": n_cross,
            "crossing_rate": n_cross / max(1, self.n_steps),
            "frac_from_reset": self.n_from_reset / max(1, n_cross),
            "du_mean": float(du.mean()) if du.size else None,
            "du_quantiles": q,
            "hist_edges": HIST_EDGES.tolist(),
            "hist_all": self.hist_all.tolist(),
            "hist_below": np.histogram(np.clip(below - th, -1.5, 1.5), HIST_EDGES)[0].tolist(),
            "hist_above": np.histogram(np.clip(above - th, -1.5, 1.5), HIST_EDGES)[0].tolist(),
            "du_edges": DU_EDGES.tolist(),
            "du_hist": np.histogram(du, DU_EDGES)[0].tolist(),
            "kinds": {},
        }
        for name in kinds:
            k = get_kind(name) if isinstance(name, str) else name
            if k.matched:
                k = k.resolve(q[2] if du.size else 0.01)
            src = self
            if record is not None and k.firing_threshold(self.theta) != th:
                src = record(k.firing_threshold(self.theta))
            b_k, a_k, r_k = src._picks()
            g_all = kind_gradient(k, np.concatenate(src.u_all), self.theta)
            row = {"format": k.format, "frac_nonzero_all": float(np.mean(g_all != 0))}
            if src is not self:
                row["firing_threshold"] = src.threshold
                row["n_crossings"] = int(sum(b.size for b in src.below))
                row["frac_from_reset"] = src.n_from_reset / max(1, row["n_crossings"])
            for side, pts in (("below", b_k), ("above", a_k)):
                g = kind_gradient(k, pts, self.theta)
                row[f"mean_grad_{side}"] = float(g.mean()) if g.size else None
                if with_theory and pts.size:
                    expected = theory_expected(k, self.theta, side=side)
                    row[f"theory_{side}"] = compare(a_k - b_k, g, expected)
                    # the pinned samples of the crossings from a reset: the gradient there, exactly
                    pinned = kind_gradient(k, pts[r_k], self.theta)
                    row[f"mixture_{side}"] = compare(a_k - b_k, g, expected, exact=(r_k, pinned))
            if with_theory and with_reference and b_k.size:
                du_k = a_k - b_k
                # one tabulation per kind and threshold for every simulation (cached): dU up to 2 or more
                ref = expected_mean(k, self.theta, du_max=max(2.0, float(du_k.max())), threshold=src.threshold)
                exact, midpoint = row["theory_below"]["mean_theory"], float(np.mean(ref(du_k)))
                row["reference_below"] = {"mean_exact": exact, "mean_reference": midpoint,
                                          "ratio": exact / midpoint if midpoint else (1.0 if exact == 0 else None)}
            out["kinds"][k.name] = row
        return out


def simulate(x: np.ndarray, weights: np.ndarray, dt_over_tau: float, *, scheme: str = "exact",
             theta: float = 0.3, horizon: float = 8.0, kinds=tuple(KINDS), seed: int = 0,
             with_theory: bool = True, batch: int = 256) -> dict:
    """Crossing statistics of one LIF layer ``I = x @ weights`` over ``horizon`` time constants
    (``x``: features ``(n, F)``, a constant current, or spike counts ``(n, T, F)``: per step)."""
    steps = steps_for(dt_over_tau, horizon)
    currents = [_currents(x[i:i + batch], weights, steps) for i in range(0, len(x), batch)]
    recorders = {}

    def record(threshold):  # the same inputs, the LIF fired at ``threshold`` (a quantised kind's)
        if threshold not in recorders:
            rec = recorders[threshold] = CrossingRecorder(theta, seed=seed, threshold=threshold)
            for c in currents:
                rec.update(_trajectory(c, dt_over_tau, steps, scheme, threshold))
        return recorders[threshold]

    out = record(float(theta)).finish(kinds, with_theory=with_theory, record=record, with_reference=with_theory)
    out.update(dt_over_tau=float(dt_over_tau), steps=steps, scheme=scheme, theta=theta, horizon=horizon)
    return out


def xavier_uniform(n_in: int, n_out: int, seed: int, gain: float = 1.0) -> np.ndarray:
    """Glorot/Xavier uniform ``U(-b, b)``, ``b = gain sqrt(6 / (n_in + n_out))`` (float64)."""
    b = gain * math.sqrt(6.0 / (n_in + n_out))
    return np.random.default_rng(seed).uniform(-b, b, size=(n_in, n_out))


def typical_du(x, weights, dt_over_tau, *, scheme="exact", theta=0.3, horizon=8.0) -> float:
    """Median crossing increment of a short simulation (for the matched kind); 2**-7 if none.
    ``x``: features ``(n, F)`` or spike counts ``(n, T, F)``."""
    steps = steps_for(dt_over_tau, horizon)
    rec = CrossingRecorder(theta)
    rec.update(_trajectory(_currents(x, weights, steps), dt_over_tau, steps, scheme, theta))
    du = np.concatenate(rec.above) - np.concatenate(rec.below)
    return float(np.median(du)) if du.size else 2.0**-7
