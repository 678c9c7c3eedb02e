"""Tables by exhaustive enumeration of every pattern (formats up to 32 bits).

:func:`build_table` is the keyword door; :func:`build_table_from_spec` does the work: one
sweep over all ranks on the chosen backend (:mod:`boolgrad.builders.backends`), assembled into a
:class:`~boolgrad.table.GradientTable`.  Ground truth for every faster route.
"""

from __future__ import annotations

from ..gradient import GradientSpec, make_spec
from ..table import GradientTable, table_from_runs
from .backends import run_sweep

__all__ = ["MAX_SWEEP_BITS", "build_table", "build_table_from_spec", "check_sweepable"]

#: Formats wider than this are refused by the sweep (2**32 patterns is already minutes).
MAX_SWEEP_BITS = 32


def check_sweepable(fmt) -> None:
    """``ValueError`` for a format too wide to enumerate."""
    if fmt.bits > MAX_SWEEP_BITS:
        raise ValueError(
            f"{fmt.name} has {fmt.bits} bits; exhaustive enumeration stops at {MAX_SWEEP_BITS} "
            f"(2**{fmt.bits} patterns). Use the closed-form route (closed_form_table) for wider formats"
        )


def build_table(fmt, theta, *, device: str = "auto", progress: bool | None = None, **options) -> GradientTable:
    """Exact gradient table by exhaustive enumeration of every pattern (formats <= 32 bits).

    ``options`` are those of :func:`boolgrad.gradient.make_spec`.  ``device``: ``"auto"``
    (the fastest available backend for the size), ``"cpu"``, ``"gpu"``, or a name in
    :data:`boolgrad.builders.backends.BACKENDS`.  Every backend gives the identical table.
    ``progress=None`` shows a bar for sweeps over 2**24 patterns.  Ctrl-C stops the sweep
    (``KeyboardInterrupt`` propagates; nothing is returned).  The table's ``sweep_info`` says
    which backend ran, on how many patterns and in how many seconds.
    """
    return build_table_from_spec(make_spec(fmt, theta, **options), device=device, progress=progress)


def build_table_from_spec(spec: GradientSpec, *, device: str = "auto", progress: bool | None = None):
    """:func:`build_table` of a built spec."""
    check_sweepable(spec.fmt)
    if progress is None:
        progress = spec.fmt.n_ranks > (1 << 24)
    starts, masks, info = run_sweep(spec, device, progress)
    return table_from_runs(spec, starts, masks, method="enumerate", sweep_info=info)
