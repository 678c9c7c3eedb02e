"""Per-element lookup: ``g`` of a :class:`~boolgrad.GradientTable` at each element's own pattern.

The table stores runs of equal mask (spec §6); ``g`` at a pattern is the sum of the terms its
mask selects (spec §5).  Inside a run a closed form holds (:mod:`boolgrad.binades`):

* fixed point, and ``wrt="theta"`` for any format: every ``D_i`` is constant, ``g`` is
  constant on a run;
* floating point, ``wrt="u"``: cut each run at every change of sign or exponent field into
  *pieces*; on a piece ``|v| = (c0 + m) 2**q`` and ``g = C + sum_k w_k / (m + x_k)``.  In a
  normal binade every exponent-bit and sign-bit term has ``x_k = c0 = 2**M``, so

      g = P + Q / v,      P = C,   Q = sign(v) 2**q sum_k w_k

  with ``P``, ``Q`` computed once from exact fractions (one float64 division and addition per
  element).  A piece is *regular* when this form is within ``2**-64`` per term of the exact
  sum; the others (subnormals, binades whose exponent flips reach the subnormals, the ``fn`` top
  binade, overflowing weights) are *irregular*: their rare elements get the table's own sum.

Lookup: the top 16 bits of an element's pattern in its *own* dtype (sign, exponent and the top
mantissa bits) index ``2**16`` buckets.  A bucket inside one regular piece holds its ``(P, Q)``
(for 16-bit dtypes a bucket is one pattern and holds ``g`` itself); buckets cut by a piece
boundary, holding ``+-0``/NaN, or meeting an irregular piece hold NaN, and a NaN result sends
just those elements to the exact slow path (``searchsorted`` over the pieces' bounds).  One
single pattern at a bucket's end (the nearest to theta) is patched by value.  The CPU kernel
also resolves cut buckets itself: those cut by one bound through a second entry per bucket, the
others by a binary search over their pieces (:mod:`.cpu_kernel`).

Modules: :mod:`boolgrad.rules.pieces` (numpy: pieces and bounds, exact), :mod:`.plan` (the compiled
:class:`TablePlan`: buckets as tensors, scaling, range check), :mod:`.evaluate` (torch
evaluation and dispatch), :mod:`.cpu_kernel` (the fast path as one numba loop on CPU: its
arguments and policy) with :mod:`.cpu_loops` (the loops, cached on disk) and
:mod:`.neighbours` (theta's one-bit neighbours, where the tie rule acts),
:mod:`.triton_kernel` (the same as one Triton kernel on CUDA).  All paths give identical
results (tested element for element).
"""

from .evaluate import grad_input, plan_gradient, plan_gradient_as
from .plan import DTYPE_FORMATS, TablePlan, compile_plan, dtype_format

__all__ = [
    "DTYPE_FORMATS",
    "TablePlan",
    "compile_plan",
    "dtype_format",
    "grad_input",
    "plan_gradient",
    "plan_gradient_as",
]
