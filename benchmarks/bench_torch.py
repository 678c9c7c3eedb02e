"""Forward+backward of spike functions on one tensor: the Boolean gradient vs surrogates.

Prints one table (medians over interleaved or blocked repeats, ratio to snnTorch's arctan
measured in the same run).  Rows:

* ``boolean float32`` -- ``boolgrad.torch.boolean_spike`` with a float32 table on a float32
  tensor: the exact Boolean gradient at every element's own bit pattern;
* ``boolean yoo_jeong2025`` -- the same with the authors' setup (paper convention, clamp 500),
  when a paper-convention table is at hand (``--paper-table``);
* ``boolean bfloat16->float32`` / ``fixed16.12`` -- tables in other formats (the tensor's values
  rounded to the format for the gradient);
* ``snnTorch arctan`` -- ``snntorch.surrogate.atan()`` on ``u - theta`` (what ``snn.Leaky``
  passes): the baseline;
* ``arctan`` / ``rectangle`` -- boolgrad's surrogates on ``u``;
* ``per-bit reference`` -- ``GradientTable.gradient`` (numpy, every bit of every element; the
  approach of evaluating each element against every bit), backward only, few repeats.

Usage::

    python benchmarks/bench_torch.py                      # CPU, 2 threads, (128, 1024)
    python benchmarks/bench_torch.py --device cuda        # GPU (CUDA events)
    python benchmarks/bench_torch.py --table T.npz        # reuse a saved float32 table

A float32 table (theta 1.0) is read from ``--table`` or built once (closed form if installed,
else enumeration: minutes) and saved there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boolgrad
import boolgrad.torch as bt

HERE = Path(__file__).resolve().parent


def load_or_build(path: Path, theta: float, **options) -> boolgrad.GradientTable:
    if path.exists():
        return boolgrad.GradientTable.load(path)
    print(f"building the float32 table {options or ''} (theta {theta}) -> {path} ...", flush=True)
    t = time.perf_counter()
    table = bt.default_builder("float32", theta, **options)
    print(f"  built in {time.perf_counter() - t:.0f} s ({table.n_runs} runs)", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.save(path)
    return table


def make_step(fn, u0, grad):
    def step():
        u = u0.detach().requires_grad_()
        fn(u).backward(grad)

    return step


def timer(device):
    if device == "cuda":

        def run(f):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            f()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) * 1e-3

    else:

        def run(f):
            t = time.perf_counter()
            f()
            return time.perf_counter() - t

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--shape", type=int, nargs=2, default=[128, 1024])
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--theta", type=float, default=1.0)
    ap.add_argument("--table", type=Path, default=HERE / "tables" / "float32_theta1_secant_ge.npz")
    ap.add_argument(
        "--paper-table", type=Path, default=None, help="float32 paper-convention table (optional)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--order", default="interleaved", choices=["interleaved", "blocked"])
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    gen = torch.Generator().manual_seed(args.seed)
    theta = args.theta
    u0 = (torch.randn(*args.shape, generator=gen) * 0.5 + theta).to(dev)
    grad = torch.ones_like(u0)

    table = load_or_build(args.table, theta)
    rows = {}
    rows["boolean float32 (exact, every element)"] = make_step(bt.boolean_spike(table), u0, grad)
    if args.paper_table is not None and args.paper_table.exists():
        paper = boolgrad.GradientTable.load(args.paper_table)
        rows["boolean yoo_jeong2025 (paper, clamp 500)"] = make_step(
            bt.boolean_spike(paper, scale="clamp", grad_max=500.0), u0, grad
        )
    bf16 = boolgrad.build_table("bfloat16", theta, device="cpu")
    rows["boolean bfloat16 table, float32 tensor"] = make_step(bt.boolean_spike(bf16), u0, grad)
    fx = boolgrad.build_table("fixed16.12", theta, device="cpu")
    rows["boolean fixed16.12 table, float32 tensor"] = make_step(bt.boolean_spike(fx), u0, grad)
    baseline = None
    try:
        import snntorch.surrogate as ss

        atan = ss.atan()
        x0 = u0 - theta
        baseline = "snnTorch arctan (on u - theta)"
        rows[baseline] = make_step(atan, x0, grad)
    except ImportError:
        print("snntorch not installed: ratios are to boolgrad's arctan instead", flush=True)
    rows["boolgrad arctan"] = make_step(bt.surrogate("arctan", theta), u0, grad)
    rows["boolgrad rectangle (STBP)"] = make_step(bt.surrogate("rectangle", theta), u0, grad)
    baseline = baseline or "boolgrad arctan"

    run = timer(args.device)
    for f in rows.values():  # warm up: plans compile on first use
        for _ in range(5):
            f()
    if args.device == "cuda":
        torch.cuda.synchronize()
    times = {k: [] for k in rows}
    if args.order == "interleaved":  # load changes hit every row alike
        for _ in range(args.repeats):
            for k, f in rows.items():
                times[k].append(run(f))
    else:  # each row alone: its allocations are not disturbed by the other rows'
        for k, f in rows.items():
            times[k] = [run(f) for _ in range(args.repeats)]
    ref_t = []
    if u0.numel() <= 1 << 20:  # seconds per call beyond that
        values = u0.detach().double().cpu().numpy()
        for _ in range(max(3, args.repeats // 100)):
            t = time.perf_counter()
            table.gradient(values)
            ref_t.append(time.perf_counter() - t)
        times["per-bit reference (numpy table.gradient, backward only)"] = ref_t

    base = statistics.median(times[baseline])
    where = f"{args.device}" + (
        f", {args.threads} threads" if args.device == "cpu" else f", {torch.cuda.get_device_name()}"
    )
    print(
        f"\nforward+backward, {tuple(args.shape)} float32, theta {theta}, {where}, torch {torch.__version__}"
    )
    print(f"medians over {args.repeats} {args.order} repeats, min beside them\n")
    print(f"| {'spike function':58s} | {'median ms':>9s} | {'min ms':>7s} | {'x ' + 'arctan':>8s} |")
    print(f"|{'-' * 60}|{'-' * 11}|{'-' * 9}|{'-' * 10}|")
    for k, v in times.items():
        med = statistics.median(v)
        print(f"| {k:58s} | {med * 1e3:9.3f} | {min(v) * 1e3:7.3f} | {med / base:8.2f} |")
    print(f"\nbaseline: {baseline}; per-bit reference timed on {len(ref_t)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
