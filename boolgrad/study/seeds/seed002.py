"""Seed 002: multi-threshold vs central-threshold networks (the blog's MNIST table, replicated).

Models (2 hidden layers of ``hidden = (H1, H2)`` units, a linear output ``W_23 I_2 + b_3``,
cross-entropy; every weight and bias drawn from a standard normal, as the blog's
``tf.random_normal``):

* ``central``: ``I_j = ReLU(sum_i W_ji I_i + b_j)``;
* ``multi``:   ``I_j = sum_i ReLU(W_ji I_i) + b_j`` (the blog's multi-threshold neuron: the
  dendrite thresholds moved into the weights, Heaviside replaced by ReLU), batched as
  ``relu(x) relu(W)^T + relu(-x) relu(-W)^T + b`` (:func:`boolgrad.torch.layers.multi_threshold_linear`);
  ``impl="naive"`` evaluates it per sample as the blog's ``reduce_sum(relu(x * W), 1) + b``
  (and ``central`` as ``relu(W x + b)``), batch size 1 only;
* ``central_spike``: ``I_j = H(sum_i W_ji I_i + b_j - theta)`` (the classic threshold unit);
* ``dendrite_spike``: ``I_j = sum_i H(W_ji I_i - theta)`` (Sardi et al.'s per-dendrite form,
  :class:`boolgrad.torch.layers.DendriteSpikeLinear`).

``H`` is the spike ``[u >= theta]`` of a gradient ``kind`` (:mod:`boolgrad.study.kinds`): the exact
Boolean gradient (``boolean_yj2025``) or a surrogate (``arctan``, ``straight_through``...).
Optimizer: Adam (default; ``optimizer="sgd"`` for plain gradient descent), the blog's learning
rates; the blog trains 4 epochs at batch size 1 and tests once at the end, so do we (no
validation selection).  ``samples_per_second`` is the training throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .common import SeedConfig, batches

__all__ = ["BLOG", "BLOG_LRS", "MODELS", "Seed002Config", "build", "train_steps"]

MODELS = ("central", "multi", "central_spike", "dendrite_spike")
BLOG_LRS = (0.0005, 0.001, 0.005, 0.01)
#: the blog's test accuracies (MNIST, batch 1, 4 epochs): lr -> (central, multi)
BLOG = {0.0005: (0.8571, 0.8757), 0.001: (0.8958, 0.8879), 0.005: (0.2554, 0.9085), 0.01: (0.1028, 0.773)}


@dataclass(frozen=True)
class Seed002Config(SeedConfig):
    EXPERIMENT = "seed002"
    dataset: str = "digits"
    model: str = "multi"
    kind: str = ""  # spiking models only
    impl: str = "batched"
    optimizer: str = "adam"
    lr: float = 0.001
    batch_size: int = 1
    epochs: int = 4
    hidden: tuple = (64, 32)
    theta: float = 0.5  # spiking models
    seed: int = 0
    subset: tuple = ()
    data_seed: int = 0
    data_dir: str = ""

    def _check(self):
        from ..kinds import get_kind

        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        if self.model.endswith("_spike"):
            get_kind(self.kind)
        elif self.kind:
            raise ValueError(f"model {self.model!r} has ReLU units: no kind")
        if self.impl not in ("batched", "naive") or (
            self.impl == "naive" and (self.batch_size != 1 or self.model not in ("central", "multi"))
        ):
            raise ValueError("impl is 'batched' or 'naive' (central/multi at batch size 1)")
        if self.optimizer not in ("adam", "sgd") or len(self.hidden) != 2:
            raise ValueError("optimizer is 'adam' or 'sgd'; hidden has two sizes")

    def label(self):
        k = f"/{self.kind}" if self.kind else ""
        return f"002 {self.model}{k} {self.impl} lr={self.lr:g} b={self.batch_size}"

    def _execute(self, data):
        return train(self, data)


def build(cfg: Seed002Config, n_in: int, n_out: int, generator):
    """The network of ``cfg`` (module doc) with standard-normal parameters from ``generator``."""
    import torch
    from torch import nn

    from boolgrad.torch.layers import CentralThresholdLinear, DendriteSpikeLinear, MultiThresholdLinear

    from ..kinds import get_kind

    spike = get_kind(cfg.kind).spike(cfg.theta) if cfg.kind else None
    sizes = (n_in, *cfg.hidden)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        if cfg.model == "multi":
            layers.append(MultiThresholdLinear(a, b))
        elif cfg.model == "central":
            layers.append(CentralThresholdLinear(a, b))
        elif cfg.model == "central_spike":
            layers.append(CentralThresholdLinear(a, b, activation=spike))
        else:
            layers.append(DendriteSpikeLinear(a, b, spike))
    net = nn.Sequential(*layers, nn.Linear(sizes[-1], n_out))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(generator=generator)
    net.impl = cfg.impl
    return net


def naive_forward(net, x):
    """The blog's per-sample evaluation (batch size 1): ``reduce_sum(relu(x * W), 1) + b``."""
    import torch
    import torch.nn.functional as F

    from boolgrad.torch.layers import MultiThresholdLinear

    h = x[0]
    for layer in list(net)[:-1]:
        if isinstance(layer, MultiThresholdLinear):
            h = F.relu(h * layer.weight).sum(1) + layer.bias
        else:
            h = F.relu(torch.mv(layer.weight, h) + layer.bias)
    out = list(net)[-1]
    return (torch.mv(out.weight, h) + out.bias)[None]


def _forward(net, x):
    return naive_forward(net, x) if net.impl == "naive" else net(x)


def train_steps(net, cfg, x, y, gen, n_steps=None):
    """Train ``net`` in place (Adam/SGD, cross-entropy); returns per-epoch mean losses.
    ``n_steps`` stops after that many optimizer steps (the batch-1 equality test)."""
    import torch
    import torch.nn.functional as F

    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(net.parameters(), lr=cfg.lr)
    losses, steps = [], 0
    for _ in range(cfg.epochs):
        total, n = torch.zeros((), dtype=torch.float64), 0
        for idx in batches(len(x), cfg.batch_size, gen):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(_forward(net, x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.detach().double() * len(idx)
            n += len(idx)
            steps += 1
            if n_steps is not None and steps >= n_steps:
                return losses + [float(total) / n]
        losses.append(float(total) / max(n, 1))
        if not math.isfinite(losses[-1]):
            break  # diverged: the weights are NaN / inf; later epochs cannot recover
    return losses


def _evaluate(net, x, y, batch=1000):
    """Accuracy and the fraction of non-zero hidden outputs (the blog's sparsity)."""
    import torch

    hits, active, count = 0, 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            h = x[i : i + batch]
            for layer in list(net)[:-1]:
                h = layer(h)
                active += float((h != 0).double().sum())
                count += h.numel()
            logits = list(net)[-1](h)
            pred = torch.nan_to_num(logits, nan=-math.inf).argmax(1)
            hits += int((pred == y[i : i + batch]).sum())
    return hits / max(1, len(x)), active / max(1, count)


def train(cfg: Seed002Config, data) -> dict:
    import time

    import torch

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x_tr, y_tr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_te, y_te = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    net = build(cfg, data.n_features, data.n_classes, gen)
    t0 = time.perf_counter()
    losses = train_steps(net, cfg, x_tr, y_tr, gen)
    seconds = time.perf_counter() - t0
    acc, active = _evaluate(net, x_te, y_te)
    finite = all(bool(torch.isfinite(p).all()) for p in net.parameters())
    return {
        "test_acc": acc,
        "train_loss": losses,
        "final_loss": losses[-1] if losses else None,
        "diverged": not (finite and all(np.isfinite(losses))),
        "frac_active": active,
        "n_train": len(x_tr),
        "train_seconds": seconds,
        "samples_per_second": len(x_tr) * len(losses) / max(seconds, 1e-9),
    }
