"""The parallel sweep's order (costliest first) and side work alongside a sweep."""

import threading

import pytest

from boolgrad.study.executor import alongside, by_cost
from boolgrad.study.overshoot import QUICK, RunConfig, grid


def test_cost_is_epochs_batches_steps_and_the_authors_row_comes_first():
    cfg = RunConfig(dataset="yinyang", epochs=2, subset=(1000, 300), dt_over_tau=0.25)
    assert cfg.cost() == 2 * 16 * 32  # ceil(1000 / 64) = 16 batches, 8 / 0.25 = 32 steps
    authors = RunConfig(dataset="yinyang", epochs=2, subset=(1000, 300), scheme="authors", horizon=60.0,
                        batch_size=24)
    assert authors.cost() == 2 * 42 * 60
    assert RunConfig(dataset="digits", epochs=1).cost() == 1 * 18 * 8  # 1150 training samples, no subset
    quick = grid(QUICK["datasets"], QUICK["kinds"], QUICK["dt"], 1, quick=True)
    ordered = by_cost(quick)
    assert sorted(map(id, ordered)) == sorted(map(id, quick))  # a permutation
    assert [c.scheme for c in ordered[:2]] == ["authors", "authors"]
    assert [c.dt_over_tau for c in ordered[2:8]] == [0.25] * 6
    assert [c.dt_over_tau for c in ordered[8:]] == [1.0] * 6
    # stable: equal costs keep the grid's order
    assert [c for c in ordered if c.dt_over_tau == 1.0 and c.scheme == "exact"] == \
        [c for c in quick if c.dt_over_tau == 1.0 and c.scheme == "exact"]


def test_by_cost_leaves_configs_without_cost_in_order():
    class Plain:
        pass

    a, b = Plain(), Plain()
    assert by_cost([a, b]) == [a, b]


@pytest.mark.parametrize("background", [True, False])
def test_alongside_runs_the_work_once_and_before_the_block_ends(background):
    seen, body = [], threading.Event()

    def work():
        seen.append((threading.current_thread() is threading.main_thread(), body.is_set()))

    with alongside(work, background=background):
        body.set()
    assert len(seen) == 1
    on_main, after_body = seen[0]
    assert on_main is not background
    if not background:
        assert after_body  # after the sweep when the sweep runs in this process


@pytest.mark.parametrize("background", [True, False])
def test_alongside_raises_the_work_error(background):
    def work():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"), alongside(work, background=background):
        pass


def test_alongside_body_error_wins_and_work_is_not_started_after_it():
    ran = []
    with pytest.raises(KeyError), alongside(lambda: ran.append(1), background=False):
        raise KeyError("sweep failed")
    assert ran == []


def test_workers_start_with_the_experiments_modules_loaded():
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from boolgrad.study.executor import worker_context

    pytest.importorskip("torch")
    if "forkserver" not in mp.get_all_start_methods():
        assert worker_context([RunConfig()]).get_start_method() == "spawn"
        return
    ctx = worker_context([RunConfig()])
    assert ctx.get_start_method() == "forkserver"
    assert RunConfig.preload == ("boolgrad.study.train",)
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        # before any run: imported by the forkserver the worker was forked from (a builtin is
        # submitted: test modules are not importable by name under --import-mode=importlib)
        names = ["boolgrad.study.overshoot", "boolgrad.study.train", "torch"]
        assert ex.submit(eval, f"[n in __import__('sys').modules for n in {names!r}]").result() == [True] * 3
