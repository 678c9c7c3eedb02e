"""The spike-train layer's products: dense (MKL) against sums over the ones (:mod:`boolgrad.torch.binary_product`).

The decisive study's spike-train network (``boolgrad.study.decisive.NETWORK``: 40 inputs, 128
hidden, batch 64) multiplies each batch's binned spike trains ``x`` ``(T x 64, 40)`` by its first
weight ``w`` ``(40, 128)``, and its backward forms ``x^T g`` with ``g`` ``(T x 64, 128)``.  Both
are timed here on a real batch (the training split's first 64 samples at ``dt = 8 tau / T``,
a random ``w`` and ``g``), in interleaved rounds on one torch thread, as
:func:`boolgrad.torch.linear.product` and :func:`~boolgrad.torch.linear.product_grads` run them
with ``spikes=False`` (``torch.mm``) and ``spikes=True``; the two results are checked equal bit
for bit before timing.

Columns: median and minimum microseconds a call, the fraction of ones in ``x``, and the dense
minimum over the binary one.  Run: ``python benchmarks/bench_binary_product.py [--steps 4 16 64]
[--rounds 7] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _record import check_out, write_record

HORIZON, BATCH, HIDDEN = 8.0, 64, 128


def batch(steps: int):
    """``x`` ``(1, T x 64, 40)``: the first 64 training samples' spike trains, time-major."""
    from boolgrad.study.data import load_dataset

    d = load_dataset("spiketrains").at_dt(HORIZON / steps, HORIZON)
    x = torch.from_numpy(d.x_train[:BATCH]).float()  # (B, T, n)
    return x.transpose(0, 1).reshape(1, -1, x.shape[-1]).contiguous()


def _time(fn, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e6


def measure(steps: int, rounds: int):
    from boolgrad.torch.linear import product, product_grads

    x = batch(steps)
    gen = torch.Generator().manual_seed(steps)
    w = torch.randn(1, x.shape[-1], HIDDEN, generator=gen)
    g = torch.randn(1, x.shape[1], HIDDEN, generator=gen)
    cases = {
        ("x @ w", "dense"): lambda: product(x, w),
        ("x @ w", "binary"): lambda: product(x, w, spikes=True),
        ("x^T g", "dense"): lambda: product_grads(x, w, g, False, True)[1],
        ("x^T g", "binary"): lambda: product_grads(x, w, g, False, True, spikes=True)[1],
    }
    for op in ("x @ w", "x^T g"):
        if not torch.equal(cases[op, "dense"]().view(torch.int32), cases[op, "binary"]().view(torch.int32)):
            raise SystemExit(f"bench_binary_product.py: {op} at T = {steps}: the two differ")
    calls = max(20, 20000 // steps)
    times = {key: [] for key in cases}
    for fn in cases.values():
        _time(fn, 5)
    for _ in range(rounds):
        for key, fn in cases.items():
            times[key].append(_time(fn, calls))
    ones = float(x.mean())
    rows = []
    for (op, path), t in times.items():
        rows.append({"T": steps, "op": op, "path": path, "median_us": statistics.median(t), "min_us": min(t),
                     "ones": ones, "speedup": min(times[op, "dense"]) / min(t)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", nargs="+", type=int, default=[4, 16, 64])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}, {args.rounds} rounds; microseconds a call")
    print("| T | product | path | median us | min us | ones in x | dense / this |\n|---|---|---|---|---|---|---|")
    rows = []
    for steps in args.steps:
        for r in measure(steps, args.rounds):
            rows.append(r)
            print(f"| {r['T']} | {r['op']} | {r['path']} | {r['median_us']:.1f} | {r['min_us']:.1f} | "
                  f"{r['ones']:.4f} | {r['speedup']:.2f} |", flush=True)
    if args.out:
        write_record(args.out, "benchmarks/bench_binary_product.py", sys.argv[1:] if argv is None else argv,
                     threads=1, batch=BATCH, rounds=args.rounds, rows=rows)


if __name__ == "__main__":
    main()
