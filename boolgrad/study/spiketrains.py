"""Spike-train classification in continuous time: random manifolds of spike-time patterns.

After the random-manifold ("randman") tasks of Zenke & Vogels 2021 (Neural Computation 33,
899-925, "The remarkable robustness of surrogate gradient learning for instilling complex
function in spiking neural networks"), generated here with numpy, offline.

A smooth random function of the manifold coordinate ``x in [0, 1]``::

    f(x) = sum_{k=1}^{F} k^{-alpha} A_k sin(2 pi (k B_k x + P_k)),   A, B, P ~ U(0, 1)

(``alpha``: smoothness, ``F = n_freq``), rescaled to ``[0, 1]`` by its min and max on a grid of
4097 points.  Every input neuron ``i`` and spike slot ``j`` (``n_spikes`` per neuron) has one
such function ``g_ij`` shared by all classes and one ``h_cij`` per class ``c``.  A sample of
class ``c`` is a point ``x ~ U(0, 1)`` of its manifold; its spike times, in units of tau::

    t_ij = margin + (span - sep) g_ij(x) + sep h_cij(x) + jitter N(0, 1),   span = horizon - 2 margin

clipped to ``[0, horizon)`` (float32, ``(n, n_in, n_spikes)``).  ``sep = span`` is Zenke &
Vogels' randman (every class its own manifold over the whole window); a smaller ``sep``
(:data:`SPIKETRAINS`: 0.5 tau) puts the classes' manifolds within ``sep`` of a common one, so
the class lives in spike timing at the scale of ``sep``: a step ``dt >> sep`` rounds it away.
Every neuron's spike time spans the window in every class (a lone time says little of the
class; the class is in the joint pattern).  Classes are exactly balanced (sample ``i`` has class
``i mod n_classes``, then a seeded shuffle); the manifolds come from ``seed`` alone and each
split draws its points and jitter from its own generator ``(seed, split + 1)``.

:func:`bin_spikes` bins the times at a step ``dt``: spike ``t`` lands in step
``min(floor(t / dt), T - 1)``, ``T = steps_for(dt, horizon)``, and spikes in one bin add up
(``(n, T, n_in)`` float32 counts; the count of every sample is the same at every ``dt``).  A
coarse step merges spikes and rounds their times to its grid: ``dt`` is not merely a numerical
parameter here.  The network (:mod:`boolgrad.study.network`, ``temporal``) takes each spike as
an impulse: it raises ``u`` by its weight whatever ``dt``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SPIKETRAINS", "bin_spikes", "manifold_times", "spiketrains"]

#: the study's ``spiketrains`` dataset (:func:`boolgrad.study.data.load_dataset`)
SPIKETRAINS = {"n_in": 40, "n_spikes": 1, "n_classes": 6, "alpha": 1.5, "n_freq": 16, "jitter": 0.1,
               "margin": 0.25, "horizon": 8.0, "separation": 0.5,
               "sizes": (4800, 1200, 1200)}
_GRID = 4097


def _functions(rng, shape, alpha, n_freq):
    """``prod(shape)`` random functions (module doc): ``(A k^{-alpha}, k B, P, min f, max f)``, the
    first three ``(*shape, n_freq)``, min and max over a grid of ``x`` ``shape``."""
    k = np.arange(1, n_freq + 1, dtype=np.float64)
    a, b, p = rng.random((3, *shape, n_freq))
    params = (a * k**-alpha, k * b, p)
    grid = _evaluate(params, np.linspace(0.0, 1.0, _GRID))
    return (*params, grid.min(0), grid.max(0))


def _evaluate(params, x):
    """``f(x)`` of every function at the points ``x`` ``(m,)``: ``(m, *shape)``."""
    amp, freq, phase = params[:3]
    out = np.zeros((len(x), *amp.shape[:-1]))
    for q in range(amp.shape[-1]):  # F terms, each a broadcast over points and functions
        out += amp[..., q] * np.sin(2 * np.pi * (np.multiply.outer(x, freq[..., q]) + phase[..., q]))
    return out


def manifold_times(fns, x, *, lo: float, hi: float) -> np.ndarray:
    """``lo + (hi - lo) (f - min f) / (max f - min f)`` of the functions ``fns`` (:func:`_functions`)
    at the points ``x``: ``(m, n_in, n_spikes)``."""
    fmin, fmax = fns[3], fns[4]
    return lo + (hi - lo) * (_evaluate(fns, x) - fmin) / np.maximum(fmax - fmin, 1e-12)


def spiketrains(sizes, seed: int = 0, *, n_in=40, n_spikes=1, n_classes=6, alpha=1.5, n_freq=16, jitter=0.1,
                margin=0.25, horizon=8.0, separation=None):
    """Splits ``[(times, labels), ...]`` of ``sizes`` samples each (module doc): times float32
    ``(n, n_in, n_spikes)`` in ``[0, horizon)``, labels int64, exactly balanced (``n mod
    n_classes`` aside)."""
    if not (0 <= margin < horizon / 2) or jitter < 0 or n_classes < 2 or n_in < 1 or n_spikes < 1:
        raise ValueError("spiketrains: need n_classes >= 2, n_in, n_spikes >= 1, jitter >= 0, "
                         "0 <= margin < horizon / 2")
    rng = np.random.default_rng([int(seed), 0])
    span = horizon - 2 * margin
    sep = span if separation is None else float(separation)
    shared = _functions(rng, (n_in, n_spikes), alpha, n_freq)
    mans = [_functions(rng, (n_in, n_spikes), alpha, n_freq) for _ in range(n_classes)]
    top = np.nextafter(np.float32(horizon), np.float32(0))
    out = []
    for split, n in enumerate(sizes):
        r = np.random.default_rng([int(seed), 1 + split])
        labels = np.arange(n) % n_classes
        times = np.empty((n, n_in, n_spikes))
        for c in range(n_classes):
            pick = labels == c
            x = r.random(int(pick.sum()))
            times[pick] = (manifold_times(shared, x, lo=margin, hi=margin + span - sep)
                           + manifold_times(mans[c], x, lo=0.0, hi=sep))
        times += jitter * r.standard_normal(times.shape)
        order = r.permutation(n)
        times = np.clip(times[order].astype(np.float32), np.float32(0), top)
        out.append((np.ascontiguousarray(times), np.ascontiguousarray(labels[order], dtype=np.int64)))
    return out


def bin_spikes(times, dt_over_tau: float, horizon: float = 8.0) -> np.ndarray:
    """Spike counts per step, ``(n, T, n_in)`` float32, of spike times ``(n, n_in, ...)`` (in tau;
    NaN: no spike): spike ``t`` in step ``min(floor(t / dt), T - 1)``, ``T = steps_for(dt,
    horizon)``; spikes at ``t < 0`` or ``t >= horizon`` are refused."""
    from .simulate import steps_for

    times = np.asarray(times, dtype=np.float64)
    steps = steps_for(dt_over_tau, horizon)
    n, n_in = times.shape[:2]
    flat = times.reshape(n, n_in, -1)
    ok = ~np.isnan(flat)
    if np.any(flat[ok] < 0) or np.any(flat[ok] >= horizon):
        raise ValueError(f"spike times must lie in [0, {horizon:g})")
    step = np.minimum(np.floor(np.where(ok, flat, 0.0) / dt_over_tau), steps - 1).astype(np.int64)
    sample = np.broadcast_to(np.arange(n)[:, None, None], flat.shape)
    neuron = np.broadcast_to(np.arange(n_in)[None, :, None], flat.shape)
    counts = np.zeros((n, steps, n_in), np.float32)
    np.add.at(counts, (sample[ok], step[ok], neuron[ok]), 1.0)
    return counts
