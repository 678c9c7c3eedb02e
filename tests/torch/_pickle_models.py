"""The models of ``test_pickle.py`` and the worker function its spawned processes run.

A module of its own, imported by name (``tests/torch`` is on ``sys.path``, and spawned workers
inherit it): a worker unpickles ``_child`` by module name, and a test module's own name under
``--import-mode=importlib`` (``tests.torch.test_pickle``) is not importable there.
"""

import pickle

import torch

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.layers import DendriteSpikeLinear
from boolgrad.torch.neurons import LIF


def _models():
    models = {
        "lif_boolean": LIF(bt.boolean_spike("float32", 1.0), tau=2.0),
        "lif_arctan": LIF(bt.surrogate("arctan", 1.0), tau=2.0),
        "lif_learn_theta": LIF(bt.boolean_spike("bfloat16", 0.75, learn_theta=True), tau=2.0),
        "lif_preset": LIF(bt.boolean_spike("yoo_jeong2025", 0.3), tau=2.0),
        "dendrite": DendriteSpikeLinear(4, 3, bt.boolean_spike("fixed16.12", 0.5)),
    }
    try:
        import snntorch as snn

        from boolgrad.torch.adapters import snntorch as adapter

        table = boolgrad.closed_form_table("float32", 1.0, comparator="gt")
        models["snn_leaky"] = snn.Leaky(beta=0.5, spike_grad=adapter.spike_grad(table))
        models["boolean_leaky"] = adapter.BooleanLeaky(0.5, table)
    except ImportError:
        pass
    from boolgrad.torch.adapters.sinabs import BooleanSurrogateGrad
    from boolgrad.torch.adapters.spikingjelly import BooleanSurrogate

    models["spikingjelly_surrogate"] = BooleanSurrogate("float32", 1.0)
    models["sinabs_grad"] = BooleanSurrogateGrad("float32", 1.0)
    return models


def _step(name, model):
    """A tiny forward+backward: (output, input gradient) as lists."""
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 2, 4, generator=g) * 0.6 + 0.8).requires_grad_()
    if name == "sinabs_grad":
        return [], model(x.detach(), 1.0).tolist()
    if name.startswith("lif"):
        out, _ = model.run(x)
    elif name == "dendrite":
        out = model(x[0])
    elif name in ("snn_leaky", "boolean_leaky"):
        mem = model.init_leaky()
        outs = []
        for xt in x:
            spk, mem = model(xt, mem)
            outs.append(spk)
        out = torch.stack(outs)
    else:
        out = model(x - 1.0)
    (out * torch.linspace(0.5, 1.5, out.shape[-1])).sum().backward()
    return out.tolist(), x.grad.tolist()


def _child(payload):
    name, blob = payload
    torch.set_num_threads(1)
    return _step(name, pickle.loads(blob))
