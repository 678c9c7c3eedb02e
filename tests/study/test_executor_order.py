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
def test_alongside_runs_the_tasks_once_in_order_before_the_block_ends(background):
    seen, body = [], threading.Event()

    def task(i):
        return lambda: seen.append((i, threading.current_thread() is threading.main_thread(), body.is_set()))

    with alongside([task(0), task(1), task(2)], background=background):
        body.set()
    assert [s[0] for s in seen] == [0, 1, 2]
    assert all(on_main is not background for _, on_main, _ in seen)
    if not background:
        assert all(after for _, _, after in seen)  # after the sweep when the sweep runs in this process


@pytest.mark.parametrize("background", [True, False])
def test_alongside_raises_the_first_task_error_and_runs_no_later_task(background):
    ran = []

    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"), alongside([boom, lambda: ran.append(1)], background=background):
        pass
    assert ran == []


@pytest.mark.parametrize("background", [True, False])
def test_alongside_body_error_wins_and_drops_the_tasks_not_started(background):
    started, ran = threading.Event(), []

    def first():  # still running when the body fails: it finishes, the next one is not started
        started.set()
        threading.Event().wait(1.0)
        ran.append("first")

    with pytest.raises(KeyError), alongside([first, lambda: ran.append("second")], background=background):
        if background:
            assert started.wait(5)
        raise KeyError("sweep failed")
    assert ran == (["first"] if background else [])


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
