"""The CPU kernel's fast paths are exact: bit for bit equal to the torch path (itself exact).

Covers what the numba loop adds over a plain lookup: rounding to a narrower float format by
``(|v| + C) - C``, bfloat16 looked up by the rounded pattern (``plan.direct``), buckets cut by
one bound (``plan.split``) or several (``plan.mixed``), and
float32 results that are subnormal (built from bits in :func:`fix`, with and without
``protect``).
"""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import boolgrad
from boolgrad.torch.lookup import compile_plan, cpu_kernel, plan_gradient_as
from boolgrad.torch.lookup.evaluate import kernel_params

pytestmark = pytest.mark.skipif(not cpu_kernel.available(), reason="numba not installed: one CPU path only")


def _kernel(plan, u, go=None, protect=True, threads=2):
    """The kernel's result (slow path included), protect forced on or off."""
    a = u.numpy()
    out = np.empty_like(a)
    bad = np.empty(a.shape, dtype=np.bool_)
    kp = kernel_params(plan)
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64)
    g = None if go is None else go.numpy()
    cpu_kernel.run(bits, a, g, out, bad, kp, threads, state=[1, protect])
    res = torch.from_numpy(out)
    if bad.any():
        from boolgrad.torch.lookup.evaluate import slow

        idx = torch.from_numpy(np.flatnonzero(bad))
        gs = slow(plan, u[idx]).to(u.dtype)
        res[idx] = gs if go is None else gs * go[idx]
    return res


def _same(a, b):
    ints = torch.int32 if a.dtype == torch.float32 else torch.int64
    assert torch.equal(a.view(ints), b.view(ints)), int((a.view(ints) != b.view(ints)).sum())


def _patterns(*ranges):
    return torch.from_numpy(np.concatenate([np.arange(lo, hi, dtype=np.int64) for lo, hi in ranges])
                            .astype(np.uint32).view(np.int32)).view(torch.float32)


def test_bfloat16_rounding_every_boundary_and_whole_binades():
    """float32 -> bfloat16: every bfloat16 boundary +-2 patterns, every pattern of the binade
    [1, 2), 2**20 subnormals of each sign, and 10**6 random patterns."""
    table = boolgrad.closed_form_table("bfloat16", 1.0)
    plan = compile_plan(table, torch.float32)
    assert not plan.fits and plan.direct  # looked up by the rounded pattern
    k = np.arange(1 << 16, dtype=np.int64) << 16
    edges = (k[:, None] + np.array([-2, -1, 0, 1, 2, 0x7FFE, 0x7FFF, 0x8000, 0x8001, 0x8002])).ravel()
    edges = edges[(edges >= 0) & (edges < 1 << 32)]
    rng = np.random.default_rng(0)
    parts = [
        torch.from_numpy(edges.astype(np.uint32).view(np.int32)).view(torch.float32),
        _patterns((0x3F800000, 0x40000000)),  # all of [1, 2)
        _patterns((0, 1 << 20), (0x80000000, 0x80000000 + (1 << 20))),  # subnormals, both signs
        torch.from_numpy(rng.integers(0, 1 << 32, 10**6, dtype=np.int64).astype(np.uint32).view(np.int32))
        .view(torch.float32),
    ]
    for u in parts:
        ref = plan_gradient_as(plan, u, torch.float32, fused=False)
        _same(_kernel(plan, u, protect=True), ref)
        _same(_kernel(plan, u, protect=False), ref)


@pytest.mark.parametrize(
    "spec", [dict(comparator="gt"), dict(convention="paper", comparator="gt"), dict(theta=2.0**-130)], ids=str
)
def test_bfloat16_direct_other_tables_scalings_and_grad_out(spec):
    """The rounded-pattern lookup for other bfloat16 tables (a subnormal theta too), clamped
    and not, with a grad_out, on every bfloat16 rounding boundary +-1 pattern and NaN payloads."""
    kw = dict(spec)
    table = boolgrad.closed_form_table("bfloat16", kw.pop("theta", 1.0), **kw)
    k = np.arange(1 << 16, dtype=np.int64) << 16
    edges = (k[:, None] + np.array([0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF])).ravel()
    u = torch.from_numpy(edges.astype(np.uint32).view(np.int32)).view(torch.float32)
    go = torch.rand(u.shape, generator=torch.Generator().manual_seed(6)) * 1e-3
    for divisor, clamp in ((1.0, False), (500.0, (0.0, 1.0))):
        plan = compile_plan(table, torch.float32, divisor=divisor, clamp=clamp)
        assert plan.direct
        ref = plan_gradient_as(plan, u, torch.float32, fused=False)
        for protect in (True, False):
            _same(_kernel(plan, u, protect=protect), ref)
            _same(_kernel(plan, u, go, protect), ref * go)


def test_direct_only_for_top_bits_formats():
    """Only a 16-bit format with float32's exponent field on float32 inputs is looked up directly."""
    bf16 = boolgrad.closed_form_table("bfloat16", 1.0)
    assert compile_plan(bf16, torch.float32).direct
    assert not compile_plan(bf16, torch.float64).direct
    assert not compile_plan(bf16, torch.bfloat16).direct
    for fmt in ("float16", "fixed16.12", "float32"):
        assert not compile_plan(boolgrad.closed_form_table(fmt, 1.0), torch.float32).direct


@pytest.mark.parametrize("fmt", ["float16", "e5m2", "float8_e4m3fn", "e11m20", "e4m10"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_rounding_other_narrow_formats(fmt, dtype):
    """Formats with fewer exponent bits (subnormals, overflow to inf or NaN) and with more."""
    table = boolgrad.closed_form_table(fmt, 0.75)
    plan = compile_plan(table, dtype)
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 1 << 32, 200000, dtype=np.int64).astype(np.uint32).view(np.int32)
    u32 = torch.from_numpy(bits).view(torch.float32)
    near = torch.from_numpy(rng.standard_normal(200000) * 2.0 ** rng.integers(-30, 20, 200000))
    u = torch.cat([u32.to(dtype), near.to(dtype), torch.tensor([0.75, 1e300, -1e-300, 65520.0]).to(dtype)])
    ref = plan_gradient_as(plan, u, dtype, fused=False)
    _same(_kernel(plan, u), ref)


@pytest.mark.parametrize(
    "spec",
    [
        dict(theta=1.0, comparator="gt"),
        dict(theta=1.0, comparator="gt", convention="paper"),
        dict(theta=0.3, comparator="gt"),
        dict(theta=1.0, comparator="ge"),
    ],
    ids=str,
)
@pytest.mark.parametrize("clamp", [False, (0.0, 1.0)], ids=str)
def test_cut_buckets_every_pattern_around_theta(spec, clamp):
    """Every float32 pattern within 2**18 ranks of theta (theta's bucket and its neighbours, where
    the buckets cut by bounds are), positive and negative, with and without grad_out."""
    kw = dict(spec)
    table = boolgrad.closed_form_table("float32", kw.pop("theta"), **kw)
    plan = compile_plan(table, torch.float32, divisor=500.0 if clamp else 1.0, clamp=clamp)
    t = int(np.float32(table.meta.theta_used).view(np.int32))
    u = _patterns((t - (1 << 18), t + (1 << 18)), (t // 2 - (1 << 16), t // 2 + (1 << 16)))
    u = torch.cat([u, -u])
    ref = plan_gradient_as(plan, u, torch.float32, fused=False)
    _same(_kernel(plan, u), ref)
    _same(_kernel(plan, u, protect=False), ref)
    go = torch.rand(u.shape, generator=torch.Generator().manual_seed(3))
    _same(_kernel(plan, u, go), ref * go)
    if spec["comparator"] == "gt" and spec["theta"] == 1.0:
        K, PB2, QB2 = plan.split
        lo_hi = np.isfinite(PB2[0::2]) & ((PB2[0::2] != PB2[1::2]) | (QB2[0::2] != QB2[1::2]))
        assert K == 1 and 0 < lo_hi.sum() < (plan.mixed[0] >= 0).sum()  # cut after the first pattern


@pytest.mark.parametrize("protect", [True, False])
def test_subnormal_results_exact(protect):
    """g and g * grad_out below 2**-126 (built from bits): equal to torch's cast and multiply."""
    table = boolgrad.closed_form_table("float32", 1.0)
    plan = compile_plan(table, torch.float32)
    g = torch.Generator().manual_seed(4)
    u = torch.cat([torch.randn(300000, generator=g) * 0.3, torch.rand(1000, generator=g) * 0.25])
    go = torch.rand(u.shape, generator=g) * 10.0 ** -torch.randint(0, 8, u.shape, generator=g)
    go[:5] = torch.tensor([0.0, -0.0, 1e-45, -3e-39, float("inf")])
    ref = plan_gradient_as(plan, u, torch.float32, fused=False)
    tiny = (ref * go).abs()
    assert ((tiny < 2.0**-126) & (tiny > 0)).sum() > 1000  # the case is exercised
    for n in (u.numel(), cpu_kernel._PARALLEL_MIN - 1):  # the parallel and the serial loop
        _same(_kernel(plan, u[:n], go[:n], protect), (ref * go)[:n])
        _same(_kernel(plan, u[:n], None, protect), ref[:n])


def test_flushed_subnormals_run_unprotected_and_give_the_exact_normal_results():
    """Under ``torch.set_flush_denormal(True)`` on one thread (the study's training) the kernel
    runs its unprotected loop even where the policy says protect: every result whose exact value is a
    normal float32 is that value bit for bit, and a subnormal one is the exact subnormal (the
    flagged elements' careful path writes it from bits) or a zero of its sign (the hardware's
    flush) -- the same number to every later operation under DAZ.  More than a thousand are
    zeros: a protected loop writes none."""
    table = boolgrad.closed_form_table("float32", 1.0)
    plan = compile_plan(table, torch.float32)
    g = torch.Generator().manual_seed(4)
    u = torch.cat([torch.randn(300000, generator=g) * 0.3, torch.rand(1000, generator=g) * 0.25,
                   (1.0 + torch.rand(2000, generator=g) * 2.4) * 1e38])  # g ~ 1.5 / u: subnormal there
    go = torch.rand(u.shape, generator=g) * 10.0 ** -torch.randint(0, 8, u.shape, generator=g)
    ref_g = plan_gradient_as(plan, u, torch.float32, fused=False)
    assert not cpu_kernel.flushing()
    assert torch.set_flush_denormal(True)  # FTZ/DAZ available on this CPU
    try:
        assert cpu_kernel.flushing()
        got = [_kernel(plan, u, None, protect=True, threads=1), _kernel(plan, u, go, protect=True, threads=1)]
    finally:
        torch.set_flush_denormal(False)
    for ref, out in zip([ref_g, ref_g * go], got):
        tiny = (ref.abs() < 2.0**-126) & (ref != 0)
        _same(out[~tiny], ref[~tiny])
        exact, zero = out[tiny] == ref[tiny], (out[tiny] == 0) & (out[tiny].signbit() == ref[tiny].signbit())
        assert bool((exact | zero).all())
        assert int(zero.sum()) > 1000


@pytest.mark.parametrize("threshold", [1.0, 0.3, 1e-3, 2.5])
@pytest.mark.parametrize("comparator", ["gt", "ge"])
def test_shifted_offset_in_the_kernel_equals_adding_first(threshold, comparator):
    """The adapters' g at fl(x + theta): added per element in the kernel == torch's x + theta first."""
    from boolgrad.torch.adapters import ShiftedBooleanSpike
    from boolgrad.torch.boolean import boolean_backward

    sp = ShiftedBooleanSpike("float32", threshold, comparator)
    g = torch.Generator().manual_seed(5)
    u = torch.cat([torch.randn(300000, generator=g) * threshold + threshold, torch.randn(1000, generator=g)])
    u = torch.cat([u, torch.tensor([threshold, 0.0, -0.0, float("nan"), float("inf"), 1e-40])])
    x = u - threshold
    x[-3:] = torch.tensor([-threshold, -0.0, 1e-45])
    go = torch.rand(x.shape, generator=g)
    for n in (x.numel(), 20000):
        ours = sp._state.backward(x[:n], 0.0, go[:n], False)[0]
        ref = boolean_backward(x[:n] + threshold, threshold, go[:n], sp.spike.state, False)[0]
        _same(ours, ref)
    plan = sp.spike.state.plans(x, threshold)[0]
    unfused = plan_gradient_as(plan, x + threshold, torch.float32, fused=False) * go
    _same(ours, unfused[:20000])


def test_protect_policy_on_at_once_off_after_quiet_calls():
    """One call with many subnormal results switches protection on (the unprotected loop counts
    them too); it goes off only after ``_QUIET_CALLS`` quiet calls in a row."""
    plan = compile_plan(boolgrad.closed_form_table("float32", 1.0), torch.float32)
    kp = kernel_params(plan)
    u = torch.full((4096,), 0.2)  # g ~ 2**-126: times 1e-3 below it (subnormal)
    a = u.numpy()
    out, bad = np.empty_like(a), np.empty(a.shape, dtype=np.bool_)
    tiny_go, ones = np.full(a.shape, 1e-3, np.float32), np.ones(a.shape, np.float32)
    state = [cpu_kernel._QUIET_CALLS, False]  # quiet: unprotected
    cpu_kernel.run(a.view(np.int32), a, ones, out, bad, kp, 1, state)
    assert state == [cpu_kernel._QUIET_CALLS + 1, False]
    cpu_kernel.run(a.view(np.int32), a, tiny_go, out, bad, kp, 1, state)
    assert state == [0, True]
    for i in range(cpu_kernel._QUIET_CALLS):
        assert state[1]
        cpu_kernel.run(a.view(np.int32), a, ones, out, bad, kp, 1, state)
    assert state == [cpu_kernel._QUIET_CALLS, False]


@pytest.mark.parametrize(
    "fmt, theta, kw",
    [("float32", 1.0, dict(comparator="gt")), ("float32", 0.3, {}), ("fixed16.12", 1.0, {}),
     ("fixed16.12", 0.3, dict(comparator="gt")), ("float16", 1.0, {})],
    ids=str,
)
def test_every_pattern_of_every_cut_bucket(fmt, theta, kw):
    """Every float32 pattern of every bucket cut by piece bounds: those resolved by the pattern
    offset ``K`` in the loop, those cut once at another offset and those cut several times (the
    binary search), both signs."""
    plan = compile_plan(boolgrad.closed_form_table(fmt, theta, **kw), torch.float32)
    cut = np.flatnonzero(plan.mixed[0] >= 0)
    assert plan.split is not None and cut.size > 0
    K, PB2, _ = plan.split
    in_loop = np.flatnonzero(np.isfinite(PB2[0::2]) & np.isnan(plan.PB.numpy()))
    assert in_loop.size > 0  # the loop's own case is exercised
    buckets = np.union1d(cut, in_loop).astype(np.int64)
    pats = ((buckets[:, None] << 16) + np.arange(1 << 16)).ravel()
    u = torch.from_numpy(pats.astype(np.uint32).view(np.int32)).view(torch.float32)
    ref = plan_gradient_as(plan, u, torch.float32, fused=False)
    _same(_kernel(plan, u, protect=False), ref)


@pytest.mark.parametrize(
    "theta, kw",
    [(1.0, dict(comparator="gt")), (1.0, dict(comparator="gt", convention="paper")), (0.3, dict(comparator="gt")),
     (1.0, {}), (-0.75, dict(comparator="gt")), (2.0**-130, dict(comparator="gt"))],
    ids=str,
)
def test_theta_neighbours_and_the_buckets_they_cut(theta, kw):
    """Theta's 32 one-bit neighbours and theta itself, +-3 patterns each, and every pattern of the
    buckets filled because only neighbours cut them (:mod:`boolgrad.torch.lookup.neighbours`):
    the kernel equals the torch path, clamped or not, with and without grad_out and protect."""
    from boolgrad.torch.lookup.evaluate import _gradient
    from boolgrad.torch.lookup.neighbours import neighbour_tables

    table = boolgrad.closed_form_table("float32", theta, **kw)
    tb = int(np.float32(table.meta.theta_used).view(np.uint32))
    pats = np.array([tb ^ (1 << i) for i in range(32)] + [tb], dtype=np.int64)
    near = (pats[:, None] + np.arange(-3, 4)).ravel() % (1 << 32)
    for divisor, clamp in ((1.0, False), (500.0, (0.0, 1.0))):
        plan = compile_plan(table, torch.float32, divisor=divisor, clamp=clamp)
        nt = neighbour_tables(plan, lambda pl, x: _gradient(pl, x, None))
        filled = np.flatnonzero(np.isnan(plan.PB.numpy()) & ~np.isnan(nt[2])) if nt is not None else []
        if kw.get("comparator") == "gt" and theta == 1.0:
            assert len(filled) > 10  # the case is exercised
        every = ((np.asarray(filled, dtype=np.int64)[:, None] << 16) + np.arange(1 << 16)).ravel()
        u = torch.from_numpy(np.concatenate([near, every]).astype(np.uint32).view(np.int32)).view(torch.float32)
        ref = plan_gradient_as(plan, u, torch.float32, fused=False)
        go = torch.rand(u.shape, generator=torch.Generator().manual_seed(7)) * 1e-3
        for protect in (True, False):
            _same(_kernel(plan, u, protect=protect), ref)
            _same(_kernel(plan, u, go, protect), ref * go)


_THREADS_SCRIPT = """
import torch
import boolgrad.torch as bt
torch.set_num_threads(1)
spike = bt.boolean_spike("bfloat16", 0.3, scale="unit_peak")
u = torch.linspace(-2, 2, 1 << 16, requires_grad=True)
spike(u).sum().backward()  # the first parallel numba launch of the process
print(torch.get_num_threads())
"""


def test_boolean_backward_keeps_torch_thread_count():
    # numba's OpenMP pool, started by the first parallel launch, resets OpenMP's thread count,
    # which torch reads: run in a fresh process, where that launch is the first
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split()[-1] == "1"


@pytest.mark.parametrize("kind", ["boolean_yj2025", "boolean_secant_clamp", "boolean_bf16", "boolean_fixed16",
                                  "boolean_matched"])
def test_zeros_and_infinities_take_the_slow_paths_values(kind):
    """The kernel flags +-0 and +-inf; their g comes from values the slow path computed once per
    plan (a silent layer's u = 0 is common in training): equal to the torch path's, bit for bit."""
    from boolgrad.study.kinds import KINDS

    spec = KINDS[kind].resolve(0.05) if KINDS[kind].matched else KINDS[kind]
    state = spec.spike(0.3).state
    g = torch.Generator().manual_seed(3)
    special = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 0.3])
    u = torch.cat([torch.rand(5000, generator=g) - 0.2, special.repeat(50)])
    u = u[torch.randperm(u.numel(), generator=g)]
    plan = state.plans(u, 0.3)[0]
    for go in (None, torch.rand(u.shape, generator=g)):
        ours = state.gradient(u, 0.3) if go is None else state.backward(u, 0.3, go, False)[0]
        ref = plan_gradient_as(plan, u, torch.float32, fused=False)
        _same(ours, ref if go is None else ref * go)
