r"""Crossing moments: the surrogates' primitives, and the ``1/dU`` law of fixed point.

A crossing with step ``dU`` and uniform phase gives the sample below theta the mean
``E_below(dU) = (1/dU) int_{theta-dU}^{theta} h`` (:mod:`boolgrad.study.crossings`).

**Theorem.**  (i) *Surrogates.*  For every surrogate of the zoo, ``S' = g``, ``P1' = g`` and
``P2' = g**2`` on each smooth piece, ``P1(0) = P2(0) = 0`` and ``P1, P2`` are continuous at the
kinks (:mod:`boolgrad.rules.surrogates`), so ``E^p(dU) = P_p(dU)/dU`` on both sides.

(ii) *Fixed point, the 1/dU law.*  For ``fixed<n>.<F>``/``ufixed<n>.<F>`` with threshold rank
``R`` (comparator ``ge``), either convention, the mass of ``g`` below theta is exactly half
the area (spec §7):

    A_below = int_{-inf}^{theta} g = A / 2 = (1/2) sum_i N_i(R) 2**-i   (secant),

(the paper convention's sign bit enters with a minus sign, as in
:mod:`~boolgrad.proofs.fixed_area`); for ``theta = 2**k`` two's complement secant
``A_below = 3 - 3 * 2**(p+1-n)`` (``p = k + F``).  Hence for every ``dU``:
``E_below(dU) = (1/dU) 2**-F sum_{j=1}^{K} g(R - j) + (frac part)``, with secant ``g >= 0``
bounded by ``E_below(dU) <= A / (2 dU)``, and **equal** to ``A / (2 dU)`` once ``dU >= theta -
v_min``: the expected gradient at a crossing falls as ``1/dU`` with the constant ``A/2``.

*Proof.*  (i) differentiate (sympy).  (ii) ``chi_i(b) = chi_i(b XOR 2**i)`` and ``s`` differs
across the pair, so of the ``N_i`` patterns with ``chi_i = 1`` exactly ``N_i / 2`` have
``s = 0`` (value below theta); ``D_i`` is the same constant for both (fixed point), so each
half carries ``N_i / 2 * |c_i| 2**-F = N_i 2**-(i+1)``.  Cells ``[v, v + 2**-F)`` of patterns
below theta lie left of theta (theta is a pattern value).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._common import Tally, check, enum, finite_thresholds, is_zero
from .fixed_area import area_formula

TITLE = "surrogates: P1' = g, P2' = g^2; fixed point: A_below = A/2, E_below(dU) = A/(2 dU) beyond the range"


def _zoo():
    """Sympy ``(g, S, P1, P2, pieces)`` for x > 0: pieces ``[(lo, hi, g, P1, P2)]``."""
    import sympy as sp

    x = sp.Symbol("x", positive=True)
    w, h, k, a, s, t, sg = sp.symbols("w h k alpha sigma_s tau sigma", positive=True)
    y = sp.pi * a * x / 2
    T = sp.tanh(k * x / 2) / 2
    sig = 1 / (1 + sp.exp(-k * x))
    c = sp.Min(x, w)
    return (
        x,
        {
            "rectangle": [(0, w, h, h * x, h**2 * x), (w, sp.oo, 0, h * w, h**2 * w)],
            "sigmoid": [(0, sp.oo, k * sig * (1 - sig), T, k * (T / 4 - T**3 / 3))],
            "fast_sigmoid": [
                (0, sp.oo, 1 / (1 + k * x) ** 2, x / (1 + k * x), (1 - (1 + k * x) ** -3) / (3 * k))
            ],
            "arctan": [
                (
                    0,
                    sp.oo,
                    a / 2 / (1 + y**2),
                    sp.atan(y) / sp.pi,
                    a / (4 * sp.pi) * (y / (1 + y**2) + sp.atan(y)),
                )
            ],
            "triangle": [
                (0, w, h * (1 - x / w), h * (x - x**2 / (2 * w)), h**2 * (x - x**2 / w + x**3 / (3 * w**2))),
                (w, sp.oo, 0, h * w / 2, h**2 * w / 3),
            ],
            "gaussian": [
                (
                    0,
                    sp.oo,
                    h * sp.exp(-(x**2) / (2 * sg**2)) / (sg * sp.sqrt(2 * sp.pi)),
                    h / 2 * sp.erf(x / (sg * sp.sqrt(2))),
                    h**2 * sp.erf(x / sg) / (4 * sg * sp.sqrt(sp.pi)),
                )
            ],
            "exponential": [
                (
                    0,
                    sp.oo,
                    s / t * sp.exp(-x / t),
                    s * (1 - sp.exp(-x / t)),
                    s**2 / (2 * t) * (1 - sp.exp(-2 * x / t)),
                )
            ],
            "straight_through": [(0, sp.oo, sp.Integer(1), x, x)],
        },
        dict(width=w, height=h, slope=k, alpha=a, tau=t, scale=s, sigma=sg),
        c,
    )


def _zero(expr) -> bool:
    import sympy as sp

    return is_zero(expr) or is_zero(sp.expand(sp.sympify(expr).rewrite(sp.exp)))


def symbolic_surrogates() -> str:
    import sympy as sp

    x, zoo, _, _ = _zoo()
    for name, pieces in zoo.items():
        prev = (0, 0)
        for lo, hi, g, P1, P2 in pieces:
            check(_zero(sp.diff(P1, x) - g), f"{name}: P1' = g on ({lo}, {hi})")
            check(_zero(sp.diff(P2, x) - g**2), f"{name}: P2' = g^2 on ({lo}, {hi})")
            check(
                _zero(sp.sympify(P1).subs(x, lo) - prev[0]) and _zero(sp.sympify(P2).subs(x, lo) - prev[1]),
                f"{name}: P1, P2 continuous at {lo}",
            )
            prev = (
                sp.limit(P1, x, hi, "-") if hi != sp.oo else None,
                sp.limit(P2, x, hi, "-") if hi != sp.oo else None,
            )
    return f"{len(zoo)} surrogate primitives: P1' = g, P2' = g^2, P(0) = 0, continuous at kinks"


def symbolic() -> str:
    import sympy as sp

    first = symbolic_surrogates()
    i, p, d = sp.symbols("i p d", integer=True, nonnegative=True)
    F = sp.Symbol("F", integer=True)
    N = sp.Function("N")
    # half of the N_i flips lie below theta; each carries |c_i| 2^-F = 2^(F-i) 2^-F
    check(is_zero((N(i) / 2) * 2 ** (F - i) * 2**-F - N(i) * 2 ** -(i + 1)), "A_below = sum_i N_i 2^-(i+1)")
    n = p + 2 + d
    mag = sp.summation(2 ** (p + 1) * 2 ** -(i + 1), (i, p, n - 2))
    sign = (2**n - 2 ** (p + 1)) / 2**n
    check(
        is_zero(sp.simplify(mag + sign) - (3 - 3 * 2 ** (p + 1 - n))),
        "theta = 2^k: A_below = 3 - 3*2^(p+1-n)",
    )
    dU, A = sp.symbols("dU A", positive=True)
    check(is_zero((A / 2) / dU * dU - A / 2), "E_below dU = A_below beyond the range")
    return first + "; A_below = A/2 = sum_i N_i 2^-(i+1), theta=2^k: 3 - 3*2^(p+1-n)"


def _check_numpy_forms(tally) -> None:
    import sympy as sp

    from boolgrad.rules import surrogates as sf

    x, zoo, syms, _ = _zoo()
    for name, pieces in zoo.items():
        params = sf.DEFAULTS[name]
        sub = {syms[k]: v for k, v in params.items()}
        for u in (0.013, 0.31, 0.77, 2.4):
            for lo, hi, g, P1, P2 in pieces:
                flo, fhi = (float(sp.sympify(b).subs(sub)) for b in (lo, hi))
                if not flo <= u < fhi:
                    continue
                for expr, fn in ((g, sf.grad), (P1, sf.p1), (P2, sf.p2)):
                    want = float(sp.N(sp.sympify(expr).subs(sub).subs(x, u), 30))
                    got = float(fn(name, u))
                    check(
                        math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15),
                        f"{name} at {u}: {got} != {want}",
                    )
        tally.add(f"surrogate:{name}", cases=4)


def numeric(include_slow: bool = False) -> str:
    from boolgrad import build_table
    from boolgrad.study.crossings import BooleanGrad, crossing_moments

    tally = Tally()
    _check_numpy_forms(tally)
    for W in range(2, 10 if include_slow else 8):
        for signed in (True, False):
            fmt = f"{'' if signed else 'u'}fixed{W}.{W // 3}"
            for th in finite_thresholds(fmt):
                for conv in ("secant", "paper"):
                    e = enum(fmt, th, convention=conv)
                    step = Fraction(2) ** -e.spec.fmt.frac
                    R = e.spec.threshold.rank
                    below = Fraction(math.fsum(e.g[:R])) * step  # dyadic: exact
                    A = area_formula(W, R, signed, paper=conv == "paper")
                    check(below == A / 2, f"{fmt} theta={th} {conv}: A_below {below} != A/2 = {A / 2}")
                    if conv == "secant" and th in (finite_thresholds(fmt)[len(finite_thresholds(fmt)) // 2],):
                        table = build_table(fmt, th, convention=conv)
                        full = float(th - e.values[0])
                        for dU in (full, full * 1.5, 10 * full + 1):
                            m = crossing_moments(BooleanGrad(table), dU).mean
                            check(
                                math.isclose(m, float(A / 2) / dU, rel_tol=1e-13), f"{fmt}: 1/dU law at {dU}"
                            )
                        for dU in np.linspace(float(step) / 3, full, 7):
                            K = int(dU // float(step))
                            g_b = e.g[:R][::-1]
                            want = math.fsum(g_b[:K]) * float(step) + (g_b[K] if K < R else 0) * (
                                dU - K * float(step)
                            )
                            m = crossing_moments(BooleanGrad(table), dU).mean
                            check(
                                math.isclose(m * dU, want, rel_tol=1e-12, abs_tol=1e-15),
                                f"{fmt}: E_below at {dU}",
                            )
                            check(m <= float(A / 2) / dU * (1 + 1e-12), f"{fmt}: E_below <= A/(2dU)")
                    tally.add(fmt, thresholds=1, patterns=1 << W)
    return tally.text(
        "A_below = A/2 every threshold, E_below vs enumeration + 1/dU law; numpy surrogate forms vs sympy"
    )
