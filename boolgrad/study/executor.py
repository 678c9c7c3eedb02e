"""Experiments run once each: one atomically written JSON result per config hash, and executors.

An *experiment* (:class:`Experiment`) is a frozen config object with

* ``identity() -> dict`` -- what its result depends on (JSON-able, names the experiment); its
  hash is the SHA-256 of the canonical JSON ``json.dumps(identity, sort_keys=True,
  separators=(",", ":"))`` and its result file ``OUT/runs/<hash[:16]>.json``;
* ``validate() -> self`` -- raises ``ValueError`` on a bad config, before any work;
* ``execute() -> dict`` -- the result (with ``test_acc`` and ``train_seconds``, and whatever
  fields describe it besides the stamped ones below);
* ``label() -> str`` -- its part of the progress line;
* ``dataset`` and ``seed`` fields;
* optionally ``group_key()`` and ``execute_group(configs) -> list[dict]``: configs of equal keys
  may run as one job (the study's stacked models), each result as :meth:`execute` would give it.
* optionally ``preload`` -- module names a worker process imports before its first run
  (:func:`worker_context`);
* optionally ``cost() -> float`` -- a relative estimate of its run time: the parallel executors
  start the costliest job first (a group's: the sum of its configs'; longest-processing-time
  order, so the longest run does not start last and leave one worker idle); the results do not
  depend on the order.

The overshoot study's :class:`~boolgrad.study.overshoot.RunConfig` and the seeds' configs
(:mod:`boolgrad.study.seeds`) are experiments; this module knows none of them.

* :func:`run` -- ``validate().execute()`` plus the stamped fields ``schema``, ``config`` (the
  identity), ``hash``, ``dataset``, ``seed``; NaN/inf become ``null``.  Pure given the config
  (seeded; torch on one thread), the same numbers on every rerun on the same machine;
  ``train_seconds`` and ``samples_per_second`` are the only wall-clock fields (:data:`TIMING_FIELDS`).
* :func:`sweep` -- runs every config whose file is missing or invalid, in groups of up to
  ``stack`` configs of one ``group_key()`` (one job each; every config still writes its own
  file), with a tqdm bar (ETA) and a line per finished run; executors: sequential, ``jobs=N`` (a
  ``ProcessPoolExecutor`` of :func:`worker_context`), ``cluster="tcp://HOST:8786"`` (an existing
  Dask scheduler) or ``cluster="local:N"`` (a ``distributed.LocalCluster`` of N one-thread
  workers); ``client=``
  takes an existing ``distributed.Client`` (the tests' in-process cluster).
* :func:`alongside` -- run side work (the study's simulation) in a thread of this process while
  a parallel sweep keeps the worker processes busy, or after it when the sweep runs here.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ..atomic import write_json_atomic

__all__ = ["SCHEMA", "TIMING_FIELDS", "Experiment", "alongside", "by_cost", "close_client", "config_hash",
           "connect_cluster", "groups", "load_result", "pending", "result_path", "run", "run_group", "run_to_file",
           "stop_workers", "sweep", "worker_context", "worker_init"]

#: schema of a result file (and the ``schema`` field of the overshoot study's configs)
SCHEMA = 1
#: wall-clock fields: excluded from equality between executors
TIMING_FIELDS = ("train_seconds", "samples_per_second")


class Experiment(Protocol):
    """What :func:`run` and :func:`sweep` need of a config (module doc)."""

    dataset: str
    seed: int

    def identity(self) -> dict: ...

    def validate(self) -> Experiment: ...

    def execute(self) -> dict: ...

    def label(self) -> str: ...


def config_hash(cfg: Experiment) -> str:
    """SHA-256 (hex) of the experiment's canonical identity JSON."""
    text = json.dumps(cfg.identity(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def result_path(out, cfg: Experiment) -> Path:
    return Path(out) / "runs" / f"{config_hash(cfg)[:16]}.json"


def load_result(path, cfg: Experiment | None = None):
    """The result in ``path`` if it is valid (parses, schema, config matches), else ``None``."""
    try:
        with open(path) as f:
            res = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(res, dict) or res.get("schema") != SCHEMA or "test_acc" not in res:
        return None
    if cfg is not None and res.get("config") != cfg.identity():
        return None
    return res


def _clean(obj):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


def _stamp(cfg: Experiment, res: dict) -> dict:
    res.update(schema=SCHEMA, config=cfg.identity(), hash=config_hash(cfg)[:16], dataset=cfg.dataset,
               seed=cfg.seed)
    return _clean(res)


def run(cfg: Experiment) -> dict:
    """Run the experiment ``cfg`` and return its result, stamped (module doc)."""
    return _stamp(cfg, cfg.validate().execute())


def run_group(cfgs) -> list[dict]:
    """Run configs of one ``group_key()`` as one job (``execute_group``); their results, stamped."""
    cfgs = [c.validate() for c in cfgs]
    if len(cfgs) == 1:
        return [run(cfgs[0])]
    return [_stamp(c, r) for c, r in zip(cfgs, cfgs[0].execute_group(cfgs))]


def run_to_file(cfgs, out) -> list[dict]:
    """Run a config, or a group of them (:func:`run_group`), and write each result file; returns
    the summaries of their progress lines."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    cfgs = list(cfgs) if isinstance(cfgs, (list, tuple)) else [cfgs]
    summaries = []
    for cfg, res in zip(cfgs, run_group(cfgs)):
        write_json_atomic(result_path(out, cfg), res)
        summaries.append({"hash": res["hash"], "dataset": cfg.dataset, "seed": cfg.seed, "test_acc": res["test_acc"],
                          "train_seconds": res["train_seconds"], "label": cfg.label()})
    return summaries


def groups(configs, stack: int) -> list[list]:
    """``configs`` in jobs: runs of up to ``stack`` configs of one ``group_key()`` (first-seen
    order; fewer where the configs' ``stack_limit()`` says so), each config alone where it has no
    ``group_key``."""
    if stack < 1:
        raise ValueError(f"stack must be >= 1, got {stack!r}")
    keyed: dict = {}
    for i, c in enumerate(configs):
        key = c.group_key() if stack > 1 and hasattr(c, "execute_group") else ("alone", i)
        keyed.setdefault(key, []).append(c)
    out = []
    for g in keyed.values():
        size = min(stack, g[0].stack_limit()) if hasattr(g[0], "stack_limit") else stack
        out += [g[i:i + size] for i in range(0, len(g), size)]
    return out


def pending(configs, out) -> list:
    """Configs whose result file is missing or invalid (in the given order, duplicates dropped)."""
    seen, todo = set(), []
    for cfg in configs:
        h = config_hash(cfg)
        if h in seen:
            continue
        seen.add(h)
        if load_result(result_path(out, cfg), cfg) is None:
            todo.append(cfg)
    return todo


def worker_context(configs=()):
    """The start method of ``jobs=N`` workers: a *forkserver* where the platform has one, else spawn.

    A spawned worker imports everything itself (the study's training: torch and the fused engine,
    ~3 s of CPU each; ``torch._dynamo``, which a first ``torch.optim`` optimizer imports, another
    ~3.5 s); a forkserver imports the configs' modules and their optional ``preload`` module
    names once, then forks each worker from that clean single-threaded process, so the workers
    start with them loaded.  (Not ``fork``: the calling process may run threads, :func:`alongside`.)  The
    preload list is fixed when the forkserver first starts in a process, and it imports them from
    the environment's path (``PYTHONPATH``, the installed package), not from run-time changes to
    ``sys.path``.  Results do not depend on the start method (each run seeds itself)."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    mods = {type(c).__module__ for c in configs}
    for c in configs:
        mods.update(getattr(c, "preload", ()))
    ctx.set_forkserver_preload(sorted(m for m in mods if m and m != "__main__"))
    return ctx


def stop_workers(ex) -> None:
    """Terminate a ``ProcessPoolExecutor``'s worker processes now.  Without this, a sweep stopped by
    Ctrl-C or SIGTERM waits for (or, its parent gone, leaves behind) workers that finish their runs
    and write their files after the caller has moved on -- a report made then counts stale files.
    A terminated run loses only its own progress: result files are written atomically."""
    for proc in list((getattr(ex, "_processes", None) or {}).values()):  # private; Python >= 3.14: terminate_workers()
        if proc.is_alive():
            proc.terminate()
    ex.shutdown(wait=True, cancel_futures=True)


def worker_init() -> None:
    """In each ``jobs=N`` worker: SIGTERM (:func:`stop_workers`) exits through multiprocessing's
    exit finalizers, so the semaphores the worker registered (numba's process lock, made at its
    first parallel launch) are released and the resource tracker has no leak to warn about at
    the command's exit.  (``multiprocessing.util._exit_function`` is private: without it, the
    default SIGTERM -- the same stop, with that warning.)"""
    import os
    import signal
    from multiprocessing import util

    exit_function = getattr(util, "_exit_function", None)
    if exit_function is None:
        return

    def stop(signum, frame):
        try:
            exit_function()
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _cost(job) -> float:
    cfgs = job if isinstance(job, (list, tuple)) else [job]
    return sum(float(c.cost()) for c in cfgs if hasattr(c, "cost"))


def by_cost(jobs) -> list:
    """``jobs`` (configs, or groups of them: :func:`groups`) costliest first, by their configs'
    optional ``cost()`` (a group's: the sum); stable, so ties keep their order."""
    return sorted(jobs, key=lambda j: -_cost(j))


@contextmanager
def alongside(tasks, *, background: bool):
    """Run ``tasks`` (zero-argument callables, in order) in a thread while the ``with`` body runs
    (``background``), else after the body; either way they have finished, and the first exception
    of one is raised, when the block exits.  If the body raises (a failed run, Ctrl-C), the tasks
    not yet started are dropped, the running one is waited for, and the body's exception goes on.

    For side work of the calling process during a sweep whose runs are in other processes
    (``jobs > 1`` or a cluster): this process only waits for them then, so its core is free.
    A sweep that runs here keeps the work after it (two threads would share one interpreter).
    """
    tasks = list(tasks)
    if not background:
        yield
        for task in tasks:
            task()
        return
    stop, err = threading.Event(), []

    def target():
        try:
            for task in tasks:
                if stop.is_set():
                    return
                task()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            err.append(exc)

    t = threading.Thread(target=target, name="boolgrad-alongside", daemon=True)
    t.start()
    try:
        yield
    except BaseException:
        stop.set()
        raise
    finally:
        t.join()
    if err:
        raise err[0]


def _line(s: dict) -> str:
    return (f"done {s['hash']} {s['dataset']:8s} {s['label']} seed={s['seed']} "
            f"test_acc={s['test_acc']:.4f} ({s['train_seconds']:.1f} s)")


def connect_cluster(cluster: str, timeout: float = 5.0):
    """A ``distributed.Client``: ``tcp://HOST:PORT`` (existing scheduler) or ``local:N``."""
    try:
        import distributed
    except ImportError:
        raise RuntimeError("--cluster needs dask.distributed: pip install 'boolgrad[cluster]'") from None
    if cluster.startswith("local:"):
        try:
            n = int(cluster.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"--cluster local:N needs an integer N, got {cluster!r}") from None
        if n < 1:
            raise ValueError(f"--cluster local:N needs N >= 1, got {n}")
        lc = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=None)
        return distributed.Client(lc)
    try:
        return distributed.Client(cluster, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {cluster}: {exc}") from None


def close_client(client) -> None:
    """Close a client from :func:`connect_cluster` and the ``LocalCluster`` it started, if any."""
    if client is None:
        return
    cl = getattr(client, "cluster", None)
    client.close()
    if cl is not None:
        cl.close()


def sweep(configs, out, *, jobs: int = 1, cluster: str | None = None, client=None, progress: bool = True,
          log=None, stack: int = 16) -> dict:
    """Run every config whose result is missing (module doc); returns counts."""
    from tqdm.auto import tqdm

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    configs = [c.validate() for c in configs]
    todo = pending(configs, out)
    jobs_ = groups(todo, stack)
    done_before = len({config_hash(c) for c in configs}) - len(todo)
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress or not todo, file=sys.stderr)

    def finished(summaries):
        for summary in summaries:
            bar.update(1)
            bar.write(_line(summary), file=sys.stderr) if progress else log(_line(summary))

    try:
        if client is not None or cluster:
            own = client is None
            client = client or connect_cluster(cluster)
            try:
                from distributed import as_completed

                futures = [client.submit(run_to_file, g, str(out), pure=False,
                                         key=f"run-{config_hash(g[0])[:16]}-{len(g)}")
                           for g in by_cost(jobs_)]
                for fut in as_completed(futures):
                    finished(fut.result())
            finally:
                if own:
                    close_client(client)
        elif jobs > 1 and len(jobs_) > 1:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context(todo),
                                     initializer=worker_init) as ex:
                futures = [ex.submit(run_to_file, g, str(out)) for g in by_cost(jobs_)]
                try:
                    for fut in as_completed(futures):
                        finished(fut.result())
                except BaseException:
                    for f in futures:
                        f.cancel()
                    stop_workers(ex)
                    raise
        else:
            for g in jobs_:
                finished(run_to_file(g, out))
    finally:
        bar.close()
    return {"total": done_before + len(todo), "skipped": done_before, "ran": len(todo)}
