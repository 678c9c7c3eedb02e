"""examples/train_digits.py builds its table when missing and records both accuracies (--out)."""

# ruff: noqa: E402 -- the imports below follow pytest.importorskip

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the example trains with torch")
pytest.importorskip("sklearn", reason="the example trains on scikit-learn's digits")

import boolgrad

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_train_digits_builds_the_table_and_records_the_accuracies(tmp_path, capsys):
    example = _load(ROOT / "examples" / "train_digits.py")
    table, out = tmp_path / "tables" / "f32.npz", tmp_path / "rec" / "train.json"
    acc = example.main(["--table", str(table), "--epochs", "1", "--out", str(out)])
    assert boolgrad.GradientTable.load(table) == boolgrad.closed_form_table("float32", 1.0)
    rec = json.loads(out.read_text())
    assert rec["test_accuracy"] == acc and rec["epochs"] == 1 and rec["argv"][-1] == str(out)
    assert 0.3 < acc["boolean"] <= 1 and 0.3 < acc["arctan"] <= 1  # 1 epoch of 1437 digits: far above 0.1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith(f"{acc['boolean']:.3f}") and printed[1].endswith(f"{acc['arctan']:.3f}")
