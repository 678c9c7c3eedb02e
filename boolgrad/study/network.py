"""The study's spiking network, K independent models of one shape stacked into one module.

Network (Yoo & Jeong's shape scaled to the data): input ``x`` (features in [0, 1], the same
current every step: direct encoding; or, ``temporal=True``, spike counts per step) -> LIF
hidden layer(s) -> output, weights Xavier-uniform, no biases in spiking layers.  LIF with hard reset and ``a = dt / tau`` (see
:mod:`boolgrad.study.simulate` for the two schemes): ``u[t] = e^{-a} u[t-1] (1 - s[t-1]) + c I[t]``
with ``c = 1 - e^{-a}`` (``scheme="exact"``) or ``c = 1`` (``"authors"``), ``s = spike(u)``
(the kind's spike function; the gradient flows through the reset as in the authors' code, or
not: ``detach_reset=True``, snnTorch's and SpyTorch's choice, an ablation of the study);
``steps = horizon / a``.  Readouts: ``mse_count`` (a spiking output layer; output = its spike
count averaged over time) or ``ce_linear`` (a linear readout, with bias, of the last hidden
layer's mean spike count).

Drive.  Direct encoding: ``I[t] = x W`` every step, times ``c`` (the scheme's gain) in every
layer, as above.  Temporal input (``temporal=True``, ``x`` ``(K, B, T, F)`` or ``(B, T, F)``:
spike counts per step, :func:`boolgrad.study.spiketrains.bin_spikes`): every spike is a current
impulse whose charge does not depend on ``dt``, so every layer's update is
``u[t] = e^{-a} u[t-1] (1 - s[t-1]) + n[t] W`` (gain 1, whatever ``scheme``: it only concerns a
current held over a step): an input spike raises ``u`` by its weight, a hidden spike raises the
next layer's ``u`` by its weight, in the step it lands in.

Stacking: model ``k`` has its own weights (``weights[i][k]``, ``(n_in, n_out)``), initialised
from its own generator exactly as a lone model would be, and its own input ``x[k]``; a layer's
product is one batched call (:func:`boolgrad.torch.linear.linear`) and its LIF one pass over
all models.  Models never mix: model k's outputs and gradients are those of training it alone.

Engines (the same numbers: spikes and ``u`` bit for bit, gradients to the rounding of sums over
time): ``"fused"`` -- :func:`boolgrad.torch.multistep.lif_sequence`'s loops per layer (one numba
pass over time each way), the whole network one autograd node (:mod:`.fused_network`: the
layer-by-layer chain's bits, without its per-node costs); ``"step"`` -- :func:`boolgrad.torch.neurons.lif_step` T times per layer
(the reference).
"""

from __future__ import annotations

import math

import torch

from ..torch.linear import linear
from ..torch.multistep.rate import time_mean
from .simulate import input_gain

__all__ = ["ENGINES", "SpikingNet"]

ENGINES = ("fused", "step")


def _init(sizes, n_spiking, readout, generator):
    """One model's weights, drawn in a fixed order from ``generator`` (Xavier-uniform spiking
    weights; the readout as ``torch.nn.Linear`` initialises its own)."""
    ws = []
    for i in range(n_spiking):
        bound = math.sqrt(6.0 / (sizes[i] + sizes[i + 1]))
        ws.append(torch.empty(sizes[i], sizes[i + 1]).uniform_(-bound, bound, generator=generator))
    if readout == "ce_linear":
        bound = 1.0 / math.sqrt(sizes[-2])
        ws.append(torch.empty(sizes[-1], sizes[-2]).uniform_(-bound, bound, generator=generator))
        ws.append(torch.empty(sizes[-1]).uniform_(-bound, bound, generator=generator))
    return ws


class SpikingNet(torch.nn.Module):
    """``sizes = (n_in, *hidden, n_out)``; one model per generator of ``generator`` (a generator,
    None, or a list of them: K stacked models); module doc."""

    def __init__(self, sizes, spike, *, dt_over_tau, steps, scheme="exact", readout="mse_count",
                 generator=None, engine="fused", detach_reset=False, temporal=False):
        super().__init__()
        if readout not in ("mse_count", "ce_linear"):
            raise ValueError(f"readout must be 'mse_count' or 'ce_linear', got {readout!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        gens = list(generator) if isinstance(generator, (list, tuple)) else [generator]
        self.spike, self.steps, self.readout, self.engine = spike, int(steps), readout, engine
        self.decay, self.gain = math.exp(-dt_over_tau), input_gain(dt_over_tau, scheme)
        self.temporal = bool(temporal)
        if self.temporal:  # spikes are impulses (module doc)
            self.gain = 1.0
        n_spiking = len(sizes) - 1 if readout == "mse_count" else len(sizes) - 2
        per_model = [_init(sizes, n_spiking, readout, g) for g in gens]
        stacked = [torch.stack(ws) for ws in zip(*per_model)]
        self.weights = torch.nn.ParameterList(torch.nn.Parameter(w) for w in stacked[:n_spiking])
        self.readout_weight = self.readout_bias = None
        if readout == "ce_linear":  # (K, n_out, n_hidden) and (K, n_out), as torch.nn.Linear's
            self.readout_weight = torch.nn.Parameter(stacked[n_spiking])
            self.readout_bias = torch.nn.Parameter(stacked[n_spiking + 1])
        from boolgrad.torch.neurons import LIFParams

        self.params = LIFParams(spike, beta=self.decay, detach_reset=bool(detach_reset))

    @property
    def models(self) -> int:
        """K, the number of stacked models."""
        return self.weights[0].shape[0]

    def _layer(self, current, first):
        """Spikes and ``u`` ``(K, T, B, H)`` of one LIF layer: ``current`` ``(K, B, H)`` every step
        (``first``, direct encoding) or ``(K, T, B, H)``."""
        if self.engine == "fused":
            from boolgrad.torch.multistep import lif_sequence

            return lif_sequence(current, self.params, steps=self.steps if first else None, gain=self.gain,
                                time_dim=1)
        from boolgrad.torch.neurons import lif_step

        drive = current * self.gain
        state, outs, us = None, [], []
        for t in range(self.steps):
            s, state = lif_step(drive if first else drive[:, t], state, self.params)
            outs.append(s)
            us.append(state.u)
        return torch.stack(outs, 1), torch.stack(us, 1).detach()

    def forward(self, x, record=False):
        """Output ``(K, B, n_out)`` (counts or logits) of inputs ``x`` ``(K, B, n_in)`` (or
        ``(B, n_in)``: the same batch for every model; ``temporal``: ``(K, B, T, n_in)`` or
        ``(B, T, n_in)``) and, with ``record``, each spiking layer's ``u`` ``(K, T, B, H)``."""
        if x.dim() == 2 + self.temporal:
            x = x.expand(self.models, *x.shape)
        if self.temporal:
            if x.dim() != 4 or x.shape[2] != self.steps:
                raise ValueError(f"temporal input must be (K, B, {self.steps}, n_in) or (B, {self.steps}, n_in), "
                                 f"got {tuple(x.shape)}")
            x = x.transpose(1, 2)  # (K, T, B, n_in): the current is then (K, T, B, H)
        if self.engine == "fused" and _one_node(self, x):
            from .fused_network import network_forward

            y, us = network_forward(self, x, record)
        else:
            y, us = self.chain(x, record)
        return (y, us) if record else y

    def chain(self, x, record=False):
        """``(y, us)`` of prepared inputs (``(K, B, n_in)``, or ``(K, T, B, n_in)`` when temporal)
        as a chain of autograd nodes, layer by layer (the step engine's path, and the fused
        engine's when :func:`~.fused_network.network_forward` does not apply)."""
        us, spikes = [], None
        for i, w in enumerate(self.weights):
            current = linear(x if i == 0 else spikes, w)
            spikes, u = self._layer(current, i == 0 and not self.temporal)
            if record:
                us.append(u)
        rate = time_mean(spikes, 1)  # spikes.mean(1); its gradient once per neuron, not per step
        if self.readout_weight is not None:
            rate = linear(rate, self.readout_weight.transpose(1, 2)) + self.readout_bias.unsqueeze(1)
        return rate, us


def _one_node(net, x) -> bool:
    """Whether the fused engine runs ``net`` on ``x`` as one autograd node
    (:mod:`.fused_network`): not for an input that requires a gradient or a learnable threshold."""
    theta = net.spike.theta
    return not x.requires_grad and not (isinstance(theta, torch.Tensor) and theta.requires_grad)
