"""One short training per trainer: each adapter's Boolean gradient makes the loss fall.

64 digits pixels -> Linear -> the trainer's own neuron (firing through the adapter) over T
steps -> linear readout of the spike counts, on the first 300 of scikit-learn's bundled digits
(no download).  The mean loss of the last epoch must be well below the first's.  Norse's run is
``examples/train_norse.py`` itself.  CI runs this file once per installed trainer release
(docs/compatibility.md).
"""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip

import importlib.util
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the adapters need torch")
pytest.importorskip("sklearn", reason="the trainings use scikit-learn's digits")

import boolgrad

ROOT = Path(__file__).resolve().parents[2]
T, HIDDEN, EPOCHS, N = 6, 64, 4, 300


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data[:N] / 16 * 4, dtype=torch.float32), torch.tensor(d.target[:N])


def _train(neuron_run, params):
    """Mean cross-entropy of each epoch; ``neuron_run(currents (T, B, H)) -> spikes (T, B, H)``."""
    X, y = _digits()
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(64, HIDDEN), torch.nn.Linear(HIDDEN, 10)
    opt = torch.optim.Adam([*fc1.parameters(), *fc2.parameters(), *params], lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(EPOCHS):
        total = 0.0
        for idx in torch.randperm(N, generator=g).split(50):
            opt.zero_grad()
            spikes = neuron_run(fc1(X[idx]).expand(T, len(idx), HIDDEN))
            loss = torch.nn.functional.cross_entropy(fc2(spikes.sum(0)), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / N)
    return losses


def _falls(losses):
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.8 * losses[0], losses


def _table(comparator):
    return boolgrad.closed_form_table("float32", 1.0, comparator=comparator)


def test_snntorch_trains():
    pytest.importorskip("snntorch", reason="snntorch not installed")
    from boolgrad.torch.adapters.snntorch import BooleanLeaky

    lif = BooleanLeaky(0.8, _table("gt"), reset_mechanism="subtract")

    def run(currents):
        mem, out = lif.init_leaky(), []
        for c in currents:
            spk, mem = lif(c, mem)
            out.append(spk)
        return torch.stack(out)

    _falls(_train(run, []))


def test_spikingjelly_trains():
    neuron = pytest.importorskip(
        "spikingjelly.activation_based.neuron", reason="spikingjelly not importable next to this torch"
    )
    from spikingjelly.activation_based import functional

    from boolgrad.torch.adapters.spikingjelly import BooleanSurrogate

    node = neuron.IFNode(
        v_threshold=1.0, surrogate_function=BooleanSurrogate(_table("ge"), 1.0), detach_reset=True
    )

    def run(currents):
        functional.reset_net(node)
        return torch.stack([node(c) for c in currents])

    _falls(_train(run, []))


def test_sinabs_trains():
    layers = pytest.importorskip("sinabs.layers", reason="sinabs not installed")
    from boolgrad.torch.adapters.sinabs import BooleanSurrogateGrad

    iaf = layers.IAF(spike_threshold=torch.tensor(1.0), surrogate_grad_fn=BooleanSurrogateGrad(_table("ge")))

    def run(currents):  # Sinabs: (batch, time, features)
        iaf.reset_states()
        return iaf(currents.transpose(0, 1)).transpose(0, 1)

    _falls(_train(run, []))


def test_norse_example_trains():
    pytest.importorskip("norse.torch", reason="norse not installed")
    spec = importlib.util.spec_from_file_location("train_norse", ROOT / "examples" / "train_norse.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    losses, acc = example.main(["--epochs", "2", "--steps", "8", "--train", "400"])
    _falls(losses)
    assert acc > 0.3  # 10 classes: chance is 0.1
