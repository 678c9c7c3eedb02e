"""Helpers for the torch tests: float32 tables, sample patterns, exactness assertions.

Not a test module (no ``test_`` prefix); imported by ``tests/torch/test_*.py`` after their
``pytest.importorskip("torch")``.

float32 tables come from ``boolgrad.closed_form_table`` (milliseconds); ``tests/data`` holds
the same three tables made by enumeration (``build_table``), and
``test_closed_form.py::test_stored_enumerated_float32_tables`` checks they are equal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import boolgrad
from boolgrad import closed_form_table, gradient_from_spec, make_spec

DATA = Path(__file__).parents[1] / "data"

#: stored float32 tables: name -> build_table keyword arguments
FLOAT32_SPECS = {
    "float32_1.0_secant_ge": dict(theta=1.0, comparator="ge", convention="secant"),
    "float32_1.0_paper_ge": dict(theta=1.0, comparator="ge", convention="paper"),
    "float32_0.3_secant_gt": dict(theta=0.3, comparator="gt", convention="secant"),
}


def float32_table(name: str) -> boolgrad.GradientTable:
    """A float32 table in closed form (equal to enumeration: see ``test_stored_tables``)."""
    kw = dict(FLOAT32_SPECS[name])
    return closed_form_table("float32", kw.pop("theta"), **kw)


def reference(table, values) -> np.ndarray:
    """``table.gradient`` at float64 values (NaN -> 0: every term at a NaN pattern is degenerate)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(values.shape)
    ok = ~np.isnan(values)
    out[ok] = table.gradient(values[ok], read_as="values")
    return out


def term_scale(table, values) -> np.ndarray:
    """``sum_i |chi_i c_i|`` over the included bits: the scale of float64 rounding in ``g``."""
    spec = table.spec
    values = np.asarray(values, dtype=np.float64)
    if spec.convention == "secant" and spec.wrt == "u":  # every term >= 0: the sum is its own scale
        return np.abs(reference(table, values))
    out = np.zeros(values.shape)
    ok = ~np.isnan(values)
    pg = gradient_from_spec(spec, values[ok], terms=True)
    keep = np.ones(spec.bits, dtype=bool)
    keep[list(spec.excluded)] = False
    out[ok] = np.abs(np.where(pg.chi, pg.c, 0.0))[:, keep].sum(axis=1)
    return out


#: float64 agreement demanded of the closed form (the table's own sum rounds up to ~n ulps)
REL = 2.0**-48


def assert_g_close(ours, ref, scale, what=""):
    ours, ref, scale = (np.asarray(a, dtype=np.float64) for a in (ours, ref, scale))
    err = np.abs(ours - ref)
    bad = ~((ours == ref) | (err <= REL * np.maximum(scale, np.abs(ref))))
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(f"{what}: {int(bad.sum())} mismatches, e.g. ours {ours[i]} ref {ref[i]}")


def assert_cast_ok(ours_cast, ref, scale, np_dtype, what=""):
    """The cast of ``g`` equals the cast of the reference, except where the reference lies within
    the float64 tolerance of a rounding boundary of the target dtype (then either neighbour)."""
    ref = np.asarray(ref, dtype=np.float64)
    tol = REL * np.maximum(np.asarray(scale, dtype=np.float64), np.abs(ref))
    lo = (ref - tol).astype(np_dtype).astype(np.float64)
    hi = (ref + tol).astype(np_dtype).astype(np.float64)
    ours = np.asarray(ours_cast).astype(np.float64)
    bad = ~((ours >= lo) & (ours <= hi))
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(f"{what}: {int(bad.sum())} cast mismatches, e.g. ours {ours[i]} ref {ref[i]}")
    exact = np.mean(ours == ref.astype(np_dtype).astype(np.float64))
    return exact


def float32_samples(table, n_random=20000, seed=0) -> np.ndarray:
    """float32 values: every run's first/last pattern and their neighbours, the 1000 patterns
    nearest theta, random patterns, and the specials (+-0, +-inf, NaN, subnormals)."""
    fmt = table.fmt
    rng = np.random.default_rng(seed)
    R = int(make_spec(fmt, table.meta.theta_requested, comparator=table.meta.comparator).threshold.rank)
    ranks = [table.first_rank, fmt.rank(table.last)]
    ranks = np.concatenate(ranks).astype(np.int64)
    ranks = np.concatenate([ranks - 1, ranks, ranks + 1, np.arange(R - 500, R + 500)])
    ranks = ranks[(ranks >= 0) & (ranks < fmt.n_ranks)].astype(np.uint64)
    pats = fmt.pattern_at_rank(ranks).astype(np.uint32)
    rand = rng.integers(0, 2**32, n_random, dtype=np.uint64).astype(np.uint32)
    values = np.concatenate([pats, rand]).view(np.float32)
    specials = np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, 2.0**-126], dtype=np.float32
    )
    return np.unique(np.concatenate([values, specials]).view(np.uint32)).view(np.float32)
