"""Runner (hash-named atomic files, resume, executors agree), training smoke test, CLI errors."""

import json
import os
import subprocess
import sys

import pytest

from boolgrad.atomic import write_json_atomic
from boolgrad.study import executor
from boolgrad.study.executor import TIMING_FIELDS, config_hash, result_path, sweep
from boolgrad.study.overshoot import RunConfig

TINY = {"dataset": "yinyang", "epochs": 2, "subset": (300, 100), "hidden": (16,), "probe": 64}


def _strip(res):
    return {k: v for k, v in res.items() if k not in TIMING_FIELDS}


def test_hash_and_path_are_canonical():
    a, b = RunConfig(**TINY), RunConfig(**TINY, data_dir="/somewhere")
    assert config_hash(a) == config_hash(b)  # data_dir is not part of the identity
    assert result_path("o", a).name == config_hash(a)[:16] + ".json"
    assert config_hash(a) != config_hash(RunConfig(**{**TINY, "seed": 1}))


def test_atomic_write_removes_temp_on_failure(tmp_path):
    p = tmp_path / "x.json"
    write_json_atomic(p, {"a": 1})
    assert json.loads(p.read_text()) == {"a": 1}
    with pytest.raises(ValueError):
        write_json_atomic(p, {"a": float("nan")})  # allow_nan=False
    assert json.loads(p.read_text()) == {"a": 1}
    assert sorted(os.listdir(tmp_path)) == ["x.json"]


def test_training_smoke_loss_falls_and_rerun_is_identical():
    pytest.importorskip("torch")
    cfg = RunConfig(**{**TINY, "epochs": 4, "subset": (600, 200), "hidden": (32,), "lr": 3e-3})
    res = executor.run(cfg)
    losses = [h["loss"] for h in res["history"]]
    assert losses[-1] < losses[0] - 0.01, losses
    assert res["test_acc"] > 0.4 and 0 < res["frac_nonzero_grad"] <= 1 and res["steps"] == 8
    assert res["final_layers"][0]["n_crossings"] > 0 and res["final_layers"][0]["grad_norm"] > 0
    assert _strip(executor.run(cfg)) == _strip(res)


def test_sweep_resumes_and_executors_agree(tmp_path):
    pytest.importorskip("torch")
    grid = [RunConfig(**TINY, kind=k, dt_over_tau=dt) for k in ("arctan", "boolean_yj2025") for dt in (1.0, 0.5)]
    out = tmp_path / "seq"
    assert sweep(grid[:2], out, progress=False, log=lambda m: None)["ran"] == 2  # "interrupted"
    counts = sweep(grid, out, progress=False, log=lambda m: None)
    assert counts == {"total": 4, "skipped": 2, "ran": 2}
    files = sorted(p.name for p in (out / "runs").iterdir())
    assert files == sorted(config_hash(c)[:16] + ".json" for c in grid)
    (out / "runs" / files[0]).write_text("{broken")  # an invalid file is redone
    assert sweep(grid, out, progress=False, log=lambda m: None)["ran"] == 1
    seq = {f: _strip(json.loads((out / "runs" / f).read_text())) for f in files}

    jobs = tmp_path / "jobs"
    assert sweep(grid[:2], jobs, jobs=2, progress=False, log=lambda m: None)["ran"] == 2
    for f in os.listdir(jobs / "runs"):
        assert _strip(json.loads((jobs / "runs" / f).read_text())) == seq[f]


def test_dask_in_process_cluster_agrees(tmp_path):
    pytest.importorskip("torch")
    distributed = pytest.importorskip("distributed")
    grid = [RunConfig(**TINY, kind="arctan"), RunConfig(**TINY, kind="boolean_matched")]
    sweep(grid, tmp_path / "seq", progress=False, log=lambda m: None)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as lc, distributed.Client(lc) as client:
        assert sweep(grid, tmp_path / "dask", client=client, progress=False, log=lambda m: None)["ran"] == 2
    for c in grid:
        a = json.loads(result_path(tmp_path / "seq", c).read_text())
        b = json.loads(result_path(tmp_path / "dask", c).read_text())
        assert _strip(a) == _strip(b)


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(__file__)))}
    return subprocess.run([sys.executable, "-m", "boolgrad.cli", "study", *args], check=False,
                          capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.mark.parametrize("args, msg", [
    (("overshoot", "--kinds", "nope"), "unknown kind"),
    (("overshoot", "--datasets", "cifar"), "unknown dataset"),
    (("overshoot", "--dt", "0"), "positive"),
    (("overshoot", "--datasets", "mnist"), "--data-dir"),
    (("overshoot", "--cluster", "tcp://127.0.0.1:1"), "Dask scheduler"),
    (("simulate", "--scheme", "euler"), "unknown scheme"),
])
def test_cli_bad_options_exit_2_with_one_line(tmp_path, args, msg):
    if "--cluster" in args:
        pytest.importorskip("distributed")
    r = _cli(*args, "--out", str(tmp_path / "o"), *(("--no-progress",) if args[0] == "overshoot" else ()))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()
