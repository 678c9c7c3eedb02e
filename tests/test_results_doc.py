"""docs/results.md's and docs/seeds.md's generated blocks are what the committed results give (scripts/publish_results.py):
no number in them is typed by hand."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_results_doc_blocks_match_the_committed_results():
    pytest.importorskip("scipy")
    if not (ROOT / "results" / "study" / "overshoot.csv").is_file():
        pytest.skip("no committed study results (results/study/overshoot.csv)")
    spec = importlib.util.spec_from_file_location("publish_results", ROOT / "scripts" / "publish_results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    doc = (ROOT / "docs" / "results.md").read_text()
    assert mod.render(doc, ROOT / "results") == doc, "run: python scripts/publish_results.py"
    assert "<!-- results:study -->\n<!-- /results:study -->" not in doc  # the blocks are filled
    readme = (ROOT / "README.md").read_text()
    assert mod.render(readme, ROOT / "results", mod.README_BLOCKS, "README.md") == readme, \
        "run: python scripts/publish_results.py"
    seeds = (ROOT / "docs" / "seeds.md").read_text()
    assert mod.render(seeds, ROOT / "results", mod.seeds_doc_blocks(), "docs/seeds.md") == seeds, \
        "run: python scripts/publish_results.py"
    assert "<!-- results:seeds_001 -->\n<!-- /results:seeds_001 -->" not in seeds


def _publish():
    spec = importlib.util.spec_from_file_location("publish_results", ROOT / "scripts" / "publish_results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_examples_block_refuses_a_record_of_other_code(tmp_path):
    """The README's example sentence comes from a record of the README's own code, else a notice."""
    mod = _publish()
    (tmp_path / "examples").mkdir()
    rec = {"code_sha256": "0" * 64, "stdout": "Boolean 0.5 arctan 0.75\n", "torch": "t", "threads": 2, "date": "d"}
    (tmp_path / "examples" / "readme_digits.json").write_text(json.dumps(rec))
    assert "run `python scripts/readme_examples.py`" in mod.examples_block(tmp_path)
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    rec["code_sha256"] = ex.code_hash(ex.example_code((ROOT / "README.md").read_text()))
    (tmp_path / "examples" / "readme_digits.json").write_text(json.dumps(rec))
    text = mod.examples_block(tmp_path)
    assert "`Boolean 0.5 arctan 0.75`" in text and "0.250 behind the arctan surrogate" in text


def test_backends_speed_block_renders_every_recorded_row(tmp_path):
    mod = _publish()
    (tmp_path / "benchmarks").mkdir()
    rec = {"script": "benchmarks/bench_sweep.py", "argv": ["--out", "x"], "date": "d", "machine": "m", "kind": "sweep",
           "rows": [{"case": "c", "backend": "numba", "patterns": 65536, "median_s": 0.5, "patterns_per_s": 131072.0,
                     "x_numpy": 12.34, "x_floor": None, "repeats": 5}]}
    (tmp_path / "benchmarks" / "sweep_x.json").write_text(json.dumps(rec))
    text = mod.backends_speed_block(tmp_path)
    assert "| c | `numba` | 65,536 | 0.5 | 1.31e+05 | 12.3 | 5 |" in text and "`python benchmarks/bench_sweep.py --out x`" in text
