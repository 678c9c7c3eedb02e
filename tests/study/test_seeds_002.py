"""Seed 002: batch 1 batched == the blog's per-sample loop; training smoke; spiking versions."""

import pytest

torch = pytest.importorskip("torch")

from boolgrad.study import executor  # noqa: E402
from boolgrad.study.data import load_dataset  # noqa: E402
from boolgrad.study.seeds.seed002 import Seed002Config, build, train_steps  # noqa: E402


@pytest.mark.parametrize("model", ["multi", "central"])
def test_batch1_batched_equals_per_sample_loop(model):
    d = load_dataset("digits", subset=(40, 20))
    x, y = torch.from_numpy(d.x_train).double(), torch.from_numpy(d.y_train)
    nets = []
    for impl in ("batched", "naive"):
        cfg = Seed002Config(model=model, impl=impl, hidden=(8, 6), lr=1e-3)
        net = build(cfg, d.n_features, d.n_classes, torch.Generator().manual_seed(3)).double()
        net.impl = impl
        train_steps(net, cfg, x, y, torch.Generator().manual_seed(4), n_steps=25)
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.allclose(a, b, rtol=0, atol=1e-9)
    assert not torch.equal(
        nets[0][0].weight,
        build(
            Seed002Config(model=model, hidden=(8, 6)),
            d.n_features,
            d.n_classes,
            torch.Generator().manual_seed(3),
        )[0].weight.double(),
    )


def test_multi_threshold_layer_matches_blog_example():
    from boolgrad.torch.layers import multi_threshold_linear

    w = torch.tensor([[3.0, -2, 0], [-4, 2, 4]])
    out = multi_threshold_linear(torch.tensor([2.0, 5, 1]), w, torch.tensor([2.0, -1]))
    assert out.tolist() == [8.0, 13.0]  # the blog's tf example


def test_loss_falls_and_rerun_is_identical():
    cfg = Seed002Config(
        dataset="digits", model="multi", lr=1e-3, epochs=3, subset=(300, 100), hidden=(32, 16)
    )
    res = executor.run(cfg)
    assert res["train_loss"][-1] < res["train_loss"][0] * 0.5 and res["test_acc"] > 0.15  # chance 0.1

    def strip(r):
        return {k: v for k, v in r.items() if k not in executor.TIMING_FIELDS}

    assert strip(executor.run(cfg)) == strip(res)


@pytest.mark.parametrize("model,kind", [("dendrite_spike", "boolean_yj2025"), ("central_spike", "arctan")])
def test_spiking_versions_train(model, kind):
    res = executor.run(
        Seed002Config(
            dataset="yinyang",
            model=model,
            kind=kind,
            batch_size=32,
            epochs=2,
            subset=(300, 100),
            hidden=(16, 8),
        )
    )
    assert 0.0 <= res["test_acc"] <= 1.0 and len(res["train_loss"]) == 2
    with pytest.raises(ValueError):
        Seed002Config(model="multi", kind="arctan").validate()
