"""Theorems about the Boolean-derivative gradient, proved with sympy (installed as ``boolgrad.proofs``).

One module per theorem.  Each module states its theorem in its docstring and defines

* ``TITLE`` -- one line;
* ``symbolic() -> str`` -- the sympy derivation/verification (symbols for the word length,
  fraction bits, threshold bits...); raises ``AssertionError`` if a step does not hold and
  returns a short description of what was proved;
* ``numeric(include_slow: bool) -> str`` -- the cross-check of the closed form against
  enumeration on small formats; raises on a mismatch and returns what was checked.

:func:`run_all` runs them and :func:`main` prints one row per theorem (``boolgrad prove``).
sympy is needed (``pip install boolgrad[proofs]``); it is imported only here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from dataclasses import dataclass

__all__ = ["THEOREMS", "ProofResult", "main", "run_all", "run_one"]

#: Theorem modules, in reading order (each builds on the ones before).
THEOREMS: tuple[str, ...] = (
    "straddle_blocks",
    "per_bit_count",
    "fixed_area",
    "fixed_peak",
    "float_terms",
    "float_peak",
    "theta_duality",
    "theta_area",
    "crossing_moments",
    "crossing_timestep",
    "nudging_direction",
)


@dataclass(frozen=True)
class ProofResult:
    """One row of ``boolgrad prove``."""

    name: str
    symbolic: str
    numeric: str
    ok: bool
    seconds: float
    error: str = ""


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def run_one(name: str, include_slow: bool = False) -> ProofResult:
    """Run one theorem (symbolic part, then numeric part); failures become ``ok=False``."""
    t0 = time.perf_counter()
    symbolic = numeric = ""
    try:
        mod = _module(name)
        symbolic = mod.symbolic()
        numeric = mod.numeric(include_slow)
        ok, error = True, ""
    except Exception as exc:  # noqa: BLE001 - a failing theorem is a row, not a crash
        ok = False
        error = f"{type(exc).__name__}: {exc}"
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        error += f" (at {tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})"
    return ProofResult(name, symbolic, numeric, ok, time.perf_counter() - t0, error)


def run_all(include_slow: bool = False) -> list[ProofResult]:
    """Every theorem of :data:`THEOREMS`; ``include_slow`` widens the numeric checks."""
    try:
        import sympy  # noqa: F401
    except ImportError:
        raise ImportError("boolgrad.proofs needs sympy: pip install 'boolgrad[proofs]'") from None
    return [run_one(name, include_slow) for name in THEOREMS]


def _print_table(results: list[ProofResult], out) -> None:
    w = max(len(r.name) for r in results)
    out.write(f"{'theorem':<{w}}  status  seconds  proved symbolically | checked against enumeration\n")
    for r in results:
        status = "ok" if r.ok else "FAIL"
        out.write(f"{r.name:<{w}}  {status:<6}  {r.seconds:7.2f}  {r.symbolic} | {r.numeric}\n")
        if not r.ok:
            out.write(f"{'':<{w}}  -> {r.error}\n")
    n_ok = sum(r.ok for r in results)
    out.write(f"{n_ok}/{len(results)} theorems hold ({sum(r.seconds for r in results):.1f} s)\n")


def main(argv=None) -> int:
    """``boolgrad prove [--slow] [--only NAME ...]``: print the table; exit status 1 on a failure."""
    parser = argparse.ArgumentParser(prog="boolgrad prove", description=__doc__.split("\n")[0])
    parser.add_argument("--slow", action="store_true", help="also run the long numeric checks")
    parser.add_argument("--only", nargs="+", choices=THEOREMS, metavar="NAME", help="run only these theorems")
    args = parser.parse_args(argv)
    try:
        import sympy  # noqa: F401
    except ImportError:
        print("boolgrad prove needs sympy: pip install 'boolgrad[proofs]'", file=sys.stderr)
        return 1
    names = args.only or THEOREMS
    results = [run_one(n, args.slow) for n in names]
    _print_table(results, sys.stdout)
    return 0 if all(r.ok for r in results) else 1
