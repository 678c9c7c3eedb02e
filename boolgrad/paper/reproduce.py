"""``boolgrad reproduce``: every figure, table and number of the paper, and its PDF, in one command.

Steps (each reusing what is already there, so a rerun with nothing changed rewrites identical
files in seconds):

1. results -- the overshoot study into ``OUT/study`` (the functions of
   :mod:`boolgrad.study.cli`: finished runs are reused) and the seeds' experiments into
   ``OUT/seeds`` (``boolgrad study seeds``, when :mod:`boolgrad.study.seeds` exists; skipped with a
   note otherwise); ``--from DIR`` reads committed results instead (``DIR/study``, ``DIR/seeds``,
   ``DIR/decisive``: its report is rewritten into ``OUT/decisive``), without training;
2. figures -- every ``figures/fig*.py`` (``make(results_dir, out_dir)``) into ``OUT/figures``;
3. numbers and tables -- ``OUT/paper/generated/numbers.tex``, ``tab_*.tex``, ``seeds.tex`` and the
   decisive study's ``decisive.tex`` and ``decisive_numbers.tex`` (:mod:`boolgrad.paper.numbers`,
   :mod:`boolgrad.paper.decisive_tex`; their key covers ``decisive/protocol.json`` and
   ``decisive/runs/*.json``);
4. the PDF -- ``paper/boolgrad.tex`` built in ``OUT/paper`` with ``latexmk -pdf`` (or pdflatex +
   bibtex), copied to ``OUT/boolgrad.pdf`` (``--no-pdf`` skips it);
5. ``OUT/manifest.json`` -- each artefact, its SHA-256, its generator and the results files it
   came from (with their SHA-256), printed as a table.

An artefact is rebuilt only when its *key* changes: the SHA-256 of its generator's source, the
shared modules it is made by (style, :mod:`.results`, :mod:`boolgrad.study.stats`), the package
version and its input files' hashes.  Figures, tables and the PDF are
byte-for-byte deterministic (no dates; ``SOURCE_DATE_EPOCH`` for LaTeX).  Bad options and a
missing LaTeX exit 2 with one line on stderr before any work.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["GRIDS", "add_parser", "latex_tool", "reproduce"]

def _find_root() -> Path:
    """The clone holding ``figures/`` and ``paper/``: next to the package (a clone, an editable
    install), else the working directory (a clone with boolgrad installed into a venv)."""
    for cand in (Path(__file__).resolve().parents[2], Path.cwd().resolve()):
        if (cand / "figures").is_dir() and (cand / "paper" / "boolgrad.tex").is_file():
            return cand
    return Path(__file__).resolve().parents[2]


ROOT = _find_root()
FIGURES = ROOT / "figures"
PAPER = ROOT / "paper"
MANIFEST_SCHEMA = 1
#: fixed date of the generated PDF (2025-01-01): reproducible bytes
SOURCE_DATE_EPOCH = "1735689600"
APT = "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended latexmk"
#: the training grids: ``quick`` is the study's --quick grid; ``tiny`` (tests) one dataset, 2 kinds, 2 dt, 1 epoch
GRIDS = {
    "quick": {"datasets": None, "kinds": None, "dt": None, "epochs": None, "authors_row": True},
    "tiny": {"datasets": ["yinyang"], "kinds": ["boolean_yj2025", "arctan"], "dt": [1.0, 0.25], "epochs": 1,
             "authors_row": False, "sim_kinds": ("boolean_yj2025", "boolean_matched", "arctan")},
}


class ReproduceError(ValueError):
    """Bad options or a missing tool: one line on stderr, exit 2."""


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def latex_tool():
    """``"latexmk"``, ``"pdflatex"`` (with bibtex) or ``None``."""
    if shutil.which("latexmk") and shutil.which("pdflatex"):
        return "latexmk"
    if shutil.which("pdflatex") and shutil.which("bibtex"):
        return "pdflatex"
    return None


# -- 1. results ------------------------------------------------------------------------------------


def run_study(out: Path, *, quick: bool, grid: str, jobs: int, cluster) -> None:
    import functools

    from ..study import cli as study_cli

    g = GRIDS[grid] if quick else {"datasets": None, "kinds": None, "dt": None, "epochs": None, "authors_row": True}
    ns = argparse.Namespace(quick=quick, datasets=g["datasets"], kinds=g["kinds"], dt=g["dt"], epochs=g["epochs"],
                            seeds=None, jobs=jobs, cluster=cluster, data_dir=None,
                            no_authors_row=not g["authors_row"], no_progress=True, out=str(out / "study"),
                            engine="fused", stack=16, detach_reset=False)
    sim = study_cli.simulation_record
    if g.get("sim_kinds"):  # the tests' tiny grid simulates fewer kinds (the float32 integrals dominate)
        study_cli.simulation_record = functools.partial(sim, kinds=g["sim_kinds"])
    try:
        study_cli._cmd_overshoot(ns)
    finally:
        study_cli.simulation_record = sim


def run_seeds(out: Path, *, quick: bool, jobs: int, log) -> None:
    if importlib.util.find_spec("boolgrad.study.seeds") is None:
        log("note: boolgrad.study.seeds is not installed: the seeds' experiments are skipped")
        return
    cmd = [sys.executable, "-m", "boolgrad.cli", "study", "seeds", "--out", str(out)]
    cmd += ["--quick"] if quick else []
    cmd += ["--jobs", str(jobs)] if jobs > 1 else []
    r = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    if r.returncode:
        log(f"note: {' '.join(cmd[2:])} exited {r.returncode}; the seeds' figure uses what is there")


# -- 2-4. artefacts --------------------------------------------------------------------------------


def _inputs(results: Path, patterns) -> dict:
    files = {}
    for pat in patterns:
        for p in sorted(results.glob(pat)):
            if p.is_file():
                files[p.relative_to(results).as_posix()] = sha256(p)
    return files


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _reusable(old: dict, key: str, out: Path) -> list | None:
    """The previous run's outputs for ``key`` if every one is still there, unchanged."""
    entry = old.get(key)
    if not entry:
        return None
    for rel, h in entry["outputs"].items():
        p = out / rel
        if not p.is_file() or sha256(p) != h:
            return None
    return entry


def load_figure(path: Path):
    spec = importlib.util.spec_from_file_location(f"boolgrad_figure_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def figure_scripts() -> list[Path]:
    return sorted(FIGURES.glob("fig*.py"))


def _code(*modules: str) -> str:
    """One hash of the shared package modules (paths under ``boolgrad/``) an artefact is made by."""
    package = Path(__file__).resolve().parents[1]
    return _key(*(sha256(package / m) for m in modules))


def _version() -> str:
    from .. import __version__

    return __version__


def build_figures(results: Path, out: Path, old: dict, log) -> list[dict]:
    from .style import FigureSkipped

    style = _code("paper/style.py", "paper/results.py", "study/stats.py")
    entries = []
    for script in figure_scripts():
        mod = load_figure(script)
        inputs = _inputs(results, getattr(mod, "INPUTS", []))
        parts = ("figure", sha256(script), style, _version(), inputs)
        if getattr(mod, "CODE", ()):  # package modules the figure is drawn by, beyond the shared ones
            parts += (_code(*mod.CODE),)
        key = _key(*parts)
        gen = script.relative_to(ROOT).as_posix()
        prev = _reusable(old, key, out)
        if prev is not None:
            entries.append({**prev, "reused": True})
            continue
        t0 = time.perf_counter()
        try:
            paths = mod.make(results, out / "figures")
        except FigureSkipped as exc:
            log(f"note: {gen} skipped: {exc}")
            entries.append({"key": key, "generator": gen, "inputs": inputs, "outputs": {}, "skipped": str(exc)})
            continue
        outputs = {Path(p).relative_to(out).as_posix(): sha256(p) for p in paths}
        entries.append({"key": key, "generator": gen, "inputs": inputs, "outputs": outputs,
                        "seconds": round(time.perf_counter() - t0, 1)})
    return entries


def _write(path: Path, text: str) -> None:
    from ..atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    with atomic_write(path, "w") as f:
        f.write(text)


NUMBER_INPUTS = ["study/overshoot.csv", "study/sim/*.json", "seeds/*.csv", "decisive/protocol.json",
                 "decisive/runs/*.json"]
#: the package modules the generated TeX is made by (their hashes enter its key)
NUMBER_CODE = ("paper/numbers.py", "paper/decisive_tex.py", "paper/results.py", "study/stats.py",
               "study/decisive_report.py", "study/inference.py")


def build_generated(results: Path, out: Path, old: dict, seeds_figure: bool, decisive_figure: bool = False) -> dict:
    from . import numbers as pn

    inputs = _inputs(results, NUMBER_INPUTS)
    key = _key("generated", _code(*NUMBER_CODE), _version(), inputs, seeds_figure, decisive_figure)
    prev = _reusable(old, key, out)
    if prev is not None:
        return {**prev, "reused": True}
    gen = out / "paper" / "generated"
    files = {"numbers.tex": pn.numbers_tex(pn.numbers(results)),
             **pn.tables_tex(results, seeds_figure=seeds_figure, decisive_figure=decisive_figure)}
    for name, text in files.items():
        _write(gen / name, text)
    outputs = {(gen / n).relative_to(out).as_posix(): sha256(gen / n) for n in sorted(files)}
    return {"key": key, "generator": "boolgrad/paper/numbers.py", "inputs": inputs, "outputs": outputs}


def build_pdf(out: Path, old: dict, tool: str, log) -> dict:
    build = out / "paper"
    build.mkdir(parents=True, exist_ok=True)
    for name in ("boolgrad.tex", "refs.bib"):
        _write(build / name, (PAPER / name).read_text())
    deps = sorted([*(build / "generated").glob("*.tex"), *(out / "figures").glob("*.pdf"),
                   build / "boolgrad.tex", build / "refs.bib"])
    inputs = {p.relative_to(out).as_posix(): sha256(p) for p in deps}
    key = _key("pdf", inputs, tool)
    prev = _reusable(old, key, out)
    if prev is not None:
        return {**prev, "reused": True}
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1", "TZ": "UTC"}
    if tool == "latexmk":
        cmds = [["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet", "boolgrad.tex"]]
    else:
        pdf = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "boolgrad.tex"]
        cmds = [pdf, ["bibtex", "boolgrad"], pdf, pdf]
    for cmd in cmds:
        r = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, check=False)
        if r.returncode:
            tail = (r.stdout + r.stderr).strip().splitlines()[-15:]
            raise RuntimeError(f"{cmd[0]} failed in {build} (see boolgrad.log): " + " | ".join(tail[-3:]))
    pdf = out / "boolgrad.pdf"
    data = (build / "boolgrad.pdf").read_bytes()
    if not (pdf.exists() and pdf.read_bytes() == data):
        from ..atomic import atomic_write

        with atomic_write(pdf, "wb") as f:
            f.write(data)
    return {"key": key, "generator": "paper/boolgrad.tex", "inputs": inputs,
            "outputs": {"boolgrad.pdf": sha256(pdf)}}


# -- 5. the manifest -------------------------------------------------------------------------------


def write_manifest(out: Path, results: Path, mode: str, entries: list, notes: list) -> dict:
    results_files = {}
    for e in entries:
        if e["generator"] != "paper/boolgrad.tex":
            results_files.update(e["inputs"])
    man = {
        "schema": MANIFEST_SCHEMA,
        "boolgrad_version": _version(),
        "mode": mode,
        "results_root": os.path.relpath(results, out) if results != out else ".",
        "results": dict(sorted(results_files.items())),
        "artefacts": [{k: e[k] for k in ("generator", "key", "inputs", "outputs", "skipped") if k in e}
                      for e in entries],
        "notes": notes,
    }
    _write(out / "manifest.json", json.dumps(man, indent=1, sort_keys=True) + "\n")
    return man


def print_manifest(man: dict, entries: list, out: Path) -> None:
    print(f"manifest {out / 'manifest.json'} (results: {man['results_root']}, {len(man['results'])} files)")
    for e in entries:
        state = "skipped" if "skipped" in e else ("reused" if e.get("reused") else "built")
        ins = e["inputs"]
        src = (", ".join(sorted(ins))[:70] + ("..." if len(", ".join(ins)) > 70 else "")) if ins else "tables only"
        if not e["outputs"]:
            print(f"  {'-':64s} {state:7s} {e['generator']}: {e.get('skipped', '')}")
        for rel, h in e["outputs"].items():
            print(f"  {rel:50s} {h[:12]} {state:7s} <- {e['generator']} [{len(ins)} inputs: {src}]")


def _old_entries(out: Path) -> dict:
    try:
        man = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    if man.get("schema") != MANIFEST_SCHEMA:
        return {}
    return {a["key"]: a for a in man.get("artefacts", []) if "skipped" not in a}


def reproduce(a) -> int:
    t0 = time.perf_counter()
    out = Path(a.out)
    notes = []

    def log(msg):
        notes.append(msg)
        print(msg, file=sys.stderr, flush=True)

    # checks first: nothing is done when an option is bad or LaTeX is missing
    if a.jobs < 1:
        raise ReproduceError("--jobs must be >= 1")
    if a.from_dir and (a.quick or a.cluster):
        raise ReproduceError("--from reads finished results: it takes neither --quick nor --cluster")
    if a.grid != "quick" and not a.quick:
        raise ReproduceError("--grid applies to --quick only")
    if a.from_dir:
        results = Path(a.from_dir)
        if not (results / "study" / "overshoot.csv").is_file():
            raise ReproduceError(f"--from {results}: no overshoot results ({results / 'study' / 'overshoot.csv'})")
    else:
        results = out
    if not FIGURES.is_dir() or not (PAPER / "boolgrad.tex").is_file():
        raise ReproduceError(f"figures/ and paper/ not found next to {Path(__file__).parent} nor in the working "
                             "directory: run from a clone of the repository")
    tool = None
    if not a.no_pdf:
        tool = latex_tool()
        if tool is None:
            raise ReproduceError(f"LaTeX not found (latexmk or pdflatex + bibtex): apt-get install {APT} "
                                 "(or pass --no-pdf)")
    if out.exists() and not out.is_dir():
        raise ReproduceError(f"--out {out}: exists and is not a directory")
    if a.cluster:
        from ..study.executor import connect_cluster

        connect_cluster(a.cluster).close()  # unreachable: exit 2 before any work
    out.mkdir(parents=True, exist_ok=True)
    old = _old_entries(out)

    if not a.from_dir:
        run_study(out, quick=a.quick, grid=a.grid, jobs=a.jobs, cluster=a.cluster)
        if a.grid == "quick":
            run_seeds(out, quick=a.quick, jobs=a.jobs, log=log)
    elif not (results / "seeds").is_dir():
        log(f"note: {results / 'seeds'} absent: the seeds' figure and numbers are skipped")
    if a.from_dir and (results / "decisive" / "protocol.json").is_file():
        from ..study.decisive_report import write_report

        rep = write_report(results / "decisive", dest=out / "decisive")  # report and figure, from the run files
        log(f"decisive study: {rep['cells']} cells reported in {out / 'decisive'}")
    entries = build_figures(results, out, old, log)
    seeds_fig = any(e["generator"].endswith("fig09_seeds.py") and e["outputs"] for e in entries)
    decisive_fig = any(e["generator"].endswith("fig11_decisive.py") and e["outputs"] for e in entries)
    entries.append(build_generated(results, out, old, seeds_fig, decisive_fig))
    if tool:
        entries.append(build_pdf(out, old, tool, log))
    mode = "from" if a.from_dir else ("quick" if a.quick else "full")
    man = write_manifest(out, results, mode, entries, notes)
    print_manifest(man, entries, out)
    print(f"reproduce: {sum(len(e['outputs']) for e in entries)} artefacts in {out} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def add_parser(sub) -> None:
    """Register ``reproduce`` on :mod:`boolgrad.cli`'s subparsers."""
    p = sub.add_parser("reproduce", help="every figure, table and number of the paper, and its PDF")
    p.add_argument("--quick", action="store_true", help="the quick study grid (minutes), not the full one")
    p.add_argument("--out", default="reproduced", help="output folder (default reproduced)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes for training")
    p.add_argument("--cluster", default=None, help="tcp://HOST:8786 (Dask scheduler) or local:N")
    p.add_argument("--no-pdf", action="store_true", help="skip the LaTeX build")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="rebuild from finished results in DIR (DIR/study, DIR/seeds), e.g. docs")
    p.add_argument("--grid", choices=tuple(GRIDS), default="quick", help=argparse.SUPPRESS)  # tests: tiny
    p.set_defaults(run=reproduce)
