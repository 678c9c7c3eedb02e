r"""Seed 000's weight nudging only rescales: no unit's decision direction ever turns.

The rule (:mod:`boolgrad.study.seeds.seed000`): a threshold unit with weight row ``w`` (the last
entry the bias, the weight of a constant input 1), net input ``n = w . x``, output
``s = [n >= theta]`` and target ``t`` gets the error ``d = (s - t) |n - theta|`` and the update
``w' = c w`` with ``c = 1 - lr d``; a hidden unit gets ``d_h = sum_j d_j`` of the units that
follow (applied only when its output disagrees) and the same update.

**Theorem.**  For every ``lr``, ``theta``, ``n``, ``s, t in {0, 1}``, every input ``x`` and every
dimension:

1. ``w'`` is a scalar multiple of ``w``: ``w'_i w_k - w'_k w_i = 0`` for all ``i, k`` and
   ``(w' . w)^2 = |w'|^2 |w|^2`` (Cauchy-Schwarz with equality), so ``|cos(w, w')| = 1`` while
   ``c != 0``: ``w'/|w'| = sign(c) w/|w|``.  After any sequence of updates ``w_k = C_k w_0``
   with ``C_k = prod_i c_i`` (hidden and output rows alike): the direction of every row is
   fixed at initialisation.
2. The decision set moves only through an effective threshold: ``w' . x - theta =
   c (w . x - theta / c)``, so ``{x : w' . x >= theta} = {x : w . x >= theta / c}`` for
   ``c > 0`` (a parallel hyperplane, shifted), ``= {x : w . x <= theta / c}`` for ``c < 0``
   (the same hyperplane family, flipped) and ``= everything or nothing`` for ``c = 0``.  A
   unit's reachable decision sets are the one-parameter family ``{w_0 . x >= tau}``,
   ``{w_0 . x <= tau}``: a problem whose boundary is not parallel to ``w_0``'s is never solved.
3. A bias initialised at 0 stays exactly 0 (``c * 0 = 0``), so the offset of the hyperplane
   comes from ``theta / C_k`` alone.
4. With one unit per class and the argmax readout (the seeds' prediction), the class scores are
   ``C_j (w0_j . x)``: the rule fits one scalar per unit whatever the input dimension, and every
   pairwise boundary ``(C_j w0_j - C_k w0_k) . x = 0`` passes through the origin (biases 0).
5. On the sample itself ``n' - n = lr (t - s) |n - theta| n``: the update moves ``n`` the
   intended way (``sign(t - s)``) iff ``n > 0``; a unit that should fire with ``n < 0`` is
   scaled up and falls further below threshold (the "wrong-direction" updates of the seeds'
   diagnostics).

*Proof.*  Symbolic, for ``w, x`` with symbolic entries in dimensions 1-6 and for indexed
entries of symbolic length ``m`` (sums over ``1..m``): (1) the ``2 x 2`` minors of ``(w, w')``
and the Cauchy-Schwarz gap are identically 0, ``cos^2 = 1``, two updates multiply; (2) the
identity ``w' . x - theta = c (w . x - theta/c)`` and the sign of a product; (3) substitution;
(4) is ``(c w) . x = c (w . x)`` per unit; (5) expand ``(c - 1) n``.  The numeric check runs
:func:`~boolgrad.study.seeds.seed000.nudge_update` and ``nudge_hidden`` themselves: on dyadic
weights, inputs, thresholds and rates chosen so that every float64 operation is exact (checked
against ``fractions.Fraction``), ``w_k == C_k w_0`` exactly and the decision of every input of a
grid agrees with ``w_0 . x`` against ``theta / C_k`` (``C_k > 0`` and ``< 0`` both met; ``c = 0``
once by construction); on Gaussian weights in float64 ``|cos| = 1`` to rounding and the bias
stays exactly 0.

Sources: the question behind seed 000 (docs/seeds_experiments.md); that the perceptron's
additive update ``w += lr (t - s) x`` turns the weight vector is Rosenblatt (1958) and
Novikoff (1962).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ._common import Tally, check, is_zero

TITLE = "nudging w' = (1 - lr d) w only rescales: |cos(w0, w)| = 1, boundary w0.x = theta/C, bias stays 0"


def symbolic() -> str:
    import sympy as sp

    lr, theta, n = sp.symbols("lr theta n", real=True)
    s, t = sp.symbols("s t", real=True)
    d = (s - t) * sp.Abs(n - theta)
    c = 1 - lr * d
    dims = range(1, 7)
    for dim in dims:
        w = sp.Matrix(sp.symbols(f"w0:{dim}", real=True))
        x = sp.Matrix(sp.symbols(f"x0:{dim}", real=True))
        w1 = w * c  # the rule, row by row
        for i in range(dim):
            for k in range(i + 1, dim):
                check(is_zero(w1[i] * w[k] - w1[k] * w[i]), f"dim {dim}: minor ({i}, {k}) of (w, w') is 0")
        check(
            is_zero(w1.dot(w) ** 2 - w1.dot(w1) * w.dot(w)), f"dim {dim}: Cauchy-Schwarz holds with equality"
        )
        # |cos| = 1: cos^2 = (w'.w)^2 / (|w'|^2 |w|^2) = c^2 |w|^4 / (c^2 |w|^4)
        cp = sp.Symbol("cp", real=True, nonzero=True)
        cos2 = (w * cp).dot(w) ** 2 / ((w * cp).dot(w * cp) * w.dot(w))
        check(is_zero(cos2 - 1), f"dim {dim}: cos^2(w, c w) = 1 for c != 0")
        # the decision: w'.x - theta = c (w.x - theta/c)
        cc = sp.Symbol("c", nonzero=True, real=True)
        check(
            is_zero((w * cc).dot(x) - theta - cc * (w.dot(x) - theta / cc)), f"dim {dim}: effective threshold"
        )
        # composition: two updates multiply
        c2 = sp.Symbol("c2", real=True)
        check(all(is_zero(e) for e in (w1 * c2 - w * (c * c2))), f"dim {dim}: w_2 = c1 c2 w_0")
    # any size m (a symbol): indexed entries, sums over 1..m
    m = sp.Symbol("m", integer=True, positive=True)
    i, k = sp.symbols("i k", integer=True)
    wi, xi = sp.IndexedBase("w", real=True), sp.IndexedBase("x", real=True)
    cc = sp.Symbol("c", real=True)

    def tot(e):
        return sp.Sum(e, (i, 1, m))

    def zero(e):
        return sp.simplify(sp.factor_terms(sp.expand(e))) == 0

    check(zero(tot(cc * wi[i] * xi[i]) - cc * tot(wi[i] * xi[i])), "any size: (c w).x = c (w.x)")
    check(zero(cc * wi[i] * wi[k] - cc * wi[k] * wi[i]), "any size: minors of (w, c w) are 0")
    check(
        zero(tot(cc * wi[i] * wi[i]) ** 2 - tot((cc * wi[i]) ** 2) * tot(wi[i] ** 2)),
        "any size: Cauchy-Schwarz equality for (w, c w)",
    )
    # signs: for c > 0 the sides agree with w.x vs theta/c; for c < 0 they swap
    cpos, cneg = sp.Symbol("cpos", positive=True), sp.Symbol("cneg", negative=True)
    yp, yn = sp.Symbol("yp", nonnegative=True), sp.Symbol("yn", negative=True)  # y = w.x - theta/c
    check(sp.Ge(cpos * yp, 0), "c > 0, w.x >= theta/c: fires")
    check(sp.Lt(cpos * yn, 0), "c > 0, w.x < theta/c: silent")
    check(sp.Le(cneg * yp, 0), "c < 0, w.x >= theta/c: flipped")
    check(sp.Gt(cneg * yn, 0), "c < 0, w.x < theta/c: flipped")
    # the bias: c * 0 = 0
    check(is_zero(c * 0), "a zero bias stays 0")
    # on the sample: n' - n = (c - 1) n = lr (t - s) |n - theta| n
    check(is_zero((c - 1) * n - lr * (t - s) * sp.Abs(n - theta) * n), "n' - n = lr (t - s) |n - theta| n")
    return (
        f"w' = c w parallel (minors, Cauchy-Schwarz equality, cos^2 = 1) "
        f"in dims {dims.start}-{dims.stop - 1} "
        "and any size; w'.x - theta = c (w.x - theta/c); sign cases; bias 0; n' - n = lr (t-s)|n-theta| n"
    )


def _dyadic(rng, size, den, lo, hi):
    return rng.integers(lo, hi + 1, size).astype(np.float64) / den


def _exact_case(rng, dim, units, theta, lr, steps, depth2):
    """One random run of nudge updates in exactly representable float64 (checked); the claims."""
    from boolgrad.study.seeds.seed000 import nudge_hidden, nudge_update

    w0 = np.zeros((units, dim + 1))
    w0[:, :dim] = _dyadic(rng, (units, dim), 4, -4, 4)
    w = w0.copy()
    C = [Fraction(1)] * units
    for _ in range(steps):
        x = np.append(_dyadic(rng, dim, 2, -2, 2), 1.0)
        net = w @ x
        check(
            all(
                Fraction(v) == sum(Fraction(a) * Fraction(b) for a, b in zip(row, x))
                for v, row in zip(net, w)
            ),
            "net input exact",
        )
        out = (net >= theta).astype(np.float64)
        before = [Fraction(v) for v in w.ravel()]
        if depth2:  # the hidden rule, with the errors of a following layer
            d_next = _dyadic(rng, 3, 4, -4, 4)
            d, f = nudge_hidden(w, net, out, d_next, theta, lr)
        else:
            target = rng.integers(0, 2, units).astype(np.float64)
            d, f = nudge_update(w, net, out, target, theta, lr)
        for j in range(units):
            fj = 1 - Fraction(lr) * Fraction(d[j])
            check(Fraction(f[j]) == fj, "factor exact")
            check(
                all(Fraction(w[j, i]) == fj * before[j * (dim + 1) + i] for i in range(dim + 1)),
                "w' = c w exact",
            )
            C[j] *= fj
    grid = np.stack(np.meshgrid(*[np.arange(-3, 4)] * dim, indexing="ij"), -1).reshape(-1, dim)
    for j in range(units):
        check(all(Fraction(w[j, i]) == C[j] * Fraction(w0[j, i]) for i in range(dim + 1)), "w_k = C_k w_0")
        check(w[j, -1] == 0.0, "bias stays 0")
        for x in grid:
            a = sum(Fraction(w[j, i]) * int(x[i]) for i in range(dim))
            a0 = sum(Fraction(w0[j, i]) * int(x[i]) for i in range(dim))
            th = Fraction(theta)
            fires = a >= th
            if C[j] > 0:
                want = a0 >= th / C[j]
            elif C[j] < 0:
                want = a0 <= th / C[j]
            else:
                want = 0 >= th
            check(fires == want, f"decision of x = {x.tolist()} through theta / C = {th}/{C[j]}")
    return len(grid) * units, {(c > 0) - (c < 0) for c in C}


def numeric(include_slow: bool = False) -> str:
    from boolgrad.study.seeds.seed000 import nudge_hidden, nudge_update

    tally = Tally()
    rng = np.random.default_rng(2026)
    thetas = (0.5, 0.25, -0.5, 1.0, 0.0)
    seen: set = set()  # signs of C_k met: the shifted and the flipped case both occur
    for case in range(60 if include_slow else 16):
        theta = thetas[case % len(thetas)]
        lr = (0.0625, 0.125, 0.5, 1.0)[case % 4]  # 0.5, 1.0: factors below 0 and exactly 0 happen
        dim = 1 + case % 3
        pts, signs = _exact_case(rng, dim, units=3, theta=theta, lr=lr, steps=3, depth2=case % 2 == 1)
        seen |= signs
        tally.add("float64 exact dyadic", thresholds=1, patterns=pts, cases=1)
    # c = 0 exactly (lr d = 1): the row vanishes, the unit fires iff 0 >= theta, for every input
    w = np.array([[1.0, 0.5, 0.0]])
    net = w @ np.ones(3)
    _, f = nudge_update(w, net, (net >= 0.5).astype(np.float64), np.zeros(1), 0.5, 1.0)
    check(f[0] == 0.0 and not w.any() and not ((w @ np.ones(3)) >= 0.5).any(), "c = 0: w' = 0, never fires")
    check({-1, 1} <= seen, f"random runs cover C_k > 0 and C_k < 0 ({sorted(seen)})")
    with np.errstate(over="ignore"):
        for case in range(40 if include_slow else 10):
            dim, units = 2 + case % 7, 4
            w = np.zeros((units, dim + 1))
            w[:, :dim] = rng.normal(0, 1 / np.sqrt(dim), (units, dim))
            w0 = w.copy()
            for _ in range(100):
                x = np.append(rng.normal(size=dim), 1.0)
                net = w @ x
                out = (net >= 0.5).astype(np.float64)
                if case % 2:
                    nudge_hidden(w, net, out, rng.normal(size=3), 0.5, 0.02)
                else:
                    nudge_update(w, net, out, rng.integers(0, 2, units).astype(np.float64), 0.5, 0.02)
            check(bool(np.isfinite(w).all()), "finite")
            cos = np.abs(np.sum(w * w0, 1)) / (np.linalg.norm(w, axis=1) * np.linalg.norm(w0, axis=1))
            check(bool(np.all(np.abs(cos - 1) < 1e-12)), f"|cos| = 1 to rounding ({cos})")
            check(bool(np.all(w[:, -1] == 0)), "bias exactly 0")
            tally.add("float64 gaussian", cases=100)
    return tally.text("nudge_update / nudge_hidden runs: w_k = C_k w_0, grid decisions via theta/C_k, bias 0")
