"""The house rules of ``boolgrad/`` (scripts/check_layout.py): no import cycle, small modules,
and ``import boolgrad`` (and ``boolgrad.study``) pulls in no optional framework."""

import subprocess
import sys
from pathlib import Path

from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    return load_script("check_layout")


def test_no_import_cycle_and_no_module_over_500_lines():
    assert _checker().problems() == []


def test_the_checker_finds_a_planted_cycle():
    mod = _checker()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert mod.cycles(graph) == [["a", "b", "c"]]
    eager, full = mod.graphs()
    assert "boolgrad.table" in eager["boolgrad.table_io"]  # a real edge is seen
    assert "boolgrad.table_io" in full["boolgrad.table"] and "boolgrad.table_io" not in eager["boolgrad.table"]


def test_core_and_study_import_without_optional_frameworks():
    code = (
        "import sys, boolgrad, boolgrad.study, boolgrad.study.crossings, boolgrad.builders;"
        "bad = [m for m in ('torch', 'cupy', 'dask', 'distributed', 'numba', 'matplotlib', 'mnist1d', 'sklearn')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_package_folder_is_installed():
    """A non-editable install (CI's) ships only the packages pyproject.toml lists: a new
    subpackage missing there imports in a clone and fails once installed."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = {cfg.get("package-dir", {}).get(p, p.replace(".", "/")): p for p in listed}
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "boolgrad").rglob("__init__.py")}
    on_disk |= {dirs[d] for d in dirs if (ROOT / d / "__init__.py").is_file()}
    assert on_disk == listed
