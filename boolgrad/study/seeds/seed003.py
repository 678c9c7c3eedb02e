"""Seed 003: the halving neuron with a learnable threshold (and leak), vs LIF.

Network: input ``x`` (constant current, ``steps`` steps) -> ``hidden`` neurons, input current
``I = x W^T`` (``W`` Xavier-uniform) -> linear readout of the mean output over time -> cross-entropy.

* ``halving`` (:func:`boolgrad.torch.neurons.halving_step`): ``p = v + I``, ``s = spike(p)``,
  output ``s * p``, ``v <- (1 - s) p * leak`` (the seed: leak 0.5);
* ``lif`` (:func:`boolgrad.torch.neurons.lif_step`): ``u = leak * u * (1 - s_prev) + I``, output ``s``.

The threshold is one learnable scalar per layer (``learn_theta=True``): a Boolean spike's tables
depend on the threshold's value, so it is one number per spike function.  ``leak`` is one value per
neuron, learnable with ``learn_leak`` (clipped to [0, 1] in the forward).  Weights train with Adam
at ``lr``, threshold and leak at ``lr_theta``.

Kinds: ``boolean_fixed16.8`` -- the exact Boolean gradient of ``fixed16.8`` (secant; ``u`` and
theta rounded to 2**-8 in the forward too; ``g / peak``), whose threshold gradient comes from the
``wrt="theta"`` table (spec §5: ``<= 0``); a format this coarse keeps the number of tables built as
theta moves small (a float32 table per Adam step costs ~0.4 s); or any kind of
:mod:`boolgrad.study.kinds` (surrogates: threshold gradient ``-g``).

Under the study's protocol (``select="val"``, :mod:`boolgrad.study.seeds.protocol`): the
validation accuracy after every epoch, early stopping after ``patience`` epochs without a better
one (0: never) under the ``epochs`` cap, and the test accuracy (and threshold, leaks) of the best
validation epoch; ``theta_lr_ratio > 0`` sets the threshold's and leak's rate to that multiple of
``lr`` (so a searched ``lr`` moves both; the default 0 keeps ``lr_theta``).  Per epoch the run
records the threshold (``theta_path``), the fraction of steps with a non-zero threshold gradient
and its mean magnitude (``theta_grad_path``), and the validation accuracy.

Reported: accuracy, theta before/after, the fraction of optimizer steps whose theta gradient is
non-zero and its mean magnitude, leak quantiles, firing rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import BestEpoch, SeedConfig, quantiles

__all__ = ["THETA_KINDS", "Seed003Config", "make_spike"]


def _theta_kinds():
    from ..kinds import KindSpec

    return {
        "boolean_fixed16.8": KindSpec(
            "boolean_fixed16.8", "boolean", format="fixed16.8", scale="unit_peak", quantize_forward=True
        )
    }


THETA_KINDS = ("boolean_fixed16.8",)


def _spec(kind):
    from ..kinds import get_kind

    return _theta_kinds()[kind] if kind in THETA_KINDS else get_kind(kind)


def make_spike(kind: str, theta: float):
    """A spike function with a learnable threshold (``learn_theta=True``) for ``kind``."""
    import boolgrad.torch as bt

    spec = _spec(kind)
    if spec.family == "surrogate":
        return bt.surrogate(spec.surrogate, theta, learn_theta=True, **dict(spec.params))
    if spec.preset:
        return bt.boolean_spike(spec.preset, theta, learn_theta=True)
    return bt.boolean_spike(
        spec.format,
        theta,
        scale=spec.scale,
        grad_max=spec.grad_max,
        comparator=spec.comparator,
        convention=spec.convention,
        quantize_forward=spec.quantize_forward,
        learn_theta=True,
    )


@dataclass(frozen=True)
class Seed003Config(SeedConfig):
    EXPERIMENT = "seed003"
    dataset: str = "yinyang"
    neuron: str = "halving"
    kind: str = "boolean_fixed16.8"
    learn_leak: bool = True
    hidden: int = 64
    steps: int = 8
    theta: float = 0.5
    leak: float = 0.5
    lr: float = 3e-3
    lr_theta: float = 1e-3
    epochs: int = 8
    batch_size: int = 64
    seed: int = 0
    subset: tuple = ()
    data_seed: int = 0
    data_dir: str = ""
    # the study's protocol (module doc); the defaults keep the seed's run and the old hashes
    select: str = "last"
    patience: int = 0
    theta_lr_ratio: float = 0.0

    LATER_FIELDS = ("select", "patience", "theta_lr_ratio")

    @property
    def rate_theta(self) -> float:
        """The threshold's (and leak's) learning rate."""
        return self.theta_lr_ratio * self.lr if self.theta_lr_ratio > 0 else self.lr_theta

    def identity(self) -> dict:
        d = super().identity()
        d["kind_spec"] = _spec(self.kind).describe()
        return d

    def _check(self):
        _spec(self.kind)
        if self.neuron not in ("halving", "lif") or self.steps < 1 or self.hidden < 1:
            raise ValueError("neuron is 'halving' or 'lif'; steps and hidden >= 1")
        if self.select not in ("last", "val") or self.patience < 0 or self.theta_lr_ratio < 0:
            raise ValueError("select is 'last' or 'val'; patience and theta_lr_ratio >= 0")
        if self.select == "last" and self.patience:
            raise ValueError("patience needs select='val' (validation checks)")

    def label(self):
        lr = f" lr={self.lr:g}" if self.select == "val" else ""
        return f"003 {self.neuron} {self.kind} leak={'learn' if self.learn_leak else 'fixed'}{lr}"

    def cost(self) -> float:
        return float(self.epochs)

    def _execute(self, data):
        return train(self, data)


def _net(cfg, n_in, n_out, gen):
    import math

    import torch

    w = torch.empty(cfg.hidden, n_in)
    b = math.sqrt(6.0 / (n_in + cfg.hidden))
    w.uniform_(-b, b, generator=gen)
    readout = torch.nn.Linear(cfg.hidden, n_out)
    with torch.no_grad():
        r = 1.0 / math.sqrt(cfg.hidden)
        readout.weight.uniform_(-r, r, generator=gen)
        readout.bias.uniform_(-r, r, generator=gen)
    leak = torch.full((cfg.hidden,), float(cfg.leak))
    return {
        "w": torch.nn.Parameter(w),
        "readout": readout,
        "spike": make_spike(cfg.kind, cfg.theta),
        "leak": torch.nn.Parameter(leak) if cfg.learn_leak else leak,
    }


def _forward(cfg, net, x):
    from boolgrad.torch.neurons import HalvingParams, LIFParams, halving_step, lif_step

    current = x @ net["w"].T
    leak = net["leak"].clamp(0.0, 1.0)
    if cfg.neuron == "halving":
        step, params = halving_step, HalvingParams(net["spike"], leak)
    else:
        step, params = lif_step, LIFParams(net["spike"], beta=leak)
    state, total, fired = None, 0.0, 0.0
    for _ in range(cfg.steps):
        out, state = step(current, state, params)
        total = total + out
        fired = fired + (out != 0).double().mean()
    return net["readout"](total / cfg.steps), float(fired) / cfg.steps


def _accuracy(cfg, net, x, y):
    import torch

    with torch.no_grad():
        logits, rate = _forward(cfg, net, torch.from_numpy(x))
        return float((logits.argmax(1) == torch.from_numpy(y)).double().mean()), rate


def train(cfg, data) -> dict:
    import torch

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    net = _net(cfg, data.n_features, data.n_classes, gen)
    theta = net["spike"].theta
    slow = [theta] + ([net["leak"]] if cfg.learn_leak else [])
    opt = torch.optim.Adam(
        [
            {"params": [net["w"], *net["readout"].parameters()], "lr": cfg.lr},
            {"params": slow, "lr": cfg.rate_theta},
        ]
    )
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    theta0 = float(theta.detach())
    losses, nonzero, gmag, path, gpath = [], [], [], [theta0], []
    sel = BestEpoch(cfg)
    params = lambda: {"w": net["w"], "leak": net["leak"], "theta": theta, **dict(net["readout"].named_parameters())}
    for epoch in range(1, cfg.epochs + 1):
        tot, nz, gm = 0.0, [], []
        for idx in torch.randperm(len(x), generator=gen).split(cfg.batch_size):
            opt.zero_grad(set_to_none=True)
            logits, _ = _forward(cfg, net, x[idx])
            loss = torch.nn.functional.cross_entropy(logits, y[idx])
            loss.backward()
            g = 0.0 if theta.grad is None else float(theta.grad)
            nz.append(g != 0.0)
            gm.append(abs(g))
            opt.step()
            tot += float(loss.detach()) * len(idx)
        nonzero += nz
        gmag += gm
        losses.append(tot / len(x))
        path.append(float(theta.detach()))
        gpath.append({"frac_nonzero": float(np.mean(nz)), "mean_abs": float(np.mean(gm))})
        if not sel.on:
            continue
        val, _ = _accuracy(cfg, net, data.x_val, data.y_val)
        if sel.check(epoch, val, lambda: {k: v.detach().clone() for k, v in params().items()}) \
                or not np.isfinite(losses[-1]):
            break
    res = sel.fields(lambda: _accuracy(cfg, net, data.x_test, data.y_test)[0])
    if sel.best_state is not None:
        with torch.no_grad():
            for k, p in params().items():
                p.copy_(sel.best_state[k])
    acc, rate = _accuracy(cfg, net, data.x_test, data.y_test)
    leak = net["leak"].detach().clamp(0.0, 1.0).double().numpy()
    final = float(theta.detach())  # the best epoch's threshold under the protocol
    return {
        "test_acc": acc,
        **res,
        "train_loss": losses,
        "theta_init": theta0,
        "theta_final": final,
        "theta_path": path,
        "theta_grad_path": gpath,
        "theta_moved": abs(final - theta0),
        "theta_max_moved": float(np.max(np.abs(np.asarray(path) - theta0))),
        "frac_steps_theta_grad_nonzero": float(np.mean(nonzero)),
        "mean_abs_theta_grad": float(np.mean(gmag)),
        "leak_quantiles": quantiles(leak),
        "leaks": leak.tolist(),
        "firing_rate": rate,
    }
