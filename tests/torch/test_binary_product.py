"""``x @ w`` and ``x^T @ g`` for 0/1 ``x`` (``boolgrad.torch.binary_product``): the dense product's
bits (sign of zero included) wherever the fast path is taken, and the dense product wherever it
is not (other values, non-finite operands, several threads)."""

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("numba", reason="the binary product runs numba loops")

from boolgrad.torch import binary_product as bp
from boolgrad.torch.linear import product, product_grads


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _bits(t):
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int64)


def _dense(x, w, transposed):
    return torch.stack([torch.mm(x[k].t() if transposed else x[k], w[k]) for k in range(x.shape[0])])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("R", [1, 20, 191, 193, 320, 384, 1024, 4096])
def test_the_dense_products_bits_wherever_taken(R, dtype, one_thread):
    g = torch.Generator().manual_seed(R)
    taken = 0
    for n, O, density in ((40, 128, 1 / 16), (5, 24, 0.3), (300, 128, 0.05), (64, 16, 0.5)):
        x = (torch.rand(2, R, n, generator=g) < density).to(dtype)
        x[:, 0] = 0  # an all-zero row and column, under negative weights: the sign of a zero sum
        x[:, :, 0] = 0
        w = -torch.rand(2, n, O, generator=g, dtype=dtype)
        w[:, 1:] = torch.randn(2, n - 1, O, generator=g, dtype=dtype)
        gy = torch.randn(2, R, O, generator=g, dtype=dtype)
        gy[:, 0] = -1.0
        for fast, dense in ((bp.matmul(x, w), _dense(x, w, False)), (bp.matmul_t(x, gy), _dense(x, gy, True))):
            if fast is not None:
                taken += 1
                assert _bits(fast).equal(_bits(dense)), (R, n, O)
        # and through linear's product and its gradient, with and without the fast path
        assert _bits(product(x, w, spikes=True)).equal(_bits(product(x, w)))
        assert _bits(product_grads(x, w, gy, False, True, spikes=True)[1]).equal(
            _bits(product_grads(x, w, gy, False, True)[1]))
    assert taken >= (6 if R > 1 else 3)  # (R = 1: MKL writes 0 * -w as -0 in x^T g; no blocking does)


def test_the_study_spike_trains_take_it(one_thread):
    x = (torch.rand(1, 1024, 40, generator=torch.Generator().manual_seed(0)) < 1 / 16).float()
    assert bp.block_length(False, 1024, 40, 128, torch.float32) == 40  # one block: k = 40
    assert bp.block_length(True, 1024, 40, 128, torch.float32) > 0
    assert bp.matmul(x, torch.randn(1, 40, 128)) is not None


def test_the_dense_product_where_it_cannot(one_thread):
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(1, 256, 40, generator=g) < 0.1).float()
    w, gy = torch.randn(1, 40, 128, generator=g), torch.randn(1, 256, 128, generator=g)
    assert bp.matmul(x, w) is not None and bp.matmul_t(x, gy) is not None
    counts = x.clone()
    counts[0, 3, 7] = 2.0  # not a spike
    assert bp.matmul(counts, w) is None and bp.matmul_t(counts, gy) is None
    for bad in (float("inf"), float("nan")):
        w2, g2 = w.clone(), gy.clone()
        w2[0, 5, 5] = bad
        g2[0, int((x[0].sum(1) == 0).nonzero()[0]), 3] = bad  # a row the sum skips: the BLAS's 0 * inf
        assert bp.matmul(x, w2) is None and bp.matmul_t(x, g2) is None
        g3 = gy.clone()
        g3[0, int((x[0].sum(1) > 0).nonzero()[0]), 3] = bad  # a row it adds
        assert bp.matmul_t(x, g3) is None
        dense = product(x, w2, spikes=True)  # the callers' dense product: NaNs where the BLAS has them
        assert torch.equal(dense.isnan(), product(x, w2).isnan())
    assert bp.matmul(x.transpose(1, 2).contiguous().transpose(1, 2), w) is None  # not contiguous
    assert bp.matmul(x, w[:, :30]) is None and bp.matmul_t(x, gy[:, :100].contiguous()) is None  # shapes that do not fit
    with pytest.raises(RuntimeError):
        product(x, w[:, :30].contiguous(), spikes=True)  # the dense product's own error
    assert bp.matmul(x.requires_grad_(), w) is None
    torch.set_num_threads(2)
    assert bp.matmul(x.detach(), w) is None  # threaded MKL orders its sums its own way


def test_the_one_node_network_on_spike_trains_is_the_chain(one_thread, monkeypatch):
    """The fused engine's temporal first layer through the binary product, against the chain of
    autograd nodes (the dense product): outputs, ``u`` and gradients bit for bit."""
    from boolgrad.study.kinds import KINDS
    from boolgrad.study.network import SpikingNet

    calls = []
    for name in ("matmul", "matmul_t"):
        real = getattr(bp, name)
        monkeypatch.setattr(bp, name, lambda *a, real=real: calls.append(real(*a) is not None) or real(*a))
    net = SpikingNet((40, 128, 6), KINDS["arctan"].spike(0.3), dt_over_tau=0.5, steps=16, scheme="exact",
                     readout="ce_linear", generator=[torch.Generator().manual_seed(s) for s in (1, 2)],
                     engine="fused", temporal=True)
    x = (torch.rand(2, 64, 16, 40, generator=torch.Generator().manual_seed(3)) < 1 / 16).float()
    y = torch.arange(128).reshape(2, 64) % 6
    got = []
    for path in ("node", "chain"):
        out, us = net(x, record=True) if path == "node" else net.chain(x.transpose(1, 2), True)
        loss = torch.nn.functional.cross_entropy(out.flatten(0, 1), y.flatten())
        got.append((out, us, torch.autograd.grad(loss, list(net.parameters()))))
    assert calls == [True, True]  # the node took the fast path both ways; the chain did not ask
    (o1, u1, g1), (o2, u2, g2) = got
    for a, b in zip((o1, *u1, *g1), (o2, *u2, *g2)):
        assert _bits(a.detach()).equal(_bits(b.detach()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_pattern_of_a_small_row(dtype, one_thread):
    """All 2**10 rows of ten 0/1 inputs, in order (1024 rows: the wgrad's blocks of 192), against
    weights and gradients that round differently in every order; and the same rows shuffled."""
    n = 10
    rows = ((torch.arange(1 << n).unsqueeze(1) >> torch.arange(n)) & 1).to(dtype)
    g = torch.Generator().manual_seed(7)
    for x in (rows, rows[torch.randperm(1 << n, generator=g)]):
        x = x.unsqueeze(0).contiguous()
        w = torch.randn(1, n, 64, generator=g, dtype=dtype) * torch.exp2(torch.randint(-20, 21, (1, n, 64), generator=g)).to(dtype)
        gy = torch.randn(1, 1 << n, 64, generator=g, dtype=dtype)
        fast, fast_t = bp.matmul(x, w), bp.matmul_t(x, gy)
        assert fast is not None and fast_t is not None
        assert _bits(fast).equal(_bits(_dense(x, w, False)))
        assert _bits(fast_t).equal(_bits(_dense(x, gy, True)))
