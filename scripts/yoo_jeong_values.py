"""Exact values quoted in docs/yoo_jeong_table.md (run: python scripts/yoo_jeong_values.py).

``python scripts/yoo_jeong_values.py --table`` prints the markdown table of the section "Other
thresholds" (the ``yoo_jeong2025`` preset below power-of-two thresholds); the test
``tests/test_yoo_jeong_doc.py`` checks that the document holds exactly that table.
"""

import sys

import numpy as np

import boolgrad as bg

#: (theta, u) rows of the power-of-two table: points in the binade below theta, and theta's own
#: binade edge; theta = 0.3 for comparison (where the preset matches the authors' code)
POWER_OF_TWO_POINTS = [(0.5, 0.25), (0.5, 0.3), (0.5, 0.49), (0.125, 0.0625), (0.125, 0.1), (0.125, 0.12),
                       (1.0, 0.5), (1.0, 0.75), (1.0, 0.99), (0.3, 0.2), (0.3, 0.29)]


def g(theta, u, **kw):
    r = bg.gradient_at(
        "float32", theta, np.float32([u]).astype(np.float64), terms=True, convention="paper", **kw
    )
    bits = [i for i in range(32) if r.chi[0, i] and i != 30]
    return float(r.g[0]), bits


def preset_row(theta, u):
    """The preset's backward before the clamp (paper convention, ``gt``, bit 30 left out), its
    spike-changing bits, and after ``clamp01`` at 500 (what training receives)."""
    val, bits = g(theta, u, comparator="gt", excluded_bits=[30])
    return val, bits, min(max(val, 0.0), 500.0) / 500.0


def power_of_two_table() -> str:
    lines = ["| theta | u | g before the clamp | bits that change the spike | preset (clamp01) |",
             "|---|---|---|---|---|"]
    for theta, u in POWER_OF_TWO_POINTS:
        val, bits, clamped = preset_row(theta, u)
        lines.append(f"| {theta:g} | {u:g} | {val:.6g} | {', '.join(map(str, bits)) or 'none'} | {clamped:.6g} |")
    return "\n".join(lines)


def main(argv):
    if "--table" in argv:
        print(power_of_two_table())
        return
    for theta, u, cmp in [
        (0.125, 0.05, "gt"),
        (0.3, -0.5, "gt"),
        (0.3, 0.3, "gt"),
        (0.3, 0.3, "ge"),
        (0.3, 1e-39, "gt"),
    ]:
        val, bits = g(theta, u, comparator=cmp)
        print(f"theta={theta} u={u} {cmp}: g = {val!r}, spike-changing bits (bit 30 excluded) {bits}")


if __name__ == "__main__":
    main(sys.argv[1:])
