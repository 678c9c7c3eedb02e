"""Spike functions, neurons, layers and adapters pickle, deep-copy, torch.save and cross processes."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip("torch")

import copy
import io
import multiprocessing as mp
import pickle

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")

from _pickle_models import _child, _models, _step

MODELS = list(_models())


@pytest.mark.parametrize("name", MODELS)
def test_pickle_deepcopy_torch_save(name):
    model = _models()[name]
    expected = _step(name, model)  # compiled plans exist now: they must not block pickling
    if hasattr(model, "reset_mem"):  # snnTorch keeps the last membrane (a non-leaf tensor)
        model.reset_mem()
    for clone in (
        pickle.loads(pickle.dumps(model)),
        copy.deepcopy(model),
        _torch_roundtrip(model),
    ):
        assert _step(name, clone) == expected


def _torch_roundtrip(model):
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


def test_spawned_workers_compute_the_parents_gradients():
    models = _models()
    expected = {name: _step(name, m) for name, m in models.items()}
    payloads = [(name, pickle.dumps(m)) for name, m in models.items()]
    with mp.get_context("spawn").Pool(2) as pool:  # a worker that dies loses its task: time out
        got = pool.map_async(_child, payloads).get(timeout=600)
    assert dict(zip(models, got)) == expected
