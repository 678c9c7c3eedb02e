"""GPU: the CUDA paths (fused Triton kernel and unfused) give the CPU's gradients bit for bit."""



import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import numpy as np
from _tables import FLOAT32_SPECS, float32_samples, float32_table

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.lookup import compile_plan, plan_gradient_as

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cuda():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    return torch.device("cuda")


def _cpu_grad(spike, u):
    u = u.detach().clone().requires_grad_()
    spike(u).backward(torch.ones_like(u))
    return u.grad


@pytest.mark.parametrize("name", list(FLOAT32_SPECS))
@pytest.mark.parametrize("scale", ["none", "clamp", "unit_peak"])
def test_float32_gpu_equals_cpu(cuda, name, scale):
    table = float32_table(name)
    values = torch.from_numpy(float32_samples(table))
    values = torch.cat([values, torch.randn(200000) * 0.5 + table.meta.theta_used])
    d = {"none": 1.0, "clamp": 500.0, "unit_peak": table.peak()[0]}[scale]
    cpu = plan_gradient_as(
        compile_plan(table, torch.float32, "cpu", d, scale == "clamp"), values, torch.float32
    )
    plan = compile_plan(table, torch.float32, cuda, d, scale == "clamp")
    fused = plan_gradient_as(plan, values.to(cuda), torch.float32, fused=True).cpu()
    unfused = plan_gradient_as(plan, values.to(cuda), torch.float32, fused=False).cpu()
    assert torch.equal(unfused, cpu)
    assert torch.equal(fused, cpu)
    g = _cpu_grad(bt.boolean_spike(table, scale=scale), values.to(cuda)).cpu()
    assert torch.equal(g, cpu)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_16bit_tables_gpu_equals_cpu(cuda, dtype):
    table = boolgrad.build_table("bfloat16", 0.3, comparator="gt", device="cpu")
    u = torch.cat(
        [torch.randn(100000) * 2, torch.tensor([0.0, -0.0, float("inf"), -float("inf"), float("nan")])]
    ).to(dtype)
    spike = bt.boolean_spike(table)
    assert torch.equal(_cpu_grad(spike, u.to(cuda)).cpu(), _cpu_grad(spike, u))
    assert torch.equal(spike(u.to(cuda)).cpu(), spike(u))


@pytest.mark.parametrize("name", ["arctan", "rectangle", "sigmoid", "gaussian"])
def test_surrogates_gpu(cuda, name):
    u = torch.randn(10000) + 1.0
    spike = bt.surrogate(name, 1.0)
    torch.testing.assert_close(_cpu_grad(spike, u.to(cuda)).cpu(), _cpu_grad(spike, u))


def test_fused_kernel_was_used(cuda):
    from boolgrad.torch.lookup.triton_kernel import fused_available

    if not fused_available():
        pytest.skip("Triton is not importable: the unfused CUDA path is the one in use")
    table = float32_table("float32_1.0_secant_ge")
    plan = compile_plan(table, torch.float32, cuda)
    u = torch.randn(1 << 20, device=cuda) * 0.5 + 1.0
    a = plan_gradient_as(plan, u, torch.float32, fused=True)
    b = plan_gradient_as(plan, u, torch.float32, fused=False)
    assert torch.equal(a, b)
    assert np.isfinite(a.cpu().numpy()).all()


@pytest.mark.parametrize("kind", ["arctan", "rectangle", "fast_sigmoid", "boolean"])
@pytest.mark.parametrize("reset,detach,steps", [("zero", False, None), ("subtract", True, None), ("zero", False, 12)])
def test_fused_lif_on_cuda_is_the_cpu_loops(cuda, kind, reset, detach, steps):
    """The fused LIF's Triton kernels (``boolgrad.torch.multistep.triton_loops``) against the numba
    loops on the same currents: spikes, ``u`` and the current's gradient, bit for bit."""
    from boolgrad.torch.multistep import lif_sequence
    from boolgrad.torch.neurons import LIFParams

    spike = bt.boolean_spike(float32_table("float32_0.3_secant_gt"), scale="clamp") if kind == "boolean" else (
        bt.surrogate(kind, 0.3))
    params = LIFParams(spike, 2.0, reset, 0.3, detach)
    g = torch.Generator().manual_seed(0)
    shape = (3, 40, 200) if steps is None else (3, 200)
    current = torch.rand(shape, generator=g) * 0.6
    grad_s = torch.randn((3, 40 if steps is None else steps, 200), generator=g)
    out = []
    for device in ("cpu", cuda):
        x = current.to(device).requires_grad_()
        s, u = lif_sequence(x, params, 0.5, steps=steps, gain=0.4, time_dim=1)
        (gx,) = torch.autograd.grad(s, x, grad_s.to(device))
        out.append([t.detach().cpu() for t in (s, u, gx)])
    for a, b in zip(*out):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32))
    assert float(out[0][0].sum()) > 0 and float(out[0][2].abs().sum()) > 0
