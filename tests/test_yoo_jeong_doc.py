"""docs/yoo_jeong_table.md holds the power-of-two table that scripts/yoo_jeong_values.py generates."""

from pathlib import Path

from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script("yoo_jeong_values")


def test_the_doc_holds_the_generated_table():
    mod = _script()
    table = mod.power_of_two_table()
    assert table in (ROOT / "docs" / "yoo_jeong_table.md").read_text()
    # the values are the bit-flip definition: one exponent bit in the binade below a power of two
    val, bits, clamped = mod.preset_row(0.5, 0.3)
    assert bits == [24] and abs(val - 1 / (4 * 0.3 - 0.3)) < 1e-6 and clamped == val / 500
    assert mod.preset_row(1.0, 0.5)[:2] == (0.0, [])  # 2 * 0.5 == theta: no flip fires under gt
