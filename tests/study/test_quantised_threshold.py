"""Quantised forwards: theory, midpoint reference and simulation share the firing threshold."""

from __future__ import annotations

import numpy as np
import pytest

from boolgrad.study.crossings import crossing_moments
from boolgrad.study.kinds import KINDS, get_kind
from boolgrad.study.reference import expected_mean
from boolgrad.study.simulate import simulate, xavier_uniform


def test_fixed16_3_theory_reference_and_simulation_agree():
    k = get_kind("boolean_matched").resolve(0.1)  # F = round(3.32) = 3
    assert k.format == "fixed16.3" and k.forward_threshold(0.3) == 0.25
    t = k.firing_threshold(0.3)
    assert t == 0.1875  # rounds (to nearest) onto 0.25: half an LSB below
    theory = crossing_moments(k.crossing_grad(0.3), 0.1).mean
    assert theory == pytest.approx(1.0)
    # the 2x disagreement: the reference at the nominal 0.3 (u in [0.2, 0.3) reads g(0.25))
    assert expected_mean(k, 0.3)(0.1) == pytest.approx(0.5, rel=1e-3)
    # fixed: at the firing threshold the reference reads g(0.125), the peak, as the theory does
    assert expected_mean(k, 0.3, threshold=t)(0.1) == pytest.approx(theory, rel=1e-4)
    for side in ("below", "above"):
        du = np.array([0.01, 0.05, 0.1, 0.3, 0.7])
        th = crossing_moments(k.crossing_grad(0.3), du, side=side).mean
        np.testing.assert_allclose(expected_mean(k, 0.3, side=side, threshold=t)(du), th, rtol=1e-4)


def test_simulation_records_quantised_kinds_at_their_threshold():
    rng = np.random.default_rng(1)
    x = rng.random((128, 4))
    W = xavier_uniform(4, 32, seed=0, gain=3.0)
    r = simulate(x, W, 1 / 16, kinds=("boolean_fixed16", "arctan", get_kind("boolean_matched").resolve(0.1)))
    row = r["kinds"]["boolean_matched"]
    assert row["format"] == "fixed16.3" and row["firing_threshold"] == 0.1875
    for side in ("below", "above"):  # fine dt: uniform phase, the theory holds (ratio 1 here)
        assert abs(row[f"theory_{side}"]["ratio"] - 1) < 0.02, row
    assert "firing_threshold" not in r["kinds"]["arctan"]


@pytest.mark.parametrize("name,du", [(n, du) for n, s in KINDS.items() for du in ((0.05, 0.45) if s.matched else (None,))])
def test_theory_and_midpoint_reference_agree_within_one_percent_for_every_kind(name, du):
    """Issue 19's bar for the two integrators: every kind of the study (the matched ones resolved
    at a fine and a coarse dU), both sides of theta, windows 0.02 to 0.9, each kind's window at its
    firing threshold; the midpoint reference on 2**18 cells of 2**-17."""
    k = get_kind(name).resolve(du) if du else get_kind(name)
    dus = np.array([0.02, 0.05, 0.13, 0.3, 0.45, 0.9])
    for side in ("below", "above"):
        exact = crossing_moments(k.crossing_grad(0.3), dus, side=side).mean
        mid = expected_mean(k, 0.3, side=side, threshold=k.firing_threshold(0.3))(dus)
        some = exact > 0
        np.testing.assert_allclose(mid[some], exact[some], rtol=1e-2, atol=0, err_msg=side)
        assert np.all(mid[~some] < 1e-3), (side, mid[~some])  # no g there: at most a cell's sliver
    if name == "rectangle_matched":
        assert not exact.any()  # g lies below theta only (its "top" support): nothing above
