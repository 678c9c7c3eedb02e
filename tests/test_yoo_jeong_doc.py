"""docs/yoo_jeong_table.md holds the power-of-two table that scripts/yoo_jeong_values.py generates."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("yoo_jeong_values", ROOT / "scripts" / "yoo_jeong_values.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_doc_holds_the_generated_table():
    mod = _script()
    table = mod.power_of_two_table()
    assert table in (ROOT / "docs" / "yoo_jeong_table.md").read_text()
    # the values are the bit-flip definition: one exponent bit in the binade below a power of two
    val, bits, clamped = mod.preset_row(0.5, 0.3)
    assert bits == [24] and abs(val - 1 / (4 * 0.3 - 0.3)) < 1e-6 and clamped == val / 500
    assert mod.preset_row(1.0, 0.5)[:2] == (0.0, [])  # 2 * 0.5 == theta: no flip fires under gt
