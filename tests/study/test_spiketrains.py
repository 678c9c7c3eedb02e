"""The spike-train task (``spiketrains``): a dataset in continuous time, binned at each dt.

Generator (determinism, class balance, spikes in the window), binning (spikes conserved at every
dt, merged at coarse dt, equal to a brute-force ``np.histogram``), the network's temporal input
(an input spike raises ``u`` by its weight at any dt; fused and step engines agree), the
random-weight simulation on per-step currents, and a short training run whose loss falls.
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from boolgrad.study.data import load_dataset
from boolgrad.study.simulate import DT_OVER_TAU, lif_driven, lif_trajectory, simulate, steps_for, typical_du
from boolgrad.study.spiketrains import SPIKETRAINS, bin_spikes, spiketrains

SMALL = {"n_in": 12, "n_spikes": 2, "n_classes": 5}


def test_same_seed_same_arrays_other_seed_other_arrays():
    a = spiketrains((60, 25), 0, **SMALL)
    b = spiketrains((60, 25), 0, **SMALL)
    c = spiketrains((60, 25), 1, **SMALL)
    for (ta, ya), (tb, yb), (tc, _) in zip(a, b, c):
        assert ta.dtype == np.float32 and ta.shape[1:] == (12, 2) and ya.dtype == np.int64
        assert np.array_equal(ta, tb) and np.array_equal(ya, yb)
        assert not np.array_equal(ta, tc)
    assert not np.array_equal(a[0][0][:25], a[1][0])  # the splits draw their own points


def test_classes_exactly_balanced_and_spikes_in_window():
    d = load_dataset("spiketrains")
    assert (d.n_classes, d.n_features, d.horizon) == (6, 40, 8.0)
    for x, y, n in ((d.x_train, d.y_train, 4800), (d.x_val, d.y_val, 1200), (d.x_test, d.y_test, 1200)):
        assert x.shape == (n, 40, 1) and x.dtype == np.float32
        assert np.bincount(y, minlength=6).tolist() == [n // 6] * 6
        assert x.min() >= 0 and x.max() < 8.0
        assert x.min() < 0.5 and x.max() > 7.5  # the times span the window
    assert d.x_train.nbytes + d.x_val.nbytes + d.x_test.nbytes < 2e6


def _nearest_neighbour_accuracy(train, test):
    (a, ya), (b, yb) = train, test
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    d = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None]
    return float((ya[d.argmin(1)] == yb).mean())


def test_separation_sets_how_far_apart_the_classes_are():
    """``sep = 0``: every class on the common manifold, indistinguishable (1-NN at chance);
    ``sep = span`` (Zenke & Vogels' randman): each class its own manifold (1-NN near perfect)."""
    acc = {sep: _nearest_neighbour_accuracy(*spiketrains((500, 300), 3, **SMALL, separation=sep, jitter=0.0))
           for sep in (0.0, None)}
    assert acc[0.0] < 0.35 and acc[None] > 0.95, acc
    (t, _), = spiketrains((300,), 3, **SMALL, separation=0.0, jitter=0.0)
    assert t.min() > 0.24 and t.max() < 7.76  # within the margins (to the grid's resolution of min and max)
    with pytest.raises(ValueError):
        spiketrains((10,), 0, margin=5.0)


def test_the_class_lives_in_timing_at_the_scale_of_tau():
    """The study's parameters: 1-NN on the spike times rounded to each step's grid loses most of
    the class at coarse dt and keeps it at fine dt."""
    d = load_dataset("spiketrains", subset=(2400, 600))
    acc = {}
    for dt in (2.0, 0.25):
        r = lambda t: np.minimum(np.floor(t / dt), steps_for(dt) - 1)  # noqa: B023
        acc[dt] = _nearest_neighbour_accuracy((r(d.x_train), d.y_train), (r(d.x_test), d.y_test))
    assert acc[2.0] < 0.6 and acc[0.25] > 0.9, acc


def _histogram_reference(times, dt, horizon):
    steps = steps_for(dt, horizon)
    edges = np.arange(steps + 1) * dt
    edges[-1] = horizon  # the last step takes what is left of the window
    n, n_in = times.shape[:2]
    out = np.zeros((n, steps, n_in), np.float32)
    for i in range(n):
        for j in range(n_in):
            t = times[i, j][~np.isnan(times[i, j])]
            out[i, :, j] = np.histogram(t, edges)[0]
    return out


@pytest.mark.parametrize("dt", [*DT_OVER_TAU, 0.6, 3.0])
def test_bins_conserve_spikes_and_match_a_histogram(dt):
    (t, _), = spiketrains((30,), 2, **SMALL)
    c = bin_spikes(t, dt, 8.0)
    assert c.shape == (30, steps_for(dt, 8.0), 12) and c.dtype == np.float32
    assert np.array_equal(c.sum((1, 2)), np.full(30, 24.0))  # 12 neurons x 2 spikes, at every dt
    assert np.array_equal(c, _histogram_reference(t.astype(np.float64), dt, 8.0))


def test_coarse_bins_merge_spikes():
    d = load_dataset("spiketrains", subset=(500, 10))
    coarse, fine = d.at_dt(2.0).x_train, d.at_dt(0.0625).x_train
    assert coarse.max() == fine.max() == 1.0  # one spike per input neuron
    together = lambda c: float((c.sum(2) > 1).mean())  # steps that bring several neurons' spikes at once
    assert together(coarse) > 0.99 and together(fine) < 0.2
    (t, _), = spiketrains((200,), 0, **SMALL)  # two spikes per neuron: they share coarse bins
    merged = {dt: float((bin_spikes(t, dt) == 2).mean()) for dt in (2.0, 0.0625)}
    assert bin_spikes(t, 2.0).max() == 2.0 and merged[2.0] > 10 * merged[0.0625], merged


def test_binning_details():
    pytest.importorskip("sklearn")
    t = np.array([[[0.0, 1.999, 2.0, np.nan], [7.999, 7.5, np.nan, np.nan]]], np.float32)
    c = bin_spikes(t, 2.0, 8.0)
    assert c[0, :, 0].tolist() == [2, 1, 0, 0] and c[0, :, 1].tolist() == [0, 0, 0, 2]
    assert bin_spikes(t, 2.0, 60.0).shape == (1, 30, 2)
    for bad in (8.0, -0.1):
        with pytest.raises(ValueError, match="spike times"):
            bin_spikes(np.full((1, 1, 1), bad), 1.0, 8.0)
    d = load_dataset("spiketrains", subset=(20, 5))
    b = d.at_dt(0.25)
    assert b.temporal and not d.temporal and b.n_features == 40 and b.x_train.shape == (20, 32, 40)
    assert b.at_dt(1.0) is b and load_dataset("digits").at_dt(0.5).temporal is False
    with pytest.raises(ValueError, match="horizon"):
        d.at_dt(1.0, horizon=4.0)


def _net(engine, dt, temporal=True, sizes=(40, 24, 6), readout="mse_count"):
    torch = pytest.importorskip("torch")
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.network import SpikingNet

    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    return SpikingNet(sizes, get_kind("arctan").spike(0.3), dt_over_tau=dt, steps=steps_for(dt), engine=engine,
                      generator=gens, temporal=temporal, readout=readout)


@pytest.mark.parametrize("dt", [2.0, 0.25])
def test_an_input_spike_raises_u_by_its_weight_at_any_dt(dt):
    torch = pytest.importorskip("torch")
    net = _net("fused", dt)
    T = steps_for(dt)
    x = torch.zeros(1, T, 40)
    x[0, 1, 3] = 1.0  # one spike of input neuron 3 in step 1
    x[0, 1, 5] = 2.0  # two spikes of neuron 5 in the same step
    _, us = net(x, record=True)
    w = net.weights[0].detach()
    want = w[:, 3] + 2 * w[:, 5]  # (K, H): no 1 - e^{-a} factor
    assert torch.equal(us[0][:, 0, 0], torch.zeros_like(want))
    assert torch.equal(us[0][:, 1, 0], want)
    quiet = want < 0.3  # no spike: u decays by e^{-a} per step
    assert torch.allclose(us[0][:, 2, 0][quiet], (want * math.exp(-dt))[quiet], rtol=1e-6)


@pytest.mark.parametrize("dt,readout", [(2.0, "mse_count"), (0.25, "mse_count"), (0.5, "ce_linear")])
def test_fused_and_step_engines_agree_on_temporal_input(dt, readout):
    torch = pytest.importorskip("torch")
    d = load_dataset("spiketrains", subset=(48, 5)).at_dt(dt)
    x = torch.from_numpy(d.x_train).view(2, 24, *d.x_train.shape[1:])  # (K, B, T, F): one batch per model
    got = {}
    for engine in ("fused", "step"):
        net = _net(engine, dt, readout=readout, sizes=(40, 24, 16, 6) if readout == "mse_count" else (40, 24, 6))
        with torch.no_grad():
            net.weights[0].mul_(3.0)  # enough input to fire
        out, us = net(x, record=True)
        out.sum().backward()
        got[engine] = (out.detach(), us, [p.grad.clone() for p in net.parameters()])
    (of, uf, gf), (os_, us_, gs) = got["fused"], got["step"]
    assert torch.equal(of, os_) and all(torch.equal(a, b) for a, b in zip(uf, us_))
    assert (uf[0] >= 0.3).any() and (uf[-1] >= 0.3).any()
    for a, b in zip(gf, gs):
        assert a.abs().max() > 0 and torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def test_temporal_input_shape_is_checked():
    torch = pytest.importorskip("torch")
    net = _net("fused", 1.0)
    with pytest.raises(ValueError, match="temporal input"):
        net(torch.zeros(3, 5, 40))
    assert net(torch.zeros(3, 8, 40)).shape == (2, 3, 6)


def test_driven_lif_equals_the_constant_current_trajectory_with_gain_one():
    rng = np.random.default_rng(0)
    current = rng.uniform(0, 1, (7, 5))
    want = lif_trajectory(current, 0.5, 16, scheme="authors")
    got = lif_driven(np.broadcast_to(current, (16, 7, 5)), 0.5)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_simulation_on_per_step_currents():
    d = load_dataset("spiketrains", subset=(256, 5))
    w = np.random.default_rng(0).uniform(-0.5, 0.5, (40, 32))
    res = {}
    for dt in (2.0, 0.125):
        x = d.at_dt(dt).x_train
        res[dt] = simulate(x, w, dt, kinds=("arctan",), batch=100)
        assert res[dt]["steps"] == steps_for(dt) and res[dt]["n_crossings"] > 0
        du = typical_du(x[:64], w, dt)
        assert 0 < du < 2
    # impulses: a crossing jumps by a weight-sized step however fine dt (no 1 - e^{-a} shrink)
    assert res[0.125]["du_quantiles"][2] > 0.2 * res[2.0]["du_quantiles"][2]
    with pytest.raises(ValueError, match="counts"):
        simulate(d.at_dt(1.0).x_train, w, 0.5, kinds=("arctan",))


def test_training_loss_falls_and_accuracy_beats_chance():
    pytest.importorskip("torch")
    from boolgrad.study.overshoot import FULL, RunConfig, grid
    from boolgrad.study.train import train

    cfg = RunConfig(dataset="spiketrains", kind="arctan", dt_over_tau=0.5, epochs=6, hidden=(64,), lr=3e-2,
                    readout="ce_linear", subset=(1200, 300), probe=64).validate()
    res = train(cfg, cfg._data())
    losses = [h["loss"] for h in res["history"]]
    assert losses[-1] < losses[0] - 0.1, losses
    assert res["steps"] == 16 and res["final_layers"][0]["n_crossings"] > 0
    assert res["val_acc"] > 1.5 / 6, res["val_acc"]  # chance 1/6 (the full run: docs/study.md)
    m = train(replace(cfg, kind="boolean_matched", epochs=1, subset=(200, 50)), cfg._data())  # the matched format from the temporal probe's crossings
    assert 2 ** -14 <= m["matched"]["typical_du"] < 2 and m["matched"]["format"].startswith("fixed16")
    assert FULL["spiketrains"]["lr"] == 1e-2
    cfgs = grid(["spiketrains"], ["rectangle"], [1.0], 1)
    assert [(c.lr, c.scheme) for c in cfgs] == [(1e-2, "exact"), (1e-4, "authors")]
    assert cfgs[0].cost() == 40 * 75 * 8
    with pytest.raises(ValueError, match="horizon"):
        RunConfig(dataset="spiketrains", horizon=4.0).validate()


def test_default_parameters_are_documented():
    assert SPIKETRAINS["separation"] == 0.5 and SPIKETRAINS["sizes"] == (4800, 1200, 1200)
