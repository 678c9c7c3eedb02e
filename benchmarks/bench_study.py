"""Training speed of the study's networks: the step loop, the fused engine, stacked models, and
the same network in snnTorch and SpikingJelly; then the exact theory's integrals.

One *epoch* = the training split of the dataset (``--samples`` of it) in batches of 64: zero
grad, forward, the study's loss (MSE of the spike counts against the one-hot label), backward,
Adam step -- the study's training loop without its per-epoch evaluation.  Networks as the study
trains them (``boolgrad.study.network.SpikingNet``, theta 0.3, exact scheme, horizon 8 tau,
``T = 8 tau / dt``): digits 64-128-10, Yin-Yang 5-64-3, MNIST-1D 40-128-10 (the full grid's
hidden sizes), real data from ``boolgrad.study.data``.

Rows, timed in interleaved rounds in the same run (one torch thread, as the study trains):

* ``step`` -- ``engine="step"`` (``lif_step`` T times a layer), arctan and ``boolean_yj2025``;
* ``fused`` -- ``engine="fused"`` (:mod:`boolgrad.torch.multistep`), every kind of the study;
* ``fused K=4``, ``K=16`` -- K models stacked (their own seeds and batches) in one network;
* ``snntorch`` -- ``snn.Leaky`` (zero reset, ``surrogate.atan()``) stepped T times, if importable;
* ``spikingjelly`` -- multi-step ``LIFNode`` (``step_mode="m"``, torch backend, ATan), if importable.

Columns: median and minimum seconds an epoch over rounds; model-samples/s from the minimum (K
models x samples / s); ``vs step``: the step engine's arctan minimum over this row's minimum per
model (the speed-up); ``/ arctan``: this row's minimum per model over the fused K=1 arctan row's
(a fused kind's cost relative to arctan; for K rows, of the same kind at K=1 the other way up:
``K gain`` = K=1 time per model / this row's).

Then ``bench_integrals.py``'s tables: ``GradientTable.integral`` and a 1000-point crossing curve.

Usage::

    python benchmarks/bench_study.py                                  # everything (~10 min, 2 cores)
    python benchmarks/bench_study.py --nets digits --steps 16 --rounds 3 --no-integrals
    python benchmarks/bench_study.py --out results/benchmarks/study_cpu.json
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _record import check_out, write_record

NETS = {"digits": (128,), "yinyang": (64,), "mnist1d": (128,)}
THETA = 0.3
HORIZON = 8.0
BATCH = 64


def _data(name, samples):
    from boolgrad.study.data import load_dataset

    d = load_dataset(name)
    n = min(samples, len(d.x_train))
    return torch.from_numpy(d.x_train[:n]), torch.from_numpy(d.y_train[:n]), d.n_features, d.n_classes


def _epoch(opt, forward, x, target, K, seed=0):
    """One epoch's training steps; ``x``/``target`` batched per model ``(K, B, ...)`` when K > 1."""
    gen = torch.Generator().manual_seed(seed)
    perms = [torch.randperm(len(x), generator=gen).split(BATCH) for _ in range(K)]

    def run():
        for batch in zip(*perms):
            idx = torch.stack(batch) if K > 1 else batch[0]
            flat = idx.flatten()
            opt.zero_grad()
            out = forward(x.index_select(0, flat).view(*idx.shape, -1))
            loss = torch.nn.functional.mse_loss(out, target.index_select(0, flat).view(*idx.shape, -1),
                                                reduction="none")
            loss.reshape(K, -1).mean(1).sum().backward() if K > 1 else loss.mean().backward()
            opt.step()

    return run


def study_row(kind, sizes, steps, engine, K):
    from boolgrad.study.adam import StackedAdam
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.network import SpikingNet

    spec = get_kind(kind)
    spec = spec.resolve(0.05) if spec.matched else spec
    gens = [torch.Generator().manual_seed(k) for k in range(K)]
    net = SpikingNet(sizes, spec.spike(THETA), dt_over_tau=HORIZON / steps, steps=steps, scheme="exact",
                     generator=gens, engine=engine)
    opt = StackedAdam(net.parameters(), [1e-3] * K)
    return opt, (net if K > 1 else (lambda x: net(x.unsqueeze(0))[0]))


def snntorch_row(sizes, steps):
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

    return torch.optim.Adam(net.parameters(), lr=1e-3), forward


def spikingjelly_row(sizes, steps):
    from spikingjelly.activation_based import functional, neuron, surrogate

    decay = math.exp(-HORIZON / steps)
    layers = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes))
    lifs = torch.nn.ModuleList(neuron.LIFNode(tau=1.0 / (1.0 - decay), v_threshold=THETA,
                                              surrogate_function=surrogate.ATan(), step_mode="m")
                               for _ in layers)
    for lif in lifs:
        lif.backend = "torch"
    net = torch.nn.ModuleList([layers, lifs])

    def forward(x):
        functional.reset_net(net)
        h = layers[0](x).unsqueeze(0).expand(steps, -1, -1)
        for i, lif in enumerate(lifs):
            h = lif(h if i == 0 else layers[i](h))
        return h.mean(0)

    return torch.optim.Adam(net.parameters(), lr=1e-3), forward


def rows_for(sizes, steps, kinds, step_kinds, stacks):
    out = [("step", k, 1, lambda k=k: study_row(k, sizes, steps, "step", 1)) for k in step_kinds]
    out += [("fused", k, 1, lambda k=k: study_row(k, sizes, steps, "fused", 1)) for k in kinds]
    out += [("fused", k, K, lambda k=k, K=K: study_row(k, sizes, steps, "fused", K))
            for K in stacks for k in ("arctan", "boolean_yj2025") if k in kinds]
    for name, make in (("snntorch", snntorch_row), ("spikingjelly", spikingjelly_row)):
        if importlib.util.find_spec(name) is None:
            print(f"({name} not installed: skipped)")
            continue
        out.append((name, "atan", 1, lambda make=make: make(sizes, steps)))
    return out


def measure(net_name, hidden, steps, args):
    from boolgrad.study.kinds import KINDS

    x, y, n_in, n_cls = _data(net_name, args.samples)
    target = torch.nn.functional.one_hot(y, n_cls).float()
    sizes = (n_in, *hidden, n_cls)
    kinds = args.kinds or list(KINDS)
    specs = rows_for(sizes, steps, kinds, args.step_kinds, args.stacks)
    runs = []
    for engine, kind, K, make in specs:
        opt, forward = make()
        run = _epoch(opt, forward, x, target, K)
        run()  # warm: numba compiles, tables load
        runs.append((engine, kind, K, run, []))
    for _ in range(args.rounds):
        for *_, run, times in runs:
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    rows = []
    per_model = {(e, k, K): min(t) / K for e, k, K, _, t in runs}
    step_base = per_model.get(("step", "arctan", 1))
    fused_base = per_model.get(("fused", "arctan", 1))
    for engine, kind, K, _, times in runs:
        pm = min(times) / K
        rel = None
        if engine == "fused" and K == 1 and fused_base:
            rel = pm / fused_base
        elif engine == "fused" and K > 1 and per_model.get(("fused", kind, 1)):
            rel = per_model[("fused", kind, 1)] / pm
        rows.append({"net": net_name, "T": steps, "engine": engine if K == 1 else f"fused K={K}", "kind": kind,
                     "models": K, "median_s": statistics.median(times), "min_s": min(times),
                     "model_samples_per_s": K * len(x) / min(times),
                     "vs_step": step_base / pm if step_base else None, "rel": rel})
    return rows


def _fmt(v, spec):
    return "" if v is None else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    ap.add_argument("--steps", nargs="+", type=int, default=[4, 16, 64])
    ap.add_argument("--samples", type=int, default=1024, help="training samples per epoch (at most the split)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", nargs="+", default=None, help="fused kinds (default: every study kind)")
    ap.add_argument("--step-kinds", nargs="+", default=["arctan", "boolean_yj2025"])
    ap.add_argument("--stacks", nargs="+", type=int, default=[4, 16])
    ap.add_argument("--no-integrals", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    torch.set_num_threads(1)
    from boolgrad.torch.multistep import prepare

    prepare()
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}, {args.rounds} rounds; seconds an epoch")
    head = ("| net | T | engine | kind | median s | min s | model-samples/s | vs step | / arctan, K gain |\n"
            "|---|---|---|---|---|---|---|---|---|")
    print(head)
    rows = []
    for net_name in args.nets:
        for steps in args.steps:
            for r in measure(net_name, NETS[net_name], steps, args):
                rows.append(r)
                print(f"| {r['net']} | {r['T']} | {r['engine']} | {r['kind']} | {r['median_s']:.3f} | "
                      f"{r['min_s']:.3f} | {r['model_samples_per_s']:.0f} | {_fmt(r['vs_step'], '.2f')} | "
                      f"{_fmt(r['rel'], '.2f')} |", flush=True)
    if not args.no_integrals:
        print()
        import bench_integrals

        bench_integrals.main()
    if args.out:
        write_record(args.out, "benchmarks/bench_study.py", sys.argv[1:] if argv is None else argv,
                     threads=1, batch=BATCH, rounds=args.rounds, rows=rows)


if __name__ == "__main__":
    main()
