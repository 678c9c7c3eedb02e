"""Surrogate zoo: backward == autograd of the smooth primitive; forward, ties, learnable theta."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

import boolgrad.torch as bt
from boolgrad.torch.surrogates import PRIMITIVES, SURROGATE_GRADS

#: non-default parameters per surrogate (the defaults are tested too)
PARAMS = {
    "rectangle": dict(width=0.3, height=2.0),
    "sigmoid": dict(slope=7.0),
    "fast_sigmoid": dict(slope=3.0),
    "arctan": dict(alpha=3.5),
    "triangle": dict(width=0.7, height=1.5),
    "gaussian": dict(sigma=0.2, height=0.5),
    "exponential": dict(tau=0.25, scale=2.0),
    "straight_through": {},
}


def _points(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(4000, generator=g, dtype=torch.float64) * 1.5 + 0.4


@pytest.mark.parametrize("params", ["default", "custom"])
@pytest.mark.parametrize("name", list(SURROGATE_GRADS))
def test_backward_is_derivative_of_primitive(name, params):
    kw = {} if params == "default" else PARAMS[name]
    theta = 0.4
    u = _points()
    x = (u - theta).requires_grad_()
    PRIMITIVES[name](x, **kw).sum().backward()
    expected = x.grad
    spike = bt.surrogate(name, theta, **kw)
    v = u.clone().requires_grad_()
    s = spike(v)
    s.backward(torch.ones_like(v))
    torch.testing.assert_close(v.grad, expected, rtol=1e-12, atol=1e-14)
    assert torch.equal(s, (u >= theta).double())


@pytest.mark.parametrize("name", list(SURROGATE_GRADS))
def test_learnable_theta_gets_minus_g(name):
    spike = bt.surrogate(name, 0.25, learn_theta=True)
    u = _points(1).float()
    w = torch.rand(u.shape, generator=torch.Generator().manual_seed(2))
    (spike(u) * w).sum().backward()
    g = SURROGATE_GRADS[name](u.double() - 0.25)
    torch.testing.assert_close(spike.theta.grad.double(), -(w.double() * g).sum(), rtol=1e-5, atol=1e-6)


def test_tensor_theta_broadcasts_and_reduces():
    theta = torch.tensor([[0.0], [1.0]], requires_grad=True)  # one threshold per row
    u = torch.tensor([[-0.5, 0.0, 0.5], [0.5, 1.0, 1.5]], requires_grad=True)
    s = bt.surrogate("triangle", 0.0)(u, theta)
    assert s.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    s.sum().backward()
    assert theta.grad.shape == (2, 1)
    assert theta.grad.flatten().tolist() == [-2.0, -2.0]  # -(0.5 + 1 + 0.5) per row
    assert u.grad.tolist() == [[0.5, 1.0, 0.5], [0.5, 1.0, 0.5]]


def test_tie_rule():
    u = torch.tensor([0.999, 1.0, 1.001])
    assert bt.surrogate("arctan", 1.0)(u).tolist() == [0.0, 1.0, 1.0]
    assert bt.surrogate("arctan", 1.0, comparator="gt")(u).tolist() == [0.0, 0.0, 1.0]
    assert bt.surrogate("arctan", 1.0)(torch.tensor([float("nan")])).item() == 0.0


def test_rectangle_window_is_open():
    u = torch.tensor([0.5, 0.5000001, 1.0, 1.4999999, 1.5], dtype=torch.float64, requires_grad=True)
    bt.surrogate("rectangle", 1.0)(u).sum().backward()
    assert u.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_arctan_is_snntorchs_bit_for_bit():
    surrogate = pytest.importorskip("snntorch.surrogate", reason="snntorch not installed")
    x = (torch.randn(10000) * 2).requires_grad_()
    surrogate.atan(alpha=2.0)(x).sum().backward()
    u = (x.detach() + 0.0).requires_grad_()
    bt.surrogate("atan", 0.0)(u).sum().backward()
    assert torch.equal(u.grad, x.grad)


def test_aliases_and_errors():
    assert bt.surrogate("superspike", 1.0).name == "fast_sigmoid"
    assert bt.surrogate("SLAYER", 1.0).name == "exponential"
    with pytest.raises(ValueError, match="unknown surrogate"):
        bt.surrogate("boolean", 1.0)
    with pytest.raises(TypeError, match="takes"):
        bt.surrogate("arctan", 1.0, slope=3)
    with pytest.raises(ValueError, match="positive"):
        bt.surrogate("sigmoid", 1.0, slope=-1)
    with pytest.raises(ValueError, match="comparator"):
        bt.surrogate("sigmoid", 1.0, comparator="le")
