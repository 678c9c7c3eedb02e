"""Summary statistics of results over seeds: mean and sample standard deviation, ``m +- s`` text,
quantiles (numpy only).

For values ``x_1..x_n``: ``mean = (sum x_i) / n`` and the sample standard deviation
``s = sqrt(sum (x_i - mean)^2 / (n - 1))`` (ddof 1), ``s = 0`` for ``n = 1``; missing values
(``None``) are dropped first, and with ``finite=True`` non-finite ones too; no values left gives
``(None, None)``.

Two summation orders, both kept so every report reads as it always has (bit for bit):
``pairwise=False`` sums in order in Python (the study's report, the paper's numbers and figures);
``pairwise=True`` is ``numpy.mean`` / ``numpy.std(ddof=1)`` (numpy's pairwise summation: the
seeds' report).  Their means agree exactly below 8 values; otherwise the two may differ in the
last bits.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fmt_pm", "mean", "mean_std", "quantiles"]


def _present(values, finite: bool) -> list:
    if finite:
        return [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return [x for x in values if x is not None]


def mean(values, *, finite: bool = False, pairwise: bool = False):
    """The mean of the present values (module doc); ``None`` if none."""
    v = _present(values, finite)
    if not v:
        return None
    return float(np.mean(v)) if pairwise else sum(v) / len(v)


def mean_std(values, *, finite: bool = False, pairwise: bool = False):
    """``(mean, sample std)`` of the present values (module doc); ``(None, None)`` if none."""
    v = _present(values, finite)
    if not v:
        return None, None
    m = mean(v, pairwise=pairwise)
    if len(v) == 1:
        return m, 0.0
    if pairwise:
        return m, float(np.std(v, ddof=1))
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def fmt_pm(values, digits: int = 4, *, finite: bool = False, pairwise: bool = False) -> str:
    """``"m +- s"`` to ``digits`` decimals (:func:`mean_std`), ``"-"`` if no value is present."""
    m, s = mean_std(values, finite=finite, pairwise=pairwise)
    return "-" if m is None else f"{m:.{digits}f} +- {s:.{digits}f}"


def quantiles(values, qs=(0.0, 0.25, 0.5, 0.75, 1.0)) -> list:
    """``numpy.quantile`` (linear interpolation) of the present values at ``qs``; all ``None`` if none."""
    v = np.asarray([float(x) for x in values if x is not None], dtype=np.float64)
    return [None] * len(qs) if v.size == 0 else [float(np.quantile(v, q)) for q in qs]
