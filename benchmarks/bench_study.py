"""Training throughput of the overshoot study's network per gradient kind, and the executor's overhead.

Samples/s of one training epoch (yinyang subset, hidden 64, batch 64, exact scheme) per kind at
two timesteps, medians and minima of the epoch time over repeats in blocked order, ratio to
arctan measured in the same run; then the executor's overhead per run (config hash, pending check,
atomic JSON write) as a fraction of a quick run.  Run: ``python benchmarks/bench_study.py``.
"""

import statistics
import sys
import tempfile
import time

import torch

from boolgrad.atomic import write_json_atomic
from boolgrad.study.executor import pending, result_path, run
from boolgrad.study.kinds import KINDS
from boolgrad.study.overshoot import RunConfig


def epoch_seconds(kind, dt, repeats):
    cfg = RunConfig(dataset="yinyang", kind=kind, dt_over_tau=dt, epochs=1, subset=(1280, 64), probe=64)
    times = []
    for _ in range(repeats):
        res = run(cfg)
        times.append(res["train_seconds"])
    return 1280 / statistics.median(times), 1280 / min(times)


def main(repeats=5):
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; samples/s (median / best of {repeats})")
    print("| kind | dt/tau | samples/s median | best | ratio to arctan (median) |\n|---|---|---|---|---|")
    for dt in (1.0, 0.125):
        rows = {k: epoch_seconds(k, dt, repeats) for k in KINDS}
        base = rows["arctan"][0]
        for k, (med, best) in rows.items():
            print(f"| {k} | {dt:g} | {med:.0f} | {best:.0f} | {med / base:.2f} |")
    cfg = RunConfig(dataset="yinyang", kind="arctan", epochs=2, subset=(1000, 300))
    t = time.perf_counter()
    res = run(cfg)
    quick = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        for _ in range(20):
            pending([cfg], out)
            write_json_atomic(result_path(out, cfg), res)
            pending([cfg], out)
        over = (time.perf_counter() - t) / 20
    print(f"executor overhead per run: {over * 1e3:.2f} ms = {100 * over / quick:.3f}% of a quick run ({quick:.2f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
