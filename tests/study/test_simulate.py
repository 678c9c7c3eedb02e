"""Simulation statistics against analytic values, and the crossing reference."""

import math

import numpy as np
import pytest

from boolgrad.study.kinds import get_kind
from boolgrad.study.reference import compare, expected_mean
from boolgrad.study.simulate import CrossingRecorder, lif_trajectory, simulate, steps_for, xavier_uniform


@pytest.mark.parametrize("a", [2.0, 1.0, 0.25, 1 / 16])
def test_exact_scheme_converges_to_the_analytic_potential(a):
    current = np.array([0.1, 0.2, 0.29])  # below theta: never fires
    T = steps_for(a)
    us, s = lif_trajectory(current, a, T, scheme="exact")
    assert not s.any()
    t = np.arange(1, T + 1)[:, None]
    np.testing.assert_allclose(us, current * (1 - np.exp(-a * t)), rtol=1e-12)
    # same simulated time (8 tau) at every dt: the same potential at the end
    np.testing.assert_allclose(us[-1], current * (1 - math.exp(-8.0)), rtol=1e-12)


def test_authors_scheme_steady_state_depends_on_dt():
    us, _ = lif_trajectory(np.array([0.01]), 0.25, 400, scheme="authors")
    assert us[-1, 0] == pytest.approx(0.01 / (1 - math.exp(-0.25)), rel=1e-9)


@pytest.mark.parametrize("a", [1.0, 0.25, 1 / 16])
def test_crossing_increment_matches_the_analytic_one(a):
    current = np.array([0.35, 0.5, 1.0])
    T = steps_for(a)
    us, _ = lif_trajectory(current, a, T, scheme="exact")
    rec = CrossingRecorder(0.3)
    rec.update(us)
    # first crossing from rest: smallest k with I (1 - e^{-a (k+1)}) >= theta
    for j, current_j in enumerate(current):
        k = math.ceil(-math.log(1 - 0.3 / current_j) / a) - 1
        du = current_j * math.exp(-a * k) * (1 - math.exp(-a))
        first = rec.above[0][rec.above[0] >= 0]  # crossings in (time, neuron) order
        cross_t, cross_n = np.nonzero((np.concatenate([[[0] * 3], us[:-1]]) < 0.3) & (us >= 0.3))
        t0 = cross_t[cross_n == j][0]
        assert t0 == k
        assert us[t0, j] - (us[t0 - 1, j] if t0 else 0.0) == pytest.approx(du, rel=1e-12)
        assert first.size == len(cross_t)


def test_reference_matches_closed_forms():
    rect = expected_mean(get_kind("rectangle"), 0.3)
    du = np.array([0.01, 0.25, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(rect(du), np.minimum(du, 0.5) / du, rtol=1e-4)
    atan = expected_mean(get_kind("arctan"), 0.3)
    exact = np.arctan(math.pi * du) / math.pi / du  # (1/dU) int_0^dU 1/(1+(pi x)^2)
    np.testing.assert_allclose(atan(du), exact, rtol=1e-6)
    # fixed16.4 (theta used 5/16): u rounds to the nearest 1/16, so on [0.3 - 1/16, 0.3) g is
    # g(0.25) on [0.2375, 0.28125) and g(0.3125) on [0.28125, 0.3)
    k = get_kind("boolean_matched").resolve(1 / 16)
    g25, g3125 = k.gradient(np.array([0.25, 0.3125]), 0.3)
    exact = (g25 * (0.28125 - 0.2375) + g3125 * (0.3 - 0.28125)) * 16
    assert expected_mean(k, 0.3)(1 / 16) == pytest.approx(exact, rel=1e-4)


def test_uniform_phase_matches_theory():
    rng = np.random.default_rng(0)
    du = rng.uniform(0.01, 0.2, 50_000)
    below = 0.3 - rng.random(du.size) * du
    for name in ("boolean_secant_clamp", "boolean_fixed16", "fast_sigmoid", "arctan"):
        k = get_kind(name)
        res = compare(du, k.gradient(below, 0.3), expected_mean(k, 0.3))
        assert res["agree"] and abs(res["ratio"] - 1) < 0.03, (name, res)
    # a biased phase (always just below theta) does not agree for the peaked fixed16 gradient
    k = get_kind("boolean_fixed16")
    res = compare(du, k.gradient(np.full(du.size, 0.3 - 1e-4), 0.3), expected_mean(k, 0.3))
    assert not res["agree"]


def test_simulate_fine_dt_agrees_with_theory():
    rng = np.random.default_rng(1)
    x = rng.random((256, 4))
    W = xavier_uniform(4, 64, seed=0, gain=3.0)
    r = simulate(x, W, 1 / 16, kinds=("boolean_fixed16", "arctan", "boolean_matched"))
    assert r["steps"] == 128 and r["n_crossings"] > 1000
    assert r["frac_from_reset"] == 0.0
    assert sum(r["hist_all"]) == r["n_steps"] == 128 * 256 * 64
    for name, row in r["kinds"].items():
        assert row["theory_below"]["agree"], (name, row["theory_below"])
    assert r["kinds"]["boolean_matched"]["format"].startswith("fixed16.")
