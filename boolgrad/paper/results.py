"""The one reader of the results files the paper is drawn from (stdlib only; nothing computed).

Layout: a results root ``R`` holds ``R/study/`` (the overshoot study: ``runs/``, ``sim/*.json``,
``overshoot.csv``) and ``R/seeds/`` (the seeds' ``seed00N.csv``); a plain overshoot-study folder
(``overshoot.csv`` and ``sim/`` at its top) is accepted as ``R/study`` itself, so
:func:`study_dir` and :func:`load_sims` take either.  CSV cells are returned as the strings
written (``csv.DictReader``); callers convert what they use.  ``R/decisive/`` holds the decisive study's
run files (``protocol.json``, ``runs/*.json``); they are read by
:mod:`boolgrad.study.decisive_report`, whose functions the paper uses (nothing recomputed).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["accuracy_cells", "decisive_dir", "has_decisive", "load_sims", "overshoot_csv", "read_overshoot", "read_rows", "read_seeds",
           "seeds_csvs", "seeds_dir", "study_dir"]


def study_dir(results) -> Path:
    """``R/study`` if it is a folder, else ``R`` (a plain overshoot-study folder)."""
    r = Path(results)
    return r / "study" if (r / "study").is_dir() else r


def seeds_dir(results) -> Path:
    return Path(results) / "seeds"


def read_rows(path) -> list[dict]:
    """The rows of a CSV file with a header line, as ``column -> string`` dicts."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- the overshoot study ---------------------------------------------------------------------------


def overshoot_csv(results) -> Path:
    return study_dir(results) / "overshoot.csv"


def read_overshoot(results) -> list[dict]:
    """The rows of ``overshoot.csv`` (one per training run); ``[]`` without the file."""
    p = overshoot_csv(results)
    return read_rows(p) if p.exists() else []


def accuracy_cells(rows) -> dict:
    """``(dataset, kind, scheme, readout, dt_over_tau) -> [test_acc, ...]`` (floats, in row order;
    cells in the order of their first row)."""
    out = {}
    for r in rows:
        key = (r["dataset"], r["kind"], r["scheme"], r["readout"], float(r["dt_over_tau"]))
        out.setdefault(key, []).append(float(r["test_acc"]))
    return out


def load_sims(results, scheme: str | None = "exact") -> list[dict]:
    """The random-weight simulation records (``study/sim/*.json``) of one ``scheme`` (every
    scheme for ``None``), sorted by dataset, scheme and decreasing ``dt / tau``; a file that is
    not JSON is skipped."""
    sims = []
    for p in sorted((study_dir(results) / "sim").glob("*.json")):
        try:
            s = json.loads(p.read_text())
        except ValueError:
            continue
        if scheme is None or s.get("scheme") == scheme:
            sims.append(s)
    sims.sort(key=lambda s: (s["dataset"], s.get("scheme", ""), -s["dt_over_tau"]))
    return sims


# -- the decisive study ---------------------------------------------------------------------------


def decisive_dir(results) -> Path:
    """``R/decisive``, or ``R`` itself when it is a plain decisive-study folder (``protocol.json``
    at its top)."""
    r = Path(results)
    return r if (r / "protocol.json").is_file() and not (r / "decisive").is_dir() else r / "decisive"


def has_decisive(results) -> bool:
    """Whether the results hold the decisive study's ``protocol.json``."""
    return (decisive_dir(results) / "protocol.json").is_file()


# -- the seeds' experiments ------------------------------------------------------------------------


def seeds_csvs(results) -> list[Path]:
    """``R/seeds/*.csv``, sorted by name (``[]`` without the folder)."""
    d = seeds_dir(results)
    return sorted(d.glob("*.csv")) if d.is_dir() else []


def read_seeds(results) -> dict[str, list[dict]]:
    """``"seed00N" -> rows`` of every ``R/seeds/seed00N.csv`` present."""
    return {p.stem: read_rows(p) for p in seeds_csvs(results)}
