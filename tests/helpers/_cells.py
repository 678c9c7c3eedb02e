"""Every cell of a table's step function, by enumeration: the integrators' brute-force reference."""

from __future__ import annotations

import numpy as np

from boolgrad.gradient import mask_of, sum_terms


def enumerated_cells(table):
    """``(left ends, right ends, g)`` of every cell: each pattern's ``g`` from the bit-flip sum
    (spec §3) over ``[v(b), v(next b))``; fixed point: ``[v, v + ulp)``; floats: the finite values."""
    fmt, spec = table.fmt, table.spec
    b = fmt.pattern_at_rank(np.arange(fmt.n_ranks, dtype=np.uint64))
    with np.errstate(all="ignore"):
        g, _, _, _ = sum_terms(spec, b, mask_of(spec, b))
        v = fmt.decode(b)
    if fmt.kind == "fixed":
        return v, v + fmt.ulp, g
    fin = np.isfinite(v)
    return v[fin][:-1], v[fin][1:], g[fin][:-1]
