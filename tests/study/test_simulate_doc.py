"""docs/study.md's generated block is what the committed simulation records give
(scripts/simulate_counts.py), and results/simulate/summary.md holds the same counts."""

import json
from pathlib import Path

import pytest
from _scripts import load_script

from boolgrad.study.report import counts_line, simulation_counts

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "results" / "simulate"


def _script():
    return load_script("simulate_counts")


def test_study_doc_block_matches_the_committed_records():
    if not (RECORDS / "sim").is_dir():
        pytest.skip("no committed simulation records (results/simulate/sim)")
    mod = _script()
    doc = (ROOT / "docs" / "study.md").read_text()
    assert mod.render(doc) == doc, "run: python scripts/simulate_counts.py"
    assert "<!-- simulate:counts -->\n<!-- /simulate:counts -->" not in doc
    sims = mod.load(RECORDS)
    constant = [s for s in sims if s["dataset"] not in mod.TEMPORAL]  # the theory's premise: a constant current
    assert all(s["identity"]["schema"] >= 4 for s in sims)
    assert counts_line(simulation_counts(sims)) in (RECORDS / "summary.md").read_text()
    grid = simulation_counts(mod.training_grid(constant))
    assert grid["pairs"] == 105 and grid["mixture"] >= 100  # the bar


def test_block_without_records(tmp_path):
    assert "No simulation records" in _script().block(tmp_path)
    (tmp_path / "sim").mkdir()
    rec = {"dataset": "yinyang", "scheme": "exact", "dt_over_tau": 1.0,
           "kinds": {"arctan": {"theory_below": {"agree": True, "ratio": 1.0}}}}
    (tmp_path / "sim" / "a.json").write_text(json.dumps(rec))
    text = _script().block(tmp_path)
    assert "mixture: not in these records" in text and "uniform phase at every crossing 1 of 1" in text
