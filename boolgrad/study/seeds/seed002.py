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
Optimizer: Adam (default; ``optimizer="sgd"`` for plain gradient descent; under the protocol
torch's fused Adam kernel, the same update), the blog's learning rates; the blog trains 4 epochs
at batch size 1 and tests once at the end, so do we by default (``select="last"``: no
validation selection).  ``samples_per_second`` is the training throughput.

Under the study's protocol (``select="val"``, :mod:`boolgrad.study.seeds.protocol`): the
validation accuracy is measured every ``val_every`` optimizer updates (0: at the end of every
epoch), the run stops after ``patience`` checks without a better one (0: never;
:func:`boolgrad.study.protocol.patience_reached`) or at the cap -- ``updates`` optimizer updates
when ``updates > 0`` (an epoch is ``ceil(n / batch_size)`` updates, the last batch partial, so
batch ``B`` runs ``updates / ceil(n / B)`` epochs: the equal-updates comparison), else
``epochs`` epochs -- and reports the test accuracy of the best validation check (ties: the
earliest) as ``test_acc`` and that of the last weights as ``test_acc_last``.  A non-finite
training loss ends the run (diverged); its best check stays the one before.
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
    # the study's protocol (module doc); the defaults keep the blog's run and the old hashes
    select: str = "last"
    patience: int = 0
    updates: int = 0
    val_every: int = 0

    LATER_FIELDS = ("select", "patience", "updates", "val_every")

    def _check(self):
        from ..kinds import get_kind

        if self.select not in ("last", "val"):
            raise ValueError(f"select is 'last' or 'val', got {self.select!r}")
        if min(self.patience, self.updates, self.val_every) < 0:
            raise ValueError("patience, updates and val_every must be >= 0")
        if self.select == "last" and (self.patience or self.val_every):
            raise ValueError("patience and val_every need select='val' (validation checks)")

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
        cap = f" u={self.updates}" if self.updates else f" e={self.epochs}" if self.select == "val" else ""
        return f"002 {self.model}{k} {self.impl} lr={self.lr:g} b={self.batch_size}{cap}"

    def cost(self) -> float:
        """Relative run time (the parallel executors start the costliest first): updates at the
        cap (for the subset's size, else the image sets' 55,000) x ``1 + B / 128`` (measured: an
        update at batch 256 costs ~2-3 at batch 1)."""
        n = self.subset[0] if self.subset else 55_000
        return float(self.cap_updates(n) * (1 + self.batch_size / 128))

    def cap_updates(self, n_train: int) -> int:
        """The cap in optimizer updates for ``n_train`` training samples (module doc)."""
        return self.updates or self.epochs * math.ceil(n_train / self.batch_size)

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

    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(net.parameters(), lr=cfg.lr)
    losses, steps = [], 0
    for _ in range(cfg.epochs):
        total, n = torch.zeros((), dtype=torch.float64), 0
        for idx in batches(len(x), cfg.batch_size, gen):
            total += _step(net, opt, x[idx], y[idx]) * len(idx)
            n += len(idx)
            steps += 1
            if n_steps is not None and steps >= n_steps:
                return losses + [float(total) / n]
        losses.append(float(total) / max(n, 1))
        if not math.isfinite(losses[-1]):
            break  # diverged: the weights are NaN / inf; later epochs cannot recover
    return losses


def _step(net, opt, xb, yb):
    """One optimizer step on the batch's cross-entropy; its loss (float64, detached)."""
    import torch.nn.functional as F

    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(_forward(net, xb), yb)
    loss.backward()
    opt.step()
    return loss.detach().double()


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


def train_checked(net, cfg, data, gen) -> dict:
    """The protocol's training (module doc): validation checks, early stopping, the cap; the
    net ends with the weights of the best check; returns the run's record."""
    import torch

    from ..protocol import patience_reached

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xv, yv = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
    per_epoch = math.ceil(len(x) / cfg.batch_size)
    cap, period = cfg.cap_updates(len(x)), cfg.val_every or per_epoch
    # Adam's fused kernel: the same update in one vectorised pass per parameter (~1/3 less time an
    # update at batch 1, where the per-op overhead of the single-tensor path dominates)
    opt = (torch.optim.Adam(net.parameters(), lr=cfg.lr, fused=True) if cfg.optimizer == "adam"
           else torch.optim.SGD(net.parameters(), lr=cfg.lr))
    history, best, steps, samples, stop = [], None, 0, 0, ""
    total, n = torch.zeros((), dtype=torch.float64), 0
    while not stop:
        for idx in batches(len(x), cfg.batch_size, gen):
            total += _step(net, opt, x[idx], y[idx]) * len(idx)
            n += len(idx)
            samples += len(idx)
            steps += 1
            if steps % period and steps < cap:
                continue
            mean = float(total) / max(n, 1)
            total, n = torch.zeros((), dtype=torch.float64), 0
            val, _ = _evaluate(net, xv, yv)  # a diverged net is checked too: its (chance) accuracy counts
            history.append({"updates": steps, "epoch": steps / per_epoch, "loss": mean, "val_acc": val})
            if best is None or val > best["val_acc"]:
                best = {"check": len(history), "val_acc": val,
                        "state": {k: v.clone() for k, v in net.state_dict().items()}}
            if not math.isfinite(mean):
                stop = "diverged"  # the weights are NaN / inf; later updates cannot recover
            elif patience_reached(len(history), best["check"], cfg.patience):
                stop = "patience"
            elif steps >= cap:
                stop = "cap"
            if stop:
                break
    last = {k: v.clone() for k, v in net.state_dict().items()}
    if best is not None:
        net.load_state_dict(best["state"])
    return {"history": history, "best": best, "updates_done": steps, "per_epoch": per_epoch, "cap": cap,
            "stop": stop, "last_state": last, "samples": samples}


def train(cfg: Seed002Config, data) -> dict:
    import time

    import torch

    if cfg.select == "val":
        return _train_protocol(cfg, data)

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


def _train_protocol(cfg: Seed002Config, data) -> dict:
    import time

    import torch

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x_te, y_te = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    net = build(cfg, data.n_features, data.n_classes, gen)
    t0 = time.perf_counter()
    rec = train_checked(net, cfg, data, gen)
    seconds = time.perf_counter() - t0
    hist, best = rec["history"], rec["best"]
    acc, active = _evaluate(net, x_te, y_te)
    with torch.no_grad():
        trained = {k: v.clone() for k, v in net.state_dict().items()}
        net.load_state_dict(rec["last_state"])
        last_finite = all(bool(torch.isfinite(p).all()) for p in net.parameters())
        acc_last, _ = _evaluate(net, x_te, y_te)
        net.load_state_dict(trained)
    per_epoch, steps = rec["per_epoch"], rec["updates_done"]
    return {
        "test_acc": acc,
        "test_acc_last": acc_last,
        "val_acc": best["val_acc"],
        "best_check": best["check"],
        "best_updates": hist[best["check"] - 1]["updates"],
        "best_epoch": hist[best["check"] - 1]["epoch"],
        "checks": len(hist),
        "cap_updates": rec["cap"],
        "updates_per_epoch": per_epoch,
        "updates_done": steps,
        "epochs_done": steps / per_epoch,
        "stop": rec["stop"],
        "stopped_early": rec["stop"] == "patience",
        "history": hist,
        "train_loss": [h["loss"] for h in hist],
        "final_loss": hist[-1]["loss"] if hist else None,
        "diverged": rec["stop"] == "diverged" or not last_finite,
        "frac_active": active,
        "n_train": len(data.x_train),
        "train_seconds": seconds,
        "samples_per_second": rec["samples"] / max(seconds, 1e-9),
    }
