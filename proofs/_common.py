"""Shared helpers of the theorem modules: enumeration ground truth and small sympy tools.

Every numeric cross-check compares a closed form with *enumeration*: masks and ``g`` of
every pattern from :func:`boolgrad.gradient.mask_of` / :func:`boolgrad.gradient.sum_terms`
(every bit flipped), never with the closed-form table the theorem is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from boolgrad.formats import parse_format
from boolgrad.gradient import make_spec, mask_of, sum_terms

__all__ = [
    "Tally",
    "check",
    "ctz",
    "enum",
    "finite_thresholds",
    "is_zero",
    "positive",
    "positive_on_box",
]


class ProofFailure(AssertionError):
    """A symbolic step or a numeric cross-check did not hold."""


def check(cond, what: str) -> None:
    """Assert a proof step; sympy's ``None`` (undecided) counts as a failure."""
    if type(cond).__module__.startswith("sympy"):
        import sympy as sp

        cond = cond is sp.true  # a relational sympy could not decide stays False
    if cond is not True and not (isinstance(cond, (bool, np.bool_)) and bool(cond)):
        raise ProofFailure(what)


def is_zero(expr) -> bool:
    """``expr`` simplifies to 0 (sympy)."""
    import sympy as sp

    return sp.simplify(expr) == 0


def positive(expr) -> bool:
    """sympy decides ``expr > 0`` from the symbols' assumptions (``True`` only if proved).

    If sympy cannot decide directly, every power ``2**k`` with a nonnegative exponent is
    written as ``1 + w`` with a fresh nonnegative ``w`` (that is all we know about it) and
    the question is asked again -- a sound strengthening, never a weakening.
    """
    import sympy as sp

    expr = sp.simplify(expr)
    if expr.is_positive is True:
        return True
    e = sp.expand(expr, power_exp=True)
    subs = {}
    for k, p in enumerate(e.atoms(sp.Pow)):
        if p.base != 2 or not p.exp.free_symbols:
            continue
        w = sp.Symbol(f"w{k}", nonnegative=True)
        if p.exp.is_nonnegative:
            subs[p] = 1 + w  # 2**k >= 1
        elif p.exp.is_nonpositive:
            subs[p] = 1 / (1 + w)  # 0 < 2**-k <= 1
    num, den = sp.fraction(sp.together(e.subs(subs)))
    num, den = sp.expand(num), sp.expand(den)
    return (num.is_positive and den.is_positive) is True or (num.is_negative and den.is_negative) is True


def positive_on_box(expr, box: dict) -> bool:
    """``expr > 0`` for every value of the box variables, ``expr`` affine in each of them.

    ``box`` maps a sympy symbol to ``(lo, hi)`` (sympy expressions).  An affine function
    on a box takes its extremes at the corners, so checking the ``2**len(box)`` corners
    with :func:`positive` proves the claim (affinity is checked first).
    """
    import itertools

    import sympy as sp

    expr = sp.expand(expr)
    for v in box:
        if sp.degree(expr, v) > 1:
            raise ProofFailure(f"{expr} is not affine in {v}")
    for corner in itertools.product(*box.values()):
        if not positive(expr.subs(dict(zip(box, corner)))):
            return False
    return True


def ctz(x: int) -> int:
    """Number of trailing zero bits of ``x > 0``."""
    return (x & -x).bit_length() - 1


@dataclass
class Tally:
    """What a numeric cross-check covered, for the report row."""

    formats: set = field(default_factory=set)
    thresholds: int = 0
    patterns: int = 0
    cases: int = 0

    def add(self, fmt, thresholds: int = 0, patterns: int = 0, cases: int = 0) -> None:
        self.formats.add(str(fmt))
        self.thresholds += thresholds
        self.patterns += patterns
        self.cases += cases

    def text(self, what: str) -> str:
        fm = sorted(self.formats)
        shown = ", ".join(fm[:6]) + (f" +{len(fm) - 6} more" if len(fm) > 6 else "")
        extra = f", {self.cases} cases" if self.cases else ""
        return (
            f"{what}: {len(fm)} formats ({shown}), {self.thresholds} thresholds, "
            f"{self.patterns} patterns{extra}"
        )


@dataclass(frozen=True)
class Enumerated:
    """Every non-NaN pattern of a spec in rank order, with its mask and ``g`` (enumeration)."""

    spec: object
    ranks: np.ndarray
    patterns: np.ndarray
    values: np.ndarray
    masks: np.ndarray
    g: np.ndarray


def enum(fmt, theta, **opts) -> Enumerated:
    """Ground truth by flipping every bit of every non-NaN pattern (formats up to ~20 bits)."""
    spec = make_spec(parse_format(fmt), theta, **opts)
    f = spec.fmt
    ranks = np.arange(f.n_ranks, dtype=np.uint64)
    b = f.pattern_at_rank(ranks)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        m = mask_of(spec, b)
        g, _, _, _ = sum_terms(spec, b, m)
        vals = f.decode(b)
    return Enumerated(spec, ranks, b, vals, m, g)


def finite_thresholds(fmt) -> list[float]:
    """Every finite value of ``fmt`` once (``-0`` folded into ``+0``), ascending."""
    f = parse_format(fmt)
    with np.errstate(over="ignore"):
        v = f.decode(np.arange(f.n_patterns, dtype=np.uint64))
    return [float(x) for x in np.unique(v[np.isfinite(v)])]


def frac(x) -> Fraction:
    return Fraction(float(x))
