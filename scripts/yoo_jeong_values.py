"""Exact values quoted in docs/yoo_jeong_table.md (run: python scripts/yoo_jeong_values.py)."""

import numpy as np

import boolgrad as bg


def g(theta, u, **kw):
    r = bg.gradient_at(
        "float32", theta, np.float32([u]).astype(np.float64), terms=True, convention="paper", **kw
    )
    bits = [i for i in range(32) if r.chi[0, i] and i != 30]
    return float(r.g[0]), bits


for theta, u, cmp in [
    (0.125, 0.05, "gt"),
    (0.3, -0.5, "gt"),
    (0.3, 0.3, "gt"),
    (0.3, 0.3, "ge"),
    (0.3, 1e-39, "gt"),
]:
    val, bits = g(theta, u, comparator=cmp)
    print(f"theta={theta} u={u} {cmp}: g = {val!r}, spike-changing bits (bit 30 excluded) {bits}")
