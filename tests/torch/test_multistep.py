"""The fused multi-step LIF equals the step loop of ``lif_step``: every kind, reset and option.

Spikes and ``u`` bit for bit; gradients w.r.t. the input currents bit for bit where the loop
adds the same terms in the same order (a per-step input), to float32 rounding where a sum over
time or elements is involved (a constant input, a learnable threshold).
"""



import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("numba", reason="the fused LIF runs numba loops")

import boolgrad.torch as bt
from boolgrad.study.kinds import KINDS
from boolgrad.torch.multistep import MultiStepLIF, lif_sequence
from boolgrad.torch.neurons import LIFParams, lif_step
from boolgrad.torch.spike import Spike

THETA = 0.3
T, B, N = 12, 3, 40
SUM_TOL = {"rtol": 1e-5, "atol": 1e-6}
INEXACT = {"sigmoid"}  # see test_every_surrogate_of_the_zoo


def kind_spike(name, theta=THETA):
    spec = KINDS[name]
    if spec.matched:
        spec = spec.resolve(0.05)
    return spec.spike(theta)


def inputs(steps=T, const=False, seed=0, dtype=torch.float32, theta=THETA):
    """Currents that cross often, with some elements landing exactly on theta (and near it)."""
    g = torch.Generator().manual_seed(seed)
    shape = (B, N) if const else (steps, B, N)
    x = (torch.rand(shape, generator=g, dtype=torch.float64) * 0.9 - 0.15).to(dtype)
    t = torch.tensor(theta, dtype=dtype)
    first = x if const else x[0]
    first[0, :4] = t  # u[0] = I[0] = theta exactly
    first[0, 4] = torch.nextafter(t, torch.tensor(math.inf, dtype=dtype))
    first[0, 5] = torch.nextafter(t, torch.tensor(-math.inf, dtype=dtype))
    if not const:
        x[1:, 1, :3] = 0.0  # after a reset to 0: u = I = 0; before: decays
        x[3, 2, :6] = t
    return x


def step_loop(current, params, steps=None, gain=1.0):
    """The reference: ``lif_step`` T times (as SpikingNet.forward runs it)."""
    drive = current * gain if gain != 1.0 else current
    outs, us, state = [], [], None
    for t in range(steps if steps is not None else current.shape[0]):
        s, state = lif_step(drive if steps is not None else drive[t], state, params)
        outs.append(s)
        us.append(state.u)
    return torch.stack(outs), torch.stack(us)


def compare(spike, *, reset="zero", detach=False, const=False, gain=1.0, beta=0.8, dtype=torch.float32,
            exact_grad=True, seed=0, theta=THETA):
    params = LIFParams(spike, reset=reset, detach_reset=detach, beta=beta, reset_by=0.75
                       if reset == "subtract" else 1.0)
    x = inputs(const=const, seed=seed, dtype=dtype, theta=theta)
    steps = T if const else None
    x1 = x.clone().requires_grad_(True)
    x2 = x.clone().requires_grad_(True)
    s1, u1 = lif_sequence(x1, params, steps=steps, gain=gain)
    s2, u2 = step_loop(x2, params, steps, gain)
    assert s1.dtype == s2.dtype and s1.shape == s2.shape
    assert torch.equal(u1, u2.detach())
    assert torch.equal(s1.detach(), s2.detach())
    assert 0.05 < float(s1.detach().mean()) < 0.95  # crossings happen
    w = torch.randn(s1.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=dtype)
    theta_t = spike.theta if isinstance(spike.theta, torch.Tensor) and spike.theta.requires_grad else None
    wrt = (x1,) if theta_t is None else (x1, theta_t)
    g1 = torch.autograd.grad((s1 * w).sum(), wrt)
    wrt = (x2,) if theta_t is None else (x2, theta_t)
    g2 = torch.autograd.grad((s2 * w).sum(), wrt)
    assert bool((g2[0] != 0).any())
    if exact_grad and not const:
        assert torch.equal(g1[0], g2[0])
    else:
        torch.testing.assert_close(g1[0], g2[0], **SUM_TOL)
    if theta_t is not None:
        torch.testing.assert_close(g1[1], g2[1], **SUM_TOL)
    return s1, u1


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("reset,detach", [("zero", False), ("zero", True), ("subtract", False),
                                          ("subtract", True)])
def test_every_study_kind_and_reset_equals_the_step_loop(kind, reset, detach):
    compare(kind_spike(kind), reset=reset, detach=detach)


@pytest.mark.parametrize("kind", ["boolean_yj2025", "boolean_fixed16", "boolean_matched", "arctan"])
@pytest.mark.parametrize("scheme_gain", [1.0, -math.expm1(-0.25)])  # authors' c = 1; exact c = 1 - e^-a
def test_constant_input_and_scheme_gain(kind, scheme_gain):
    compare(kind_spike(kind), const=True, gain=scheme_gain, beta=math.exp(-0.25))
    compare(kind_spike(kind), gain=scheme_gain, beta=math.exp(-0.25), seed=3)


@pytest.mark.parametrize("name", sorted(bt.SURROGATES))
@pytest.mark.parametrize("comparator", ["ge", "gt"])
def test_every_surrogate_of_the_zoo(name, comparator):
    # torch's vectorised sigmoid and its scalar tail differ in the last bit, so g itself depends on
    # the tensor's length there: the step loop's (B, N) and the fused (T, B, N) call round apart
    compare(bt.surrogate(name, THETA, comparator=comparator), exact_grad=name not in INEXACT)


@pytest.mark.parametrize("scale", sorted(bt.SCALINGS))
@pytest.mark.parametrize("fmt", ["float32", "bfloat16", "fixed16.12"])
def test_every_scaling_of_the_boolean_spike(scale, fmt):
    try:
        spike = bt.boolean_spike(fmt, THETA, scale=scale, quantize_forward=fmt != "float32")
        spike.state.gradient(torch.zeros(1), THETA)
    except ValueError as e:  # a peak beyond float32 (scale 'none' on float32): refused by the spike
        pytest.skip(str(e))
    compare(spike)


@pytest.mark.parametrize("kind", ["boolean_yj2025", "boolean_secant_clamp", "arctan", "rectangle"])
def test_learnable_threshold(kind):
    spec = KINDS[kind]
    if spec.family == "surrogate":
        spike = bt.surrogate(spec.surrogate, THETA, learn_theta=True, **dict(spec.params))
    else:
        spike = bt.boolean_spike("float32", THETA, scale=spec.scale, learn_theta=True)
    compare(spike)
    compare(spike, const=True, reset="subtract")


@pytest.mark.parametrize("kind", ["boolean_yj2025", "arctan"])
def test_float64(kind):
    spike = kind_spike(kind) if kind == "arctan" else bt.boolean_spike("float64", THETA, scale="clamp")
    compare(spike, dtype=torch.float64)


def test_parallel_path_equals_serial(monkeypatch):
    from boolgrad.torch.multistep import lif

    spike = kind_spike("boolean_yj2025")
    params = LIFParams(spike, beta=0.8)
    x = (torch.rand(16, 64, 64, generator=torch.Generator().manual_seed(5)) * 0.9 - 0.15).requires_grad_()
    runs = []
    for lim in (1 << 40, 1):  # serial, then parallel (when torch has threads)
        monkeypatch.setattr(lif, "_PARALLEL_MIN", lim)
        s, u = lif_sequence(x, params)
        (gx,) = torch.autograd.grad((s * u.cos()).sum(), x)
        runs.append((s.detach(), u, gx))
    for a, b in zip(*runs):
        assert torch.equal(a, b)


def test_module_and_theta_override():
    spike = kind_spike("arctan")
    m = MultiStepLIF(spike, tau=2.0, reset="subtract", detach_reset=True)
    x = inputs()
    s, u = m(x)
    ref, ref_u = step_loop(x, LIFParams(spike, tau=2.0, reset="subtract", detach_reset=True))
    assert torch.equal(s, ref) and torch.equal(u, ref_u)
    s7, _ = lif_sequence(x, LIFParams(spike, beta=0.5), theta=0.7)
    assert torch.equal(s7, step_loop(x, LIFParams(bt.surrogate("arctan", 0.7), beta=0.5))[0])


def test_unsupported_combinations_raise():
    spike = kind_spike("arctan")
    x = inputs()
    with pytest.raises(NotImplementedError, match="tensor tau"):
        lif_sequence(x, LIFParams(spike, tau=torch.tensor(2.0, requires_grad=True)))
    with pytest.raises(NotImplementedError, match="per-neuron"):
        lif_sequence(x, LIFParams(bt.surrogate("arctan", torch.full((N,), THETA))))

    class Odd:
        def spikes(self, u, theta, comparator):
            return (u >= theta).to(u.dtype)

    with pytest.raises(NotImplementedError, match="rule Odd"):
        lif_sequence(x, LIFParams(Spike("odd", bt.surrogates.ArctanSpike, THETA, "ge", Odd())))
    with pytest.raises(TypeError, match="float32 or float64"):
        lif_sequence(x.half(), LIFParams(spike))
    with pytest.raises(NotImplementedError, match="on CPU .numba. and on CUDA with Triton; got a meta tensor"):
        lif_sequence(x.to("meta"), LIFParams(spike))
    with pytest.raises(ValueError, match="time axis"):
        lif_sequence(torch.tensor(1.0), LIFParams(spike))


def test_prepare_keeps_torch_thread_count():
    from boolgrad.torch.multistep import prepare

    n = torch.get_num_threads()
    prepare()
    lif_sequence(inputs(), LIFParams(kind_spike("boolean_yj2025"), beta=0.8))
    assert torch.get_num_threads() == n


_LOOP_PARAMS = {"arctan": {"alpha": 3}, "rectangle": {"width": 0.7, "height": 1.3}, "straight_through": {},
                "fast_sigmoid": {"slope": 7.0}, "triangle": {"width": 0.7, "height": 1.3}}


@pytest.mark.parametrize("name", sorted(_LOOP_PARAMS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("theta", [THETA, 1.0])
def test_in_loop_surrogates_are_the_torch_expression_bit_for_bit(name, dtype, theta):
    from boolgrad.torch.multistep import loops
    from boolgrad.torch.multistep.rule import loop_constants, loop_gradient, rule_gradient

    assert set(loops.SURROGATE_KINDS) == set(_LOOP_PARAMS)
    g = torch.Generator().manual_seed(0)
    u = torch.cat([torch.randn(20000, generator=g, dtype=torch.float64) * s for s in (0.01, 0.5, 3.0, 1e3)])
    u = torch.cat([u.to(dtype), torch.tensor([theta, 0.0, -0.0, math.inf, -math.inf, 1e-40], dtype=dtype)])
    u = torch.cat([u, torch.nextafter(u[-6:-5], u[-6:-5] + 1), torch.nextafter(u[-6:-5], u[-6:-5] - 1)])
    for kw in ({}, _LOOP_PARAMS[name]):
        spike = bt.surrogate(name, theta, **kw)
        kind, th, c0, c1 = loop_constants(spike, u, theta)
        assert kind == loops.SURROGATE_KINDS[name]
        got = loops.surrogate_g(kind, u.numpy(), th, c0, c1)
        ref = rule_gradient(spike, u, theta).numpy()
        assert got.dtype == ref.dtype
        assert np.array_equal(got.view("u1"), ref.view("u1"))  # bit for bit, signs too
        assert np.array_equal(loop_gradient(spike, u, theta, loops).numpy().view("u1"), ref.view("u1"))


@pytest.mark.parametrize("name", ["arctan", "boolean_yj2025"])
def test_a_layer_is_planned_without_numba(name, monkeypatch):
    """The CUDA path (Triton) plans its layers as the CPU path does, without importing numba."""
    from boolgrad.torch.multistep import lif

    monkeypatch.setattr(lif, "_loops", lambda: pytest.fail("planning imported the numba loops"))
    cfg, theta = lif.layer_config(LIFParams(kind_spike(name)), 0.5)
    plan = lif.loop_plan(cfg, theta, torch.float32)
    assert all(isinstance(v, np.float32) for v in plan.scalars)
    assert float(plan.scalars[1]) == float(np.float32(math.exp(-0.5 / 2.0)))  # the decay, tau 2
    assert (plan.surrogate is not None) == (name == "arctan")


@pytest.mark.parametrize("name", ["arctan", "rectangle", "triangle", "sigmoid", "boolean_yj2025", "boolean_bf16"])
def test_loop_gradient_takes_the_rule_only_where_it_must(name, monkeypatch):
    from boolgrad.torch.multistep import lif, rule

    calls = []
    real = rule.rule_gradient
    for module in (rule, lif):  # the backward's g, and loop_gradient's
        monkeypatch.setattr(module, "rule_gradient", lambda *a: calls.append(1) or real(*a))
    exact = name not in INEXACT
    if name.startswith("boolean"):
        compare(kind_spike(name))
        compare(kind_spike(name), const=True, reset="subtract", dtype=torch.float32)
    else:
        compare(bt.surrogate(name, THETA), exact_grad=exact)
        compare(bt.surrogate(name, THETA, learn_theta=True), const=True, exact_grad=exact)
    assert bool(calls) == (name in ("sigmoid", "boolean_yj2025", "boolean_bf16"))  # exp; the lookup


def test_nan_inputs_give_the_step_loops_gradient():
    spike = kind_spike("boolean_yj2025")
    x = inputs()
    x[2, 0, 7] = math.nan  # u is NaN there from step 2 on: the lookup's slow path
    x1 = x.clone().requires_grad_(True)
    x2 = x.clone().requires_grad_(True)
    s1, _ = lif_sequence(x1, LIFParams(spike, beta=0.8))
    s2, _ = step_loop(x2, LIFParams(spike, beta=0.8))
    (g1,) = torch.autograd.grad(s1.sum(), x1)
    (g2,) = torch.autograd.grad(s2.sum(), x2)
    assert bool(g1.isnan().any())
    assert torch.equal(g1.isnan(), g2.isnan())
    assert torch.equal(g1.nan_to_num(), g2.nan_to_num())


@pytest.mark.parametrize("kind", ["arctan", "boolean_bf16", "sigmoid"])
@pytest.mark.parametrize("const", [False, True])
def test_parallel_path_equals_serial_other_rules(kind, const, monkeypatch):
    from boolgrad.torch.multistep import lif, loops

    monkeypatch.setattr(loops, "_BLOCK", 100)  # blocks that end inside a row
    params = LIFParams(kind_spike(kind) if kind in KINDS else bt.surrogate(kind, THETA), beta=0.8)
    gen = torch.Generator().manual_seed(5)
    x = (torch.rand((64, 64) if const else (16, 64, 64), generator=gen) * 0.9 - 0.15).requires_grad_()
    runs = []
    for lim in (1 << 40, 1):
        monkeypatch.setattr(lif, "_PARALLEL_MIN", lim)
        s, u = lif_sequence(x, params, steps=16 if const else None)
        (gx,) = torch.autograd.grad((s * u.cos()).sum(), x)
        runs.append((s.detach(), u, gx))
    for a, b in zip(*runs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["boolean_yj2025", "arctan", "sigmoid"])
@pytest.mark.parametrize("const", [False, True])
def test_stacked_layers_equal_each_alone(kind, const):
    """time_dim=1: K layers in one call give each layer's own spikes, u and gradients, bit for bit."""
    spike = kind_spike(kind) if kind in KINDS else bt.surrogate(kind, THETA)
    params = LIFParams(spike, beta=0.8)
    K = 3
    xs = [inputs(const=const, seed=k) for k in range(K)]
    x = torch.stack(xs).requires_grad_(True)
    w = torch.randn((K, T, B, N), generator=torch.Generator().manual_seed(9))
    s, u = lif_sequence(x, params, steps=T if const else None, gain=0.7, time_dim=1)
    assert s.shape == (K, T, B, N)
    (gx,) = torch.autograd.grad((s * w).sum(), x)
    for k in range(K):
        xk = xs[k].clone().requires_grad_(True)
        sk, uk = lif_sequence(xk, params, steps=T if const else None, gain=0.7)
        (gk,) = torch.autograd.grad((sk * w[k]).sum(), xk)
        assert torch.equal(s[k].detach(), sk.detach()) and torch.equal(u[k], uk)
        assert torch.equal(gx[k], gk)




@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,dim", [((1, 16, 3, 5), 1), ((27, 4, 6), 0), ((2, 3, 64, 4), 2), ((5, 100), -1),
                                       ((3, 1, 4), 1)])
def test_time_mean_is_torch_mean_bit_for_bit(shape, dim, dtype):
    """time_mean's value and gradient (divided once, expanded with stride 0) are torch's mean's, bit
    for bit, for gradients over the whole exponent range (subnormal and huge ones included)."""
    from boolgrad.torch.multistep import time_mean

    g = torch.Generator().manual_seed(len(shape) + dim)
    x = torch.rand(shape, generator=g, dtype=dtype).round().requires_grad_(True)
    out = torch.Size(s for i, s in enumerate(shape) if i != dim % len(shape))
    info = torch.finfo(dtype)
    lo, hi = int(math.log2(info.tiny)) - 20, int(math.log2(info.max)) - 1  # subnormal to huge
    grad = torch.randn(out, generator=g, dtype=dtype) * torch.exp2(torch.randint(lo, hi, out, generator=g).to(dtype))
    ours = time_mean(x, dim)
    assert torch.equal(ours, x.mean(dim))
    (a,) = torch.autograd.grad(ours, x, grad)
    (b,) = torch.autograd.grad(x.mean(dim), x, grad)
    if shape[dim] > 1:
        assert a.stride(dim % len(shape)) == 0
    assert torch.equal(a, b)
    assert bool((a != 0).any())
    view = torch.int32 if dtype == torch.float32 else torch.int64
    assert torch.equal(a.contiguous().view(view), b.view(view))  # -0.0 and +0.0 told apart


def test_time_mean_refuses_bad_input():
    from boolgrad.torch.multistep import time_mean

    with pytest.raises(ValueError, match="out of range"):
        time_mean(torch.zeros(2, 3), 2)
    with pytest.raises(TypeError, match="floating"):
        time_mean(torch.zeros(2, 3, dtype=torch.int64), 1)


@pytest.mark.parametrize("kind", ["boolean_yj2025", "arctan"])
@pytest.mark.parametrize("const", [False, True])
@pytest.mark.parametrize("stacked", [False, True])
def test_gradient_constant_over_time_read_once(kind, const, stacked):
    """dL/ds with stride 0 along time (a mean over time hands it down) takes the loop's one-row
    path; its gradients (input and a learnable threshold) are those of the same dL/ds made
    contiguous, bit for bit."""
    from boolgrad.torch.multistep import time_mean

    spec = KINDS[kind]
    if spec.family == "surrogate":
        spike = bt.surrogate(spec.surrogate, THETA, learn_theta=True, **dict(spec.params))
    else:
        spike = bt.boolean_spike("float32", THETA, scale=spec.scale, learn_theta=True)
    theta = spike.theta
    params = LIFParams(spike, beta=0.8)
    K = 3
    xs = torch.stack([inputs(const=const, seed=k) for k in range(K)]) if stacked else inputs(const=const)
    tdim = 1 if stacked else 0
    w = torch.randn(xs.shape[:tdim] + (B, N) if const else xs.shape[:tdim] + xs.shape[tdim + 1:],
                    generator=torch.Generator().manual_seed(4))
    grads = []
    for contiguous in (False, True):
        x = xs.clone().requires_grad_(True)
        s, _ = lif_sequence(x, params, steps=T if const else None, time_dim=tdim)
        rate = time_mean(s, tdim)
        if contiguous:  # the same dL/ds, materialised
            (go,) = torch.autograd.grad((rate * w).sum(), s, retain_graph=True)
            assert go.stride(tdim) == 0
            grads.append(torch.autograd.grad(s, (x, theta), go.contiguous()))
        else:
            grads.append(torch.autograd.grad((rate * w).sum(), (x, theta)))
    (gx1, gt1), (gx2, gt2) = grads
    assert bool((gx1 != 0).any())
    assert torch.equal(gx1, gx2)
    assert torch.equal(gt1, gt2)


_RECOMPUTE_CASES = sorted({(name, "zero", False, False, True) for name in _LOOP_PARAMS}
                          | {("arctan", reset, detach, const, stacked)
                             for reset, detach in [("zero", False), ("zero", True), ("subtract", False)]
                             for const in (False, True) for stacked in (False, True)})


@pytest.mark.parametrize("name,reset,detach,const,stacked", _RECOMPUTE_CASES)
def test_backward_computing_u_again_is_the_recorded_backward(name, reset, detach, const, stacked, monkeypatch):
    """A forward that keeps no ``u`` (the spike count only) and a backward that computes ``u``
    again from the input, block by block: the same rate and the same gradients (input, and dL/ds
    at every step for a threshold), bit for bit, whatever the blocks, serial or parallel."""
    from boolgrad.torch.multistep import lif, loops
    from boolgrad.torch.multistep.lif import layer_config, loop_plan

    params = LIFParams(bt.surrogate(name, THETA, **_LOOP_PARAMS[name]), beta=0.8, reset=reset, detach_reset=detach)
    K = 3 if stacked else 1
    cfg, theta = layer_config(params, steps=T if const else None, time_dim=int(stacked))
    plan = loop_plan(cfg, theta, torch.float32)
    assert plan.recomputes
    xs = [inputs(const=const, seed=k) for k in range(K)]
    x = (torch.stack(xs) if stacked else xs[0]).contiguous()
    u, rate = plan.forward(x, K, T, const, keep_s=False)
    none, rate2 = plan.forward(x, K, T, const, keep_s=False, keep_u=False)
    assert none is None and rate2.view(torch.int32).equal(rate.view(torch.int32))
    g = torch.Generator().manual_seed(7)
    tdim = int(stacked)
    for go in (torch.randn(u.shape, generator=g),  # per step, and the same at every step (stride 0)
               torch.randn(u.shape[:tdim] + (1,) + u.shape[tdim + 1:], generator=g).expand(u.shape)):
        want = plan.backward(go, u, K, T, x.shape, True)
        assert bool((want[0] != 0).any())
        for elements, parallel_min in ((1 << 16, 1 << 40), (64, 1 << 40), (64, 1 if name == "arctan" else 1 << 40)):
            monkeypatch.setattr(loops, "_RECOMPUTE_ELEMENTS", elements)  # 64: blocks of 64 columns
            monkeypatch.setattr(lif, "_PARALLEL_MIN", parallel_min)
            got = plan.backward(go, None, K, T, x.shape, True, x=x)
            for a, b in zip(got, want):
                assert a.view(torch.int32).equal(b.view(torch.int32))


def test_only_a_loop_surrogate_computes_u_again():
    from boolgrad.torch.multistep.lif import layer_config, loop_plan

    cfg, theta = layer_config(LIFParams(kind_spike("boolean_yj2025"), beta=0.8))
    plan = loop_plan(cfg, theta, torch.float32)
    x = inputs()
    assert not plan.recomputes
    with pytest.raises(ValueError, match="surrogate"):
        plan.backward(torch.ones(T, B, N), None, 1, T, x.shape, False, x=x)
    with pytest.raises(ValueError, match="keeps no u"):
        plan.forward(x, 1, T, False, keep_s=True, keep_u=False)
