"""Layout checks of ``boolgrad/``: no import cycle, no module over 500 lines.

Import graph: an edge ``a -> b`` for every ``import``/``from ... import`` of a ``boolgrad``
module inside ``a`` (relative imports resolved; ``from pkg import name`` counts ``pkg.name`` when
that is a module).  Two graphs are checked:

* module level (what runs at import time): must be acyclic -- a cycle there means a half-
  initialised module;
* every import, including those deferred into functions: must be acyclic too, except for
  the *doors* listed in :data:`DOORS` -- a value object's convenience methods that hand over
  to the module owning the service (``GradientTable.save`` -> ``table_io``), which needs the
  value object in turn.  Each door is named here with its reason; anything else is an error,
  and so is a listed door that no longer closes a cycle.

Run ``python scripts/check_layout.py`` (exit 1 and a list of problems if any); the test suite
runs the same checks (``tests/test_layout.py``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "boolgrad"
MAX_LINES = 500

#: deferred imports allowed to close a cycle: (importer, imported) -> why
DOORS = {
    ("boolgrad.table", "boolgrad.table_io"): (
        "GradientTable.save/load/to_csv hand over to the file module, which builds tables when it "
        "loads one (and verifies it against the closed form): the value object's file methods and the "
        "file module need each other; the door keeps `table.save(path)` on the object"
    ),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(current: str, is_pkg: bool, level: int, target: str | None) -> str:
    base = current.split(".") if is_pkg else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def imports(name: str, path: Path, known: set[str]):
    """``(target, deferred)`` pairs of boolgrad modules imported by module ``name``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    top = {id(n) for n in tree.body}
    # statements nested in if/try at module level still run at import time
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(name, is_pkg, node.level, node.module) if node.level else node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
        else:
            continue
        for t in targets:
            # a module's own ancestor packages are initialised before it: not an edge
            if t in known and t != name and not name.startswith(t + "."):
                out.append((t, id(node) not in top))
    return out


def graphs():
    mods = modules()
    known = set(mods)
    eager: dict[str, set[str]] = {m: set() for m in mods}
    full: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for t, deferred in imports(m, p, known):
            full[m].add(t)
            if not deferred:
                eager[m].add(t)
    return eager, full


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def problems() -> list[str]:
    eager, full = graphs()
    found = [f"import-time cycle: {' <-> '.join(c)}" for c in cycles(eager)]
    without_doors = {m: {t for t in ts if (m, t) not in DOORS} for m, ts in full.items()}
    found += [f"import cycle (deferred imports included): {' <-> '.join(c)}" for c in cycles(without_doors)]
    unused = [d for d in DOORS if d[1] not in full.get(d[0], set())]
    found += [f"door {a} -> {b} is listed but no longer used" for a, b in unused]
    for a, b in DOORS:  # a door must close a cycle: with its edge back, the graph has one
        if (a, b) not in unused and not cycles({m: ts | ({b} if m == a else set()) for m, ts in without_doors.items()}):
            found.append(f"door {a} -> {b} is listed but closes no cycle")
    for p in modules().values():
        n = len(p.read_text().splitlines())
        if n > MAX_LINES:
            found.append(f"{p.relative_to(ROOT)} has {n} lines (> {MAX_LINES})")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    n_mod = len(modules())
    print(f"{n_mod} modules; {'no problems' if not found else f'{len(found)} problems'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
