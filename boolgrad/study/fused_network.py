"""The study's network, forward and backward, as one autograd node (``engine="fused"``).

Per batch, :class:`~boolgrad.study.network.SpikingNet` is a chain of small steps: per spiking
layer a product (:func:`boolgrad.torch.linear.product`) and a fused LIF pass
(:class:`boolgrad.torch.multistep.LoopPlan`), then the mean over time and the readout's product
and bias.  As separate autograd nodes, each costs tens of microseconds of Python and autograd
bookkeeping and allocates its own copies, about as much as the arithmetic of the study's
networks (a Yin-Yang batch at T = 16: ~1 ms, of which the numba loops ~0.15 ms;
``benchmarks/bench_study.py``).  :func:`network_forward` runs the same steps in one
:class:`torch.autograd.Function` whose backward calls the same functions in reverse:

    forward:   I_i = a_i W_i;  (u_i, s_i) = LIF(I_i);  a_{i+1} = s_i;  r = mean_t s_n;
               y = r Wr^T + br  (``ce_linear``)  or  y = r  (``mse_count``)
    backward:  dbr = sum_b dy;  (dr, dWr) = product_grads;  dL/ds_n = dr / T at every step
               (stride 0: the LIF reads one row);  per layer, last first:
               dL/dI_i = LIF backward;  (dL/ds_{i-1}, dW_i) = product_grads(a_i, W_i, dL/dI_i)

each operation the one the per-node chain runs (:func:`~boolgrad.torch.multistep.lif_sequence`,
:func:`~boolgrad.torch.linear.linear`, :func:`~boolgrad.torch.multistep.time_mean`, ``+``), on
the same operands, so outputs, ``u`` and every gradient are the chain's bit for bit (tests);
the loops' constants are planned once per network and dtype (:class:`NetworkPlan`).  Unless
recorded, a large last layer of a surrogate kind keeps no ``u``: its backward computes it again
(:data:`RECOMPUTE_BYTES`).  A layer whose input is spikes (a hidden layer's, or a temporal
network's binned spike trains) asks for its product and weight gradient as sums over the ones
(``spikes=True``: :mod:`boolgrad.torch.binary_product`, the same bits).  The chain
stays for what this node does not take: an input that requires a gradient, or a learnable
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..torch.linear import product, product_grads

__all__ = ["RECOMPUTE_BYTES", "NetworkPlan", "network_forward"]

#: an unrecorded last layer whose ``u`` would take this many bytes or more does not keep it: its
#: backward computes it again, block by block in cache (:meth:`LoopPlan.backward
#: <boolgrad.torch.multistep.lif.LoopPlan.backward>`), instead of reading it back from memory.
#: The size of a core's L2 cache on the 2-core box: below it, keeping ``u`` was as fast or faster
#: in whole-epoch A/B runs of the Yin-Yang network (arctan), above it recomputing was faster,
#: by about a third with 16 stacked models.  Either way the bits are the same (tests).
RECOMPUTE_BYTES = 1 << 20


@dataclass(frozen=True)
class NetworkPlan:
    """The loops of a network's spiking layers in one dtype (:func:`~boolgrad.torch.multistep.lif.loop_plan`
    of each), its step count and readout; made once per network and dtype."""

    layers: tuple  # LoopPlan per spiking layer (the first with a constant input unless temporal)
    steps: int
    temporal: bool
    readout: str

    def spike_input(self, i: int) -> bool:
        """Layer ``i``'s input is spikes: a hidden layer's, or a temporal network's binned spike
        trains (its product then sums over the ones: ``spikes=True``)."""
        return i > 0 or self.temporal


def plan_network(net, dtype: torch.dtype) -> NetworkPlan:
    """The :class:`NetworkPlan` of ``net`` (a :class:`~boolgrad.study.network.SpikingNet`)."""
    from ..torch.multistep.lif import layer_config, loop_plan

    layers = []
    for i in range(len(net.weights)):
        const = i == 0 and not net.temporal
        cfg, theta = layer_config(net.params, steps=net.steps if const else None, gain=net.gain, time_dim=1)
        layers.append(loop_plan(cfg, theta, dtype))
    return NetworkPlan(tuple(layers), net.steps, net.temporal, net.readout)


class _Network(torch.autograd.Function):
    """``apply(plan, x, n_spiking, record, *weights) -> (y, *u)``; ``x`` ``(K, B, F)`` or ``(K, T,
    B, F)``; each spiking layer's ``u`` only when ``record``."""

    @staticmethod
    def forward(ctx, plan, x, n_spiking, record, *params):
        ctx.set_materialize_grads(False)
        K, T = x.shape[0], plan.steps
        ws = params[:n_spiking]
        inputs, states, a = [], [], x.detach()
        for i, (layer, w) in enumerate(zip(plan.layers, ws)):
            flat = a.reshape(K, -1, a.shape[-1])  # as linear() flattens its input
            current = product(flat, w.detach(), spikes=plan.spike_input(i))
            current = current.reshape(K, *a.shape[1:-1], w.shape[-1]).contiguous()
            # the last layer's spikes only feed their mean over time: counted in the loop, not written;
            # its u, unless recorded, is computed again in the backward (a surrogate's loop)
            last, const = i == n_spiking - 1, layer.cfg.steps is not None
            u_bytes = current.numel() * current.element_size() * (T if const else 1)
            keep_u = record or not (last and layer.recomputes and u_bytes >= RECOMPUTE_BYTES)
            u, a = layer.forward(current, K, T, const, keep_s=not last, keep_u=keep_u)
            inputs.append(flat)
            states.append((u, current if u is None else None, current.shape))
        rate = y = a
        if plan.readout == "ce_linear":
            wr, br = params[n_spiking], params[n_spiking + 1]
            y = product(rate, wr.detach().transpose(1, 2)) + br.detach().unsqueeze(1)
        ctx.plan, ctx.inputs, ctx.states, ctx.rate, ctx.n_spiking = plan, inputs, states, rate, n_spiking
        ctx.save_for_backward(*params)
        us = [u for u, _, _ in states] if record else []
        ctx.mark_non_differentiable(*us)
        return (y, *us)

    @staticmethod
    def backward(ctx, grad_y, *_):
        plan, n = ctx.plan, ctx.n_spiking
        params = ctx.saved_tensors
        K, T = ctx.rate.shape[0], plan.steps
        if grad_y is None:
            grad_y = torch.zeros_like(ctx.rate if plan.readout == "mse_count" else ctx.rate[..., :1]
                                      .expand(*ctx.rate.shape[:-1], params[n].shape[1]))
        grads = [None] * len(params)
        grad_rate = grad_y
        if plan.readout == "ce_linear":
            grads[n + 1] = grad_y.sum(1)  # ``+ br.unsqueeze(1)``: the sum over the batch
            grad_rate, gw = product_grads(ctx.rate, params[n].transpose(1, 2), grad_y)
            grads[n] = gw.transpose(1, 2)
        grad_s = (grad_rate / T).unsqueeze(1)  # time_mean's backward, the same at every step (stride 0)
        grad_s = grad_s.expand(grad_s.shape[0], T, *grad_s.shape[2:])
        for i in range(n - 1, -1, -1):
            u, current, shape = ctx.states[i]
            grad_i, _ = plan.layers[i].backward(grad_s, u, K, T, shape, False, x=current)
            flat = ctx.inputs[i]
            grad_a, grads[i] = product_grads(flat, params[i], grad_i.reshape(K, -1, shape[-1]), i > 0, True,
                                             spikes=plan.spike_input(i))
            if i > 0:
                grad_s = grad_a.reshape(ctx.states[i - 1][0].shape)
        return (None, None, None, None, *grads)


def network_forward(net, x: torch.Tensor, record: bool = True):
    """``(y, us)`` of ``net`` on ``x`` (already ``(K, B, F)``, or ``(K, T, B, F)`` when temporal)
    through one autograd node; ``us``: each spiking layer's ``u`` ``(K, T, B, H)`` when
    ``record`` (else empty: the last layer's ``u`` is then not written when its backward can
    compute it again, :attr:`~boolgrad.torch.multistep.lif.LoopPlan.recomputes`)."""
    plans = net.__dict__.setdefault("_network_plans", {})
    plan = plans.get(x.dtype)
    if plan is None:
        plan = plans[x.dtype] = plan_network(net, x.dtype)
    params = list(net.weights)
    if net.readout_weight is not None:
        params += [net.readout_weight, net.readout_bias]
    y, *us = _Network.apply(plan, x, len(net.weights), bool(record), *params)
    return y, us
