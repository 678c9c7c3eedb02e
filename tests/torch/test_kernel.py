"""The CPU kernel's fast paths are exact: bit for bit equal to the torch path (itself exact).

Covers what the numba loop adds over a plain lookup: rounding to a narrower float format by
``(|v| + C) - C``, buckets cut by one bound (``plan.split``) or several (``plan.mixed``), and
float32 results that are subnormal (built from bits in :func:`fix`, with and without
``protect``).
"""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import boolgrad
from boolgrad.torch.lookup import compile_plan, cpu_kernel, plan_gradient_as

pytestmark = pytest.mark.skipif(not cpu_kernel.available(), reason="numba not installed: one CPU path only")


def _kernel(plan, u, go=None, protect=True):
    """The kernel's result (slow path included), protect forced on or off."""
    a = u.numpy()
    out = np.empty_like(a)
    bad = np.empty(a.shape, dtype=np.bool_)
    kp = cpu_kernel.params(plan)
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64)
    g = None if go is None else go.numpy()
    cpu_kernel.run(bits, a, g, out, bad, kp, 2, state=[1, protect])
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
    assert not plan.fits
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
        assert plan.split is not None and (plan.mixed[0] >= 0).sum() > (~np.isinf(plan.split[0])).sum()


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
    for n in (u.numel(), 50000):  # the parallel and the serial loop
        _same(_kernel(plan, u[:n], go[:n], protect), (ref * go)[:n])
        _same(_kernel(plan, u[:n], None, protect), ref[:n])


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
