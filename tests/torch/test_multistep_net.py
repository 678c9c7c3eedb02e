"""The study's network: the fused engine equals the step loop, and K stacked models equal each
trained alone (``boolgrad.study.network``, ``boolgrad.study.train``, ``boolgrad.study.adam``)."""

import math

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("numba", reason="the fused LIF runs numba loops")

from boolgrad.study.adam import StackedAdam
from boolgrad.study.kinds import KINDS
from boolgrad.study.network import SpikingNet
from boolgrad.torch.linear import linear


def _net(kind, scheme, readout, dt, engine, seeds=(1,), detach_reset=False):
    spec = KINDS[kind]
    spec = spec.resolve(0.02) if spec.matched else spec
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    return SpikingNet((5, 24, 16, 3), spec.spike(0.3), dt_over_tau=dt, steps=round(8 / dt), scheme=scheme,
                      readout=readout, generator=gens, engine=engine, detach_reset=detach_reset)


@pytest.mark.parametrize("kind", ["boolean_yj2025", "boolean_bf16", "boolean_matched", "arctan", "rectangle"])
@pytest.mark.parametrize("scheme,readout,dt,detach", [("exact", "mse_count", 0.5, False), ("authors", "ce_linear", 1.0, False),
                                                      ("exact", "ce_linear", 0.125, False), ("exact", "mse_count", 0.5, True)])
def test_fused_network_equals_the_step_loop(kind, scheme, readout, dt, detach):
    nets = [_net(kind, scheme, readout, dt, engine, seeds=(1, 4), detach_reset=detach) for engine in ("fused", "step")]
    for a, b in zip(*(n.parameters() for n in nets)):
        assert torch.equal(a, b)  # the same initial weights
    x = torch.rand(2, 20, 5, generator=torch.Generator().manual_seed(2)) * 2
    y = torch.arange(40).reshape(2, 20) % 3
    (out1, us1), (out2, us2) = (n(x, record=True) for n in nets)
    assert out1.shape == (2, 20, 3)
    assert torch.equal(out1, out2)
    for a, b in zip(us1, us2):
        assert torch.equal(a, b)
    assert 0 < float(out1.detach().abs().sum())
    grads = []
    for net, out in zip(nets, (out1, out2)):
        loss = torch.nn.functional.cross_entropy((out * 3).flatten(0, 1), y.flatten())
        grads.append(torch.autograd.grad(loss, list(net.parameters())))
    for a, b in zip(*grads):
        scale = float(b.abs().max())
        assert math.isfinite(scale)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 * max(scale, 1e-3))


@pytest.fixture
def one_thread():
    """The study trains on one torch thread; with more, MKL splits a batched product by thread
    and a model's sums may round differently in a stack than alone."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("engine", ["fused", "step"])
def test_stacked_models_equal_each_alone(engine, one_thread):
    """Model k of a stack: its own initial weights, outputs and gradients, bit for bit."""
    stack = _net("boolean_yj2025", "exact", "ce_linear", 0.5, engine, seeds=(3, 1, 7))
    x = torch.rand(3, 20, 5, generator=torch.Generator().manual_seed(2)) * 2
    out = stack(x)
    grads = torch.autograd.grad(out.square().sum(), list(stack.parameters()))
    for k, seed in enumerate((3, 1, 7)):
        alone = _net("boolean_yj2025", "exact", "ce_linear", 0.5, engine, seeds=(seed,))
        for p, q in zip(stack.parameters(), alone.parameters()):
            assert torch.equal(p[k], q[0])
        out_k = alone(x[k:k + 1])
        assert torch.equal(out[k], out_k[0])
        for g, h in zip(grads, torch.autograd.grad(out_k.square().sum(), list(alone.parameters()))):
            assert torch.equal(g[k], h[0])


@pytest.mark.parametrize("n_out", [3, 10, 40])
def test_linear_is_the_matmul(n_out):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(7, 33, 64, generator=g, dtype=torch.float64).requires_grad_()
    w = torch.randn(64, n_out, generator=g, dtype=torch.float64).requires_grad_()
    y = linear(x, w)
    torch.testing.assert_close(y, x @ w, rtol=1e-12, atol=1e-12)
    gy = torch.randn(y.shape, generator=g, dtype=torch.float64)
    got = torch.autograd.grad(y, (x, w), gy)
    ref = torch.autograd.grad(x @ w, (x, w), gy)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    ws = torch.randn(3, 64, n_out, generator=g, dtype=torch.float64)
    xs = torch.rand(3, 5, 64, generator=g, dtype=torch.float64)
    torch.testing.assert_close(linear(xs, ws), xs @ ws, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="stacked models"):
        linear(xs[:2], ws)


def test_stacked_adam_is_torch_adam_per_model():
    g = torch.Generator().manual_seed(0)
    w0 = torch.randn(3, 6, 4, generator=g)
    grads = [torch.randn(3, 6, 4, generator=g) for _ in range(5)]
    lrs = (1e-3, 3e-2, 1e-3)
    p = w0.clone().requires_grad_()
    opt = StackedAdam([p], lrs)
    for gr in grads:
        p.grad = gr.clone()
        opt.step()
    for k, lr in enumerate(lrs):
        q = w0[k].clone().requires_grad_()
        ref = torch.optim.Adam([q], lr=lr)
        for gr in grads:
            q.grad = gr[k].clone()
            ref.step()
        assert torch.equal(p.detach()[k], q.detach())


def test_stacked_adam_of_one_model_is_torch_adam_on_every_parameter():
    """One learning rate (the foreach path): parameters of several shapes, gradients over many
    magnitudes, bit for bit torch.optim.Adam's single-tensor CPU path."""
    g = torch.Generator().manual_seed(1)
    shapes = [(1, 4, 128), (1, 3, 128), (1, 3)]
    w0 = [torch.randn(s, generator=g) for s in shapes]
    ours = [w.clone().requires_grad_() for w in w0]
    ref = [w.clone().requires_grad_() for w in w0]
    opt, ref_opt = StackedAdam(ours, [3e-3]), torch.optim.Adam(ref, lr=3e-3, foreach=False)
    for step in range(12):
        for i, s in enumerate(shapes):
            grad = torch.randn(s, generator=g) * 10.0 ** (step % 7 - 4)
            ours[i].grad, ref[i].grad = grad.clone(), grad.clone()
        opt.step()
        ref_opt.step()
    for a, b in zip(ours, ref):
        assert torch.equal(a.detach().view(torch.int32), b.detach().view(torch.int32))
    assert not torch.equal(ours[0].detach(), w0[0])


def test_detached_reset_changes_the_gradient_not_the_forward():
    a, b = (_net("arctan", "exact", "mse_count", 0.5, "fused", detach_reset=d) for d in (False, True))
    x = torch.rand(1, 20, 5, generator=torch.Generator().manual_seed(2)) * 2
    out_a, out_b = a(x), b(x)
    assert torch.equal(out_a, out_b)
    ga = torch.autograd.grad(out_a.square().sum(), list(a.parameters()))
    gb = torch.autograd.grad(out_b.square().sum(), list(b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(ga, gb))
