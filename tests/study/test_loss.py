"""The study's loss (``boolgrad.study.loss.losses``): each model's mean over its own batch, by the
textbook formulas."""

import pytest

torch = pytest.importorskip("torch", reason="the study's training needs torch (pip install boolgrad[torch])")

from boolgrad.study.loss import losses


@pytest.mark.parametrize("readout", ["ce_linear", "mse_count"])
@pytest.mark.parametrize("K,B,C", [(1, 64, 3), (3, 7, 5), (4, 20, 40)])
def test_losses_are_each_models_mean_over_its_batch(readout, K, B, C):
    g = torch.Generator().manual_seed(K * B + C)
    out = torch.randn(K, B, C, generator=g) * 4
    if readout == "mse_count":  # spike counts over time: multiples of 1 / T in [0, 1]
        out = torch.randint(0, 17, (K, B, C), generator=g).float() / 16
    y = torch.randint(0, C, (K, B), generator=g)
    got = losses(out, y, readout)
    if readout == "ce_linear":
        want = -torch.log_softmax(out.double(), -1).gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(1)
    else:
        want = (out.double() - torch.nn.functional.one_hot(y, C).double()).square().mean((1, 2))
    assert got.shape == (K,) and float(got.min()) > 0
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=0)
    # a model's loss and gradient are its own: model 0 alone gives the same bits
    leaf = out.clone().requires_grad_()
    (grad,) = torch.autograd.grad(losses(leaf, y, readout).sum(), leaf)
    alone = out[:1].clone().requires_grad_()
    (grad0,) = torch.autograd.grad(losses(alone, y[:1], readout).sum(), alone)
    assert torch.equal(losses(out[:1], y[:1], readout), got[:1]) and torch.equal(grad0, grad[:1])
