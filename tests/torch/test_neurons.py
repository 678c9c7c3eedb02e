"""Neurons and layers: hand-computed sequences, naive loops, gradients of theta and leak."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import math

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.layers import (
    CentralThresholdLinear,
    DendriteSpikeLinear,
    MultiThresholdLinear,
)
from boolgrad.torch.neurons import IF, LIF, SRM, Halving, lif_step


def seq(*xs):
    return torch.tensor(xs, dtype=torch.float64).reshape(len(xs), 1)


def flat(t):
    return [round(v, 12) for v in t.flatten().tolist()]


def test_lif_zero_reset_by_hand():
    d = math.exp(-1 / 2)
    out, state = LIF(bt.surrogate("arctan", 1.0), tau=2.0).run(seq(0.6, 0.6, 0.6, 0.6))
    u1 = 0.6 * d + 0.6
    u2 = u1 * d + 0.6  # 1.1846 > 1: spike
    assert flat(out) == [0.0, 0.0, 1.0, 0.0]
    assert round(u2, 12) > 1
    assert flat(state.u) == [round(0.6, 12)]  # u3 = u2 d (1 - 1) + 0.6


def test_lif_dt_and_subtract_reset_by_hand():
    d = math.exp(-2 / 3)  # dt = 2, tau = 3: one argument makes the step coarser
    lif = LIF(bt.surrogate("sigmoid", 1.0), tau=3.0, dt=2.0, reset="subtract", reset_by=1.0)
    state, us = None, []
    for x in (0.8, 0.7, 0.2):
        _, state = lif(torch.tensor([x], dtype=torch.float64), state)
        us.append(state.u.item())
    u0 = 0.8
    u1 = u0 * d + 0.7  # 1.1106: spike
    u2 = u1 * d - 1.0 + 0.2
    assert [round(u, 12) for u in us] == [round(u, 12) for u in (u0, u1, u2)]


def test_if_by_hand():
    out, state = IF(bt.surrogate("triangle", 1.0)).run(seq(0.4, 0.4, 0.4, 0.4, 0.4))
    assert flat(out) == [0.0, 0.0, 1.0, 0.0, 0.0]  # 0.4, 0.8, 1.2 (spike), 0.4, 0.8
    assert flat(state.u) == [0.8]


def test_srm_by_hand():
    tm, ts, tr = 4.0, 1.0, 2.0
    norm = tm / (tm - ts)
    kernel = [(math.exp(-t / tm) - math.exp(-t / ts)) * norm for t in range(4)]  # unit input at t = 0
    # kernel = 0, 0.5479, 0.6283, 0.5635
    out, _ = SRM(bt.surrogate("triangle", 0.7), tau_m=tm, tau_s=ts, tau_r=tr).run(seq(1.0, 0.0, 0.0, 0.0))
    assert flat(out) == [0.0, 0.0, 0.0, 0.0]
    out2, state = SRM(bt.surrogate("triangle", 0.55), tau_m=tm, tau_s=ts, tau_r=tr, reset_by=1.0).run(
        seq(1.0, 0.0, 0.0, 0.0)
    )
    # t = 2 fires (0.6283 >= 0.55); the refractory term then makes u3 = 0.5635 - 1
    assert flat(out2) == [0.0, 0.0, 1.0, 0.0]
    assert round(state.r.item(), 12) == -1.0
    u3 = (state.a - state.b).item() * norm + state.r.item()
    assert round(u3, 12) == round(kernel[3] - 1.0, 12)


def test_halving_neuron_seed_003_by_hand():
    out, state = Halving(bt.surrogate("triangle", 1.0), leak=0.5, learn_leak=False).run(
        seq(0.6, 0.6, 0.6, 0.3)
    )
    # 0.6 (v 0.3), 0.9 (v 0.45), 1.05 fires: outputs 1.05, resets; 0.3 (v 0.15)
    assert flat(out) == [0.0, 0.0, 1.05, 0.0]
    assert flat(state.v) == [0.15]


def test_halving_leak_and_threshold_gradients_by_hand():
    """L = v after two steps of 0.6 (theta 1, leak 0.5, triangle g(x) = max(0, 1 - |x|)).

    p0 = 0.6, v0 = 0.3, p1 = 0.9, v1 = 0.45, no spike.  Hand derivation:
    dL/dleak = (p1 + leak 0.6) - p1 leak g(p1 - 1) 0.6 = 1.2 - 0.27 * 0.9
    dL/dtheta = -p1 leak (-g(p1-1) + g(p1-1) dp1/dtheta) + leak dp1/dtheta,
      dp1/dtheta = p0 leak g(p0 - 1) = 0.3 * 0.6
    """
    spike = bt.surrogate("triangle", 1.0, learn_theta=True)
    neuron = Halving(spike, leak=0.5, learn_leak=True)
    _, state = neuron.run(seq(0.6, 0.6))
    state.v.sum().backward()
    dp1 = 0.3 * 0.6
    assert neuron.leak.grad.item() == pytest.approx(1.2 - 0.27 * 0.9, rel=1e-6)  # float32 parameters
    expected_theta = -0.45 * (-0.9 + 0.9 * dp1) + 0.5 * dp1
    assert spike.theta.grad.item() == pytest.approx(expected_theta, rel=1e-6)


def test_boolean_spike_in_a_neuron_uses_the_table():
    table = boolgrad.build_table("bfloat16", 1.0, device="cpu")
    x = torch.tensor([[0.9], [0.5]], dtype=torch.float32, requires_grad=True)
    out, state = LIF(bt.boolean_spike(table), tau=2.0).run(x)
    out[-1].sum().backward()
    u1 = (0.9 * torch.tensor(math.exp(-0.5), dtype=torch.float32) + 0.5).item()
    u0 = float(torch.tensor(0.9, dtype=torch.float32))
    g1, g0 = table.gradient([u1, u0])  # the table at each element's own value
    d = float(torch.tensor(math.exp(-0.5), dtype=torch.float32))
    assert x.grad[1].item() == pytest.approx(g1, rel=1e-6)  # dL/dx1 = g(u1)
    # dL/dx0 = g(u1) du1/du0, u1 = u0 d (1 - s0) + x1: d (1 - s0) - u0 d g(u0)
    # (the two terms nearly cancel: float32 rounding of terms ~5 allows ~1e-6 absolute)
    assert x.grad[0].item() == pytest.approx(g1 * (d - u0 * d * g0), abs=2e-6)


def test_detach_reset_cuts_the_reset_path():
    x = seq(1.2, 0.3).requires_grad_()
    lif = LIF(bt.surrogate("straight_through", 1.0), tau=2.0, detach_reset=False)
    _, st = lif.run(x)
    st.u.sum().backward()
    g_attached = x.grad.clone()
    x.grad = None
    _, st = LIF(bt.surrogate("straight_through", 1.0), tau=2.0, detach_reset=True).run(x)
    st.u.sum().backward()
    d = math.exp(-0.5)
    # u1 = u0 d (1 - s0) + x1; attached: du1/dx0 = d (1 - s0) - u0 d ds0/du0 = 0 - 1.2 d
    assert round(g_attached[0].item(), 12) == round(-1.2 * d, 12)
    assert x.grad[0].item() == 0.0  # detached: only d (1 - s0) = 0


def test_step_validation():
    with pytest.raises(ValueError, match="reset"):
        LIF(bt.surrogate("arctan", 1.0), reset="hard")
    with pytest.raises(ValueError, match="dt"):
        lif_step(torch.zeros(1), None, LIF(bt.surrogate("arctan", 1.0)).params(), dt=0.0)
    with pytest.raises(ValueError, match="tau_m != tau_s"):
        SRM(bt.surrogate("arctan", 1.0), tau_m=2.0, tau_s=2.0)


# -- layers (seed 002) ------------------------------------------------------------------------------
def test_multi_threshold_layer_equals_naive_loop():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64).requires_grad_()
    layer = MultiThresholdLinear(5, 4).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(4, 5, generator=g, dtype=torch.float64))
    y = layer(x)
    x2 = x.detach().clone().requires_grad_()
    W2 = layer.weight.detach().clone().requires_grad_()
    b2 = layer.bias.detach().clone().requires_grad_()
    rows = []
    for n in range(7):
        rows.append(
            torch.stack([sum(torch.relu(W2[j, i] * x2[n, i]) for i in range(5)) + b2[j] for j in range(4)])
        )
    y2 = torch.stack(rows)
    torch.testing.assert_close(y, y2, rtol=1e-12, atol=1e-12)
    w = torch.randn(7, 4, generator=g, dtype=torch.float64)
    (y * w).sum().backward()
    (y2 * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(layer.weight.grad, W2.grad)
    torch.testing.assert_close(layer.bias.grad, b2.grad)


def test_multi_threshold_blog_example():
    layer = MultiThresholdLinear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, -2.0, 0.0], [-4.0, 2.0, 4.0]]))
        layer.bias.copy_(torch.tensor([2.0, -1.0]))
    assert layer(torch.tensor([2.0, 5.0, 1.0])).tolist() == [8.0, 13.0]  # the seed's worked example
    central = CentralThresholdLinear(3, 2)
    with torch.no_grad():
        central.weight.copy_(layer.weight)
        central.bias.copy_(layer.bias)
    assert central(torch.tensor([2.0, 5.0, 1.0])).tolist() == [0.0, 5.0]


@pytest.mark.parametrize("spike", ["surrogate", "boolean"])
def test_dendrite_spike_layer_equals_naive_loop(spike):
    fn = (
        bt.surrogate("fast_sigmoid", 0.5)
        if spike == "surrogate"
        else bt.boolean_spike(boolgrad.build_table("bfloat16", 0.5, device="cpu"))
    )
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 5, generator=g).requires_grad_()
    layer = DendriteSpikeLinear(5, 3, fn, chunk=2)
    y = layer(x)
    x2 = x.detach().clone().requires_grad_()
    W2 = layer.weight.detach().clone().requires_grad_()
    y2 = torch.stack(
        [torch.stack([sum(fn(W2[j, i] * x2[n, i]) for i in range(5)) for j in range(3)]) for n in range(6)]
    )
    assert torch.equal(y, y2)
    y.sum().backward()
    y2.sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(layer.weight.grad, W2.grad)
