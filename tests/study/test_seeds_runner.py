"""Seed experiments through the study's sweep: hash-named files, resume, CLI errors; seed 003."""

import json
import os
import subprocess
import sys

import pytest

from boolgrad.study.executor import config_hash, result_path, sweep
from boolgrad.study.seeds.seed000 import Seed000Config
from boolgrad.study.seeds.seed003 import Seed003Config

Q = lambda m: None  # noqa: E731


def test_sweep_resumes_seed_configs(tmp_path):
    pytest.importorskip("torch")
    grid = [
        Seed000Config(
            dataset="yinyang",
            method=m,
            epochs=1,
            subset=(200, 100),
            **({} if m != "straight_through" else {"lr": 3e-3, "batch_size": 32}),
        )
        for m in ("nudge", "perceptron", "straight_through")
    ]
    assert len({config_hash(c) for c in grid}) == 3
    assert sweep(grid[:1], tmp_path, progress=False, log=Q)["ran"] == 1
    assert sweep(grid, tmp_path, progress=False, log=Q) == {"total": 3, "skipped": 1, "ran": 2}
    res = json.loads(result_path(tmp_path, grid[2]).read_text())
    assert res["experiment"] == "seed000" and res["config"]["kind_spec"]["name"] == "straight_through"


def test_seed003_boolean_threshold_gradient_is_nonzero_and_theta_moves():
    pytest.importorskip("torch")
    from boolgrad.study import executor

    res = executor.run(Seed003Config(dataset="yinyang", epochs=2, subset=(400, 200)))
    assert res["frac_steps_theta_grad_nonzero"] > 0 and res["theta_moved"] > 0
    assert len(res["leaks"]) == 64 and res["leak_quantiles"][2] != 0.5  # learnable leak moved
    assert res["test_acc"] > 0.4


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(__file__)))}
    return subprocess.run(
        [sys.executable, "-m", "boolgrad.cli", "study", "seeds", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, msg", [(("--only", "007"), "unknown seed"), (("--data-dir", "/nonexistent/x"), "not a directory")]
)
def test_cli_bad_options_exit_2(tmp_path, args, msg):
    r = _cli(*args, "--out", str(tmp_path / "o"), "--no-progress")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_quick_writes_tables_and_reuses(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "o"
    r = _cli("--quick", "--only", "003", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    md = (out / "seeds.md").read_text()
    assert "Seed 003" in md and "boolean_fixed16.8" in md and (out / "seeds" / "seed003.csv").exists()
    r = _cli("--quick", "--only", "003", "--out", str(out), "--no-progress")
    assert "0 runs done, 8 reused" in r.stdout
