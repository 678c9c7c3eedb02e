"""A real Dask cluster on localhost: scheduler and two worker processes, one killed mid-sweep.

The scheduler and the workers are separate processes started with ``python -m
distributed.cli.dask_scheduler`` / ``dask_worker --no-nanny`` (so a killed worker stays dead).
As soon as the first run is done, a worker busy with another run gets SIGKILL; the scheduler
hands its work to the survivor.  The sweep must complete, and ``overshoot.csv`` must equal a
local sequential run's byte for byte outside the wall-clock columns (``train_seconds``,
``samples_per_second``: :data:`~boolgrad.study.executor.TIMING_FIELDS`).
"""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boolgrad.study.executor import TIMING_FIELDS, sweep
from boolgrad.study.overshoot import RunConfig
from boolgrad.study.report import csv_rows, csv_text, load_runs

ROOT = Path(__file__).resolve().parents[2]
TINY = {"dataset": "yinyang", "epochs": 2, "subset": (300, 100), "hidden": (16,), "probe": 64}


def _csv_without_timing(out) -> str:
    rows = list(csv.reader(io.StringIO(csv_text(csv_rows(load_runs(out))))))
    keep = [i for i, name in enumerate(rows[0]) if name not in TIMING_FIELDS]
    return "\n".join(",".join(r[i] for i in keep) for r in rows)


def _spawn(args, tmp_path, name):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 -- closed with the process
    return subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                            cwd=tmp_path), log


def _wait_for(cond, what, timeout=60.0):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_real_cluster_survives_a_killed_worker(tmp_path):
    pytest.importorskip("torch")
    distributed = pytest.importorskip("distributed")
    grid = [RunConfig(**TINY, kind=k, dt_over_tau=dt) for k in ("arctan", "rectangle") for dt in (1.0, 0.5, 0.25)]
    sweep(grid, tmp_path / "local", progress=False, log=lambda m: None)

    sched_file = tmp_path / "scheduler.json"
    procs = [_spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched_file)], tmp_path, "scheduler")]
    try:
        _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, "the scheduler file")
        for i in range(2):
            procs.append(_spawn(["distributed.cli.dask_worker", "--scheduler-file", str(sched_file), "--nthreads",
                                 "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], tmp_path, f"worker{i}"))
        address = json.loads(sched_file.read_text())["address"]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            pids = client.run(os.getpid)  # worker address -> pid
            assert sorted(pids.values()) == sorted(p.pid for p, _ in procs[1:])
            killed = []

            def on_done(line):
                if killed:
                    return
                busy = [w for w, keys in client.processing().items() if keys]
                assert busy, "no run in flight to interrupt"
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

            counts = sweep(grid, tmp_path / "dask", client=client, progress=False, log=on_done)
            assert killed and counts == {"total": 6, "skipped": 0, "ran": 6}
            assert list(client.scheduler_info()["workers"]) == [w for w in pids if w not in killed]
        dead = [p for p, _ in procs[1:] if p.poll() is not None]
        assert len(dead) == 1 and dead[0].returncode == -signal.SIGKILL
    finally:
        for p, log in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            log.close()
    assert sorted(os.listdir(tmp_path / "dask" / "runs")) == sorted(os.listdir(tmp_path / "local" / "runs"))
    assert _csv_without_timing(tmp_path / "dask") == _csv_without_timing(tmp_path / "local")
    assert _csv_without_timing(tmp_path / "local").count("\n") == 6  # header + 6 rows
