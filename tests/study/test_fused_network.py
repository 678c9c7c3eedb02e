"""The fused engine's one autograd node (``boolgrad.study.fused_network``) is the layer-by-layer
chain of autograd nodes bit for bit: outputs, every layer's ``u`` and every parameter's gradient,
for every readout, reset option, input encoding, depth and stack; and the loop's spike count over
time is ``s.mean(t)``."""

import itertools

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("numba", reason="the fused LIF runs numba loops")

from boolgrad.study.kinds import KINDS
from boolgrad.study.network import SpikingNet

CASES = list(itertools.product(["arctan", "boolean_yj2025", "rectangle", "boolean_matched"],
                               ["ce_linear", "mse_count"], [0.5, 1.0], [False, True], [False, True],
                               [(5, 24, 3), (5, 24, 16, 3), (5, 20, 40)]))


def _net(kind, readout, dt, detach, temporal, sizes, seeds=(1, 4), dtype=torch.float32):
    spec = KINDS[kind]
    spec = spec.resolve(0.02) if spec.matched else spec
    net = SpikingNet(sizes, spec.spike(0.3), dt_over_tau=dt, steps=round(8 / dt), scheme="exact", readout=readout,
                     generator=[torch.Generator().manual_seed(s) for s in seeds], engine="fused",
                     detach_reset=detach, temporal=temporal)
    return net.to(dtype)


def _inputs(net, temporal, n_in, dtype=torch.float32):
    g = torch.Generator().manual_seed(3)
    if temporal:
        return (torch.rand(net.models, 20, net.steps, n_in, generator=g) < 0.3).to(dtype)
    return (torch.rand(net.models, 20, n_in, generator=g) * 2).to(dtype)


@pytest.mark.parametrize("kind,readout,dt,detach,temporal,sizes", CASES)
def test_one_node_is_the_chain_bit_for_bit(kind, readout, dt, detach, temporal, sizes, monkeypatch):
    from boolgrad.study import fused_network
    from boolgrad.torch.multistep import loops

    monkeypatch.setattr(fused_network, "RECOMPUTE_BYTES", 0)  # every unrecorded surrogate layer recomputes u
    calls, recompute = [], loops.backward_recompute
    monkeypatch.setattr(loops, "backward_recompute", lambda *a: calls.append(1) or recompute(*a))
    net = _net(kind, readout, dt, detach, temporal, sizes)
    x = _inputs(net, temporal, sizes[0])
    y = torch.arange(40).reshape(2, 20) % 3
    got = []
    for path in ("node", "chain", "node, u not recorded"):
        if path == "chain":
            out, us = net.chain(x.transpose(1, 2) if temporal else x, True)
        else:
            out, us = (net(x, record=True) if path == "node" else (net(x), []))
        loss = torch.nn.functional.cross_entropy((out * 3).flatten(0, 1)[:, :3], y.flatten())
        got.append((out.detach(), us, torch.autograd.grad(loss, list(net.parameters()))))
    (o1, u1, g1), (o2, u2, g2), (o3, _, g3) = got
    assert o1.view(torch.int32).equal(o2.view(torch.int32))
    assert o3.view(torch.int32).equal(o2.view(torch.int32))
    assert len(u1) == len(u2) == len(sizes) - (2 if readout == "ce_linear" else 1)
    for a, b in zip(u1, u2):
        assert a.view(torch.int32).equal(b.view(torch.int32))
    for a, b, c in zip(g1, g2, g3):  # unrecorded, a surrogate's last layer computes u again in its backward
        assert a.view(torch.int32).equal(b.view(torch.int32))
        assert c.view(torch.int32).equal(b.view(torch.int32))
    assert any(float(g.abs().sum()) > 0 for g in g1)
    assert bool(calls) == (KINDS[kind].family == "surrogate")  # only unrecorded, only a surrogate's loop


def test_float64_and_no_grad_take_the_node_too():
    net = _net("boolean_yj2025", "ce_linear", 0.5, False, False, (5, 24, 3), dtype=torch.float64)
    x = _inputs(net, False, 5, torch.float64)
    with torch.no_grad():
        out = net(x)
    assert out.dtype == torch.float64
    assert torch.equal(out, net.chain(x)[0].detach())
    assert set(net._network_plans) == {torch.float64}  # planned once, for this dtype


def test_an_input_that_requires_grad_takes_the_chain():
    net = _net("arctan", "ce_linear", 0.5, False, False, (5, 24, 3))
    x = _inputs(net, False, 5).requires_grad_()
    (gx,) = torch.autograd.grad(net(x).sum(), x)
    assert float(gx.abs().sum()) > 0
    assert not hasattr(net, "_network_plans")


@pytest.mark.parametrize("steps", [1, 3, 7, 16, 25, 64])
def test_the_loops_spike_count_is_the_mean_over_time(steps):
    import boolgrad.torch as bt
    from boolgrad.torch.multistep.lif import layer_config, loop_plan
    from boolgrad.torch.neurons import LIFParams

    params = LIFParams(bt.surrogate("arctan", 0.3), beta=0.8)
    cfg, theta = layer_config(params, steps=None, time_dim=1)
    plan = loop_plan(cfg, theta, torch.float32)
    current = torch.rand(3, steps, 50, 7, generator=torch.Generator().manual_seed(steps)) * 0.6
    u, s = plan.forward(current, 3, steps, False)
    u2, rate = plan.forward(current, 3, steps, False, keep_s=False)
    assert torch.equal(u, u2)
    assert rate.shape == (3, 50, 7)
    assert rate.view(torch.int32).equal(s.mean(1).view(torch.int32))
    assert 0 < float(s.mean()) < 1
