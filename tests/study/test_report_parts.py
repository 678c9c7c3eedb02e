"""The simulation's part of the reports done ahead gives the same files as the reports in one go."""

import pytest

from boolgrad.study.executor import sweep
from boolgrad.study.overshoot import RunConfig, simulation_record
from boolgrad.study.report import simulation_reports, write_reports

TINY = {"dataset": "yinyang", "epochs": 1, "subset": (200, 60), "hidden": (8,), "probe": 32}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("rep")
    sweep([RunConfig(**TINY, kind=k) for k in ("arctan", "boolean_yj2025")], out, progress=False,
          log=lambda m: None)
    for dt in (1.0, 0.5):
        simulation_record(out, "yinyang", dt, "exact", hidden=8, n=64, kinds=("arctan", "boolean_yj2025"))
    return out


def _files(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_reports_with_the_simulation_part_ahead_are_identical(folder):
    one = write_reports(folder)
    first = _files(folder)
    for p in folder.glob("*.png"):
        p.unlink()
    (folder / "summary.md").unlink()
    ahead = simulation_reports(folder)
    assert len(ahead["sims"]) == 2 and all(s["dataset"] == "yinyang" for s in ahead["sims"])
    two = write_reports(folder, sims=ahead)
    assert two == one and _files(folder) == first
    assert one["rows"] == 2
    assert "| yinyang | arctan | exact | mse_count | 1 | 8 | 1 |" in first["summary.md"].decode()
    if one["plots"]:  # with matplotlib: the run figure first, then the simulation's two
        assert [p.rsplit("/", 1)[-1] for p in one["plots"]] == [
            "accuracy_vs_dt.png", "grad_at_crossings_theory_vs_sim.png", "hist_u_at_crossings.png"]
        assert ahead["plots"] == one["plots"][1:]
