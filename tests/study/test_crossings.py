"""boolgrad.study.crossings: exact crossing moments vs Monte Carlo of the samples themselves,
the numpy surrogate forms vs the torch zoo and sympy, the CLI's JSON and its errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from boolgrad import closed_form_table
from boolgrad.cli import main
from boolgrad.integrals import step_gradient
from boolgrad.rules import surrogates as sf
from boolgrad.study.crossings import BooleanGrad, SurrogateGrad, crossing_moments, crossing_moments_for

NAMES = sf.CANONICAL_NAMES


def _mc(h, du, side, n=200_000, seed=0):
    """Moments of h at the sample below (theta - x) or above (theta - x + du), x ~ U(0, du)."""
    x = np.random.default_rng(seed).uniform(0.0, du, n)
    g = h(-x if side == "below" else du - x)  # offsets from theta
    return g.mean(), (g * g).mean(), g.std() / math.sqrt(n), (g * g).std() / math.sqrt(n)


def _close(exact, mc):
    m, s, se_m, se_s = mc
    assert abs(exact.mean - m) <= 4 * se_m + 1e-12, (exact.mean, m, se_m)
    assert abs(exact.second_moment - s) <= 4 * se_s + 1e-12, (exact.second_moment, s, se_s)


def test_cli_float32_clamp_json_matches_monte_carlo(capsys):
    args = [
        "study",
        "crossings",
        "float32",
        "--threshold",
        "0.3",
        "--scale",
        "clamp",
        "--grad-max",
        "500",
        "--du",
        "0.01",
        "0.1",
        "1",
        "--surrogate",
        "arctan",
        "sigmoid",
        "triangle",
        "exponential",
        "--json",
    ]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {tuple(sorted(r)) for r in rows} == {("cv", "du", "kind", "mean", "second_moment", "side")}
    assert len(rows) == 5 * 3 * 2
    table = closed_form_table("float32", 0.3)
    theta = table.meta.theta_used
    for seed, r in enumerate(rows):
        if r["kind"].startswith("boolean"):

            def h(off):
                return np.minimum(step_gradient(table, theta + off), 500.0) / 500.0
        else:
            name = r["kind"].split(":")[1]

            def h(off, name=name):
                return sf.grad(name, off)

        m = (
            crossing_moments(BooleanGrad(table, "clamp", 500.0), r["du"], side=r["side"])
            if r["kind"].startswith("boolean")
            else None
        )
        if m is not None:
            assert (m.mean, m.second_moment) == (r["mean"], r["second_moment"])
        exact = type("E", (), dict(mean=r["mean"], second_moment=r["second_moment"]))
        _close(exact, _mc(h, r["du"], r["side"], seed=seed))
        assert r["cv"] == pytest.approx(math.sqrt(r["second_moment"] - r["mean"] ** 2) / r["mean"], rel=1e-9)


@pytest.mark.parametrize(
    "fmt, conv", [("bfloat16", "secant"), ("float16", "paper"), ("fixed16.10", "secant")]
)
@pytest.mark.parametrize("scale", ["none", "unit_area", "unit_peak", "clamp"])
def test_boolean_scalings_match_monte_carlo(fmt, conv, scale):
    table = closed_form_table(fmt, 0.3, convention=conv)
    grad = BooleanGrad(table, scale, 50.0 if scale == "clamp" else None)
    theta, d = table.meta.theta_used, grad.divisor
    assert d == {"none": 1.0, "clamp": 50.0, "unit_area": table.area(), "unit_peak": table.peak()[0]}[scale]

    def h(off):
        g = step_gradient(table, theta + off)
        return np.minimum(g, 50.0) / 50.0 if scale == "clamp" else g / d

    for side in ("below", "above"):
        for du in (0.003, 0.07, 0.9):
            _close(crossing_moments(grad, du, side=side), _mc(h, du, side, n=100_000))


@pytest.mark.parametrize("name", NAMES)
def test_surrogate_moments_match_monte_carlo_and_are_symmetric(name):
    grad = SurrogateGrad(name, 0.3)
    du = np.array([1e-4, 0.02, 0.4, 3.0])
    below, above = crossing_moments(grad, du), crossing_moments(grad, du, side="above")
    assert np.allclose(below.mean, above.mean, rtol=1e-14) and np.allclose(below.cv, above.cv, equal_nan=True)
    for k, d in enumerate(du):
        e = type("E", (), dict(mean=below.mean[k], second_moment=below.second_moment[k]))
        _close(e, _mc(lambda off: sf.grad(name, off), d, "below", n=100_000, seed=k))
    # dU -> 0: the crossing sees g(0) exactly
    tiny = crossing_moments(grad, 1e-9)
    g0 = float(sf.grad(name, 0.0))
    assert tiny.mean == pytest.approx(g0, rel=1e-7) and tiny.second_moment == pytest.approx(g0 * g0, rel=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_surrogate_forms_agree_with_the_torch_zoo(name):
    torch = pytest.importorskip("torch")
    from boolgrad.torch.surrogates import PRIMITIVES, SURROGATE_GRADS

    x = np.linspace(-3, 3, 2001)
    t = torch.tensor(x, dtype=torch.float64)
    assert np.allclose(sf.grad(name, x), SURROGATE_GRADS[name](t).numpy(), rtol=1e-13, atol=1e-15)
    assert np.allclose(sf.primitive(name, x), PRIMITIVES[name](t).numpy(), rtol=1e-13, atol=1e-15)
    assert np.allclose(
        sf.p1(name, x), sf.primitive(name, x) - sf.primitive(name, 0.0), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", NAMES)
def test_p2_is_the_integral_of_g_squared(name):
    """Gauss-Legendre on the smooth pieces (kinks at 0 and +-width) vs the closed form."""
    nodes, weights = np.polynomial.legendre.leggauss(80)
    kinks = {"rectangle": 0.5, "triangle": 1.0}.get(name)
    for x in (0.01, 0.3, 0.75, 2.5):
        pieces = [(0.0, x)] if kinks is None or x <= kinks else [(0.0, kinks), (kinks, x)]
        q = 0.0
        for a, b in pieces:
            u = (b - a) / 2 * nodes + (a + b) / 2
            q += (b - a) / 2 * float(np.sum(weights * sf.grad(name, u) ** 2))
        assert float(sf.p2(name, x)) == pytest.approx(q, rel=1e-12)
        assert float(sf.p2(name, -x)) == -float(sf.p2(name, x))


def test_surrogate_forms_differentiate_symbolically():
    pytest.importorskip("sympy")
    import importlib
    import sys
    from pathlib import Path

    try:
        proof = importlib.import_module("boolgrad.proofs.crossing_moments")
    except ImportError:  # an editable install pointing at another checkout: use this one's proofs/
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        proof = importlib.import_module("proofs.crossing_moments")

    assert "primitives" in proof.symbolic_surrogates()


def test_crossing_moments_for_is_the_mixture():
    table = closed_form_table("float16", 0.3)
    grad = BooleanGrad(table, "clamp", 100.0)
    rng = np.random.default_rng(5)
    s = np.round(rng.uniform(0.001, 0.6, 40), 3)
    mix = crossing_moments_for(grad, s)
    each = crossing_moments(grad, s)
    assert mix.mean == pytest.approx(np.mean(each.mean), rel=1e-12)
    assert mix.second_moment == pytest.approx(np.mean(each.second_moment), rel=1e-12)
    sg = SurrogateGrad("arctan", 0.3)
    assert crossing_moments_for(sg, s, side="above").mean == pytest.approx(
        np.mean(crossing_moments(sg, s).mean)
    )


def test_bad_inputs():
    table = closed_form_table("float16", 0.3)
    with pytest.raises(ValueError):
        BooleanGrad(table, "clamp")
    with pytest.raises(ValueError):
        BooleanGrad(table, "bogus")
    with pytest.raises(ValueError):
        crossing_moments(BooleanGrad(table), [0.1, -1.0])
    with pytest.raises(ValueError):
        crossing_moments(BooleanGrad(table), 0.1, side="left")
    with pytest.raises(ValueError):
        SurrogateGrad("nope")
    with pytest.raises(ValueError):
        SurrogateGrad("arctan", params={"alpha": -1})


@pytest.mark.parametrize(
    "argv",
    [
        ["float99", "-t", "0.3", "--du", "1"],
        ["float32", "-t", "nan", "--du", "1"],
        ["float32", "-t", "0.3", "--du", "0"],
        ["float32", "-t", "0.3", "--du", "1", "--surrogate", "foo"],
        ["float32", "-t", "0.3", "--du", "1", "--scale", "weird"],
    ],
)
def test_cli_errors_exit_2_with_one_line(argv, capsys):
    assert main(["study", "crossings", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("boolgrad: error:") and "Traceback" not in err


def test_cli_table_output(capsys):
    assert (
        main(["study", "crossings", "bfloat16", "-t", "0.3", "--du", "0.1", "1", "--surrogate", "gaussian"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["kind", "dU", "side"] and len(out) == 1 + 2 * 2 * 2
