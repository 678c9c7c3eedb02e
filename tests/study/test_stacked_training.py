"""Many models per process: configs that differ only in seed and learning rate train as one
stacked model, and each result equals training the config alone (``train_group``, ``sweep``)."""

import json

import pytest

from boolgrad.study import executor
from boolgrad.study.executor import TIMING_FIELDS, groups, result_path, sweep
from boolgrad.study.overshoot import RunConfig

TINY = {"dataset": "yinyang", "epochs": 2, "subset": (300, 100), "hidden": (16,), "probe": 64}


def _strip(res):
    return {k: v for k, v in res.items() if k not in TIMING_FIELDS}


def test_group_keys():
    a = RunConfig(**TINY)
    assert a.group_key() == RunConfig(**TINY, seed=3, lr=0.01).group_key()
    for other in ({"dt_over_tau": 0.5}, {"kind": "boolean_yj2025"}, {"epochs": 3}, {"engine": "step"},
                  {"detach_reset": True},
                  {"hidden": (8,)}, {"batch_size": 32}):
        assert a.group_key() != RunConfig(**{**TINY, **other}).group_key()
    m = RunConfig(**TINY, kind="boolean_matched")  # its format depends on the seed's weights
    assert m.group_key() != RunConfig(**TINY, kind="boolean_matched", seed=1).group_key()
    assert m.group_key() == RunConfig(**TINY, kind="boolean_matched", lr=0.01).group_key()


def test_groups_chunk_in_first_seen_order():
    cfgs = [RunConfig(**TINY, seed=s, kind=k) for s in range(5) for k in ("arctan", "rectangle")]
    got = groups(cfgs, 2)
    assert [[(c.kind, c.seed) for c in g] for g in got] == [
        [("arctan", 0), ("arctan", 1)], [("arctan", 2), ("arctan", 3)], [("arctan", 4)],
        [("rectangle", 0), ("rectangle", 1)], [("rectangle", 2), ("rectangle", 3)], [("rectangle", 4)]]
    assert groups(cfgs, 1) == [[c] for c in cfgs]
    with pytest.raises(ValueError, match="stack"):
        groups(cfgs, 0)


def test_stacks_are_capped_by_their_activations():
    from boolgrad.study.overshoot import STACK_ELEMENTS

    digits = {"dataset": "digits", "hidden": (128,)}
    assert RunConfig(**digits, dt_over_tau=0.125).stack_limit() == STACK_ELEMENTS // (64 * 64 * 128) == 16
    assert RunConfig(**digits, dt_over_tau=1 / 32).stack_limit() == 4  # T = 256
    assert RunConfig(**digits, dt_over_tau=1 / 256).stack_limit() == 1  # T = 2048: alone
    assert RunConfig(dataset="yinyang", hidden=(64,), dt_over_tau=1 / 32).stack_limit() == 8
    cfgs = [RunConfig(**digits, dt_over_tau=dt, seed=s) for dt in (1 / 32, 1 / 256) for s in range(6)]
    assert [len(g) for g in groups(cfgs, 16)] == [4, 2, 1, 1, 1, 1, 1, 1]
    assert [len(g) for g in groups(cfgs, 3)] == [3, 3, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("kind,engine", [("boolean_yj2025", "fused"), ("arctan", "step")])
def test_four_stacked_equal_each_alone(kind, engine):
    pytest.importorskip("torch")
    cfgs = [RunConfig(**TINY, kind=kind, engine=engine, seed=s, lr=lr)
            for s, lr in ((0, 1e-3), (1, 1e-3), (2, 3e-3), (0, 1e-2))]
    stacked = executor.run_group(cfgs)
    for cfg, res in zip(cfgs, stacked):
        alone = executor.run(cfg)
        assert _strip(res) == _strip(alone)  # every number: accuracies, losses, gradient statistics
        assert res["hash"] == executor.config_hash(cfg)[:16]
    assert len({r["test_acc"] for r in stacked} | {json.dumps(r["history"]) for r in stacked}) > 2


def test_a_group_refuses_configs_of_other_keys():
    torch = pytest.importorskip("torch")
    from boolgrad.study.data import load_dataset
    from boolgrad.study.train import train_group

    del torch
    data = load_dataset("yinyang", subset=(300, 100))
    with pytest.raises(ValueError, match="only in seed and learning rate"):
        train_group([RunConfig(**TINY), RunConfig(**TINY, dt_over_tau=0.5)], data)


def test_sweep_stacked_and_alone_write_the_same_files(tmp_path):
    pytest.importorskip("torch")
    grid = [RunConfig(**TINY, kind=k, seed=s) for k in ("arctan", "boolean_matched") for s in range(3)]
    lines = []
    assert sweep(grid, tmp_path / "a", stack=4, progress=False, log=lines.append)["ran"] == 6
    assert len(lines) == 6
    sweep(grid, tmp_path / "b", stack=1, progress=False, log=lambda m: None)
    for c in grid:
        a = json.loads(result_path(tmp_path / "a", c).read_text())
        b = json.loads(result_path(tmp_path / "b", c).read_text())
        assert _strip(a) == _strip(b)


def test_flushing_subnormals_changes_no_weight(monkeypatch):
    """The engine trains with subnormals flushed (train.FLUSH_DENORMAL): the same weights, bit for
    bit, as without, on a run whose exact float32 gradient has subnormal values."""
    torch = pytest.importorskip("torch")
    from boolgrad.study import train
    from boolgrad.study.data import load_dataset
    from boolgrad.study.kinds import get_kind

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    torch.set_flush_denormal(False)
    cfg = RunConfig(dataset="digits", kind="boolean_secant_clamp", epochs=2, subset=(400, 100), hidden=(32,),
                    probe=64)
    data = load_dataset("digits", subset=(400, 100))
    u = torch.linspace(-2, 2, 100_001)
    g = get_kind(cfg.kind).spike(cfg.theta).state.gradient(u, cfg.theta)
    assert bool(((g != 0) & (g.abs() < torch.finfo(torch.float32).tiny)).any())  # subnormal g exist
    runs = []
    for flush in (False, True):
        monkeypatch.setattr(train, "FLUSH_DENORMAL", flush)
        weights = []
        res = train.train_group([cfg], data, weights=weights)[0]
        runs.append((res, weights[0]))
    (a, wa), (b, wb) = runs
    assert _strip(a) == _strip(b)
    for name in wa:
        assert torch.equal(wa[name].view(torch.int32), wb[name].view(torch.int32))
    x = torch.tensor([1e-39])
    assert float(x * 1.0) != 0.0  # the flag is off again after training
