"""The study's spiking network and its training loop (torch; imported only to train).

Network (Yoo & Jeong's shape scaled to the data): input ``x`` (features in [0, 1], the same
current every step: direct encoding) -> LIF hidden layer(s) -> output, weights Xavier-uniform,
no biases in spiking layers.  LIF with hard reset and ``a = dt / tau`` (see
:mod:`boolgrad.study.simulate` for the two schemes): ``u[t] = e^{-a} u[t-1] (1 - s[t-1]) + c I[t]``
with ``c = 1 - e^{-a}`` (``scheme="exact"``) or ``c = 1`` (``"authors"``), ``s = spike(u)``
(the kind's spike function; the gradient flows through the reset as in the authors' code),
run with :func:`boolgrad.torch.neurons.lif_step`.  ``steps = horizon / a``.

Readouts:

* ``mse_count`` (the authors'): a spiking output layer; output = its spike count averaged over
  time, loss = MSE against the one-hot label; prediction = argmax of the counts (ties: the
  lowest class);
* ``ce_linear``: a non-spiking linear readout (with bias) of the last hidden layer's mean spike
  count, cross-entropy loss.

Adam; the epoch with the best validation accuracy gives the reported test accuracy.  Per epoch
and per spiking layer, on a fixed probe batch (the first ``probe`` training samples): the
fraction of (sample, neuron, step) triples with non-zero ``ds/du``, the mean ``ds/du`` at the
sample below each crossing and at the crossing step, and the mean over the epoch's batches of
the weight-gradient norm.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .kinds import get_kind
from .simulate import CrossingRecorder, input_gain, steps_for

__all__ = ["SpikingNet", "train"]


class SpikingNet(torch.nn.Module):
    """``sizes = (n_in, *hidden, n_out)``; spiking hidden layers; readout as in the module doc."""

    def __init__(self, sizes, spike, *, dt_over_tau, steps, scheme="exact", readout="mse_count",
                 generator=None):
        super().__init__()
        self.spike, self.steps, self.readout = spike, int(steps), readout
        self.decay, self.gain = math.exp(-dt_over_tau), input_gain(dt_over_tau, scheme)
        n_spiking = len(sizes) - 1 if readout == "mse_count" else len(sizes) - 2
        self.weights = torch.nn.ParameterList()
        for i in range(n_spiking):
            w = torch.empty(sizes[i], sizes[i + 1])
            bound = math.sqrt(6.0 / (sizes[i] + sizes[i + 1]))
            w.uniform_(-bound, bound, generator=generator)
            self.weights.append(torch.nn.Parameter(w))
        self.linear = None
        if readout == "ce_linear":
            self.linear = torch.nn.Linear(sizes[-2], sizes[-1])
            bound = 1.0 / math.sqrt(sizes[-2])
            with torch.no_grad():
                self.linear.weight.uniform_(-bound, bound, generator=generator)
                self.linear.bias.uniform_(-bound, bound, generator=generator)
        elif readout != "mse_count":
            raise ValueError(f"readout must be 'mse_count' or 'ce_linear', got {readout!r}")
        from boolgrad.torch.neurons import LIFParams

        self.params = LIFParams(spike, beta=self.decay)

    def forward(self, x, record=False):
        """Output (counts or logits) and, with ``record``, each spiking layer's ``u`` (T, B, H)."""
        from boolgrad.torch.neurons import lif_step

        us = []
        current = x @ self.weights[0]  # constant over time: one matmul
        spikes = None
        for i, w in enumerate(self.weights):
            if i:
                current = spikes @ w  # (T, B, H): all steps at once
            drive = current * self.gain
            state, outs, ulist = None, [], []
            for t in range(self.steps):
                s, state = lif_step(drive if i == 0 else drive[t], state, self.params)
                outs.append(s)
                if record:
                    ulist.append(state.u)
            spikes = torch.stack(outs)
            if record:
                us.append(torch.stack(ulist))
        rate = spikes.mean(0)
        out = self.linear(rate) if self.linear is not None else rate
        return (out, us) if record else out


def _loss(net, out, y, n_classes):
    if net.readout == "mse_count":
        return torch.nn.functional.mse_loss(out, torch.nn.functional.one_hot(y, n_classes).to(out.dtype))
    return torch.nn.functional.cross_entropy(out, y)


@torch.no_grad()
def _accuracy(net, x, y, batch=1000):
    hits = 0
    for i in range(0, len(x), batch):
        hits += int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return hits / max(1, len(x))


def _layer_stats(net, x, theta, threshold):
    """Per spiking layer: non-zero fraction of ds/du and mean ds/du at crossings (probe batch)."""
    with torch.no_grad():
        _, us = net(x, record=True)
    rows, recs = [], []
    for u in us:
        u = u.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(net.spike(u).sum(), u)
        prev = torch.cat([torch.zeros_like(u[:1]), u[:-1]])
        cross = (prev < threshold) & (u >= threshold)
        g_prev = torch.cat([torch.zeros_like(g[:1]), g[:-1]])  # g at the sample below (t-1)
        first = torch.zeros_like(cross)
        first[0] = cross[0]  # a crossing at t = 0 has the rest value u[-1] = 0 below: not a step
        n = int(cross.sum())
        rows.append({
            "frac_nonzero": float((g != 0).double().mean()),
            "n_crossings": n,
            "mean_grad_below": float(g_prev[cross & ~first].double().mean()) if n > int(first.sum()) else None,
            "mean_grad_at": float(g[cross].double().mean()) if n else None,
            "spike_rate": float((u >= threshold).double().mean()),
        })
        rec = CrossingRecorder(theta)
        rec.update(u.detach().double().numpy())
        recs.append(rec)
    return rows, recs


def train(cfg, data, *, progress=None) -> dict:
    """Train one network (``cfg``: a :class:`boolgrad.study.overshoot.RunConfig`); result dict."""
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x_tr, y_tr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_va, y_va = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
    x_te, y_te = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    steps = steps_for(cfg.dt_over_tau, cfg.horizon)
    sizes = (data.n_features, *cfg.hidden, data.n_classes)
    spec = get_kind(cfg.kind)
    probe = x_tr[: cfg.probe]
    matched = {}
    if spec.matched:  # the FIX: dU at crossings of the initial network's first layer
        from .simulate import typical_du

        w0 = SpikingNet(sizes, None, dt_over_tau=cfg.dt_over_tau, steps=steps, scheme=cfg.scheme,
                        readout=cfg.readout, generator=torch.Generator().manual_seed(cfg.seed)).weights[0]
        du = typical_du(probe.double().numpy(), w0.detach().double().numpy(), cfg.dt_over_tau,
                        scheme=cfg.scheme, theta=cfg.theta, horizon=cfg.horizon)
        spec = spec.resolve(du)
        matched = {"typical_du": du, "format": spec.format}
    spike = spec.spike(cfg.theta)
    net = SpikingNet(sizes, spike, dt_over_tau=cfg.dt_over_tau, steps=steps, scheme=cfg.scheme,
                     readout=cfg.readout, generator=gen)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    threshold = cfg.theta
    history, best = [], None
    t0 = time.perf_counter()
    samples = 0
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(len(x_tr), generator=gen)
        losses, norms = [], np.zeros(len(net.weights))
        n_batches = 0
        for idx in perm.split(cfg.batch_size):
            opt.zero_grad(set_to_none=True)
            loss = _loss(net, net(x_tr[idx]), y_tr[idx], data.n_classes)
            loss.backward()
            norms += [float(w.grad.norm()) for w in net.weights]
            opt.step()
            losses.append(float(loss.detach()))
            n_batches += 1
            samples += len(idx)
        rows, _ = _layer_stats(net, probe, cfg.theta, threshold)
        for r, n in zip(rows, norms / max(1, n_batches)):
            r["grad_norm"] = float(n)
        val = _accuracy(net, x_va, y_va)
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_acc": val, "layers": rows})
        if best is None or val > best["val_acc"]:
            best = {"epoch": epoch, "val_acc": val,
                    "state": {k: v.detach().clone() for k, v in net.state_dict().items()}}
        if progress:
            progress(epoch, history[-1])
    train_seconds = time.perf_counter() - t0
    net.load_state_dict(best["state"])
    best["test_acc"] = _accuracy(net, x_te, y_te)  # test once, at the best-validation epoch
    rows, recs = _layer_stats(net, probe, cfg.theta, threshold)
    for r, h in zip(rows, history[best["epoch"] - 1]["layers"]):
        r["grad_norm"] = h["grad_norm"]  # mean over the best epoch's batches
    trained = [rec.finish([spec]) for rec in recs]  # crossing statistics with trained weights
    for t in trained:
        t.update(dt_over_tau=cfg.dt_over_tau, steps=steps, scheme=cfg.scheme)
    below = [r["mean_grad_below"] for r in rows if r["mean_grad_below"] is not None]
    return {
        "test_acc": best["test_acc"], "val_acc": best["val_acc"], "best_epoch": best["epoch"],
        "epochs": cfg.epochs, "steps": steps, "kind": spec.describe(), "matched": matched,
        "mean_grad_at_crossings": float(np.mean(below)) if below else None,
        "frac_nonzero_grad": float(np.mean([r["frac_nonzero"] for r in rows])),
        "final_layers": rows, "trained_crossings": trained, "history": history,
        "train_seconds": train_seconds, "samples_per_second": samples / max(train_seconds, 1e-9),
    }
