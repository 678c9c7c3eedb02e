"""The study's training loop: one network, or a group of K that differ only in seed and learning
rate trained as one stacked model (torch; imported only to train).

The network is :class:`boolgrad.study.network.SpikingNet`.  Model ``k`` of a group has its own
seed (weights, and the order of its batches: its own generator) and learning rate (Adam:
:class:`boolgrad.study.adam.StackedAdam`); the loss is the sum of the models' losses, so each
model's gradient is its own.  Training a config in a group gives the result of training it
alone (test: K = 1 vs K = 4), and :func:`train` is a group of one.

Readouts: ``mse_count`` (the authors'): output = the spiking output layer's spike count averaged
over time, loss = MSE against the one-hot label, prediction = argmax (ties: the lowest class);
``ce_linear``: a linear readout of the last hidden layer's mean spike count, cross-entropy.

Spike-train data (``data.horizon`` set) is binned at the run's ``dt`` (:meth:`Dataset.at_dt
<boolgrad.study.data.Dataset.at_dt>`) and drives the network step by step (``temporal``).

Adam; the epoch with the best validation accuracy gives the reported test accuracy (ties: the
earliest).  Early stopping (``cfg.patience = P > 0``): a model stops after the first epoch ``e``
with ``e - best_epoch >= P`` (no better validation accuracy in ``P`` epochs), or at the cap
``cfg.epochs``; ``stopped_epoch`` is its last epoch and ``stopped_early`` says which ended it.  In
a stack the group trains until every model has stopped; a stopped model's later epochs are
neither recorded nor used, so its result is still the one of training it alone.  Per epoch
and per spiking layer, on a fixed probe batch (the first ``probe`` training samples): the
fraction of (sample, neuron, step) triples with non-zero ``ds/du``, the mean ``ds/du`` at the
sample below each crossing and at the crossing step (crossings of the kind's firing threshold:
:meth:`~boolgrad.study.kinds.KindSpec.firing_threshold`), and the mean over the epoch's batches
of the weight-gradient norm.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import torch

from .adam import StackedAdam
from .kinds import get_kind
from .loss import losses
from .network import SpikingNet
from .protocol import patience_reached
from .simulate import CrossingRecorder, steps_for

__all__ = ["FLUSH_DENORMAL", "KEEP_HEAP", "SpikingNet", "patience_reached", "train", "train_group"]

#: train with subnormals flushed to zero (``torch.set_flush_denormal``: FTZ/DAZ on the training
#: thread, for torch's kernels and the fused engine's loops).  It changed no weight bit in any
#: full run of the study's Boolean kinds (``benchmarks/check_flush.py``; a test repeats the
#: comparison on a short run), while a subnormal operand costs a microcode assist.
FLUSH_DENORMAL = True

#: keep freed memory in the process (:func:`boolgrad.torch.heap.keep_freed_memory`: glibc serves
#: no block by ``mmap``), so a batch's large tensors reuse the last batch's pages instead of
#: faulting fresh ones in; set once, for the rest of the process, when a group starts training.
#: Where the bytes live only: no value changes.
KEEP_HEAP = True


@torch.no_grad()
def _accuracy(net, x, y, batch=1000):
    """Accuracy of every model on ``(x, y)``, ``(K,)`` floats."""
    hits = torch.zeros(net.models, dtype=torch.int64)
    for i in range(0, len(x), batch):
        hits += (net(x[i:i + batch]).argmax(-1) == y[i:i + batch]).sum(1)
    return (hits.double() / max(1, len(x))).tolist()


def _layer_stats(net, x, theta, threshold):
    """Per model, per spiking layer: non-zero fraction of ds/du and mean ds/du at crossings of
    ``threshold`` (probe batch); and per model the layers' crossing recorders."""
    with torch.no_grad():
        _, us = net(x, record=True)
    rows = [[] for _ in range(net.models)]
    recs = [[] for _ in range(net.models)]
    for u in us:
        u = u.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(net.spike(u).sum(), u)
        for k in range(net.models):
            uk, gk = u[k].detach(), g[k]
            prev = torch.cat([torch.zeros_like(uk[:1]), uk[:-1]])
            cross = (prev < threshold) & (uk >= threshold)
            g_prev = torch.cat([torch.zeros_like(gk[:1]), gk[:-1]])  # g at the sample below (t-1)
            first = torch.zeros_like(cross)
            first[0] = cross[0]  # a crossing at t = 0 has the rest value u[-1] = 0 below: not a step
            n = int(cross.sum())
            rows[k].append({
                "frac_nonzero": float((gk != 0).double().mean()),
                "n_crossings": n,
                "mean_grad_below": float(g_prev[cross & ~first].double().mean()) if n > int(first.sum()) else None,
                "mean_grad_at": float(gk[cross].double().mean()) if n else None,
                "spike_rate": float((uk >= threshold).double().mean()),
            })
            rec = CrossingRecorder(theta, threshold=threshold)
            rec.update(uk.double().numpy())
            recs[k].append(rec)
    return rows, recs


def _resolved(cfg, sizes, steps, probe):
    """The kind's concrete spec and the matched-format record (the FIX: ``dU`` at crossings of
    the initial network's first layer)."""
    spec = get_kind(cfg.kind)
    if not spec.matched:
        return spec, {}
    from .simulate import typical_du

    w0 = SpikingNet(sizes, None, dt_over_tau=cfg.dt_over_tau, steps=steps, scheme=cfg.scheme, readout=cfg.readout,
                    generator=torch.Generator().manual_seed(cfg.seed)).weights[0][0]
    du = typical_du(probe.double().numpy(), w0.detach().double().numpy(), cfg.dt_over_tau,
                    scheme=cfg.scheme, theta=cfg.theta, horizon=cfg.horizon)  # probe (n, T, F): per-step input
    spec = spec.resolve(du)
    return spec, {"typical_du": du, "format": spec.format}


@contextlib.contextmanager
def _training_policies():
    """The training steps' policies: ``KEEP_HEAP`` (for the process) and ``FLUSH_DENORMAL`` (inside)."""
    if KEEP_HEAP:
        from ..torch.heap import keep_freed_memory

        keep_freed_memory()
    on = FLUSH_DENORMAL and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if on:
            torch.set_flush_denormal(False)


def train(cfg, data, *, progress=None) -> dict:
    """Train one network (``cfg``: a :class:`boolgrad.study.overshoot.RunConfig`); result dict."""
    return train_group([cfg], data, progress=progress)[0]


def train_group(cfgs, data, *, progress=None, weights=None) -> list[dict]:
    """Train configs of one ``group_key()`` (:meth:`~boolgrad.study.overshoot.RunConfig.group_key`)
    as one stacked model; one result dict each, in order.  ``weights``: a list that receives
    each model's final (best-epoch) parameters, name -> tensor."""
    cfgs = list(cfgs)
    cfg = cfgs[0]
    if len({c.group_key() for c in cfgs}) != 1:
        raise ValueError("a group's configs must differ only in seed and learning rate")
    torch.set_num_threads(1)
    K = len(cfgs)
    data = data.at_dt(cfg.dt_over_tau, cfg.horizon)  # spike times -> counts per step; features as they are
    gens = [torch.Generator().manual_seed(c.seed) for c in cfgs]
    x_tr, y_tr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_va, y_va = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
    x_te, y_te = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    steps = steps_for(cfg.dt_over_tau, cfg.horizon)
    sizes = (data.n_features, *cfg.hidden, data.n_classes)
    probe = x_tr[: cfg.probe]
    spec, matched = _resolved(cfg, sizes, steps, probe)
    threshold = spec.firing_threshold(cfg.theta)
    net = SpikingNet(sizes, spec.spike(cfg.theta), dt_over_tau=cfg.dt_over_tau, steps=steps, scheme=cfg.scheme,
                     readout=cfg.readout, generator=gens, engine=cfg.engine,
                     detach_reset=cfg.detach_reset, temporal=data.temporal)
    opt = StackedAdam(net.parameters(), [c.lr for c in cfgs])
    history, best = [[] for _ in cfgs], [None] * K
    stopped = [None] * K  # the epoch after which model k stopped (early stopping)
    t0 = time.perf_counter()
    samples = 0
    for epoch in range(1, cfg.epochs + 1):
        perms = [torch.randperm(len(x_tr), generator=g).split(cfg.batch_size) for g in gens]
        batch_losses, norms = [], np.zeros((K, len(net.weights)))
        with _training_policies():  # the training steps only: the statistics see subnormal g as they are
            for batch in zip(*perms):
                idx = torch.stack(batch)  # (K, B): each model's own batch
                flat = idx.flatten()
                opt.zero_grad()
                xb = x_tr.index_select(0, flat).view(*idx.shape, *x_tr.shape[1:])  # x_tr[idx], no advanced indexing
                loss = losses(net(xb), y_tr.index_select(0, flat).view(idx.shape), net.readout)  # (K,): each model's own
                loss.sum().backward()
                norms += torch.stack([w.grad.flatten(1).norm(dim=1) for w in net.weights], 1).double().numpy()
                opt.step()
                batch_losses.append(loss.detach().double().numpy())
                samples += idx.shape[1]
        rows, _ = _layer_stats(net, probe, cfg.theta, threshold)
        val = _accuracy(net, x_va, y_va)
        mean_loss = np.mean(batch_losses, axis=0)
        for k in range(K):
            if stopped[k] is not None:
                continue
            for r, n in zip(rows[k], norms[k] / max(1, len(batch_losses))):
                r["grad_norm"] = float(n)
            history[k].append({"epoch": epoch, "loss": float(mean_loss[k]), "val_acc": val[k], "layers": rows[k]})
            if best[k] is None or val[k] > best[k]["val_acc"]:
                best[k] = {"epoch": epoch, "val_acc": val[k],
                           "state": {n: p.detach()[k].clone() for n, p in net.named_parameters()}}
            if patience_reached(epoch, best[k]["epoch"], cfgs[k].patience):
                stopped[k] = epoch
        if progress:
            progress(epoch, history[0][-1])
        if all(s is not None for s in stopped):
            break
    train_seconds = (time.perf_counter() - t0) / K  # the group's time, shared
    with torch.no_grad():
        for n, p in net.named_parameters():
            for k in range(K):
                p[k] = best[k]["state"][n]
    if weights is not None:
        weights.extend(best[k]["state"] for k in range(K))
    test = _accuracy(net, x_te, y_te)  # test once, at each model's best-validation epoch
    rows, recs = _layer_stats(net, probe, cfg.theta, threshold)
    out = []
    for k, c in enumerate(cfgs):
        for r, h in zip(rows[k], history[k][best[k]["epoch"] - 1]["layers"]):
            r["grad_norm"] = h["grad_norm"]  # mean over the best epoch's batches
        trained = [rec.finish([spec]) for rec in recs[k]]  # crossing statistics with trained weights
        for t in trained:
            t.update(dt_over_tau=c.dt_over_tau, steps=steps, scheme=c.scheme)
        below = [r["mean_grad_below"] for r in rows[k] if r["mean_grad_below"] is not None]
        out.append({
            "test_acc": test[k], "val_acc": best[k]["val_acc"], "best_epoch": best[k]["epoch"],
            "epochs": c.epochs, "stopped_epoch": len(history[k]), "stopped_early": stopped[k] is not None, "steps": steps, "kind": spec.describe(), "matched": matched,
            "mean_grad_at_crossings": float(np.mean(below)) if below else None,
            "frac_nonzero_grad": float(np.mean([r["frac_nonzero"] for r in rows[k]])),
            "final_layers": rows[k], "trained_crossings": trained, "history": history[k],
            "train_seconds": train_seconds, "samples_per_second": samples / max(train_seconds, 1e-9),
        })
    return out
