"""The README's results blocks are what the committed results give (scripts/publish_results.py):
no number in them is typed by hand."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_results_blocks_match_the_committed_results():
    if not (ROOT / "docs" / "study" / "overshoot.csv").is_file():
        pytest.skip("no committed study results (docs/study/overshoot.csv)")
    spec = importlib.util.spec_from_file_location("publish_results", ROOT / "scripts" / "publish_results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    readme = (ROOT / "README.md").read_text()
    assert mod.render(readme, ROOT / "docs") == readme, "run: python scripts/publish_results.py"
    assert "<!-- results:study -->\n<!-- /results:study -->" not in readme  # the blocks are filled
