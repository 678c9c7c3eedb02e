r"""Float terms: on a run, g(u) = K_m / ulp(u) + K_u / |u|  (+ poles for flips into subnormals).

**Theorem.**  Float ``e<E>m<M>`` with bias ``B``, ``wrt="u"``.  Fix a run (mask ``m``) and a
segment of it with one sign ``s`` and one exponent field ``e``; let ``mu`` be the mantissa
field, ``q = max(e, 1) - B - M``, ``ulp(u) = 2**q``, ``c0 = 2**M [e >= 1]`` and
``|u| = (c0 + mu) 2**q`` (``u != 0``, finite).  Then, with ``sigma = -1`` for the paper
convention on negative ``u`` and ``+1`` otherwise, and ``X`` the excluded bits,

    g(u) = K_m / ulp(u) + K_u / |u| + sum_k w_k / (mu + x_k)

* ``K_m = sigma sum_{i < M, i in m \ X} 2**-i``  (+ ``sigma 2**-M`` if ``e in {0, 1}`` and
  exponent bit 0 is in the mask: the flip ``e = 0 <-> 1`` has the constant weight ``2**(M+q)``);
* ``K_u = tau/2 [sign bit in m \ X] + sigma sum_k kappa_k`` over the exponent bits ``k`` in
  ``m \ X`` whose flip joins two *normal, finite* binades, with ``tau = -1`` (paper) or
  ``+1`` (secant) and
  ``kappa_k = 1 / (2**(2**k) - 1)`` if ``e_k = 0`` (the flip multiplies ``|u|`` by ``2**(2**k)``),
  ``kappa_k = 2**(2**k) / (2**(2**k) - 1)`` if ``e_k = 1`` (it divides ``|u|`` by ``2**(2**k)``);
* the poles: an exponent bit ``k >= 1`` whose flip joins ``e_lo = 0`` (subnormal) and
  ``e_hi = 2**k`` gives ``w = sigma / (2**q_hi - 2**q_min)`` and
  ``x = 2**M / (1 - 2**(1 - 2**k))`` -- the only non-``1/|u|`` shape.  Flips onto infinity or NaN
  contribute 0 (spec §5).

So on a normal segment whose exponent is not a power of two (or whose power-of-two bit is not
in the mask), ``g(u) = K_m / ulp(u) + K_u / |u|`` exactly: a constant per binade plus a
hyperbola; per unit of ``K``, the mantissa part is ``|u| / ulp in [2**M, 2**(M+1))`` times the
larger (normal ``u``).  :mod:`boolgrad.segments`
uses the equivalent ``C + sum w / (mu + x)`` and :func:`boolgrad.binades.float_segment_form`
regroups it into this form (both are checked against this statement here).

*Proof.*  Linearity: ``g`` is a sum of one term per mask bit and each bit weight ``D_i`` is
computed from ``v(e, mu) = +-(c0(e) + mu) 2**q(e)`` (sympy below): a mantissa bit adds
``2**(i+q)``; the sign bit ``-2|u|``; an exponent bit between normal binades
``(2**M + mu)(2**q_hi - 2**q_lo) = |u| (2**(q_hi-q) - 2**(q_lo-q))`` with
``q_hi - q_lo = 2**k``; between ``e = 0`` and ``2**k``: ``(2**q_hi - 2**q_min)(mu + x)``, constant
``2**(M+q_min)`` when ``k = 0``.  The secant term is ``1/|D|`` because the spike is monotone in
the value; the paper term is ``1/D``.
"""

from __future__ import annotations

from fractions import Fraction

from ._common import Tally, check, enum, finite_thresholds, is_zero

TITLE = "g = K_m/ulp(u) + K_u/|u| per run segment, poles only for flips into subnormals"


def predicted_form(fmt, convention: str, excluded, mask: int, sign: int, e: int):
    """``(K_m, K_u, rest)`` straight from the theorem's statement (exact)."""
    M, E, B = fmt.man_bits, fmt.exp_bits, fmt.bias
    top = (1 << E) - 1
    paper = convention == "paper"
    sigma = -1 if (paper and sign) else 1
    tau = -1 if paper else 1
    q_of = lambda ee: max(ee, 1) - B - M  # noqa: E731
    K_m, K_u, rest = Fraction(0), Fraction(0), []
    for i in range(fmt.bits):
        if not (mask >> i) & 1 or i in excluded:
            continue
        if i < M:
            K_m += sigma * Fraction(1, 2**i)
        elif i == fmt.bits - 1:
            K_u += Fraction(tau, 2)
        else:
            k = i - M
            e_lo, e_hi = e & ~(1 << k), e | (1 << k)
            if fmt.has_inf and e_hi == top:
                continue
            if e_lo >= 1:
                r = Fraction(2) ** (2**k)
                K_u += sigma * (1 / (r - 1) if not (e >> k) & 1 else r / (r - 1))
            elif k == 0:
                K_m += sigma * Fraction(1, 2**M)
            else:
                w = sigma / (Fraction(2) ** q_of(e_hi) - Fraction(2) ** q_of(0))
                rest.append((w, Fraction(2**M) / (1 - Fraction(2) ** (1 - 2**k))))
    return K_m, K_u, sorted(rest)


def symbolic() -> str:
    import sympy as sp

    mu, i, k = sp.symbols("mu i k", integer=True, nonnegative=True)
    M, a = sp.symbols("M a", integer=True, positive=True)  # a: a normal exponent field
    B = sp.Symbol("B", integer=True)
    q = lambda ee: ee - B - M  # noqa: E731  (normal fields)
    q_min = 1 - B - M
    v = lambda ee, mm: (2**M + mm) * 2 ** q(ee)  # noqa: E731
    u = v(a, mu)
    # mantissa bit i (with mu's bit i clear): constant weight 2^(i+q)
    check(is_zero(v(a, mu + 2**i) - v(a, mu) - 2 ** (i + q(a))), "mantissa weight 2^(i+q)")
    # sign bit: -|u| - |u|
    check(is_zero((-u - u) + 2 * u), "sign weight -2|u|")
    # exponent bit k between normal binades a (bit clear) and a + 2^k (bit set)
    D = v(a + 2**k, mu) - v(a, mu)
    up, down = sp.simplify(D / v(a, mu)), sp.simplify(D / v(a + 2**k, mu))
    check(sp.diff(up, mu) == 0 and sp.diff(down, mu) == 0, "D / |u| does not depend on mu")
    check(is_zero(up - (2 ** (2**k) - 1)), "setting bit k: D = |u| (2^(2^k) - 1)")
    check(is_zero(down - (1 - 2 ** (-(2**k)))), "clearing bit k: D = |u| (1 - 2^(-2^k))")
    r = 2 ** (2**k)
    check(is_zero(1 / (r - 1) - 1 / up) and is_zero(r / (r - 1) - 1 / down), "kappa_k")
    # exponent flip between e = 0 (subnormal, value mu 2^q_min) and e = 2^k
    sub = mu * 2**q_min
    D0 = v(1, mu) - sub  # k = 0
    check(sp.diff(sp.expand(D0), mu) == 0 and is_zero(D0 - 2 ** (M + q_min)), "e=0<->1: constant 2^(M+q)")
    kk = sp.Symbol("kk", integer=True, positive=True)
    Dk = v(2**kk, mu) - sub
    w_inv = 2 ** q(2**kk) - 2**q_min
    x = 2**M / (1 - 2 ** (1 - 2**kk))
    check(is_zero(Dk - w_inv * (mu + x)), "e=0<->2^k: D = (2^q_hi - 2^q_min)(mu + x)")
    z = sp.Symbol("z")  # unconstrained: the root is negative
    root = sp.solve(sp.Eq(Dk.subs(mu, z), 0), z)
    check(len(root) == 1 and is_zero(root[0] + x), "the pole is at mu = -x")
    # collecting: a term 1/(c |u|) with |u| = (c0 + mu) 2^q is a pole at mu = -c0, i.e. K_u/|u|
    return "weights from v(e,mu): mantissa 2^(i+q), sign -2|u|, exponent |u|(2^(2^k)-1) / |u|(1-2^-2^k), subnormal pole x"


def _nan_neighbour(fmt, b: int) -> bool:
    return any(fmt.is_nan_pattern(b ^ (1 << i)) for i in range(fmt.bits))


def numeric(include_slow: bool = False) -> str:
    from boolgrad.binades import float_segment_form
    from boolgrad.builders.closed_form import closed_form_runs

    tally = Tally()
    fmts = ["e2m1", "e2m2", "e3m2", "e2m3", "e3m1fn", "float8_e4m3fn", "float8_e5m2"]
    if include_slow:
        fmts += ["e3m5", "e4m4", "e5m3fn"]
    for f in fmts:
        ths = finite_thresholds(f)
        step = max(1, len(ths) // (24 if include_slow else 6))
        for th in ths[::step]:
            for opts in (dict(), dict(convention="paper", comparator="gt"), dict(excluded_bits=[0, 3])):
                e = enum(f, th, **opts)
                fmt, spec = e.spec.fmt, e.spec
                _, masks = closed_form_runs(spec)
                forms = {}
                for r, b, g, mask in zip(e.ranks, e.patterns, e.g, e.masks):
                    b = int(b)
                    val = fmt.exact_value(b)
                    if not isinstance(val, Fraction) or val == 0 or _nan_neighbour(fmt, b):
                        continue  # +-0, +-inf and fn's NaN neighbours are pointwise cases
                    sign, mag = b >> (fmt.bits - 1), b & ((1 << (fmt.bits - 1)) - 1)
                    ee, mm = mag >> fmt.man_bits, mag & ((1 << fmt.man_bits) - 1)
                    mask = int(mask)
                    key = (mask, sign, ee)
                    if key not in forms:
                        form = float_segment_form(spec, mask, sign, ee)
                        want = predicted_form(fmt, spec.convention, spec.excluded, mask, sign, ee)
                        check((form.K_m, form.K_u, sorted(form.rest)) == want, f"{f} {th} {opts}: coefficients {key}")
                        if want[2]:
                            check(ee == 0 or ee & (ee - 1) == 0, "poles only at e = 0 or a power of two")
                        forms[key] = form
                    exact = forms[key].evaluate(mm)
                    check(abs(float(exact) - float(g)) <= 1e-12 * abs(float(exact)) + 1e-300,
                          f"{f} theta={th} {opts} pattern {b:#x}: {float(exact)} != {g}")
                    tally.patterns += 1
                check(int(masks[0]) == int(e.masks[0]), "runs come from the closed form")
            tally.add(f, thresholds=3)
    return tally.text("coefficients == theorem == segments; g(u) vs enumeration (rel 1e-12)")
