"""``boolgrad study crossings``: exact crossing moments of a Boolean table and of surrogates.

    boolgrad study crossings FORMAT --threshold T [--convention secant|paper] [--comparator ge|gt]
        [--scale none|clamp|unit_area|unit_peak --grad-max 500] --du 0.001 0.01 0.1 1
        [--surrogate arctan rectangle ...] [--json]

One row per (kind, dU, side): mean, second moment and CV (:mod:`boolgrad.study.crossings`);
``--json`` prints a list of objects with keys ``kind, du, side, mean, second_moment, cv``
(CV ``null`` where the mean is 0).  Surrogates are centred on the table's ``theta_used``.
"""

from __future__ import annotations

import json
import math

__all__ = ["add_crossings_parser", "crossings_rows", "run_crossings"]


def add_crossings_parser(subparsers):
    """Add ``crossings`` to a ``study`` subparser group; returns the parser."""
    p = subparsers.add_parser("crossings", help="exact moments of g at the samples around a crossing")
    p.add_argument("format", help="fixed<W>.<F>, ufixed<W>.<F>, e<E>m<M>[fn] or a preset (float32, ...)")
    p.add_argument("--threshold", "-t", required=True, type=float, help="theta (rounded to the format)")
    p.add_argument("--convention", choices=("secant", "paper"), default="secant")
    p.add_argument("--comparator", choices=("ge", "gt"), default="ge")
    p.add_argument("--scale", choices=("none", "clamp", "unit_area", "unit_peak"), default="none")
    p.add_argument("--grad-max", type=float, default=500.0, help="G of --scale clamp (default 500)")
    p.add_argument("--du", type=float, nargs="+", required=True, help="per-step increments dU (> 0)")
    p.add_argument("--surrogate", nargs="*", default=[], help="also these surrogates (default parameters)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_crossings)
    return p


def crossings_rows(a) -> list[dict]:
    """The rows ``run_crossings`` prints (``ValueError`` on bad input)."""
    from ..builders.closed_form import closed_form_table
    from .crossings import BooleanGrad, SurrogateGrad, crossing_moments

    if not math.isfinite(a.threshold):
        raise ValueError(f"threshold must be finite, got {a.threshold!r}")
    if any(not (math.isfinite(d) and d > 0) for d in a.du):
        raise ValueError("--du values must be positive and finite")
    table = closed_form_table(a.format, a.threshold, convention=a.convention, comparator=a.comparator)
    kinds = [(f"boolean:{a.format}:{a.scale}", BooleanGrad(table, a.scale, a.grad_max))]
    theta = float(table.meta.theta_used)
    kinds += [(f"surrogate:{SurrogateGrad(n, theta).name}", SurrogateGrad(n, theta)) for n in a.surrogate]
    rows = []
    for kind, grad in kinds:
        for side in ("below", "above"):
            m = crossing_moments(grad, a.du, side=side)
            for k, du in enumerate(a.du):
                cv = float(m.cv[k])
                rows.append(
                    dict(
                        kind=kind,
                        du=du,
                        side=side,
                        mean=float(m.mean[k]),
                        second_moment=float(m.second_moment[k]),
                        cv=None if math.isnan(cv) else cv,
                    )
                )
    rows.sort(key=lambda r: ([k for k, _ in kinds].index(r["kind"]), r["du"], r["side"] != "below"))
    return rows


def run_crossings(a) -> int:
    """Handler: print the rows as a table or JSON."""
    rows = crossings_rows(a)
    if a.json:
        print(json.dumps(rows))
        return 0
    w = max(len(r["kind"]) for r in rows)
    print(f"{'kind':<{w}}  {'dU':>10}  {'side':<5}  {'mean':>14}  {'second moment':>14}  {'CV':>10}")
    for r in rows:
        cv = "nan" if r["cv"] is None else f"{r['cv']:.6g}"
        print(
            f"{r['kind']:<{w}}  {r['du']:>10.4g}  {r['side']:<5}  {r['mean']:>14.8g}  "
            f"{r['second_moment']:>14.8g}  {cv:>10}"
        )
    return 0
