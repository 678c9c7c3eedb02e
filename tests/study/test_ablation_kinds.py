"""The ablation kinds (issue "Why it loses"): the secant kind's peak and tails, the fair fix and
its controls -- exact against their parents, in numpy, torch (both engines) and the theory."""

import dataclasses
import math

import numpy as np
import pytest

import boolgrad
from boolgrad.rules.windows import keep_runs, restrict, run_peaks, saturation_window, table_part
from boolgrad.study.kinds import FAIR_F, KINDS, get_kind, matched_fraction_bits
from boolgrad.study.overshoot import RunConfig

THETA = 0.3
NEW = ("boolean_secant_peak", "boolean_secant_tails", "boolean_matched_fair", "boolean_fixed16_fair",
       "rectangle_matched", "rectangle_matched_centred")


def _rank_bounds(table, keep):
    """Per pattern rank: kept or not (the runs' rank intervals)."""
    last = table.first_rank + table.counts - np.uint64(1)
    return [(int(a), int(b)) for a, b, k in zip(table.first_rank, last, keep) if k]


# -- the parts, on every pattern of small formats ---------------------------------------------------
@pytest.mark.parametrize("fmt,grad_max,options", [
    ("float16", 500.0, {}),
    ("float16", 500.0, {"comparator": "gt"}),
    ("fixed8.5", 10.0, {}),
    ("fixed8.5", 5.0, {"exact_threshold": True}),
])
def test_parts_equal_the_parent_inside_and_zero_outside_on_every_pattern(fmt, grad_max, options):
    parent = boolgrad.closed_form_table(fmt, THETA, **options)
    f = parent.fmt
    b = np.arange(1 << f.bits, dtype=np.uint64).astype(f.dtype)  # every pattern, NaN ones included
    g = parent.gradient(b, read_as="patterns")
    rank = f.rank(b).astype(np.int64)
    k0, k1 = saturation_window(parent, grad_max)
    lo, hi = int(parent.first_rank[k0]), int(parent.first_rank[k1] + parent.counts[k1] - np.uint64(1))
    inside = (rank >= lo) & (rank <= hi) & ~f.is_nan(b)
    # the window is the hull of the saturated patterns, and its end runs saturate
    assert inside[g >= grad_max].all() and (g >= grad_max).any()
    for k in (k0, k1):
        in_run = (rank >= int(parent.first_rank[k])) & (rank < int(parent.first_rank[k] + parent.counts[k]))
        assert g[in_run].max() >= grad_max
    assert run_peaks(parent).max() == parent.peak()[0]
    peak, tails = table_part(parent, "peak", grad_max), table_part(parent, "tails", grad_max)
    for t in (peak, tails):
        t.validate()  # maximal runs, every non-NaN pattern covered
        assert t.meta == dataclasses.replace(parent.meta, method=f"{parent.meta.method}+{t.meta.method.split('+')[-1]}")
    gp, gt = peak.gradient(b, read_as="patterns"), tails.gradient(b, read_as="patterns")
    assert np.array_equal(gp[inside], g[inside]) and not gp[~inside].any()
    assert np.array_equal(gt[~inside], g[~inside]) and not gt[inside].any()
    assert np.array_equal(gp + gt, g)  # exact complements (one of the two is 0 everywhere)
    th = int(f.encode(np.asarray([parent.meta.theta_used]))[0])  # theta's (nearest) pattern: in the peak
    assert inside[th]
    gth = parent.gradient(np.asarray([parent.meta.theta_used]))
    assert peak.gradient(np.asarray([parent.meta.theta_used]))[0] == gth[0] > 0
    assert tails.gradient(np.asarray([parent.meta.theta_used]))[0] == 0.0
    # the integrals of the crossing theory see the same g: peak + tails = parent on any window
    for a, c in ((THETA - 0.2, THETA), (THETA - 1 / 64, THETA + 1 / 32), (-1.0, 2.0)):
        assert peak.integral(a, c) + tails.integral(a, c) == pytest.approx(parent.integral(a, c), rel=1e-12)
    # top: the runs at the table's maximum
    top = table_part(parent, "top")
    gt2 = top.gradient(b, read_as="patterns")
    assert gt2.max() == g.max() and np.array_equal(gt2[gt2 != 0], g[gt2 != 0])
    if f.kind == "fixed":  # g constant on a run: kept exactly where g is at its maximum
        assert np.array_equal(gt2 != 0, g == g.max())


def test_restrict_merges_zeroed_neighbours_and_refuses_a_wrong_length():
    parent = boolgrad.closed_form_table("fixed8.5", THETA)
    keep = np.zeros(parent.n_runs, dtype=bool)
    keep[4] = True
    one = restrict(parent, keep)
    one.validate()
    assert one.n_runs == 3 and list(one.mask) == [0, parent.mask[4], 0]
    with pytest.raises(ValueError, match="one flag per run"):
        restrict(parent, keep[:-1])
    with pytest.raises(ValueError, match="never reaches"):
        saturation_window(parent, 1e6)
    with pytest.raises(ValueError, match="part must be"):
        keep_runs(parent, "middle", 10.0)


# -- the float32 kinds: boolean_secant_peak / _tails against boolean_secant_clamp --------------------
def _float32_points(parent):
    """Every run's first and last pattern, their float32 neighbours, theta and a sweep (float64)."""
    ends = np.concatenate([parent.first_value, parent.last_value]).astype(np.float32)
    ends = ends[np.isfinite(ends)]
    with np.errstate(over="ignore"):
        up, down = np.nextafter(ends, np.float32(np.inf)), np.nextafter(ends, np.float32(-np.inf))
    pts = np.concatenate([ends, up, down, np.float32([THETA]), np.linspace(-1, 2, 3001, dtype=np.float32),
                          (THETA + np.linspace(-0.004, 0.004, 4001)).astype(np.float32)])
    return pts[np.isfinite(pts)].astype(np.float64)


def test_secant_peak_and_tails_split_the_secant_kind_exactly():
    parent, peak, tails = (get_kind(n) for n in ("boolean_secant_clamp", "boolean_secant_peak",
                                                 "boolean_secant_tails"))
    pt = parent.table(THETA)
    k0, k1 = saturation_window(pt, 500.0)
    lo, hi = pt.first_value[k0], pt.last_value[k1]
    # the window, stated: u - theta in [-0.0019531, +0.00078122] (float32 patterns)
    assert (lo, hi) == (float(np.float32(0.29804688692092896)), float(np.float32(0.3007812201976776)))
    assert math.isclose(lo - THETA, -0.0019531130790710338) and math.isclose(hi - THETA, 0.0007812201976776234)
    u = _float32_points(pt)
    g, gp, gt = parent.gradient(u, THETA), peak.gradient(u, THETA), tails.gradient(u, THETA)
    inside = (u >= lo) & (u <= hi)
    assert np.array_equal(gp[inside], g[inside]) and not gp[~inside].any()
    assert np.array_equal(gt[~inside], g[~inside]) and not gt[inside].any()
    assert (g[inside] < 1).any() and (g[inside] == 1).mean() > 0.9  # run 22 (g 409/500) lies inside
    for at in (THETA, float(np.float32(THETA))):  # u == theta (float64 and float32's theta)
        one = np.array([at])
        assert peak.gradient(one, THETA)[0] == parent.gradient(one, THETA)[0] == 1.0
        assert tails.gradient(one, THETA)[0] == 0.0
    assert g[~inside].max() < 1.0  # no clamped peak outside the window
    # the crossing theory: peak + tails = parent on a crossing window
    for du in (0.01, 0.3):
        a, c = THETA - du, THETA
        s = peak.crossing_grad(THETA).integral(a, c, 1) + tails.crossing_grad(THETA).integral(a, c, 1)
        assert s == pytest.approx(parent.crossing_grad(THETA).integral(a, c, 1), rel=1e-12)


# -- the fair fix -------------------------------------------------------------------------------------
@pytest.mark.parametrize("du,F", [(0.45, 1), (0.05, 4), (2.0**-6, 6), (0.01, 7), (1e-9, 14), (10.0, 1), (0.71, 1)])
def test_fair_F_is_round_minus_log2_du_clipped_to_1_14(du, F):
    assert FAIR_F == (1, 14)
    assert matched_fraction_bits(du, *FAIR_F) == F
    for name in ("boolean_matched_fair", "rectangle_matched"):
        spec = get_kind(name).resolve(du)
        assert spec.format == f"fixed16.{F}" and not spec.matched
    centred = get_kind("rectangle_matched_centred").resolve(du)
    assert dict(centred.params) == {"height": 1.0, "width": 2.0 ** -(F + 1)} and not centred.matched
    assert centred.format == f"fixed16.{F}"  # recorded as the matched format
    assert get_kind("boolean_matched").resolve(0.45).format == "fixed16.3"  # the old clip, unchanged


@pytest.mark.parametrize("F", [1, 3, 4, 6, 12, 14])
def test_fair_kinds_share_the_unquantised_forward(F):
    torch = pytest.importorskip("torch")
    below = float(np.nextafter(np.float32(THETA), np.float32(0)))
    for spec in (get_kind("boolean_matched_fair").resolve(2.0**-F), get_kind("boolean_fixed16_fair"),
                 get_kind("rectangle_matched").resolve(2.0**-F), get_kind("boolean_secant_peak"),
                 get_kind("rectangle_matched_centred").resolve(2.0**-F),
                 get_kind("boolean_secant_tails"), get_kind("boolean_secant_clamp"), get_kind("arctan")):
        assert spec.forward_threshold(THETA) == spec.firing_threshold(THETA) == THETA
        s = spec.spike(THETA)(torch.tensor([below, THETA, 0.25, 0.3125], dtype=torch.float32))
        assert s.tolist() == [0.0, 1.0, 0.0, 1.0], spec.name


@pytest.mark.parametrize("F,support", [
    (1, (-0.25, 0.25)),  # the peak is pattern 0 (cell [-1/4, 1/4)): theta's cell holds g = 1/2
    (6, (0.25 - 2.0**-7, 0.296875 + 2.0**-7)),  # four patterns 0.25 .. 0.296875
    (9, (0.296875 - 2.0**-10, 0.298828125 + 2.0**-10)),  # two
    (12, (0.2998046875 - 2.0**-13, 0.2998046875 + 2.0**-13)),  # one, just below theta
])
def test_rectangle_matched_is_one_on_the_matched_peak_cells(F, support):
    rect = get_kind("rectangle_matched").resolve(2.0**-F)
    matched = get_kind("boolean_matched_fair").resolve(2.0**-F)
    fmt = rect.table(THETA).fmt
    b = np.arange(1 << 16, dtype=np.uint64).astype(fmt.dtype)
    v = fmt.decode(b)
    gr, gm = rect.gradient(v, THETA), matched.gradient(v, THETA)
    assert set(np.unique(gr)) == {0.0, 1.0}
    assert np.array_equal(gr == 1.0, gm == 1.0)  # the matched kind's peak (unit_peak: g / max g)
    ones = np.sort(v[gr == 1.0])
    assert np.all(np.diff(ones) == 2.0**-F)  # one interval of cells
    h = 2.0**-(F + 1)  # u rounds to nearest: a pattern's cell is [v - h, v + h)
    assert (ones[0] - h, ones[-1] + h) == support
    # and the kind reads it so: 1 on [lo, hi), 0 just outside
    lo, hi = support
    inner = np.array([lo + h / 4, (lo + hi) / 2, hi - h / 4])
    assert rect.gradient(inner, THETA).tolist() == [1.0] * 3
    assert rect.gradient(np.array([lo - h / 4, hi + h / 4]), THETA).tolist() == [0.0, 0.0]
    # the centred control: one cell wide, at theta
    centred = get_kind("rectangle_matched_centred").resolve(2.0**-F)
    u = THETA + np.array([-h - 1e-9, -h + 1e-9, 0.0, h - 1e-9, h + 1e-9])
    assert centred.gradient(u, THETA).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("name,du", [("boolean_matched_fair", 0.45), ("boolean_matched_fair", 0.05),
                                     ("boolean_fixed16_fair", None), ("rectangle_matched", 0.05),
                                     ("rectangle_matched", 0.45), ("rectangle_matched_centred", 0.05),
                                     ("boolean_secant_peak", None),
                                     ("boolean_secant_tails", None)])
def test_crossing_theory_equals_the_midpoint_reference(name, du):
    """The exact theory (window half an LSB up for the unquantised fixed kinds) against the
    midpoint rule over the kind's own nearest-rounded g (cells of 2e-6: the midpoint misses at
    most a cell at a step of g, hence atol)."""
    from boolgrad.study.crossings import crossing_moments
    from boolgrad.study.reference import expected_mean

    spec = get_kind(name).resolve(du) if du else get_kind(name)
    dus = np.array([0.02, 0.05, 0.13, 0.3, 0.45, 0.9])
    exact = crossing_moments(spec.crossing_grad(THETA), dus).mean
    mid = expected_mean(spec, THETA, n=1 << 20)(dus)
    np.testing.assert_allclose(exact, mid, rtol=1e-3, atol=1e-4)
    assert exact.max() > 0.04  # (fixed16.12: 0.043 at dU = 0.02)


def test_simulation_agrees_with_the_theory_for_the_new_kinds():
    from boolgrad.study.simulate import simulate, xavier_uniform

    rng = np.random.default_rng(1)
    x = rng.random((128, 4))
    W = xavier_uniform(4, 32, seed=0, gain=3.0)
    r = simulate(x, W, 1 / 16, kinds=NEW)
    assert r["n_crossings"] > 500
    for name in NEW:
        row = r["kinds"][name]
        assert row["theory_below"]["agree"], (name, row["theory_below"])
    F = matched_fraction_bits(r["du_quantiles"][2], *FAIR_F)  # resolved from the simulation's median dU
    assert r["kinds"]["boolean_matched_fair"]["format"] == r["kinds"]["rectangle_matched"]["format"] == f"fixed16.{F}"


# -- registry, identities, grouping --------------------------------------------------------------------
def test_registry_identities_and_grouping():
    assert set(NEW) <= set(KINDS)
    parents = {"boolean_secant_peak": "boolean_secant_clamp", "boolean_secant_tails": "boolean_secant_clamp",
               "boolean_matched_fair": "boolean_matched", "boolean_fixed16_fair": "boolean_fixed16",
               "rectangle_matched": "boolean_matched_fair", "rectangle_matched_centred": "rectangle"}
    strip = lambda d: {k: v for k, v in d.items() if k != "name"}  # noqa: E731
    for new, parent in parents.items():
        assert strip(get_kind(new).describe()) != strip(get_kind(parent).describe()), new
    assert get_kind("boolean_secant_peak").describe()["part"] == "peak"
    assert get_kind("boolean_matched_fair").describe()["f_range"] == [1, 14]
    assert get_kind("boolean_fixed16_fair").describe()["exact_threshold"] is True
    # the existing kinds' identities are those of the committed results
    assert get_kind("boolean_secant_clamp").describe() == {
        "name": "boolean_secant_clamp", "family": "boolean", "format": "float32", "convention": "secant",
        "comparator": "ge", "scale": "clamp", "grad_max": 500.0, "quantize_forward": False, "preset": ""}
    assert get_kind("boolean_matched").describe() == {
        "name": "boolean_matched", "family": "boolean", "format": "", "convention": "secant",
        "comparator": "ge", "scale": "unit_peak", "grad_max": 500.0, "quantize_forward": True, "preset": ""}
    tiny = {"dataset": "digits", "epochs": 1}
    for name, seeded in (("boolean_matched_fair", True), ("rectangle_matched", True), ("rectangle_matched_centred", True),
                         ("boolean_fixed16_fair", False), ("boolean_secant_peak", False)):
        a = RunConfig(**tiny, kind=name)
        assert (a.group_key() != RunConfig(**tiny, kind=name, seed=1).group_key()) == seeded, name
        assert a.group_key() == RunConfig(**tiny, kind=name, lr=0.01).group_key()
    assert get_kind("rectangle_matched_centred").describe() == {
        "name": "rectangle_matched_centred", "family": "surrogate", "surrogate": "rectangle", "params": {},
        "f_range": [1, 14]}
    for name in ("rectangle_matched", "rectangle_matched_centred"):
        with pytest.raises(ValueError, match="resolve"):
            get_kind(name).gradient(np.array([THETA]), THETA)


# -- torch: the spike's backward and the fused engine -----------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_torch_backward_and_fused_engine_equal_the_step_loop(name):
    torch = pytest.importorskip("torch")
    pytest.importorskip("numba")
    from boolgrad.torch.multistep import lif_sequence
    from boolgrad.torch.neurons import LIFParams, lif_step

    spec = get_kind(name).resolve(0.05)
    spike = spec.spike(THETA)
    # the backward is the numpy g (float32 cast), at every pattern of a sweep around theta
    u = torch.tensor(np.concatenate([np.linspace(-0.5, 1.2, 1701), THETA + np.linspace(-3e-3, 3e-3, 1201)]),
                     dtype=torch.float32).requires_grad_(True)
    spike(u).sum().backward()
    want = spec.gradient(u.detach().double().numpy(), THETA).astype(np.float32)
    assert np.array_equal(u.grad.numpy(), want)
    # fused LIF vs lif_step: spikes and u bit for bit, input gradients bit for bit
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand((12, 3, 40), generator=gen, dtype=torch.float64) * 0.9 - 0.15).float()
    x[0, 0, :4] = THETA
    params = LIFParams(spike, beta=0.8)
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    s1, u1 = lif_sequence(x1, params)
    outs, us, state = [], [], None
    for t in range(x.shape[0]):
        s, state = lif_step(x2[t], state, params)
        outs.append(s)
        us.append(state.u)
    s2, u2 = torch.stack(outs), torch.stack(us)
    assert torch.equal(u1.detach(), u2.detach()) and torch.equal(s1.detach(), s2.detach())
    w = torch.randn(s1.shape, generator=torch.Generator().manual_seed(1))
    (g1,) = torch.autograd.grad((s1 * w).sum(), x1)
    (g2,) = torch.autograd.grad((s2 * w).sum(), x2)
    assert bool((g2 != 0).any()) and torch.equal(g1, g2)
