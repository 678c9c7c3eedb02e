"""Adapters: snnTorch, SpikingJelly, Sinabs and Norse give the same gradients as our own neurons."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

from _tables import float32_table

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.neurons import IF, LIF


@pytest.fixture(scope="module")
def table_gt():
    return float32_table("float32_0.3_secant_gt")  # snnTorch's tie rule


@pytest.fixture(scope="module")
def table_ge():
    return float32_table("float32_1.0_secant_ge")  # SpikingJelly's and Sinabs'


def _run_ours(neuron, fc, xs):
    state, outs, us = None, [], []
    for x in xs:
        s, state = neuron(fc(x), state)
        outs.append(s)
        us.append(getattr(state, "u", None))
    return torch.stack(outs), us


def _loss(spikes):
    return spikes.sum() + 0.5 * (spikes[-1] * torch.linspace(0, 1, spikes.shape[-1])).sum()


# -- snnTorch -------------------------------------------------------------------------------------------
def _snntorch_net(lif, W, xs):
    fc = torch.nn.Linear(W.shape[1], W.shape[0], bias=False)
    with torch.no_grad():
        fc.weight.copy_(W)
    mem = lif.init_leaky()
    spikes, mems = [], []
    for x in xs:
        spk, mem = lif(fc(x), mem)
        spikes.append(spk)
        mems.append(mem)
    return fc, torch.stack(spikes), mems


def _our_net(spike, W, xs, beta):
    fc = torch.nn.Linear(W.shape[1], W.shape[0], bias=False)
    with torch.no_grad():
        fc.weight.copy_(W)
    neuron = LIF(spike, beta=beta, detach_reset=True)  # snnTorch detaches the reset
    spikes, us = _run_ours(neuron, fc, xs)
    return fc, spikes, us


@pytest.mark.parametrize("mode", ["spike_grad", "exact"])
def test_snntorch_leaky_training_step_matches_our_lif(table_gt, mode):
    snn = pytest.importorskip("snntorch", reason="snntorch not installed")
    from boolgrad.torch.adapters.snntorch import BooleanLeaky, spike_grad

    g = torch.Generator().manual_seed(0)
    beta, theta = 0.8, float(torch.tensor(0.3))
    if mode == "spike_grad":
        # inputs that keep every potential in [theta/2, 2 theta], where mem - theta is exact
        xs = 0.75 + 0.25 * torch.rand(8, 5, 4, generator=g)
        W = 0.05 + 0.025 * torch.rand(3, 4, generator=g)
        lif = snn.Leaky(
            beta=beta, threshold=theta, spike_grad=spike_grad(table_gt, theta), reset_mechanism="zero"
        )
    else:  # any inputs: the exact mode reads mem's own bits
        xs = torch.randn(8, 5, 4, generator=g)
        W = torch.randn(3, 4, generator=g) * 0.5
        lif = BooleanLeaky(beta, table_gt, reset_mechanism="zero")
    fc1, s1, mems = _snntorch_net(lif, W, xs)
    fc2, s2, us = _our_net(bt.boolean_spike(table_gt), W, xs, beta)
    assert torch.equal(s1, s2)
    assert all(torch.equal(a, b) for a, b in zip(mems, us))
    if mode == "spike_grad":
        assert all(torch.equal((m - theta) + theta, m) for m in mems)  # the precondition held
    assert 0 < s1.sum() < s1.numel()  # some spikes, not all
    _loss(s1).backward()
    _loss(s2).backward()
    assert fc1.weight.grad.abs().sum() > 0
    assert torch.equal(fc1.weight.grad, fc2.weight.grad)
    for fc in (fc1, fc2):  # the training step itself
        torch.optim.SGD(fc.parameters(), lr=0.1).step()
    assert torch.equal(fc1.weight, fc2.weight)


def test_snntorch_tie_does_not_fire(table_gt):
    pytest.importorskip("snntorch", reason="snntorch not installed")
    from boolgrad.torch.adapters.snntorch import spike_grad

    theta = float(torch.tensor(0.3))
    sg = spike_grad(table_gt, theta)
    t = torch.tensor(theta)
    mem = torch.stack([t, torch.nextafter(t, torch.tensor(1.0))]).requires_grad_()
    s = sg(mem - theta)
    assert s.tolist() == [0.0, 1.0]  # snnTorch: mem - threshold > 0
    s.sum().backward()
    expected = table_gt.gradient(mem.detach().double().numpy())
    assert mem.grad.tolist() == torch.tensor(expected, dtype=torch.float32).tolist()
    with pytest.raises(ValueError, match="comparator"):
        spike_grad(float32_table("float32_1.0_secant_ge"), 1.0)  # a ge table for a gt host


def test_snntorch_learnable_threshold_uses_theta_table():
    pytest.importorskip("snntorch", reason="snntorch not installed")
    from boolgrad.torch.adapters.snntorch import BooleanLeaky

    table = boolgrad.build_table("bfloat16", 0.5, comparator="gt", device="cpu")
    g = torch.Generator().manual_seed(1)
    xs = torch.rand(6, 4, 3, generator=g)
    W = torch.rand(2, 3, generator=g) * 0.5
    lif = BooleanLeaky(0.7, table, reset_mechanism="zero", learn_threshold=True)
    fc1, s1, _ = _snntorch_net(lif, W, xs)
    spike = bt.boolean_spike(table, learn_theta=True)
    fc2, s2, _ = _our_net(spike, W, xs, 0.7)
    assert torch.equal(s1, s2)
    _loss(s1).backward()
    _loss(s2).backward()
    assert lif.threshold.grad is not None and lif.threshold.grad != 0
    assert torch.equal(lif.threshold.grad, spike.theta.grad)
    assert torch.equal(fc1.weight.grad, fc2.weight.grad)


# -- SpikingJelly -----------------------------------------------------------------------------------------
def test_spikingjelly_ifnode_matches_our_if(table_ge):
    neuron = pytest.importorskip(
        "spikingjelly.activation_based.neuron", reason="spikingjelly not importable next to this torch"
    )
    from boolgrad.torch.adapters.spikingjelly import BooleanSurrogate

    g = torch.Generator().manual_seed(2)
    xs = 0.5 + 0.3 * torch.rand(6, 5, 4, generator=g)  # potentials stay in [0.5, 2]
    W = 0.25 + 0.1 * torch.rand(3, 4, generator=g)
    fc1 = torch.nn.Linear(4, 3, bias=False)
    fc2 = torch.nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        fc1.weight.copy_(W)
        fc2.weight.copy_(W)
    node = neuron.IFNode(
        v_threshold=1.0, v_reset=0.0, surrogate_function=BooleanSurrogate(table_ge, 1.0), detach_reset=True
    )
    s1 = torch.stack([node(fc1(x)) for x in xs])
    s2, _ = _run_ours(IF(bt.boolean_spike(table_ge), detach_reset=True), fc2, xs)
    assert torch.equal(s1, s2) and 0 < s1.sum() < s1.numel()
    _loss(s1).backward()
    _loss(s2).backward()
    assert torch.equal(fc1.weight.grad, fc2.weight.grad)


def test_spikingjelly_tie_fires(table_ge):
    from boolgrad.torch.adapters.spikingjelly import BooleanSurrogate

    one = torch.tensor(1.0)
    v = torch.stack([one, torch.nextafter(one, torch.tensor(0.0))]).requires_grad_()
    s = BooleanSurrogate(table_ge, 1.0)(v - 1.0)
    assert s.tolist() == [1.0, 0.0]  # SpikingJelly's heaviside: x >= 0
    s.sum().backward()
    assert (
        v.grad.tolist()
        == torch.tensor(table_ge.gradient(v.detach().double().numpy()), dtype=torch.float32).tolist()
    )


# -- Sinabs -------------------------------------------------------------------------------------------------
def test_sinabs_iaf_matches_our_if(table_ge):
    layers = pytest.importorskip("sinabs.layers", reason="sinabs not installed")
    from sinabs.activation import MembraneSubtract, SingleSpike

    from boolgrad.torch.adapters.sinabs import BooleanSurrogateGrad

    g = torch.Generator().manual_seed(3)
    xs = torch.randn(5, 7, 4, generator=g)  # (batch, time, features); any values: u's own bits
    W = torch.randn(3, 4, generator=g) * 0.6
    fc1 = torch.nn.Linear(4, 3, bias=False)
    fc2 = torch.nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        fc1.weight.copy_(W)
        fc2.weight.copy_(W)
    iaf = layers.IAF(
        spike_threshold=torch.tensor(1.0),
        spike_fn=SingleSpike,
        reset_fn=MembraneSubtract(),
        surrogate_grad_fn=BooleanSurrogateGrad(table_ge),
    )
    s1 = iaf(fc1(xs))  # (batch, time, out)
    currents = fc2(xs)  # one matmul over (batch, time) as Sinabs does: same reduction order
    s2, _ = _run_ours(
        IF(bt.boolean_spike(table_ge), reset="subtract", reset_by=1.0), lambda c: c, currents.transpose(0, 1)
    )
    s2 = s2.transpose(0, 1)
    assert torch.equal(s1, s2) and 0 < s1.sum() < s1.numel()
    (s1 * torch.linspace(0, 1, 3)).sum().backward()
    (s2 * torch.linspace(0, 1, 3)).sum().backward()
    assert torch.equal(fc1.weight.grad, fc2.weight.grad)


def test_sinabs_tie_and_threshold_check(table_ge):
    from boolgrad.torch.adapters.sinabs import BooleanSurrogateGrad

    fn = BooleanSurrogateGrad(table_ge)
    v = torch.tensor([1.0, 0.75, -3.0])
    expected = torch.tensor(table_ge.gradient(v.double().numpy()), dtype=torch.float32)
    assert torch.equal(fn(v, torch.tensor(1.0)), expected)
    assert fn.spike(v).tolist() == [1.0, 0.0, 0.0]  # Sinabs' SingleSpike: v - threshold >= 0
    with pytest.raises(ValueError, match="threshold"):
        fn(v, 2.0)


def test_load_table_is_a_spike_function(tmp_path, table_ge):
    path = table_ge.save(tmp_path / "table.npz")
    spike = bt.load_spike(path)
    u = torch.tensor([0.5, 1.0, 3.0], requires_grad=True)
    assert spike(u).tolist() == [0.0, 1.0, 1.0]
    spike(u).sum().backward()
    assert u.grad.tolist() == torch.tensor(table_ge.gradient([0.5, 1.0, 3.0]), dtype=torch.float32).tolist()


# -- Norse ----------------------------------------------------------------------------------------------------
def _norse_params(theta, **kw):
    from norse.torch.functional.lif import LIFParameters

    return LIFParameters(v_th=torch.tensor(theta), **kw)


def _norse_run(cell, currents):
    state, outs, vs = None, [], []
    for c in currents:
        z, state = cell(c, state)
        outs.append(z)
        vs.append(state.v)
    return torch.stack(outs), vs


@pytest.mark.parametrize("exact", [True, False])
def test_norse_lif_cell_is_norse_step_with_the_boolean_threshold(table_gt, exact, monkeypatch):
    """Against Norse's own ``lif_feed_forward_step`` whose ``threshold`` is the bare shifted spike:
    spikes, potentials and weight gradients equal bit for bit."""
    nt = pytest.importorskip("norse.torch", reason="norse not installed")
    import norse.torch.functional.lif as norse_lif

    from boolgrad.torch.adapters._shifted import ShiftedBooleanSpike
    from boolgrad.torch.adapters.norse import BooleanLIFCell

    theta = float(torch.tensor(0.3))
    g = torch.Generator().manual_seed(4)
    # potentials stay in [theta/2, 2 theta] (v - v_th is then exact): both modes read v's bits
    xs = 0.5 + 0.5 * torch.rand(12, 5, 4, generator=g)
    W = 0.05 + 0.05 * torch.rand(3, 4, generator=g)
    p = _norse_params(theta, v_leak=torch.tensor(0.2), v_reset=torch.tensor(0.2))
    fc1, fc2 = (torch.nn.Linear(4, 3, bias=False) for _ in range(2))
    with torch.no_grad():
        fc1.weight.copy_(W)
        fc2.weight.copy_(W)
    s1, v1 = _norse_run(BooleanLIFCell(table_gt, p, exact=exact), fc1(xs))
    bare = ShiftedBooleanSpike(table_gt, theta, "gt")
    monkeypatch.setattr(norse_lif, "threshold", lambda x, method, alpha: bare(x))
    s2, v2 = _norse_run(nt.LIFCell(p), fc2(xs))
    assert torch.equal(s1, s2) and 0 < s1.sum() < s1.numel()
    assert all(torch.equal(a, b) for a, b in zip(v1, v2))
    assert all(0.15 <= float(v.detach().min()) and float(v.detach().max()) <= 0.6 for v in v1)  # precondition
    _loss(s1).backward()
    _loss(s2).backward()
    assert fc1.weight.grad.abs().sum() > 0
    assert torch.equal(fc1.weight.grad, fc2.weight.grad)


def test_norse_cells_fire_as_norse_for_any_potential(table_gt):
    """Exact mode, any inputs: the same spikes and states as Norse's stock cells (their forward
    is ``heaviside(v - v_th) = [v - v_th > 0]``, ours ``[v > v_th]``), over time and recurrent."""
    nt = pytest.importorskip("norse.torch", reason="norse not installed")
    from boolgrad.torch.adapters.norse import BooleanLIF, BooleanLIFCell, BooleanLIFRecurrent

    theta = float(torch.tensor(0.3))
    p = _norse_params(theta)
    g = torch.Generator().manual_seed(5)
    xs = 40 * torch.randn(16, 6, 5, generator=g)
    s1, v1 = _norse_run(BooleanLIFCell(table_gt, p), xs)
    s2, v2 = _norse_run(nt.LIFCell(p), xs)
    assert torch.equal(s1, s2) and 0 < s1.sum() < s1.numel()
    assert all(torch.equal(a, b) for a, b in zip(v1, v2))
    z, state = BooleanLIF(table_gt, p)(xs)
    assert torch.equal(z, s1) and torch.equal(state.v, v1[-1])
    torch.manual_seed(6)
    rec1 = BooleanLIFRecurrent(table_gt, 5, 3, p)
    rec2 = nt.LIFRecurrent(5, 3, p, input_weights=rec1.input_weights, recurrent_weights=rec1.recurrent_weights)
    (z1, st1), (z2, st2) = rec1(xs), rec2(xs)
    assert torch.equal(z1, z2) and 0 < z1.sum() < z1.numel() and torch.equal(st1.v, st2.v)


def test_norse_gradient_is_the_bare_spike_functions_with_norses_tie(table_gt):
    """One step with ``tau_mem_inv = 0`` (``v_decayed = v``): ``dz/dv`` is the bare Boolean spike's
    ``g(v)`` on the same tensor, ``v == v_th`` included, where Norse's heaviside does not fire."""
    pytest.importorskip("norse.torch", reason="norse not installed")
    from norse.torch.functional.heaviside import heaviside
    from norse.torch.functional.lif import LIFFeedForwardState

    from boolgrad.torch.adapters.norse import BooleanLIFCell

    theta = float(torch.tensor(0.3))
    t = torch.tensor(theta)
    g = torch.Generator().manual_seed(7)
    v = torch.cat(
        [torch.stack([t, torch.nextafter(t, torch.tensor(1.0)), torch.nextafter(t, torch.tensor(0.0))]),
         torch.randn(200, generator=g), theta + 1e-3 * torch.randn(200, generator=g)]
    )
    v_ours, v_bare = v.clone().requires_grad_(), v.clone().requires_grad_()
    cell = BooleanLIFCell(table_gt, _norse_params(theta, tau_mem_inv=torch.tensor(0.0)))
    z, _ = cell(torch.zeros_like(v), LIFFeedForwardState(v=v_ours, i=torch.zeros_like(v)))
    assert torch.equal(z, heaviside(v - theta)) and z[:3].tolist() == [0.0, 1.0, 0.0]  # x > 0: no tie
    bare = bt.boolean_spike(table_gt)
    assert torch.equal(bare(v_bare), z)
    w = torch.linspace(0.5, 1.5, len(v))
    (z * w).sum().backward()
    (bare(v_bare) * w).sum().backward()
    assert v_ours.grad[0] > 0 and (v_ours.grad > 0).sum() > 100
    assert torch.equal(v_ours.grad, v_bare.grad)
    expected = torch.tensor(table_gt.gradient(v.double().numpy()), dtype=torch.float32) * w
    assert torch.equal(v_ours.grad, expected)


def test_norse_refuses_a_foreign_threshold_or_tie_rule(table_gt, table_ge):
    pytest.importorskip("norse.torch", reason="norse not installed")
    from boolgrad.torch.adapters.norse import BooleanLIFCell, threshold_fn

    with pytest.raises(ValueError, match="v_th"):
        BooleanLIFCell(table_gt, _norse_params(0.5))
    with pytest.raises(ValueError, match="comparator"):
        BooleanLIFCell(table_ge)  # a ge table for Norse's x > 0
    with pytest.raises(ValueError, match="adjoint"):
        BooleanLIFCell(table_gt, _norse_params(0.3, method="adjoint"))
    x = torch.tensor([0.0, 1e-7, -1e-7])
    assert threshold_fn(table_gt, 0.3)(x).tolist() == [0.0, 1.0, 0.0]
