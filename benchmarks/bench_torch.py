"""Forward+backward of spike functions on one tensor: the Boolean gradient vs surrogates.

Prints two tables, each with medians, minimums and the ratio of minimums (and of medians) to
snnTorch's arctan measured in the same run, interleaved by default.  Table 1, one spike
function on one tensor, forward+backward; rows:

* ``boolean float32`` -- ``boolgrad.torch.boolean_spike`` with a float32 table on a float32
  tensor: the exact Boolean gradient at every element's own bit pattern;
* ``boolean yoo_jeong2025`` -- the same with the authors' setup (paper convention, clamp 500),
  when a paper-convention table is at hand (``--paper-table``);
* ``boolean bfloat16->float32`` / ``fixed16.12`` -- tables in other formats (the tensor's values
  rounded to the format for the gradient);
* ``snnTorch arctan`` -- ``snntorch.surrogate.atan()`` on ``u - theta`` (what ``snn.Leaky``
  passes): the baseline;
* ``arctan`` / ``rectangle`` -- boolgrad's surrogates on ``u``;
* adapters: ``snnTorch spike_grad``, ``SpikingJelly BooleanSurrogate`` (both on ``u - theta``)
  and ``Sinabs BooleanSurrogateGrad`` (the gradient function alone);
* ``per-bit reference`` -- ``GradientTable.gradient`` (numpy, every bit of every element; the
  approach of evaluating each element against every bit), backward only, few repeats.

Table 2, one training step (zero_grad, forward, cross-entropy, backward, Adam step) of the
README's digits network (64 -> 128 LIF -> linear readout of spike counts, T=8, batch 64) and of
784-512-512-10 (two LIF layers, T=25, batch 64) on random inputs: Boolean float32 vs arctan.
Exact float32 Boolean gradients are often below 2**-126 (``g ~ 2**-128 / u`` away from theta's
exponent flips), so the backward matmuls and Adam meet subnormals, which cost x86 a microcode
assist each; ``--flush-denormal`` shows table 2 without that cost (a diagnostic: not exact).

Usage::

    python benchmarks/bench_torch.py                      # CPU, 2 threads, (128, 1024)
    python benchmarks/bench_torch.py --device cuda        # GPU (CUDA events)
    python benchmarks/bench_torch.py --table T.npz        # reuse a saved float32 table
    python benchmarks/bench_torch.py --shape 1024 1024 --train-repeats 0   # table 1 only
    python benchmarks/bench_torch.py --repeats 0 --flush-denormal         # table 2 only, diagnostic
    python benchmarks/bench_torch.py --out docs/benchmarks/torch_cpu_128x1024.json   # the README's record

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
    table = boolgrad.closed_form_table("float32", theta, **options)
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


def measure(rows, repeats, order, run):
    for f in rows.values():  # warm up: plans and kernels compile on first use
        for _ in range(5):
            f()
    times = {k: [] for k in rows}
    if order == "interleaved":  # load changes hit every row alike
        for _ in range(repeats):
            for k, f in rows.items():
                times[k].append(run(f))
    else:
        for k, f in rows.items():
            times[k] = [run(f) for _ in range(repeats)]
    return times


def load_average() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "n/a"


def report(title, times, baseline) -> dict:
    """Print one table; return it as a record for ``--out``."""
    base_med, base_min = statistics.median(times[baseline]), min(times[baseline])
    load = load_average()
    print(f"\n{title}; load average {load}\n")
    print(f"| {'':58s} | median ms | min ms | min / arctan min | median / arctan median |")
    print(f"|{'-' * 60}|-----------|--------|------------------|------------------------|")
    rows = []
    for k, v in times.items():
        med, lo = statistics.median(v), min(v)
        ratios = f"{lo / base_min:16.2f} | {med / base_med:22.2f}"
        print(f"| {k:58s} | {med * 1e3:9.3f} | {lo * 1e3:6.3f} | {ratios} |")
        rows.append(dict(name=k, median_ms=med * 1e3, min_ms=lo * 1e3, min_ratio=lo / base_min,
                         median_ratio=med / base_med, repeats=len(v)))
    return dict(title=title, baseline=baseline, load_average=load, rows=rows)


def machine() -> str:
    """The CPU model and core count (Linux), for the record."""
    import os
    import platform

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {os.cpu_count()} cores"


class Net(torch.nn.Module):
    """Linear -> LIF (-> Linear -> LIF) -> linear readout of spike counts over T steps."""

    def __init__(self, sizes, spike, T):
        super().__init__()
        from boolgrad.torch.neurons import LIF

        self.T = T
        self.fcs = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.lifs = torch.nn.ModuleList(LIF(spike, tau=2.0) for _ in sizes[1:-1])

    def forward(self, x):
        h = self.fcs[0](x).expand(self.T, *x.shape[:-1], self.fcs[0].out_features)
        for lif, fc in zip(self.lifs, self.fcs[1:]):
            s, _ = lif.run(h)
            h = fc(s)
        return h.sum(0)


def train_step(sizes, spike, T, batch=64, seed=0):
    torch.manual_seed(seed)
    net = Net(sizes, spike, T)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, sizes[0], generator=g)
    y = torch.randint(0, sizes[-1], (batch,), generator=g)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--shape", type=int, nargs=2, default=[128, 1024])
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--train-repeats", type=int, default=60, help="training steps per row (0: skip table 2)")
    ap.add_argument("--theta", type=float, default=1.0)
    ap.add_argument("--table", type=Path, default=HERE / "tables" / "float32_theta1_secant_ge.npz")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--order", default="interleaved", choices=["interleaved", "blocked"])
    ap.add_argument("--out", type=Path, help="also write the tables and the setup to this JSON file")
    ap.add_argument(
        "--flush-denormal",
        action="store_true",
        help="diagnostic: run table 2 under torch.set_flush_denormal(True) (both rows; not exact)",
    )
    args = ap.parse_args(argv)
    if args.out:  # before minutes of measuring: a folder that cannot be made fails now
        args.out.parent.mkdir(parents=True, exist_ok=True)

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    gen = torch.Generator().manual_seed(args.seed)
    theta = args.theta
    u0 = (torch.randn(*args.shape, generator=gen) * 0.5 + theta).to(dev)
    grad = torch.ones_like(u0)
    x0 = u0 - theta

    table = load_or_build(args.table, theta)
    rows = {}
    rows["boolean float32 (exact, every element)"] = make_step(bt.boolean_spike(table), u0, grad)
    rows["boolean yoo_jeong2025 (paper, gt, clamp01 500)"] = make_step(
        bt.boolean_spike("yoo_jeong2025", theta), u0, grad
    )
    bf16 = boolgrad.closed_form_table("bfloat16", theta)
    rows["boolean bfloat16 table, float32 tensor"] = make_step(bt.boolean_spike(bf16), u0, grad)
    fx = boolgrad.closed_form_table("fixed16.12", theta)
    rows["boolean fixed16.12 table, float32 tensor"] = make_step(bt.boolean_spike(fx), u0, grad)
    baseline = "boolgrad arctan"
    try:
        import snntorch.surrogate as ss

        from boolgrad.torch.adapters.snntorch import spike_grad

        baseline = "snnTorch arctan (on u - theta)"
        rows[baseline] = make_step(ss.atan(), x0, grad)
        table_gt = boolgrad.closed_form_table("float32", theta, comparator="gt")
        rows["adapter: snnTorch spike_grad (on u - theta)"] = make_step(spike_grad(table_gt, theta), x0, grad)
    except ImportError:
        print("snntorch not installed: ratios are to boolgrad's arctan instead", flush=True)
    from boolgrad.torch.adapters.sinabs import BooleanSurrogateGrad
    from boolgrad.torch.adapters.spikingjelly import BooleanSurrogate

    rows["adapter: SpikingJelly BooleanSurrogate (on u - theta)"] = make_step(
        BooleanSurrogate(table, theta), x0, grad
    )
    sinabs_fn = BooleanSurrogateGrad(table)
    rows["adapter: Sinabs BooleanSurrogateGrad (gradient only)"] = lambda: sinabs_fn(u0, theta)
    rows["boolgrad arctan"] = make_step(bt.surrogate("arctan", theta), u0, grad)
    rows["boolgrad rectangle (STBP)"] = make_step(bt.surrogate("rectangle", theta), u0, grad)

    run = timer(args.device)
    where = f"{args.device}" + (
        f", {args.threads} threads" if args.device == "cpu" else f", {torch.cuda.get_device_name()}"
    )
    tables = []
    if args.repeats:  # 0: table 2 only
        times = measure(rows, args.repeats, args.order, run)
        if u0.numel() <= 1 << 20:  # seconds per call beyond that
            values = u0.detach().double().cpu().numpy()
            times["per-bit reference (numpy table.gradient, backward only)"] = [
                run(lambda: table.gradient(values)) for _ in range(max(3, args.repeats // 100))
            ]
        tables.append(report(
            f"forward+backward, {tuple(args.shape)} float32, theta {theta}, {where}, torch {torch.__version__}; "
            f"{args.repeats} {args.order} repeats; baseline: {baseline}",
            times,
            baseline,
        ))
    if args.train_repeats and args.device == "cpu":
        ftz = ", flush_denormal (diagnostic)" if args.flush_denormal else ""
        for label, sizes, T in (
            ("digits 64-128-10, T=8", (64, 128, 10), 8),
            ("784-512-512-10, T=25", (784, 512, 512, 10), 25),
        ):
            # one network at a time, as a training loop runs (another network's steps in between
            # would evict this one's weights and tables from the caches); Boolean and arctan interleaved
            train = {
                f"{label}: boolean float32": train_step(sizes, bt.boolean_spike(table), T),
                f"{label}: arctan": train_step(sizes, bt.surrogate("arctan", theta), T),
            }
            if args.flush_denormal:  # exact Boolean gradients are often tiny: subnormal arithmetic in mm/Adam
                torch.set_flush_denormal(True)
            ttimes = measure(train, args.train_repeats, args.order, run)
            torch.set_flush_denormal(False)
            tables.append(
                report(f"training step (Adam), batch 64, {label}, {where}{ftz}", ttimes, f"{label}: arctan")
            )
    if args.out:
        import json

        from boolgrad.atomic import atomic_write

        record = dict(
            script="benchmarks/bench_torch.py", argv=sys.argv[1:] if argv is None else list(argv),
            date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine(),
            device=args.device, threads=args.threads, torch=torch.__version__, shape=list(args.shape),
            tables=tables,
        )
        with atomic_write(args.out, "w") as fh:
            json.dump(record, fh, indent=1)
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
