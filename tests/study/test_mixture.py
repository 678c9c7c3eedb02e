"""The reset-aware crossing theory (``crossings.mixture_moments``): brute force over phases, the
recorder's reset flags and pinned samples, the simulation's mixture comparison and its counts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from boolgrad import closed_form_table
from boolgrad.study.crossings import (
    BooleanGrad,
    SurrogateGrad,
    crossing_moments,
    crossing_moments_for,
    mixture_moments,
)
from boolgrad.study.kinds import get_kind
from boolgrad.study.reference import compare, theory_expected
from boolgrad.study.report import counts_line, simulation_counts, summary_markdown
from boolgrad.study.simulate import CrossingRecorder, input_gain, kind_gradient, lif_trajectory, simulate

THETA = 0.3


# -- brute force: one neuron, constant drive, every phase -------------------------------------------------
def _brute(h, theta, d, phases, probs, steps):
    """Integrate-and-fire without leak (``u[t] = u[t-1] (1 - s[t-1]) + d``), hard reset, from the
    initial potential ``u[-1] = theta - d + x`` for each phase ``x`` (probability ``probs``), run
    ``steps`` steps; crossings as the recorder defines them (``u[t-1] < theta <= u[t]``).  Returns
    the average of ``h`` and ``h**2`` at the sample below over each trajectory's crossings, weighted
    by ``probs``; the crossings per trajectory; and how many of them start from a reset (the sample
    below follows a spike)."""
    prev = theta - d + np.asarray(phases, dtype=np.float64)
    s = np.zeros_like(prev)
    prev_after_spike = np.zeros(prev.shape, bool)
    s1, s2 = np.zeros_like(prev), np.zeros_like(prev)
    n, n_reset = np.zeros(prev.shape, int), np.zeros(prev.shape, int)
    for _ in range(steps):
        u = prev * (1.0 - s) + d
        cross = (prev < theta) & (theta <= u)
        hb = np.where(cross, np.asarray(h(prev), dtype=np.float64), 0.0)
        s1, s2, n = s1 + hb, s2 + hb * hb, n + cross
        n_reset += cross & prev_after_spike
        prev_after_spike = s == 1.0
        prev, s = u, (u >= theta).astype(np.float64)
    assert (n == n[0]).all() and (n_reset == n_reset[0]).all()  # every phase: the same crossing pattern
    p = np.asarray(probs, dtype=np.float64)
    return math.fsum(p * s1 / n), math.fsum(p * s2 / n), int(n[0]), int(n_reset[0])


def _fixed_point_case():
    """``fixed16.4`` at theta 0.3125 (on its grid), h read with ``u`` rounded down: a step function
    with breakpoints on multiples of 1/16; a drive and a midpoint phase grid aligned with them make
    the phase average the exact integral (no quadrature error)."""
    table = closed_form_table("fixed16.4", 0.3125)
    assert table.meta.theta_used == 0.3125
    return BooleanGrad(table, "unit_peak")


@pytest.mark.parametrize("d", [3 / 16, 4 / 16, 9 / 32])
@pytest.mark.parametrize("case", ["boolean_fixed16.4", "arctan", "rectangle"])
def test_mixture_equals_brute_force_over_phases(case, d):
    """d in [theta/2, theta): the first crossing (from the initial potential) has a uniform phase on
    [theta - d, theta), every later one starts from a reset with the pinned sample below ``d``."""
    if case.startswith("boolean"):
        grad = _fixed_point_case()
        theta = grad.theta
        # the breakpoints k/16 lie a multiple of 1/32 into the window [theta - d, theta): with n a multiple
        # of 9, 3 and 4, 1/32 is a multiple of d/n for each d here, so no cell of width d/n straddles one
        n = 2880
        phases = (np.arange(n) + 0.5) * d / n  # midpoints of cells that the breakpoints never cut
        probs = np.full(n, 1.0 / n)
    else:
        grad = SurrogateGrad(case, THETA)
        theta = THETA
        nodes, weights = np.polynomial.legendre.leggauss(60)  # smooth h: Gauss-Legendre phases
        phases, probs = (nodes + 1) * d / 2, weights / 2
        if case == "rectangle":  # h = 1 on the whole window (d < 0.5)
            assert d < 0.5
    assert theta / 2 <= d < theta
    steps = 9
    m1, m2, n_cross, n_reset = _brute(grad.values, theta, d, phases, probs, steps)
    assert n_cross == 5 and n_reset == 4  # t = 0 (uniform phase), then every other step from a reset
    mix = mixture_moments(grad, np.full(1, d), np.full(n_reset, d))
    assert mix.mean == pytest.approx(m1, rel=1e-13, abs=1e-15)
    assert mix.second_moment == pytest.approx(m2, rel=1e-13, abs=1e-15)
    # the pinned part is what the uniform phase gets wrong
    uni = crossing_moments(grad, d)
    h_d = float(grad.values(np.array([d]))[0])
    assert mix.mean == pytest.approx((uni.mean + n_reset * h_d) / n_cross, rel=1e-14, abs=1e-16)


def test_mixture_moments_limits_and_errors():
    grad = BooleanGrad(closed_form_table("float16", THETA), "clamp", 100.0)
    du = np.array([0.01, 0.02, 0.3, 0.3])
    assert mixture_moments(grad, du) == crossing_moments_for(grad, du)
    v = np.array([0.2, 0.25, 0.2999])
    only = mixture_moments(grad, (), v)
    h = grad.values(v)
    assert only.mean == pytest.approx(h.mean(), rel=1e-15) and only.second_moment == pytest.approx((h * h).mean())
    both = mixture_moments(grad, du, v, side="above")
    a = crossing_moments_for(grad, du, side="above")
    assert both.mean == pytest.approx((4 * a.mean + h.sum()) / 7, rel=1e-14)
    # the kind's own point gradient where the values come from a simulation
    k = get_kind("boolean_fixed16")
    own = mixture_moments(k.crossing_grad(THETA), (), v, values=lambda u: k.gradient(u, THETA))
    assert own.mean == pytest.approx(k.gradient(v, THETA).mean(), rel=1e-15)
    with pytest.raises(ValueError):
        mixture_moments(grad, (), ())
    with pytest.raises(ValueError):
        mixture_moments(grad, [0.1, -0.1], v)
    with pytest.raises(ValueError):
        mixture_moments(grad, du, [np.nan])
    with pytest.raises(ValueError):
        mixture_moments(grad, du, v, side="left")


def test_boolean_values_are_the_integrated_step_function():
    grad = _fixed_point_case()
    u = np.array([0.25, 0.26, 0.3124, 0.3125, 0.33])
    # (1/dU) int over one constant cell = the value there
    for x in u:
        lo = math.floor(x * 16) / 16
        assert grad.integral(lo, lo + 1 / 16, 1) * 16 == pytest.approx(float(grad.values(np.array([x]))[0]))


# -- the recorder: which crossings start from a reset, and their pinned samples ---------------------------
@pytest.mark.parametrize("scheme, a", [("exact", 2.0), ("exact", 0.5), ("authors", 1.0)])
def test_recorder_flags_and_pinned_samples(scheme, a):
    current = np.random.default_rng(3).uniform(0.0, 1.5, 400)
    steps = 16
    us, s = lif_trajectory(current, a, steps, scheme=scheme, theta=THETA)
    rec = CrossingRecorder(THETA)
    rec.update(us)
    below, above, reset = rec._picks()
    drive = input_gain(a, scheme) * current
    exp_b, exp_a, exp_r = [], [], []
    for t in range(steps):  # crossings in (time, neuron) order, as the recorder's masks
        for j in range(current.size):
            prev = us[t - 1, j] if t else 0.0
            if prev < THETA <= us[t, j]:
                pinned = t <= 1 or bool(s[t - 2, j])
                exp_b.append(prev)
                exp_a.append(us[t, j])
                exp_r.append(pinned)
                if pinned:  # the sample below is the rest value or the drive, bit for bit
                    assert prev == (0.0 if t == 0 else drive[j])
                    assert us[t, j] == (drive[j] if t == 0 else drive[j] * math.exp(-a) + drive[j])
    assert np.array_equal(below, exp_b) and np.array_equal(above, exp_a) and np.array_equal(reset, exp_r)
    assert reset.any() and rec.n_from_reset == int(reset.sum())


def test_subsampling_keeps_the_flags_with_their_crossings():
    current = np.random.default_rng(4).uniform(0.2, 1.5, 3000)
    us, _ = lif_trajectory(current, 1.0, 8, theta=THETA)
    full = CrossingRecorder(THETA)
    full.update(us)
    small = CrossingRecorder(THETA, max_samples=500, seed=2)
    small.update(us)
    b, a, r = full._picks()
    bs, as_, rs = small._picks()
    assert bs.size == 500 and b.size > 500
    key = {(x, y): z for x, y, z in zip(b.tolist(), a.tolist(), r.tolist())}
    assert all(key[(x, y)] == z for x, y, z in zip(bs.tolist(), as_.tolist(), rs.tolist()))


# -- the comparison ----------------------------------------------------------------------------------------
def test_compare_with_exact_crossings():
    du = np.array([0.1, 0.2, 0.3, 0.4])
    g = np.array([1.0, 2.0, 3.0, 4.0])
    mask = np.array([True, False, True, False])

    def expected(d):
        return 10 * d

    r = compare(du, g, expected, exact=(mask, np.array([1.0, 3.0])))
    assert r["n_exact"] == 2 and r["mean_theory"] == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert r["ratio"] == pytest.approx(1.0) and r["agree"]
    assert r["mean_sim_uniform"] == 3.0 and r["mean_theory_uniform"] == pytest.approx(3.0)
    allr = compare(du, g, expected, exact=(np.ones(4, bool), g))
    assert allr["ratio"] == 1.0 and allr["ratio_uniform"] is None
    assert compare(du, g, expected, exact=(np.zeros(4, bool), np.array([])))["mean_theory"] == pytest.approx(
        compare(du, g, expected)["mean_theory"])
    with pytest.raises(ValueError):
        compare(du, g, expected, exact=(mask, np.array([1.0])))
    with pytest.raises(ValueError):
        compare(du, g, expected, exact=(mask[:3], np.array([1.0, 3.0])))


@pytest.fixture(scope="module")
def coarse():
    """Yin-Yang inputs, random weights, dt = 2 tau: almost every crossing starts from a reset."""
    from boolgrad.study.data import load_dataset
    from boolgrad.study.simulate import xavier_uniform

    d = load_dataset("yinyang")
    w = xavier_uniform(d.n_features, 64, 0)
    kinds = ("boolean_fixed16", "boolean_matched", "fast_sigmoid", "arctan")
    return d.x_train[:512], w, simulate(d.x_train[:512], w, 2.0, kinds=kinds)


def test_mixture_agrees_where_the_uniform_phase_does_not(coarse):
    _, _, r = coarse
    assert r["frac_from_reset"] > 0.9
    for name in ("boolean_fixed16", "fast_sigmoid", "arctan", "boolean_matched"):
        row = r["kinds"][name]
        assert not row["theory_below"]["agree"], (name, row["theory_below"])
        for side in ("below", "above"):
            m = row[f"mixture_{side}"]
            assert m["agree"] and abs(m["ratio"] - 1) < 0.05, (name, side, m)
            assert m["n"] == row[f"theory_{side}"]["n"] and 0 < m["n_exact"] < m["n"]
        # the exact integrals and the independent midpoint reference
        assert abs(row["reference_below"]["ratio"] - 1) < 0.01, (name, row["reference_below"])


def test_simulated_mixture_is_the_mixture_of_its_crossings(coarse):
    """The row's mixture is ``mean_k`` of the pinned gradient (crossings from a reset) or the
    uniform-phase theory; with the exact integrals (``mixture_moments``) it agrees to the log
    grid's interpolation; the matched kind's crossings are at its own firing threshold."""
    x, w, r = coarse
    theta = THETA
    du_med = r["du_quantiles"][2]
    for name in ("boolean_fixed16", "boolean_matched", "fast_sigmoid"):
        k = get_kind(name).resolve(du_med)
        t = k.firing_threshold(theta)
        rec = CrossingRecorder(theta, seed=0, threshold=t)
        rec.update(lif_trajectory(x @ w, 2.0, 4, theta=t)[0])
        b, a, m = rec._picks()
        g = kind_gradient(k, b, theta)
        row = r["kinds"][name]
        assert row["format"] == k.format and row.get("firing_threshold", theta) == t
        assert row["mean_grad_below"] == pytest.approx(g.mean(), rel=1e-15)
        e = theory_expected(k, theta)(a - b)
        want = (g[m].sum() + e[~m].sum()) / b.size
        assert row["mixture_below"]["mean_theory"] == pytest.approx(want, rel=1e-12)
        exact = mixture_moments(k.crossing_grad(theta), (a - b)[~m], b[m],
                                values=lambda u, k=k: k.gradient(u, theta))
        assert exact.mean == pytest.approx(want, rel=0.02)


def test_counts_and_summary(coarse):
    _, _, r = coarse
    r = dict(r, dataset="yinyang")
    c = simulation_counts([r])
    assert c["pairs"] == c["mixture_pairs"] == c["mixture"] == c["reference_pairs"] == c["reference"] == 4
    assert c["uniform"] == 0
    line = counts_line(c)
    assert "reset-aware mixture 4 of 4" in line and "uniform phase at every crossing 0 of 4" in line
    md = summary_markdown([], [r])
    assert line in md and "| mixture | ratio | non-reset ratio |" in md
    # a record from before the mixture (schema 3): counted under the uniform phase only
    old = dict(r, kinds={k: {kk: vv for kk, vv in v.items() if kk.startswith(("theory", "mean", "format"))}
                         for k, v in r["kinds"].items()})
    c_old = simulation_counts([old])
    assert c_old["pairs"] == 4 and c_old["mixture_pairs"] == 0 and "not in these records" in counts_line(c_old)
    assert "| yinyang |" in summary_markdown([], [old])


def test_simulate_command_prints_both_theories_and_the_counts(tmp_path, capsys):
    from boolgrad.cli import main

    out = tmp_path / "o"
    out.mkdir()
    argv = ["study", "simulate", "--out", str(out), "--datasets", "yinyang", "--dt", "2", "--scheme", "exact",
            "--kinds", "boolean_fixed16", "arctan"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "uniform" in text and "| mixture" in text
    assert "reset-aware mixture 2 of 2 (simulation, kind) pairs; uniform phase at every crossing 0 of 2" in text
    summary = (out / "summary.md").read_text()
    assert "reset-aware mixture 2 of 2" in summary
    (rec,) = [json.loads(p.read_text()) for p in (out / "sim").glob("*.json")]
    assert rec["identity"]["schema"] == 4 and "mixture_below" in rec["kinds"]["arctan"]


def test_spike_train_input_pins_the_sample_to_the_previous_drive():
    """Per-step impulses (``lif_driven``): the sample below a crossing from a reset is the drive
    of the step before, bit for bit."""
    from boolgrad.study.simulate import lif_driven

    rng = np.random.default_rng(5)
    drive = rng.poisson(0.8, (24, 300)) * rng.uniform(0.0, 0.3, 300)
    us, s = lif_driven(drive, 1.0, theta=THETA)
    rec = CrossingRecorder(THETA)
    rec.update(us)
    below, _, reset = rec._picks()
    t_idx, j_idx = np.nonzero((np.concatenate([np.zeros((1, 300)), us[:-1]]) < THETA) & (us >= THETA))
    assert below.size == t_idx.size and reset.any() and not reset.all()
    for t, j, b, r in zip(t_idx, j_idx, below, reset):
        assert r == (t <= 1 or bool(s[t - 2, j]))
        if r:
            assert b == (0.0 if t == 0 else drive[t - 1, j])
