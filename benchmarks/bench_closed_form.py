"""Benchmark: closed-form gradient tables against the exhaustive CPU sweep, same run.

    python benchmarks/bench_closed_form.py [--repeats 21] [--slice-bits 24]
    python benchmarks/bench_closed_form.py --out results/benchmarks/closed_form_cpu.json   # the README's record

For each format: the median time of ``closed_form_table`` over ``repeats`` calls for each of
a few thresholds (median over all), and the exhaustive numpy sweep (``build_table`` /
``boolgrad.builders.array_engine.array_sweep``, the CPU engine) measured in the same process:

* formats up to 16 bits: the full sweep (every pattern), timed directly;
* float32: a 2**slice_bits-rank slice of the sweep, timed and scaled linearly to all
  ``n_ranks`` non-NaN patterns (the sweep's cost per pattern is uniform: it walks ranks
  in fixed-size chunks) -- marked "extrapolated";
* float64 and fixed64: the same slice scaled to 2**64 patterns, only to show the order of
  magnitude (no sweep of 2**64 patterns exists) -- marked "extrapolated".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _record import check_out, write_record

from boolgrad import build_table
from boolgrad.builders.array_engine import array_sweep
from boolgrad.builders.closed_form import closed_form_table
from boolgrad.gradient import make_spec

FORMATS = ["float64", "fixed64.32", "float32", "bfloat16", "float16", "fixed16.8", "e4m11"]
THETAS = [0.1, 1.0, -3.7]


def _median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _closed(fmt: str, repeats: int) -> tuple[float, int]:
    times, runs = [], 0
    with np.errstate(over="ignore"):  # float64 decode warns on inf/NaN patterns (core)
        for th in THETAS:
            times.append(_median_time(lambda th=th: closed_form_table(fmt, th), repeats))
            runs = max(runs, closed_form_table(fmt, th).n_runs)
    return statistics.median(times), runs


def _sweep(fmt: str, slice_bits: int, repeats: int) -> tuple[float, str]:
    spec = make_spec(fmt, THETAS[0])
    n = spec.fmt.n_ranks
    if spec.fmt.bits <= 16:
        t = _median_time(lambda: build_table(fmt, THETAS[0], device="numpy", progress=False), repeats)
        return t, f"full sweep, {n} patterns"
    size = 1 << slice_bits
    start = max(0, spec.threshold.rank - size // 2)
    t = _median_time(lambda: array_sweep(spec, start, start + size), repeats)
    total = n if spec.fmt.bits <= 32 else 2**64
    return t * total / size, f"extrapolated from a 2^{slice_bits} slice to {total:.3g} patterns"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=21, help="calls per closed-form timing")
    ap.add_argument("--sweep-repeats", type=int, default=3, help="repeats of each sweep timing")
    ap.add_argument("--slice-bits", type=int, default=24, help="log2 of the sweep slice for >16-bit formats")
    ap.add_argument("--out", type=Path, help="also write the table and the setup to this JSON file")
    args = ap.parse_args(argv)
    check_out(args.out)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, numpy {np.__version__}")
    print(f"closed form: median over {args.repeats} calls x thresholds {THETAS}; "
          f"sweep: median of {args.sweep_repeats} (numpy engine, all cores)\n")
    head = f"{'format':<11} {'bits':>4} {'runs':>5} {'closed form':>12} {'CPU sweep':>14} {'ratio':>12}  sweep measured as"
    print(head)
    print("-" * len(head))
    rows = []
    for fmt in FORMATS:
        t_cf, runs = _closed(fmt, args.repeats)
        t_sw, how = _sweep(fmt, args.slice_bits, args.sweep_repeats)
        bits = make_spec(fmt, 1.0).fmt.bits
        print(f"{fmt:<11} {bits:>4} {runs:>5} {t_cf * 1e3:>9.3f} ms {t_sw:>12.4g} s {t_sw / t_cf:>11.3g}x  {how}")
        rows.append(dict(format=fmt, bits=bits, runs=runs, closed_form_ms=t_cf * 1e3, sweep_s=t_sw,
                         ratio=t_sw / t_cf, sweep_how=how))
    if args.out:
        write_record(args.out, "benchmarks/bench_closed_form.py", sys.argv[1:] if argv is None else argv,
                     kind="closed_form", thetas=THETAS, repeats=args.repeats, sweep_repeats=args.sweep_repeats,
                     rows=rows)


if __name__ == "__main__":
    main()
