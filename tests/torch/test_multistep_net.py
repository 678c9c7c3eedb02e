"""The study's network with its spiking layers fused equals ``SpikingNet.forward`` (the step loop)."""

import math

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("numba", reason="the fused LIF runs numba loops")

from boolgrad.study.kinds import KINDS
from boolgrad.study.train import SpikingNet
from boolgrad.torch.multistep import spiking_net_forward


@pytest.mark.parametrize("kind", ["boolean_yj2025", "boolean_bf16", "boolean_matched", "arctan", "rectangle"])
@pytest.mark.parametrize("scheme,readout,dt", [("exact", "mse_count", 0.5), ("authors", "ce_linear", 1.0),
                                               ("exact", "ce_linear", 0.125)])
def test_fused_network_equals_the_step_loop(kind, scheme, readout, dt):
    spec = KINDS[kind]
    spec = spec.resolve(0.02) if spec.matched else spec
    sizes = (5, 24, 16, 3)
    net = SpikingNet(sizes, spec.spike(0.3), dt_over_tau=dt, steps=round(8 / dt), scheme=scheme,
                     readout=readout, generator=torch.Generator().manual_seed(1))
    x = torch.rand(20, 5, generator=torch.Generator().manual_seed(2)) * 2
    y = torch.arange(20) % 3
    out1, us1 = spiking_net_forward(net, x, record=True)
    out2, us2 = net(x, record=True)
    assert torch.equal(out1, out2)
    for a, b in zip(us1, us2):
        assert torch.equal(a, b)
    assert 0 < float(out1.detach().abs().sum())
    grads = []
    for out in (out1, out2):
        loss = torch.nn.functional.cross_entropy(out * 3, y)
        grads.append(torch.autograd.grad(loss, list(net.parameters())))
    for a, b in zip(*grads):
        scale = float(b.abs().max())
        assert math.isfinite(scale)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 * max(scale, 1e-3))
