"""The float run form: a run split into binades, and ``g`` on each in closed form.

Within a run of a floating-point ``wrt="u"`` table the mask is fixed, so ``g`` only changes
through the bit weights ``D_i``.  Split the run into *segments* of one sign and one exponent
field ``e`` (:func:`run_segments`).  With ``m`` the mantissa field, ``q = max(e, 1) - bias - M``
and ``c0 = 2**M`` (normal) or ``0`` (subnormal), ``|v| = (c0 + m) 2**q`` and every weight is
affine in ``m``: a mantissa bit ``i`` adds ``2**(i+q)``; the sign bit ``-2 |v|``; an exponent
bit ``j`` moves between fields ``e_lo``/``e_hi`` and adds ``alpha + beta m`` with
``alpha = c0(e_hi) 2**q(e_hi) - c0(e_lo) 2**q(e_lo)`` and ``beta = 2**q(e_hi) - 2**q(e_lo)``.
Hence on a segment (:func:`segment_terms`)

    g(m) = C + sum_k w_k / (m + x_k)          (x_k = alpha_k / beta_k > -m)

and, grouping the poles at ``x = c0`` into ``1/|u|`` (:class:`FloatSegmentForm`),

    g(u) = K_m / ulp(u) + K_u / |u| + sum_{k in rest} w_k / (m + x_k)

(``rest``: exponent flips between a normal and a subnormal binade other than ``e = 0 <-> 1``).
Flips onto infinity/NaN contribute nothing (spec §5).  Proved in
:mod:`boolgrad.proofs.float_terms`.  This module is the one home of that form: the measures
(:mod:`boolgrad.measures`) and the torch lookup (:mod:`boolgrad.torch.lookup`) build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

__all__ = ["FloatSegmentForm", "Segment", "float_segment_form", "run_segments", "segment_terms"]


class Segment(NamedTuple):
    """Ranks of one binade inside a run: sign, exponent field, mantissa range (inclusive)."""

    sign: int
    e: int
    m_lo: int
    m_hi: int

    def rank(self, fmt, m: int) -> int:
        """Rank (value order, spec §6) of mantissa field ``m`` in this segment."""
        return magnitude_rank(fmt, self.sign, (self.e << fmt.man_bits) | m)

    def special_mantissas(self, fmt) -> list[int]:
        """The segment's mantissas taken as single cells by the integrators, sorted: its ends,
        the binade's all-ones field, and in an ``fn`` format's top binade the patterns one bit
        from all-ones (next to the NaN pattern, where the closed form's neighbours change)."""
        M = fmt.man_bits
        special = {self.m_lo, self.m_hi, (1 << M) - 1}
        if fmt.variant == "fn" and self.e == (1 << fmt.exp_bits) - 1:
            special |= {((1 << M) - 1) ^ (1 << i) for i in range(M)}
        return sorted(m for m in special if self.m_lo <= m <= self.m_hi)

    def first_rank(self, fmt) -> int:
        """Rank of the segment's lowest value (negatives run by falling magnitude)."""
        return self.rank(fmt, self.m_hi if self.sign else self.m_lo)


def magnitude_rank(fmt, sign: int, mag: int) -> int:
    """Rank of the pattern with sign ``sign`` and magnitude field ``mag`` (``-0`` is ``A + 1``)."""
    A = fmt.max_mag
    if mag == 0:
        return A + sign
    return A - mag if sign else A + 1 + mag


def run_segments(fmt, r0: int, r1: int):
    """Split ranks ``[r0, r1]`` of a float format into :class:`Segment` s of one binade."""
    A, M = fmt.max_mag, fmt.man_bits
    spans = []
    if r0 <= A - 1:
        spans.append((1, A - min(r1, A - 1), A - r0))
    for r, sign in ((A, 0), (A + 1, 1)):
        if r0 <= r <= r1:
            spans.append((sign, 0, 0))
    if r1 >= A + 2:
        spans.append((0, max(r0, A + 2) - A - 1, r1 - A - 1))
    for sign, lo, hi in spans:
        for e in range(lo >> M, (hi >> M) + 1):
            base = e << M
            yield Segment(sign, e, max(lo, base) - base, min(hi, base + (1 << M) - 1) - base)


def segment_terms(spec, mask: int, sign: int, e: int):
    """``(q, C, [(w, x)])`` of ``g(m) = C + sum w / (m + x)`` on segment ``(sign, e)`` (exact)."""
    fmt = spec.fmt
    M, E, bias = fmt.man_bits, fmt.exp_bits, fmt.bias
    paper = spec.convention == "paper"
    sgn = -1 if sign else 1

    def q_of(ee):
        return max(ee, 1) - bias - M

    def c0_of(ee):
        return (1 << M) if ee else 0

    q = q_of(e)
    C, terms = Fraction(0), []
    for i in range(fmt.bits):
        if not (mask >> i) & 1 or i in spec.excluded:
            continue
        if i < M:  # mantissa: D = sgn 2**(i+q)
            C += Fraction(sgn if paper else 1) / Fraction(2) ** (i + q)
        elif i == fmt.bits - 1:  # sign: D = -2 (c0 + m) 2**q
            terms.append((Fraction(-1 if paper else 1) / Fraction(2) ** (q + 1), Fraction(c0_of(e))))
        else:  # exponent bit j: D = sgn (alpha + beta m)
            j = i - M
            e_hi, e_lo = e | (1 << j), e & ~(1 << j)
            if fmt.has_inf and e_hi == (1 << E) - 1:
                continue  # flips onto inf/NaN: degenerate on the whole segment
            alpha = c0_of(e_hi) * Fraction(2) ** q_of(e_hi) - c0_of(e_lo) * Fraction(2) ** q_of(e_lo)
            beta = Fraction(2) ** q_of(e_hi) - Fraction(2) ** q_of(e_lo)
            num = sgn if paper else 1
            if beta == 0:
                C += Fraction(num) / alpha
            else:
                terms.append((num / beta, alpha / beta))
    return q, C, terms


@dataclass(frozen=True)
class FloatSegmentForm:
    """``g(u) = K_m / ulp(u) + K_u / |u| + sum_k w_k / (m + x_k)`` on one float segment.

    ``ulp(u) = 2**q``, ``|u| = (c0 + m) 2**q``.  ``K_m`` collects the mantissa bits (and the
    ``e = 0 <-> 1`` exponent flip, whose weight is the constant ``2**(M+q)``); ``K_u`` the sign
    bit and every exponent flip between two normal binades (their weights are multiples of
    ``|u|``); ``rest`` the other normal/subnormal flips (pole ``x != c0``).  Exact rationals.
    Not valid at the ``fn`` format's NaN neighbours (handled pointwise).
    """

    q: int
    c0: int
    K_m: Fraction
    K_u: Fraction
    rest: tuple[tuple[Fraction, Fraction], ...]

    def evaluate(self, m: int) -> Fraction:
        """Exact ``g`` at mantissa field ``m`` of the segment (``u != 0``)."""
        ulp = Fraction(2) ** self.q
        g = self.K_m / ulp
        if self.K_u:
            g += self.K_u / ((self.c0 + m) * ulp)
        for w, x in self.rest:
            g += w / (m + x)
        return g


def float_segment_form(spec, mask: int, sign: int, e: int) -> FloatSegmentForm:
    """:class:`FloatSegmentForm` of ``mask`` on segment ``(sign, e)``: the poles of
    :func:`segment_terms` at ``x = c0`` grouped as ``w 2**q / |u|``."""
    fmt = spec.fmt
    if fmt.kind != "float" or spec.wrt != "u":
        raise ValueError("float_segment_form needs a float format and wrt='u'")
    q, C, terms = segment_terms(spec, mask, sign, e)
    c0 = (1 << fmt.man_bits) if e else 0
    ulp = Fraction(2) ** q
    K_u, rest = Fraction(0), []
    for w, x in terms:
        if x == c0:
            K_u += w * ulp
        else:
            rest.append((w, x))
    return FloatSegmentForm(q=q, c0=c0, K_m=C * ulp, K_u=K_u, rest=tuple(rest))
