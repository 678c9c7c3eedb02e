"""Boolean spike functions: backward == GradientTable.gradient, forward == the table's spike."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import numpy as np
from _tables import (
    FLOAT32_SPECS,
    assert_cast_ok,
    assert_g_close,
    float32_samples,
    float32_table,
    reference,
    term_scale,
)

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.lookup import compile_plan, dtype_format, plan_gradient

SCALES = list(bt.SCALINGS)
#: (theta, comparator, convention): power-of-two theta, generic theta, zero, negative, tiny
CASES = [
    (1.0, "ge", "secant"),
    (1.0, "ge", "paper"),
    (0.3, "gt", "secant"),
    (0.0, "ge", "secant"),
    (-2.5, "gt", "paper"),
    (1e-6, "ge", "secant"),
]
TORCH16 = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def all_patterns(dtype):
    f = dtype_format(dtype)
    return torch.from_numpy(f.decode(np.arange(1 << f.bits, dtype=np.uint64))).to(dtype)


def divisor(table, scale, grad_max=500.0):
    return {
        "none": 1.0,
        "clamp": grad_max,
        "clamp01": grad_max,
        "unit_area": table.area(),
        "unit_peak": table.peak()[0],
    }[scale]


def scaled(table, g, scale):
    g = g / divisor(table, scale)
    if scale == "clamp01":
        return np.clip(g, 0.0, 1.0)
    return np.minimum(g, 1.0) if scale == "clamp" else g


CLIPS = {"clamp": (None, 1.0), "clamp01": (0.0, 1.0)}


def backward_g(spike, u):
    u = u.detach().clone().requires_grad_()
    s = spike(u)
    s.backward(torch.ones_like(u))
    return s.detach(), u.grad


@pytest.fixture(scope="module")
def tables16():
    return {
        (name, case): boolgrad.build_table(
            name, case[0], comparator=case[1], convention=case[2], device="cpu"
        )
        for name in TORCH16
        for case in CASES
    }


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("name", list(TORCH16))
def test_every_16bit_pattern_bit_exact(tables16, name, case, scale):
    """float16/bfloat16 tensor, same-format table: u.grad is the cast of the table's g, every pattern."""
    table = tables16[(name, case)]
    dtype = TORCH16[name]
    u = all_patterns(dtype)
    if not divisor(table, scale) > 0:  # e.g. paper convention below zero: g <= 0 everywhere
        with pytest.raises(ValueError, match="positive finite divisor"):
            bt.boolean_spike(table, scale=scale)(u)
        return
    peak = min(table.peak()[0] / divisor(table, scale), 1.0 if scale in CLIPS else np.inf)
    if peak > torch.finfo(dtype).max:  # the gradient would be inf: refused (issue 13)
        with pytest.raises(ValueError, match=f"beyond {dtype}'s largest value"):
            backward_g(bt.boolean_spike(table, scale=scale), u)
        return
    s, grad = backward_g(bt.boolean_spike(table, scale=scale), u)
    values = u.double().numpy()
    expected = scaled(table, reference(table, values), scale)
    np.testing.assert_array_equal(grad.double().numpy(), torch.tensor(expected).to(dtype).double().numpy())
    fires = table.spec.threshold.fires(np.arange(1 << 16, dtype=np.uint64))
    np.testing.assert_array_equal(s.bool().numpy(), fires)


FORMAT_CASES = [
    (name, case, dtype)
    for name in ["float16", "bfloat16", "fixed12.6", "ufixed8.-1", "float8_e4m3fn", "e3m2"]
    for case in CASES
    for dtype in ([torch.float32, torch.float64] if case in CASES[:3] else [torch.float32])
] + [
    (n, CASES[2], d) for n in ("fixed12.6", "float8_e4m3fn", "e3m2") for d in (torch.float16, torch.bfloat16)
]


@pytest.mark.parametrize("name, case, dtype", FORMAT_CASES, ids=str)
def test_other_formats_round_for_the_gradient(name, case, dtype):
    """Any dtype on any table: g at the element rounded to the table's format, ties included."""
    table = boolgrad.build_table(name, case[0], comparator=case[1], convention=case[2], device="cpu")
    fmt = table.fmt
    rng = np.random.default_rng(1)
    R = table.spec.threshold.rank
    ranks = np.arange(fmt.n_ranks)
    if fmt.n_ranks > 6000:  # the 400 patterns around theta, every run's ends, 4000 random
        ends = np.concatenate([table.first_rank, fmt.rank(table.last)]).astype(np.int64)
        ranks = np.unique(
            np.concatenate(
                [np.arange(R - 200, R + 200), ends - 1, ends, ends + 1, rng.integers(0, fmt.n_ranks, 4000)]
            )
        )
        ranks = ranks[(ranks >= 0) & (ranks < fmt.n_ranks)]
    grid = np.unique(fmt.decode(fmt.pattern_at_rank(ranks.astype(np.uint64))))
    grid = grid[np.isfinite(grid)]
    mids = (grid[1:] + grid[:-1]) / 2  # ties: round half to even
    pool = np.concatenate(
        [
            grid,
            mids,
            rng.normal(0, 3, 2000),
            rng.normal(0, 1e-3, 500),
            [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e300, -1e300],
        ]
    )
    u = torch.tensor(pool).to(dtype)
    u = (
        torch.cat(
            [
                u,
                torch.nextafter(u, torch.tensor(np.inf, dtype=dtype)),
                torch.nextafter(u, torch.tensor(-np.inf, dtype=dtype)),
            ]
        )
        if dtype in (torch.float32, torch.float64)
        else u
    )
    values = u.double().numpy()
    plan = compile_plan(table, dtype)
    ours = plan_gradient(plan, u).numpy()
    ref = reference(table, values)
    assert_g_close(ours, ref, term_scale(table, values), f"{name} {case} {dtype}")
    # forward on the rounded value (quantize_forward) and on u itself
    spike_q = bt.boolean_spike(table, quantize_forward=True)
    s_q = spike_q(u).bool().numpy()
    ok = ~np.isnan(values)
    pats = fmt.encode(values[ok])
    fires_q = np.zeros(values.shape, dtype=bool)
    fires_q[ok] = table.spec.threshold.fires(pats) & ~fmt.is_nan(pats)
    np.testing.assert_array_equal(s_q, fires_q)
    s = bt.boolean_spike(table)(u).bool().numpy()
    theta = table.spec.threshold.used
    plain = values >= theta if case[1] == "ge" else values > theta
    np.testing.assert_array_equal(s, plain)


@pytest.mark.parametrize("case", CASES[:3], ids=str)
@pytest.mark.parametrize("name", ["float16", "fixed10.4"])
def test_threshold_tables_every_pattern(name, case):
    """wrt='theta' plans: g_theta at every float16 pattern equals the theta-table's g."""
    table_t = boolgrad.build_table(
        name, case[0], comparator=case[1], convention=case[2], wrt="theta", device="cpu"
    )
    u = all_patterns(torch.float16)
    ours = plan_gradient(compile_plan(table_t, torch.float16), u).numpy()
    np.testing.assert_array_equal(ours, reference(table_t, u.double().numpy()))
    u32 = u.float()
    ours32 = plan_gradient(compile_plan(table_t, torch.float32), u32).numpy()
    np.testing.assert_array_equal(ours32, reference(table_t, u32.double().numpy()))


@pytest.fixture(scope="module", params=list(FLOAT32_SPECS))
def table32(request):
    return float32_table(request.param)


def test_float32_table_sampled(table32):
    """float32 tensor + float32 table (the exact-for-every-element case): sampled patterns
    (every run boundary and its neighbours, the 1000 nearest theta, 20000 random) against the
    table and against the per-value reference gradient_at, in every scaling mode."""
    values = float32_samples(table32)
    u = torch.from_numpy(values)
    with np.errstate(invalid="ignore"):  # random patterns include signalling NaNs
        v64 = values.astype(np.float64)
    ref = reference(table32, v64)
    pg = boolgrad.gradient_from_spec(table32.spec, values.view(np.uint32))
    ok = ~np.isnan(v64)
    np.testing.assert_array_equal(ref[ok], pg.g[ok])  # the stored table agrees with gradient_at
    scale = term_scale(table32, v64)
    for mode in SCALES:
        if not divisor(table32, mode) > 0:
            continue
        d = divisor(table32, mode)
        plan = compile_plan(table32, torch.float32, divisor=d, clamp=CLIPS.get(mode, False))
        ours = plan_gradient(plan, u).numpy()
        expected = scaled(table32, ref, mode)
        assert_g_close(ours, expected, scale / d, f"{table32.meta.theta_requested} {mode}")
        _, grad = backward_g(bt.boolean_spike(table32, scale=mode), u)
        assert_cast_ok(grad.numpy(), expected, scale / d, np.float32, mode)


def test_float32_table_forward_and_specials(table32):
    theta = table32.spec.threshold.used
    u = torch.tensor(
        [
            theta,
            np.nextafter(np.float32(theta), np.float32(-1)),
            np.nextafter(np.float32(theta), np.float32(9)),
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
        ],
        dtype=torch.float32,
    )
    s, grad = backward_g(bt.boolean_spike(table32), u)
    v = u.double().numpy()
    fires = v >= theta if table32.meta.comparator == "ge" else v > theta
    np.testing.assert_array_equal(s.bool().numpy(), fires)
    ref = reference(table32, v)
    assert_cast_ok(grad.numpy(), ref, term_scale(table32, v), np.float32, "specials")
    assert grad[-1] == 0 and grad[5] == 0 and grad[6] == 0  # NaN and infinities: every term degenerate


# -- interface ----------------------------------------------------------------------------------------
def test_preset_is_the_authors_setup():
    seen = {}

    def builder(spec):
        seen.update(spec.options, fmt=spec.fmt.name, theta=spec.threshold.requested)
        small = {k: v for k, v in spec.options.items() if k != "excluded_bits"}  # float16 stand-in
        return boolgrad.closed_form_table("float16", spec.threshold.requested, **small)

    spike = bt.boolean_spike("yoo_jeong2025", 1.0, builder=builder)
    assert seen["fmt"] == "float32" and seen["convention"] == "paper" and seen["theta"] == 1.0
    assert seen["comparator"] == "gt"  # their forward: u.gt(thresh)
    assert spike.state.scale == "clamp01" and spike.state.grad_max == 500.0


def test_load_table_roundtrip(tmp_path):
    table = boolgrad.build_table("bfloat16", 0.5, device="cpu")
    path = table.save(tmp_path / "t.npz")
    u = all_patterns(torch.bfloat16)
    _, a = backward_g(bt.load_spike(path, scale="unit_peak"), u)
    _, b = backward_g(bt.boolean_spike(table, scale="unit_peak"), u)
    assert torch.equal(a, b)
    assert float(a.max()) == 1.0  # unit_peak: the peak becomes exactly 1


def test_boolean_learnable_theta_gets_theta_table_gradient():
    spike = bt.boolean_spike("float16", 0.75, learn_theta=True)
    u = torch.linspace(-1, 2, 301, dtype=torch.float16)
    w = torch.linspace(0, 1, 301, dtype=torch.float16)
    (spike(u) * w).sum().backward()
    table_t = boolgrad.build_table("float16", 0.75, wrt="theta", device="cpu")
    expected = float((reference(table_t, u.double().numpy()) * w.double().numpy()).sum())
    assert spike.theta.grad is not None
    np.testing.assert_allclose(float(spike.theta.grad), expected, rtol=1e-3)  # float16 products, float32 sum
    assert float(spike.theta.grad) < 0  # secant convention: raising theta removes spikes


def test_learnable_theta_follows_its_value():
    spike = bt.boolean_spike("float16", 1.0, learn_theta=True)
    with torch.no_grad():
        spike.theta.fill_(0.5)
    u = torch.tensor([0.4, 0.5, 0.75], dtype=torch.float16)
    assert spike(u).tolist() == [0.0, 1.0, 1.0]


def test_errors():
    table = boolgrad.build_table("float16", 1.0, device="cpu")
    with pytest.raises(ValueError, match="scale"):
        bt.boolean_spike(table, scale="bogus")
    with pytest.raises(ValueError, match="disagrees"):
        bt.boolean_spike(table, theta=2.0)
    with pytest.raises(ValueError, match="disagrees"):
        bt.boolean_spike(table, comparator="gt")
    with pytest.raises(ValueError, match="theta is required"):
        bt.boolean_spike("float16")
    with pytest.raises(TypeError, match="floating tensors"):
        bt.boolean_spike(table)(torch.arange(3))
    with pytest.raises(ValueError, match="one number"):
        bt.boolean_spike(table)(torch.ones(3, dtype=torch.float16), torch.ones(3))
    u = torch.ones(3, dtype=torch.float16)
    theta = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="theta_tables"):
        bt.boolean_spike(table)(u, theta).sum().backward()


def test_backward_allocations_are_constant():
    """The fast path allocates a handful of input-sized tensors, not one per bit or piece."""
    table = float32_table("float32_1.0_secant_ge")
    plan = compile_plan(table, torch.float32)
    u = torch.randn(256, 1024) * 0.5 + 1.0
    from torch.profiler import ProfilerActivity, profile

    plan_gradient(plan, u)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        plan_gradient(plan, u)
    big = [e for e in prof.events() if e.self_cpu_memory_usage >= u.numel()]  # >= an input-sized bool
    assert 1 <= len(big) <= 6, [(e.name, e.self_cpu_memory_usage) for e in big]


def test_backward_results_do_not_alias_the_workspace():
    """float64 inputs: the plan's scratch buffers must never be handed out as a gradient."""
    table = boolgrad.build_table("float16", 1.0, device="cpu")
    spike = bt.boolean_spike(table)
    u1 = torch.linspace(0.5, 1.5, 64, dtype=torch.float64)
    _, g1 = backward_g(spike, u1)
    kept = g1.clone()
    backward_g(spike, torch.linspace(-3, 3, 64, dtype=torch.float64))
    assert torch.equal(g1, kept)
    ref = reference(table, u1.numpy())
    assert_g_close(g1.numpy(), ref, term_scale(table, u1.numpy()), "float64 on a float16 table")


def test_import_boolgrad_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, boolgrad; boolgrad.build_table('e3m2', 1.0, device='cpu'); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the yoo_jeong2025 preset against an independent re-implementation of the authors' rule ---------
def _their_rule(u32: np.ndarray, theta: float) -> np.ndarray:
    """Yoo & Jeong's training backward as documented (yoees/True_gradient, functions.py): per bit
    of the float32 pattern, flip it; if the spike ``[u > theta]`` changes add ``1 / D_i``; the top
    exponent bit (30) is skipped; ``clamp(sum, 0, 500) / 500``.  Written from the rule, bit by bit."""
    b = u32.view(np.uint32).astype(np.uint64)
    as_f64 = lambda pats: pats.astype(np.uint32).view(np.float32).astype(np.float64)  # noqa: E731
    fires = as_f64(b) > theta
    g = np.zeros(b.shape)
    for i in range(32):
        if i == 30:
            continue
        bit = np.uint64(1 << i)
        chi = fires != (as_f64(b ^ bit) > theta)
        D = as_f64(b | bit) - as_f64(b & ~bit)
        ok = chi & np.isfinite(D) & (D != 0)
        g[ok] += 1.0 / D[ok]
    return np.clip(g, 0.0, 500.0) / 500.0


def test_yoo_jeong2025_preset_is_their_training_backward():
    theta = float(np.float32(0.3))
    rng = np.random.default_rng(7)
    t_rank = np.float32(theta).view(np.uint32).astype(np.int64)
    near = np.arange(t_rank - 3000, t_rank + 3000).astype(np.uint32).view(np.float32)  # around theta
    neg = -near  # around -theta: their clamp zeroes the negative sign-bit term
    u = np.concatenate(
        [rng.uniform(-2, 2, 100_000).astype(np.float32), near, neg, np.float32([theta, -theta])]
    )
    spike = bt.boolean_spike("yoo_jeong2025", 0.3)
    s, grad = backward_g(spike, torch.from_numpy(u))
    ref = _their_rule(u, theta)
    np.testing.assert_array_equal(grad.numpy(), ref.astype(np.float32))
    np.testing.assert_array_equal(s.numpy(), (u > np.float32(theta)).astype(np.float32))  # u.gt(thresh)
    assert s[-2] == 0 and grad[-2] > 0  # u == theta: no spike (gt), a positive gradient
    # the paper convention itself is negative on u < -theta; the preset must not pass that on
    paper = bt.boolean_spike("float32", 0.3, convention="paper", comparator="gt", scale="clamp")
    _, g_clamp = backward_g(paper, torch.from_numpy(u))
    below = u < -theta  # gt: the sign flip of -theta lands on theta, which does not fire
    assert (g_clamp.numpy()[below] < 0).all() and (grad.numpy()[below] == 0).all()


def test_tie_rules_at_theta_exactly():
    u = torch.tensor([0.3, float(np.nextafter(np.float32(0.3), np.float32(1)))], dtype=torch.float32)
    assert bt.boolean_spike("float32", 0.3)(u).tolist() == [1.0, 1.0]  # boolgrad: u >= theta
    assert bt.boolean_spike("float32", 0.3, comparator="gt")(u).tolist() == [0.0, 1.0]  # snnTorch, Norse
    assert bt.boolean_spike("yoo_jeong2025", 0.3)(u).tolist() == [0.0, 1.0]  # the authors' u > theta


def test_float16_gradient_beyond_float16_is_refused():
    """theta = 2**-20 on float16: the true g (~1.6e6) does not fit float16; say so, not [inf...]."""
    u = torch.tensor([2.0**-20, 2.0**-21, 1.0], dtype=torch.float16)
    spike = bt.boolean_spike("float16", 2.0**-20)
    with pytest.raises(ValueError, match=r"peaks at g = .*torch\.float16.*scale='clamp'.*float32"):
        backward_g(spike, u)
    _, g32 = backward_g(spike, u.float())  # float32 carries it
    table = boolgrad.closed_form_table("float16", 2.0**-20)
    np.testing.assert_array_equal(g32.numpy(), reference(table, u.double().numpy()).astype(np.float32))
    assert g32.max() > 1e6
    _, g_clamped = backward_g(bt.boolean_spike("float16", 2.0**-20, scale="clamp"), u)
    assert torch.isfinite(g_clamped).all() and g_clamped.max() == 1.0


def test_caches_are_bounded():
    spike = bt.boolean_spike("float16", 1.0, learn_theta=True)
    spike.state.max_cached = 8  # the default 64 works the same way; a small cap builds fewer tables
    spike.state.__post_init__()
    u = torch.linspace(0, 2, 50, dtype=torch.float16)
    cap = spike.state.max_cached
    for k in range(cap + 20):
        with torch.no_grad():
            spike.theta.fill_(0.5 + k / 256)
        spike(u).sum().backward()
    assert len(spike.state._tables) == cap and len(spike.state._plans) == cap
    assert spike.state.threshold_key(0.5 + (cap + 19) / 256) in spike.state._tables  # the newest stays


def test_last_plans_follow_threshold_dtype_and_values():
    """The last call's plans are reused only for the same float threshold object, dtype and
    device; a threshold of another value, or the same value as another object, finds its own."""
    state = bt.boolean_spike("float16", 1.0, builder=bt.default_builder).state
    u16, u32 = torch.linspace(0, 2, 7, dtype=torch.float16), torch.linspace(0, 2, 7)
    one = 1.0
    p16, p32 = state.plans(u16, one), state.plans(u32, one)
    assert p16[0].dtype == torch.float16 and p32[0].dtype == torch.float32
    assert state.plans(u16, one) is p16 and state.plans(u16, float("1.0")) is p16
    half = state.plans(u16, 0.5)
    assert half is not p16 and half[0].table.meta.theta_requested == 0.5
    assert state.plans(u16, one) is p16
    theta = torch.tensor(1.0)
    assert state.plans(u16, theta) is p16  # by value, every call
    theta.fill_(0.5)
    assert state.plans(u16, theta) is half
