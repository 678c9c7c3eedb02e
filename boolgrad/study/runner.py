"""Experiments as frozen configs, one atomically written JSON result per config, and executors.

* :class:`RunConfig` -- one training run; its identity is the SHA-256 of its canonical JSON
  (``json.dumps(asdict(cfg), sort_keys=True, separators=(",", ":"))``); the result file is
  ``OUT/runs/<hash[:16]>.json``.
* :func:`run` -- ``run(cfg) -> dict``: pure given the config (seeded; torch on one thread), the
  same numbers on every rerun on the same machine; ``train_seconds`` and ``samples_per_second``
  are the only wall-clock fields (:data:`TIMING_FIELDS`).
* :func:`write_json_atomic` -- temp file in the same folder, flush, fsync, ``os.replace``; the
  temp file is removed on failure.
* :func:`sweep` -- runs every config whose file is missing or invalid, with a tqdm bar (ETA)
  and a line per finished run; executors: sequential, ``jobs=N`` (a spawn-context
  ``ProcessPoolExecutor``), ``cluster="tcp://HOST:8786"`` (an existing Dask scheduler) or
  ``cluster="local:N"`` (a ``distributed.LocalCluster`` of N one-thread workers); ``client=``
  takes an existing ``distributed.Client`` (the tests' in-process cluster).

Other experiments (:mod:`boolgrad.study.seeds`) go through the same :func:`sweep`: any frozen
config with ``identity() -> dict`` (JSON-able, names the experiment), ``validate() -> self``,
``execute() -> dict`` (the result, with ``test_acc`` and ``train_seconds``) and ``label() -> str``
(the progress line), plus ``dataset`` and ``seed`` fields, is run by :func:`run` through
``execute``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["TIMING_FIELDS", "RunConfig", "close_client", "config_hash", "load_result", "result_path", "run", "sweep",
           "write_json_atomic"]

SCHEMA = 1
#: wall-clock fields: excluded from equality between executors
TIMING_FIELDS = ("train_seconds", "samples_per_second")


@dataclass(frozen=True)
class RunConfig:
    """One training run of the overshoot study (see :mod:`boolgrad.study.train`)."""

    dataset: str = "yinyang"
    kind: str = "arctan"
    dt_over_tau: float = 1.0
    seed: int = 0
    scheme: str = "exact"  # "exact" exponential integration or the "authors'" form
    horizon: float = 8.0  # simulated time, in membrane time constants
    hidden: tuple = (64,)
    readout: str = "mse_count"  # "mse_count" (the authors') or "ce_linear"
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    theta: float = 0.3
    probe: int = 256  # probe batch for the gradient statistics
    subset: tuple = ()  # (n_train, n_eval) or () for the full splits
    data_seed: int = 0  # split seed of the dataset (fixed across run seeds)
    data_dir: str = ""  # for mnist / fashion (not part of the identity: see identity())
    schema: int = field(default=SCHEMA)

    def identity(self) -> dict:
        """What the result depends on: the fields (less ``data_dir``) and the kind's definition,
        so a changed kind never reuses a stale result file."""
        from .kinds import get_kind

        d = asdict(self)
        d.pop("data_dir")
        d["hidden"], d["subset"] = list(self.hidden), list(self.subset)
        d["kind_spec"] = get_kind(self.kind).describe()
        return d

    def validate(self) -> RunConfig:
        from .data import DATASETS
        from .kinds import get_kind

        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose from {', '.join(DATASETS)}")
        get_kind(self.kind)
        if not (self.dt_over_tau > 0 and self.dt_over_tau < float("inf")):
            raise ValueError(f"dt/tau must be positive, got {self.dt_over_tau!r}")
        if self.scheme not in ("exact", "authors"):
            raise ValueError(f"scheme must be 'exact' or 'authors', got {self.scheme!r}")
        if self.readout not in ("mse_count", "ce_linear"):
            raise ValueError(f"readout must be 'mse_count' or 'ce_linear', got {self.readout!r}")
        if DATASETS[self.dataset] and not self.data_dir:
            raise ValueError(f"dataset {self.dataset!r} needs --data-dir DIR (IDX files)")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be >= 1")
        return self


def config_hash(cfg: RunConfig) -> str:
    text = json.dumps(cfg.identity(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def result_path(out, cfg: RunConfig) -> Path:
    return Path(out) / "runs" / f"{config_hash(cfg)[:16]}.json"


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (:mod:`boolgrad.atomic`), creating the folder."""
    write_text_atomic(path, json.dumps(obj, sort_keys=True, indent=1, allow_nan=False) + "\n")


def write_text_atomic(path, text: str) -> None:
    from ..atomic import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as f:
        f.write(text)


def load_result(path, cfg: RunConfig | None = None):
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


def run(cfg: RunConfig) -> dict:
    """Train ``cfg`` and return its result (pure given ``cfg``; module doc)."""
    from .data import load_dataset
    from .train import train

    if not isinstance(cfg, RunConfig):  # another experiment's config (module doc)
        res = cfg.validate().execute()
        res.update(schema=SCHEMA, config=cfg.identity(), hash=config_hash(cfg)[:16], dataset=cfg.dataset,
                   seed=cfg.seed)
        return _clean(res)
    cfg.validate()
    data = load_dataset(cfg.dataset, seed=cfg.data_seed, data_dir=cfg.data_dir or None,
                        subset=tuple(cfg.subset) or None)
    res = train(cfg, data)
    res.update(schema=SCHEMA, config=cfg.identity(), hash=config_hash(cfg)[:16], dataset=cfg.dataset,
               dt_over_tau=cfg.dt_over_tau, seed=cfg.seed, scheme=cfg.scheme, readout=cfg.readout)
    res["kind_name"] = cfg.kind
    return _clean(res)


def run_to_file(cfg: RunConfig, out) -> dict:
    """Run ``cfg`` and write its result file; returns a one-line summary dict."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    res = run(cfg)
    write_json_atomic(result_path(out, cfg), res)
    summary = {"hash": res["hash"], "dataset": cfg.dataset, "seed": cfg.seed, "test_acc": res["test_acc"],
               "train_seconds": res["train_seconds"]}
    if isinstance(cfg, RunConfig):
        summary.update(kind=cfg.kind, dt_over_tau=cfg.dt_over_tau)
    else:
        summary["label"] = cfg.label()
    return summary


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


def _line(s: dict) -> str:
    if "label" in s:
        return (f"done {s['hash']} {s['dataset']:8s} {s['label']} seed={s['seed']} "
                f"test_acc={s['test_acc']:.4f} ({s['train_seconds']:.1f} s)")
    return (f"done {s['hash']} {s['dataset']:8s} {s['kind']:22s} dt/tau={s['dt_over_tau']:<7g} "
            f"seed={s['seed']} test_acc={s['test_acc']:.4f} ({s['train_seconds']:.1f} s)")


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
          log=None) -> dict:
    """Run every config whose result is missing (module doc); returns counts."""
    from tqdm.auto import tqdm

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    configs = [c.validate() for c in configs]
    todo = pending(configs, out)
    done_before = len({config_hash(c) for c in configs}) - len(todo)
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress or not todo, file=sys.stderr)

    def finished(summary):
        bar.update(1)
        bar.write(_line(summary), file=sys.stderr) if progress else log(_line(summary))

    try:
        if client is not None or cluster:
            own = client is None
            client = client or connect_cluster(cluster)
            try:
                from distributed import as_completed

                futures = [client.submit(run_to_file, c, str(out), pure=False, key=f"run-{config_hash(c)[:16]}")
                           for c in todo]
                for fut in as_completed(futures):
                    finished(fut.result())
            finally:
                if own:
                    close_client(client)
        elif jobs > 1 and len(todo) > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
                futures = [ex.submit(run_to_file, c, str(out)) for c in todo]
                try:
                    for fut in as_completed(futures):
                        finished(fut.result())
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
        else:
            for c in todo:
                finished(run_to_file(c, out))
    finally:
        bar.close()
    return {"total": done_before + len(todo), "skipped": done_before, "ran": len(todo)}
