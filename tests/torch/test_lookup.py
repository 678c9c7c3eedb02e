"""The lookup's paths agree element for element: numba CPU kernel == torch operations."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

from _tables import FLOAT32_SPECS, float32_samples, float32_table

import boolgrad
from boolgrad.torch.lookup import compile_plan, cpu_kernel, grad_input, plan_gradient_as

needs_numba = pytest.mark.skipif(not cpu_kernel.available(), reason="numba not installed: one CPU path only")


def _pool(table, dtype, n=300000, seed=0):
    values = torch.from_numpy(float32_samples(table, n_random=5000, seed=seed)).to(dtype)
    g = torch.Generator().manual_seed(seed)
    theta = table.meta.theta_used
    near = torch.randn(n, generator=g, dtype=torch.float64) * 0.5 + theta  # the parallel loop
    return torch.cat([values, near.to(dtype), torch.tensor([theta, 0.0, -0.0], dtype=dtype)])


@needs_numba
@pytest.mark.parametrize("clamp", [False, True, (0.0, 1.0)], ids=str)
@pytest.mark.parametrize("name", list(FLOAT32_SPECS))
def test_cpu_kernel_equals_torch_path_float32(name, clamp):
    table = float32_table(name)
    u = _pool(table, torch.float32)
    plan = compile_plan(table, torch.float32, divisor=500.0 if clamp else 1.0, clamp=clamp)
    fused = plan_gradient_as(plan, u, torch.float32, fused=True)
    torch_path = plan_gradient_as(plan, u, torch.float32, fused=False)
    assert torch.equal(fused.view(torch.int32), torch_path.view(torch.int32))  # bit for bit, NaN-free
    w = torch.rand(u.shape, generator=torch.Generator().manual_seed(1))
    assert torch.equal(grad_input(plan, u, w, fused=True), torch_path * w)
    small = u[:1000]  # the serial loop
    assert torch.equal(plan_gradient_as(plan, small, torch.float32), torch_path[:1000])


@needs_numba
@pytest.mark.parametrize("fmt", ["bfloat16", "fixed16.12", "float16", "e5m2", "float8_e4m3fn"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_cpu_kernel_equals_torch_path_other_formats(fmt, dtype):
    """Tables narrower than the dtype: the kernel rounds v to the format exactly as quantize()."""
    table = boolgrad.build_table(fmt, 0.3, comparator="gt", device="cpu")
    g = torch.Generator().manual_seed(2)
    u = torch.cat(
        [torch.randn(100000, generator=g, dtype=torch.float64) * 2, torch.tensor([0.3, 1e300, -1e-300])]
    )
    u = u.to(dtype)
    plan = compile_plan(table, dtype)
    fused = plan_gradient_as(plan, u, dtype, fused=True)
    torch_path = plan_gradient_as(plan, u, dtype, fused=False)
    assert torch.equal(fused, torch_path)
    assert torch.isfinite(fused).all()
