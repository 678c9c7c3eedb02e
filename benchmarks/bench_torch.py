"""Forward+backward of spike functions on one tensor: the Boolean gradient vs surrogates.

Prints two tables, each with medians, minimums and the ratio of minimums (and of medians) to
snnTorch's arctan measured in the same run, interleaved by default.  Table 1, one spike
function on one tensor, forward+backward; rows:

* ``boolean float32`` -- ``boolgrad.torch.boolean_spike`` with a float32 table on a float32
  tensor: the exact Boolean gradient at every element's own bit pattern;
* ``boolean yoo_jeong2025`` -- the same with the authors' setup (the ``yoo_jeong2025`` preset:
  paper convention without the top exponent bit, ``gt``, clamp01 at 500);
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
784-512-512-10 (two LIF layers, T=25, batch 64) on random inputs: Boolean float32 and the
``yoo_jeong2025`` preset vs arctan.
A third table profiles steps of each (interleaved rounds) and splits each step's CPU time into
the spike function's own (its forward and backward and all they call) and the rest; "rest /
arctan step" (medians over steps) is what the Boolean step would cost, relative to arctan's,
with a spike function that cost nothing.
Exact float32 Boolean gradients are often below 2**-126 (``g ~ 2**-128 / u`` where only the top
exponent bit's flip reaches theta), so the backward matmuls and Adam meet subnormals, which cost
x86 a microcode assist each; ``--flush-denormal`` shows table 2 without that cost (a diagnostic:
not exact).  The preset leaves the top exponent bit out (as the authors' code does), so it has no
such terms: there its ``g`` is 0.

Usage::

    python benchmarks/bench_torch.py                      # CPU, 2 threads, (128, 1024)
    python benchmarks/bench_torch.py --device cuda        # GPU (CUDA events)
    python benchmarks/bench_torch.py --table T.npz        # reuse a saved float32 table
    python benchmarks/bench_torch.py --shape 1024 1024 --train-repeats 0   # table 1 only
    python benchmarks/bench_torch.py --repeats 0 --flush-denormal         # table 2 only, diagnostic
    python benchmarks/bench_torch.py --out results/benchmarks/torch_cpu_128x1024.json   # the README's record

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

from _record import check_out, write_record

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


def spike_shares(steps: dict, spikes: dict, n: int, rounds: int = 4) -> dict:
    """Profile ``n`` training steps of each row, in ``rounds`` interleaved rounds; split each step's
    CPU time (the self times of its profiler events) into the spike function's own -- its
    forward, its backward node and all they call -- and the rest; return the medians over steps
    (ms).  Profiler overhead is included: more for a rule that runs more ops."""
    from torch.profiler import ProfilerActivity, profile, record_function

    per = {k: [] for k in steps}
    for _ in range(rounds):
        for k, step in steps.items():
            name = spikes[k].function.__name__
            ours = {name, name + "Backward", "autograd::engine::evaluate_function: " + name + "Backward"}
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for i in range(-(-n // rounds)):
                    with record_function(f"step {i}"):
                        step()
            split = {}
            for e in prof.events():
                p, own = e, False
                while p is not None and not p.name.startswith("step "):
                    own = own or p.name in ours
                    p = p.cpu_parent
                if p is not None:  # the step marker's own self time (Python between ops) is the rest
                    t = split.setdefault(p.name, [0.0, 0.0])
                    t[0] += e.self_cpu_time_total
                    t[1] += e.self_cpu_time_total if own else 0.0
            per[k] += [(total, own) for total, own in split.values()]
    out = {}
    for k, v in per.items():
        total = [t / 1e3 for t, _ in v]
        own = [o / 1e3 for _, o in v]
        out[k] = dict(step_ms=statistics.median(total), spike_ms=statistics.median(own),
                      rest_ms=statistics.median(t - o for t, o in zip(total, own)), steps=len(v))
    return out


def report_share(label, shares, baseline) -> dict:
    """Print the spike functions' share of a profiled step; return it as a record for ``--out``."""
    base = shares[baseline]["step_ms"]
    print(f"\n{label}: where a profiled step's CPU time goes (medians over steps)\n")
    print(f"| {'':40s} | step ms | spike fwd+bwd ms | rest ms | rest / arctan step |")
    print(f"|{'-' * 42}|---------|-----------------|---------|--------------------|")
    rows = []
    for k, v in shares.items():
        print(f"| {k:40s} | {v['step_ms']:7.3f} | {v['spike_ms']:15.3f} | {v['rest_ms']:7.3f} | "
              f"{v['rest_ms'] / base:18.2f} |")
        rows.append(dict(name=k, **v, rest_ratio=v["rest_ms"] / base))
    return dict(kind="share", title=f"{label}: the spike function's share of a profiled step (medians over "
                f"{shares[baseline]['steps']} steps)", baseline=baseline,
                rows=rows)


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
    ap.add_argument("--profile-steps", type=int, default=20,
                    help="profiled training steps per row, in 4 interleaved rounds, for the spike "
                    "function's share (0: skip)")
    ap.add_argument("--out", type=Path, help="also write the tables and the setup to this JSON file")
    ap.add_argument(
        "--flush-denormal",
        action="store_true",
        help="diagnostic: run table 2 under torch.set_flush_denormal(True) (both rows; not exact)",
    )
    args = ap.parse_args(argv)
    check_out(args.out)

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
            spikes = {
                f"{label}: boolean float32": bt.boolean_spike(table),
                f"{label}: boolean yoo_jeong2025": bt.boolean_spike("yoo_jeong2025", theta),
                f"{label}: arctan": bt.surrogate("arctan", theta),
            }
            train = {k: train_step(sizes, sp, T) for k, sp in spikes.items()}
            if args.flush_denormal:  # exact Boolean gradients are often tiny: subnormal arithmetic in mm/Adam
                torch.set_flush_denormal(True)
            ttimes = measure(train, args.train_repeats, args.order, run)
            shares = spike_shares(train, spikes, args.profile_steps) if args.profile_steps else {}
            torch.set_flush_denormal(False)
            tables.append(
                report(f"training step (Adam), batch 64, {label}, {where}{ftz}", ttimes, f"{label}: arctan")
            )
            if shares:
                tables.append(report_share(f"{label}, {where}{ftz}", shares, f"{label}: arctan"))
    if args.out:
        write_record(args.out, "benchmarks/bench_torch.py", sys.argv[1:] if argv is None else argv,
                     device=args.device, threads=args.threads, torch=torch.__version__, shape=list(args.shape),
                     tables=tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
