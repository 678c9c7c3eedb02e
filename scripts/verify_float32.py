"""float32 at scale: closed-form tables against enumeration and the per-value reference.

    python benchmarks/verify_float32.py                  # 20 thresholds, boundaries + 1e5 random
    python benchmarks/verify_float32.py --full 2         # + full 2**32 enumeration for 2 of them
    python benchmarks/verify_float32.py --device gpu     # the full sweep on another backend

For each threshold: the closed-form table's masks and ``g`` equal
:func:`boolgrad.gradient.gradient_at` (every bit flipped) on every run boundary +-2 patterns
and on ``--random`` random patterns (NaNs included).  With ``--full K`` the first ``K``
thresholds are also enumerated over all 2**32 patterns with ``build_table(device=...)``
(``auto``: the fastest registered sweeper -- a compiled kernel when one is installed) and the
two tables must be ``==``.  Prints one row per threshold with the times; exit status 1 on any
mismatch.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from boolgrad import build_table
from boolgrad.builders.backends import pick_backend
from boolgrad.builders.closed_form import closed_form_table
from boolgrad.gradient import gradient_from_spec

THRESHOLDS = [
    1.0, 0.5, 0.1, 1.7, -1.0, -0.3, 0.0, -0.0, 3.0, 100.0,
    2.0**-126, 1e-40, -1e-42, 3.0e38, -3.0e38, 65504.0, 1e-10, 7.0, 0.999, -123.456,
]


def boundary_patterns(table, pad=2):
    r = table.first_rank.astype(np.int64)
    near = np.concatenate([r + d for d in range(-pad, pad + 1)])
    near = np.unique(np.clip(near, 0, table.fmt.n_ranks - 1)).astype(np.uint64)
    return table.fmt.pattern_at_rank(near)


def agrees(table, patterns) -> bool:
    ref = gradient_from_spec(table.spec, patterns)
    return bool(
        np.array_equal(table.mask_at(patterns), ref.mask)
        and np.array_equal(table.gradient(patterns), ref.g, equal_nan=True)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--random", type=int, default=100_000)
    ap.add_argument("--full", type=int, default=0, help="also enumerate all 2^32 patterns for this many thresholds")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"float32, {len(THRESHOLDS)} thresholds; full enumeration for {args.full} "
          f"(sweeper: {pick_backend(args.device).name})")
    print(f"{'theta':>12} {'runs':>5} {'closed form':>12} {'boundary+-2':>12} {'random':>8} {'full sweep':>12}  result")
    ok_all = True
    for k, theta in enumerate(THRESHOLDS):
        t0 = time.perf_counter()
        t = closed_form_table("float32", theta)
        t_cf = time.perf_counter() - t0
        bpats = boundary_patterns(t)
        rpats = rng.integers(0, 2**32, size=args.random, dtype=np.uint64)
        ok = agrees(t, bpats) and agrees(t, rpats)
        full = "-"
        if k < args.full:
            t0 = time.perf_counter()
            enum = build_table("float32", theta, device=args.device, progress=False)
            full = f"{time.perf_counter() - t0:9.1f} s"
            ok = ok and enum == t
        ok_all &= ok
        print(f"{theta!r:>12} {t.n_runs:>5} {t_cf * 1e3:>9.2f} ms {len(bpats):>12} {len(rpats):>8} {full:>12}  "
              f"{'equal' if ok else 'MISMATCH'}")
    print("all equal" if ok_all else "MISMATCH FOUND")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
