"""Parts of a Boolean gradient: a table's ``g`` kept on some of its runs and zero on the others.

The ablation kinds of the overshoot study (:mod:`boolgrad.study.kinds`) ask which part of a
Boolean gradient does the work -- its peak at theta or its tails.  A part is a table of its own:
the parent's runs with the masks of the dropped runs set to 0 (``g(b) = sum_{i in m(b)} c_i(b)``
is then the empty sum, 0), neighbouring runs of equal mask merged.  Every consumer reads ``g``
from runs and masks -- the numpy :meth:`~boolgrad.table.GradientTable.gradient`, the torch
lookup's pieces and plans (the Boolean spike and the fused LIF engine), the exact integrals of
the crossing theory, ``area()`` and ``peak()`` -- so they all see the same ``g``, equal to the
parent's on the kept runs, bit for bit, and 0 elsewhere.  :func:`table_part` is the one place
where the parts are defined:

=======  =====================================================================================
part     runs kept
=======  =====================================================================================
peak     the *saturation window*: every run from the lowest to the highest run on which ``g``
         reaches ``grad_max`` somewhere (where ``min(g, G) / G`` saturates at 1), the
         unsaturated runs between them included -- one interval of patterns around theta
tails    the complement of ``peak``: ``peak + tails`` is the parent, and they never overlap
top      the runs on which ``g`` reaches the table's own maximum (``table.peak()``): under
         ``unit_peak`` scaling of a fixed-point table, ``g = 1`` exactly there and 0
         elsewhere -- a rectangle on exactly the cells of the parent's peak
=======  =====================================================================================

A run's maximum (:func:`run_peaks`) is exact: fixed point has ``g`` constant on a run; for
floats it is the ``peak()`` of the table with every other run dropped
(:func:`boolgrad.measures.area_and_peak`: segment ends and interior maximisers).
"""

from __future__ import annotations

import numpy as np

from boolgrad.table import GradientTable, table_from_runs

__all__ = ["PARTS", "keep_runs", "restrict", "run_peaks", "saturation_window", "table_part"]

PARTS = ("peak", "tails", "top")


def restrict(table: GradientTable, keep, *, label: str = "part") -> GradientTable:
    """``table`` with ``g`` kept on the runs where ``keep`` (bool per run) and 0 on the others.

    The runs are the parent's (masks zeroed where dropped), merged where neighbours now share a
    mask, so the result is a valid table (:meth:`~boolgrad.table.GradientTable.validate`).
    ``label`` is appended to ``meta.method``."""
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (table.n_runs,):
        raise ValueError(f"keep needs one flag per run ({table.n_runs}), got shape {keep.shape}")
    masks = np.where(keep, table.mask, np.uint64(0)).astype(np.uint64)
    new = np.ones(len(masks), dtype=bool)
    new[1:] = masks[1:] != masks[:-1]
    return table_from_runs(table.spec, table.first_rank[new], masks[new], f"{table.meta.method}+{label}")


def run_peaks(table: GradientTable) -> np.ndarray:
    """The largest ``g`` on each run (float64, exact: module doc)."""
    from boolgrad.measures import area_and_peak, g_at_ranks

    if table.fmt.constant_weights or table.spec.wrt == "theta":
        return np.asarray(g_at_ranks(table, table.first_rank, np.arange(table.n_runs)), dtype=np.float64)
    out = np.zeros(table.n_runs)
    for k in range(table.n_runs):
        if table.mask[k]:
            one = np.zeros(table.n_runs, dtype=bool)
            one[k] = True
            out[k] = area_and_peak(restrict(table, one))[1][0]
    return out


def saturation_window(table: GradientTable, grad_max: float) -> tuple[int, int]:
    """``(k0, k1)``: the lowest and the highest run on which ``g`` reaches ``grad_max``."""
    hit = np.flatnonzero(run_peaks(table) >= float(grad_max))
    if not hit.size:
        raise ValueError(f"g never reaches grad_max={grad_max!r} in this table: it has no saturated peak")
    return int(hit[0]), int(hit[-1])


def keep_runs(table: GradientTable, part: str, grad_max: float | None = None) -> np.ndarray:
    """Which runs part ``part`` keeps (bool per run; module table)."""
    if part == "top":
        peaks = run_peaks(table)
        return peaks == peaks.max()
    if part not in ("peak", "tails"):
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    if grad_max is None:
        raise ValueError(f"part {part!r} needs grad_max (the clamp that defines the peak)")
    k0, k1 = saturation_window(table, grad_max)
    inside = np.zeros(table.n_runs, dtype=bool)
    inside[k0:k1 + 1] = True
    return inside if part == "peak" else ~inside


def table_part(table: GradientTable, part: str, grad_max: float | None = None) -> GradientTable:
    """The part ``part`` of ``table`` (module doc): ``restrict(table, keep_runs(...))``."""
    return restrict(table, keep_runs(table, part, grad_max), label=part)
