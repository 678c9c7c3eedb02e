"""Training speed of the study's network: the ``lif_step`` loop vs the fused multi-step LIF.

One training step = zero_grad, forward, MSE of the spike counts against the one-hot label (the
study's ``mse_count`` readout), backward, Adam step, on a random batch (features in [0, 1]).
Networks as the study's (``boolgrad.study.train.SpikingNet``, theta 0.3, ``horizon / T = dt/tau``
with horizon 8, exact scheme): digits 64-128-10, Yin-Yang 5-64-3, MNIST-1D 40-128-10.

Engines (rows), timed in interleaved rounds in the same run:

* ``step`` -- ``SpikingNet.forward`` as the study runs it (``lif_step`` T times a layer);
* ``fused`` -- the same network through :func:`boolgrad.torch.multistep.spiking_net_forward`
  (one numba pass over time each way), every kind of :data:`boolgrad.study.kinds.KINDS`;
* ``snntorch`` -- ``snn.Leaky`` (zero reset, ``surrogate.atan()``) stepped T times, if importable;
* ``spikingjelly`` -- multi-step ``LIFNode`` (``step_mode="m"``, torch backend, ATan), if importable.

Columns: median and minimum ms a step over rounds, samples/s from the minimum, and two same-run
ratios of minimums: ``vs step`` (the ``step`` engine's arctan time over this row's: the speed-up)
and ``/ arctan`` (this row's time over the fused arctan row's, for fused kinds).

Usage::

    python benchmarks/bench_engine.py                          # every network, T = 4, 16, 64
    python benchmarks/bench_engine.py --nets digits --steps 16 --rounds 3
    python benchmarks/bench_engine.py --out results/benchmarks/engine_cpu.json
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _record import check_out, write_record

NETS = {"digits": (64, 128, 10), "yinyang": (5, 64, 3), "mnist1d": (40, 128, 10)}
THETA = 0.3
HORIZON = 8.0


def _setup(sizes, steps, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, sizes[0], generator=g)
    y = torch.randint(0, sizes[-1], (batch,), generator=g)
    return x, torch.nn.functional.one_hot(y, sizes[-1]).float()


def study_engine(kind, sizes, steps, fused):
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.train import SpikingNet
    from boolgrad.torch.multistep import spiking_net_forward

    spec = get_kind(kind)
    spec = spec.resolve(0.05) if spec.matched else spec
    net = SpikingNet(sizes, spec.spike(THETA), dt_over_tau=HORIZON / steps, steps=steps, scheme="exact",
                     generator=torch.Generator().manual_seed(1))
    forward = (lambda x: spiking_net_forward(net, x)) if fused else net
    return net, forward


def snntorch_engine(sizes, steps):
    import snntorch as snn
    from snntorch import surrogate

    decay, gain = math.exp(-HORIZON / steps), -math.expm1(-HORIZON / steps)
    layers = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes))
    lifs = torch.nn.ModuleList(snn.Leaky(beta=decay, threshold=THETA, spike_grad=surrogate.atan(),
                                         reset_mechanism="zero") for _ in layers)
    net = torch.nn.ModuleList([layers, lifs])

    def forward(x):
        cur0 = layers[0](x) * gain
        mems = [lif.init_leaky() for lif in lifs]
        count = 0
        for _ in range(steps):
            h = cur0
            for i, lif in enumerate(lifs):
                cur = h if i == 0 else layers[i](h) * gain
                h, mems[i] = lif(cur, mems[i])
            count = count + h
        return count / steps

    return net, forward


def spikingjelly_engine(sizes, steps):
    from spikingjelly.activation_based import functional, neuron, surrogate

    decay = math.exp(-HORIZON / steps)
    layers = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes))
    lifs = torch.nn.ModuleList(neuron.LIFNode(tau=1.0 / (1.0 - decay), v_threshold=THETA,
                                              surrogate_function=surrogate.ATan(), step_mode="m")
                               for _ in layers)
    for lif in lifs:
        lif.backend = "torch"  # the default; set where the installed version has backends
    net = torch.nn.ModuleList([layers, lifs])

    def forward(x):
        functional.reset_net(net)
        h = layers[0](x).unsqueeze(0).expand(steps, -1, -1)
        for i, lif in enumerate(lifs):
            h = lif(h if i == 0 else layers[i](h))
        return h.mean(0)

    return net, forward


def trainer(net, forward, x, target):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(forward(x), target)
        loss.backward()
        opt.step()

    return step


def engines(sizes, steps, kinds, step_kinds):
    out = []
    for kind in step_kinds:
        out.append(("step", kind, *study_engine(kind, sizes, steps, fused=False)))
    for kind in kinds:
        out.append(("fused", kind, *study_engine(kind, sizes, steps, fused=True)))
    for name, make in (("snntorch", snntorch_engine), ("spikingjelly", spikingjelly_engine)):
        try:
            out.append((name, "atan", *make(sizes, steps)))
        except ImportError:
            print(f"({name} not importable: skipped)")
    return out


def measure(rows, x, target, rounds, iters, threads):
    steps = [trainer(net, fwd, x, target) for _, _, net, fwd in rows]
    for s in steps:  # warm up: numba compilation, tables, plans, allocator
        s()
        s()
    times = [[] for _ in rows]
    for _ in range(rounds):
        if torch.get_num_threads() != threads:
            raise RuntimeError(f"torch runs {torch.get_num_threads()} threads, not {threads}")
        for i, s in enumerate(steps):
            t0 = time.perf_counter()
            for _ in range(iters):
                s()
            times[i].append((time.perf_counter() - t0) / iters)
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    ap.add_argument("--steps", nargs="+", type=int, default=[4, 16, 64])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the study trains on 1)")
    ap.add_argument("--kinds", nargs="+", default=None, help="fused kinds (default: every study kind)")
    ap.add_argument("--step-kinds", nargs="+", default=["arctan", "boolean_yj2025"])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    from boolgrad.study.kinds import KINDS

    torch.set_num_threads(args.threads)
    from boolgrad.torch.multistep import prepare

    prepare()  # numba's OpenMP pool would otherwise reset torch's thread count when it starts
    kinds = args.kinds or list(KINDS)
    records = []
    head = f"{'net':8s} {'T':>3s} {'engine':12s} {'kind':22s} {'median ms':>10s} {'min ms':>9s} " \
           f"{'samples/s':>10s} {'vs step':>8s} {'/ arctan':>9s}"
    print(f"batch {args.batch}, {args.threads} torch thread(s), {args.rounds} rounds x {args.iters} steps")
    print(head)
    for net_name in args.nets:
        for steps in args.steps:
            sizes = NETS[net_name]
            rows = engines(sizes, steps, kinds, args.step_kinds)
            x, target = _setup(sizes, steps, args.batch)
            times = measure(rows, x, target, args.rounds, args.iters, args.threads)
            mins = {(r[0], r[1]): min(t) for r, t in zip(rows, times)}
            base = mins.get(("step", "arctan"))
            fused_arctan = mins.get(("fused", "arctan"))
            for (engine, kind, _, _), t in zip(rows, times):
                lo, med = min(t), statistics.median(t)
                vs = f"{base / lo:8.2f}" if base else f"{'':8s}"
                rel = f"{lo / fused_arctan:9.2f}" if engine == "fused" and fused_arctan else f"{'':9s}"
                print(f"{net_name:8s} {steps:3d} {engine:12s} {kind:22s} {1e3 * med:10.2f} {1e3 * lo:9.2f} "
                      f"{args.batch / lo:10.0f} {vs} {rel}", flush=True)
                records.append({"net": net_name, "sizes": list(sizes), "steps": steps, "engine": engine,
                                "kind": kind, "median_s": med, "min_s": lo, "times_s": t})
    if args.out:
        write_record(args.out, "benchmarks/bench_engine.py", sys.argv[1:] if argv is None else argv,
                     batch=args.batch, threads=args.threads, rows=records)


if __name__ == "__main__":
    main()
