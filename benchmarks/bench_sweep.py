"""Benchmark of the sweep backends (issue 5): seconds, patterns/s, ratios to baselines.

Cases, each run on every requested backend that is available:

* ``float32 slice 2^24``  -- 2**24 ranks around theta = 1 (the numpy baseline runs here);
* ``float32 full``        -- all 2**32 - 2**24 + 2 non-NaN patterns, through ``build_table``
  (end to end: spec, sweep, table), skipped by ``--no-full``;
* ``<16-bit format> full`` -- float16, bfloat16, fixed16.8, warm.

Every timing is the median of ``--repeats`` calls (``--full-repeats`` for full float32)
after one untimed warm-up call (JIT compile, kernel load).  ``x numpy`` is the backend's
patterns/s over the chunked numpy array engine's patterns/s measured in this run on the
float32 slice (all cores, its default chunking).  ``x floor`` (GPU rows) is the time over
the issue's estimate for an H100 (``--gpu-floor-ms``, 30 ms for all of float32, scaled by
patterns for other cases).

    PYTHONPATH=. python benchmarks/bench_sweep.py                 # everything available
    PYTHONPATH=. python benchmarks/bench_sweep.py --no-full       # skip 2**32 sweeps
    PYTHONPATH=. python benchmarks/bench_sweep.py --backends numba,numpy
    PYTHONPATH=. python benchmarks/bench_sweep.py --out results/benchmarks/sweep_cpu.json   # the README's record
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from _record import check_out, write_record

from boolgrad import build_table, make_spec
from boolgrad.builders.backends import BACKENDS

SLICE = 1 << 24
FLOAT32_PATTERNS = (1 << 32) - (1 << 24) + 2


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up: JIT compile / kernel load / caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _slice_case(backend: str):
    spec = make_spec("float32", 1.0)
    start = spec.threshold.rank - SLICE // 2
    sweep = BACKENDS[backend].sweep
    return SLICE, lambda: sweep(spec, start, start + SLICE, False)


def _full_case(fmt: str, theta: float, backend: str):
    spec = make_spec(fmt, theta)
    return spec.fmt.n_ranks, lambda: build_table(fmt, theta, device=backend, progress=False)


def _device_name(backend: str) -> str:
    if backend in ("cuda", "cupy"):
        import cupy as cp

        props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
        return props["name"].decode()
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="cuda,numba,cupy,numpy", help="comma-separated sweep backends")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per small case (median)")
    ap.add_argument("--full-repeats", type=int, default=1, help="timed calls per full float32 sweep")
    ap.add_argument("--no-full", action="store_true", help="skip the full float32 sweeps")
    ap.add_argument("--full-backends", default="cuda,numba", help="backends that run the full float32 sweep")
    ap.add_argument("--gpu-floor-ms", type=float, default=30.0, help="estimated float32 floor on the GPU")
    ap.add_argument("--out", type=Path, help="also write the table and the setup to this JSON file")
    args = ap.parse_args(argv)
    check_out(args.out)

    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in wanted if b not in BACKENDS]
    if unknown:
        ap.error(f"unknown backends {unknown}; registered: {', '.join(BACKENDS)}")
    backends = [b for b in wanted if BACKENDS[b].available()]
    for b in sorted(set(wanted) - set(backends)):
        print(f"# {b}: not available here, skipped")
    if "numpy" not in backends:
        backends.append("numpy")  # the baseline every ratio refers to

    cases = [("float32 slice 2^24", _slice_case)]
    if not args.no_full:
        full = {b.strip() for b in args.full_backends.split(",")}
        cases.append(("float32 full", lambda b: _full_case("float32", 1.0, b) if b in full else None))
    for fmt, theta in [("float16", 1.0), ("bfloat16", 1.0), ("fixed16.8", 1.0)]:
        cases.append((f"{fmt} full", lambda b, fmt=fmt, theta=theta: _full_case(fmt, theta, b)))

    rows = []
    numpy_rate = None
    for b in ["numpy", *[x for x in backends if x != "numpy"]]:  # baseline first
        for label, make in cases:
            case = make(b)
            if case is None:
                continue
            n, fn = case
            reps = args.full_repeats if label == "float32 full" else args.repeats
            sec = _median_time(fn, reps)
            rate = n / sec
            if b == "numpy" and label.startswith("float32 slice"):
                numpy_rate = rate
            floor = None
            if b in ("cuda", "cupy"):
                floor = sec / (args.gpu_floor_ms / 1e3 * n / FLOAT32_PATTERNS)
            rows.append((label, b, n, sec, rate, floor, reps))
            print(f"# {label:22s} {b:6s} {sec:.4g} s", file=sys.stderr, flush=True)

    print(f"\nsweep backends ({', '.join(f'{b}: {_device_name(b)}' for b in backends)})")
    cols = [f"{'case':22s}", f"{'backend':7s}", f"{'patterns':>13s}", f"{'median s':>9s}",
            f"{'patterns/s':>10s}", f"{'x numpy':>8s}", f"{'x floor':>7s}", "reps"]
    head = "| " + " | ".join(cols) + " |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for label, b, n, sec, rate, floor, reps in rows:
        ratio = rate / numpy_rate
        fl = f"{floor:.2f}" if floor is not None else "-"
        cells = [f"{label:22s}", f"{b:7s}", f"{n:13,d}", f"{sec:9.4g}", f"{rate:10.3g}", f"{ratio:8.1f}",
                 f"{fl:>7s}", f"{reps:4d}"]
        print("| " + " | ".join(cells) + " |")
    if args.out:
        write_record(args.out, "benchmarks/bench_sweep.py", sys.argv[1:] if argv is None else argv, kind="sweep",
                     devices={b: _device_name(b) for b in backends},
                     rows=[dict(case=label, backend=b, patterns=n, median_s=sec, patterns_per_s=rate,
                                x_numpy=rate / numpy_rate, x_floor=floor, repeats=reps)
                           for label, b, n, sec, rate, floor, reps in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
