"""Figure 9: the seeds' systems (``seeds/*.csv`` of ``boolgrad study seeds``).

(a) seed 002: test accuracy against the learning rate per model (multi- vs central-threshold
networks and their spiking versions); (b) seed 000: the weight-nudging rule against perceptron
and backprop; (c) seed 003: the learned thresholds of the halving neuron.  The CSVs are read by
column name: a file whose name contains ``002`` / ``000`` / ``003``; rows grouped by the first
of ``model, method, neuron, kind`` present, accuracy from ``test_acc``, learning rate from
``lr``, thresholds from the columns whose name contains ``theta``.  Without the seeds' results
the script says so and exits 0 (the test skips).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from boolgrad import figures_style as st

NAME = "fig09_seeds"
INPUTS = ["seeds/*.csv"]
GROUP_KEYS = ("model", "method", "neuron", "system", "kind")


def _read(p: Path) -> list[dict]:
    with open(p, newline="") as f:
        return list(csv.DictReader(f))


def _num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _group_key(rows):
    cols = rows[0].keys() if rows else ()
    keys = [k for k in GROUP_KEYS if k in cols]
    return lambda r: " / ".join(r[k] for k in keys) if keys else "all"


def find(results_dir, tag: str):
    d = st.seeds_dir(results_dir)
    files = sorted(p for p in d.glob("*.csv") if tag in p.name) if d.is_dir() else []
    return files[0] if files else None


def make(results_dir, out_dir) -> list[Path]:
    files = {t: find(results_dir, t) for t in ("002", "000", "003")}
    if not any(files.values()):
        raise st.FigureSkipped(f"no seeds results ({st.seeds_dir(results_dir)}/*.csv); run boolgrad study seeds")
    with st.rc():
        fig = st.new_figure(st.WIDTH, 2.8)
        axes = fig.subplots(1, 3)
        a, b, c = axes
        if files["002"]:
            rows = _read(files["002"])
            key = _group_key(rows)
            groups = {}
            for r in rows:
                lr, acc = _num(r.get("lr")), _num(r.get("test_acc"))
                if lr is not None and acc is not None:
                    groups.setdefault(key(r), {}).setdefault(lr, []).append(acc)
            for i, (g, by) in enumerate(sorted(groups.items())):
                xs = sorted(by)
                ms = [sum(by[x]) / len(by[x]) for x in xs]
                a.plot(xs, ms, "o-", ms=3, color=st._EXTRA[i % 6] if i >= 4 else st.color(
                    ("rectangle", "boolean_matched", "boolean_yj2025", "arctan")[i]), label=g)
            a.set_xscale("log")
            a.legend(fontsize=6)
        st.finish_axes(a, "learning rate", "test accuracy", "(a) seed 002")
        for ax, tag, title in ((b, "000", "(b) seed 000"), (c, "003", "(c) seed 003")):
            p = files[tag]
            if not p:
                ax.text(0.5, 0.5, f"no seed {tag} results", ha="center", transform=ax.transAxes)
                st.finish_axes(ax, "system", "test accuracy", title)
                continue
            rows = _read(p)
            key = _group_key(rows)
            thetas = [k for k in (rows[0].keys() if rows else ()) if "theta" in k]
            col = thetas[0] if tag == "003" and thetas else "test_acc"
            groups = {}
            for r in rows:
                v = _num(r.get(col))
                if v is not None:
                    groups.setdefault(key(r), []).append(v)
            names = sorted(groups)
            for i, g in enumerate(names):
                vs = groups[g]
                m = sum(vs) / len(vs)
                s = math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else 0.0
                ax.bar(i, m, yerr=s, capsize=2, color=st._EXTRA[i % 6])
                ax.plot([i] * len(vs), vs, "k.", ms=2)
            ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=6)
            cols = rows[0].keys() if rows else ()
            st.finish_axes(ax, " / ".join(k for k in GROUP_KEYS if k in cols) or "system", col.replace("_", " "), title)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
