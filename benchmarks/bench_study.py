"""Training speed of the study's networks: the step loop, the fused engine, stacked models, and
the same network in snnTorch and SpikingJelly; then the exact theory's integrals.

One *epoch* = the training split of the dataset (``--samples`` of it) in batches of 64: zero
grad, forward, the study's loss, backward, Adam step -- the study's training loop without its
per-epoch evaluation, under its subnormal policy (``boolgrad.study.train.FLUSH_DENORMAL``: FTZ/DAZ
on; ``--no-flush`` measures exact subnormal arithmetic instead) and its heap policy
(``boolgrad.study.train.KEEP_HEAP``: freed memory kept in the process,
:mod:`boolgrad.torch.heap`; ``--no-keep-heap`` measures glibc's default, which maps and faults in
fresh pages for every large tensor of every batch).  Networks as the decisive study trains them (``boolgrad.study.network.SpikingNet``, theta 0.3, exact scheme, horizon 8 tau,
``T = 8 tau / dt``, ``boolgrad.study.decisive.NETWORK``'s hidden sizes: digits 64-128-10, Yin-Yang
4-128-3, spike trains 40-128-6 driven step by step by their binned spikes), with its readout
(``--readout``: ``ce_linear``, a linear readout of the hidden spike counts under cross-entropy,
the readout of most of its cells; ``mse_count``, the authors' spiking output layer under MSE),
real data from ``boolgrad.study.data``.

Rows, timed in interleaved rounds in the same run (one torch thread, as the study trains):

* ``step`` -- ``engine="step"`` (``lif_step`` T times a layer), arctan and ``boolean_yj2025``;
* ``fused`` -- ``engine="fused"`` (the network as one autograd node,
  :mod:`boolgrad.study.fused_network`, running :mod:`boolgrad.torch.multistep`'s loops), every
  kind of the study;
* ``fused K=4``, ``K=16`` -- K models stacked (their own seeds and batches) in one network;
* ``... torch.mean`` (``--torch-mean``) -- arctan and ``boolean_yj2025``, K = 1 and the largest
  stack, with the readout's mean over time by ``torch.mean`` (whose backward divides every step's
  copy of the gradient) instead of :func:`boolgrad.torch.multistep.time_mean` (the same bits,
  divided once per neuron): what ``time_mean`` saves, timed in the same rounds;
* ``snntorch`` -- ``snn.Leaky`` (zero reset, ``surrogate.atan()``) stepped T times, if importable;
* ``spikingjelly`` -- multi-step ``LIFNode`` (``step_mode="m"``, torch backend, ATan), if importable.

Columns: median and minimum seconds an epoch over rounds; model-samples/s from the minimum (K
models x samples / s); ``vs step``: the step engine's arctan minimum over this row's minimum per
model (the speed-up); ``/ arctan``: this row's minimum per model over the fused K=1 arctan row's
(a fused kind's cost relative to arctan; for K rows, of the same kind at K=1 the other way up:
``K gain`` = K=1 time per model / this row's; for ``torch.mean`` rows, this row's time over the
same kind and K with ``time_mean``).

Then ``bench_integrals.py``'s tables: ``GradientTable.integral`` and a 1000-point crossing curve.

Usage::

    python benchmarks/bench_study.py                                  # everything (~10 min, 2 cores)
    python benchmarks/bench_study.py --nets digits --steps 16 --rounds 3 --no-integrals
    python benchmarks/bench_study.py --out results/benchmarks/study_cpu.json
    python benchmarks/bench_study.py --device cuda --no-integrals    # on a GPU: the Triton kernels
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

from boolgrad.study.loss import losses

NETS = ("digits", "yinyang", "spiketrains", "mnist1d")
FOREIGN = ("snntorch", "spikingjelly")
DEFAULT_NETS = ("digits", "yinyang", "spiketrains")  # the decisive study's datasets
THETA = 0.3
HORIZON = 8.0
BATCH = 64


def _hidden(name):
    from boolgrad.study.decisive import NETWORK

    return NETWORK[name]["hidden"]


def _data(name, samples, steps):
    """``(x, y, n_in, n_classes, temporal)``: the first ``samples`` training examples, spike data
    binned at this T's ``dt`` (``x`` ``(n, T, n_in)``)."""
    from boolgrad.study.data import load_dataset

    d = load_dataset(name).at_dt(HORIZON / steps, HORIZON)
    n = min(samples, len(d.x_train))
    return torch.from_numpy(d.x_train[:n]), torch.from_numpy(d.y_train[:n]), d.n_features, d.n_classes, d.temporal


def _loss(out, y, readout):
    """The study's loss (:func:`boolgrad.study.loss.losses`) of one model's ``(B, n_out)`` outputs."""
    return losses(out.unsqueeze(0), y.unsqueeze(0), readout).sum()


def _epoch(opt, loss, x, y, K, seed=0):
    """One epoch's training steps; ``loss(x, y)``: the loss to minimise, ``x``/``y`` batched per
    model ``(K, B, ...)`` when K > 1."""
    gen = torch.Generator().manual_seed(seed)
    perms = [torch.randperm(len(x), generator=gen).split(BATCH) for _ in range(K)]

    def run():
        for batch in zip(*perms):
            idx = torch.stack(batch) if K > 1 else batch[0]
            flat = idx.flatten().to(x.device)
            opt.zero_grad()
            loss(x.index_select(0, flat).view(*idx.shape, *x.shape[1:]), y.index_select(0, flat).view(idx.shape)).backward()
            opt.step()

    return run


def study_row(kind, sizes, steps, engine, K, readout, temporal, device="cpu"):
    from boolgrad.study.adam import StackedAdam
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.network import SpikingNet

    spec = get_kind(kind)
    spec = spec.resolve(0.05) if spec.matched else spec
    gens = [torch.Generator().manual_seed(k) for k in range(K)]
    net = SpikingNet(sizes, spec.spike(THETA), dt_over_tau=HORIZON / steps, steps=steps, scheme="exact",
                     readout=readout, generator=gens, engine=engine, temporal=temporal).to(device)
    opt = StackedAdam(net.parameters(), [1e-3] * K)
    if K == 1:
        return opt, lambda x, y: _loss(net(x.unsqueeze(0))[0], y, readout)
    return opt, lambda x, y: losses(net(x), y, readout).sum()


def torch_mean_row(kind, sizes, steps, K, readout, temporal, device="cpu"):
    """:func:`study_row`'s fused network with the readout's mean over time by ``torch.mean``."""
    from boolgrad.study import network
    from boolgrad.torch.multistep import time_mean

    opt, net_loss = study_row(kind, sizes, steps, "fused", K, readout, temporal, device)

    def loss(x, y):
        network.time_mean = lambda t, dim: t.mean(dim)
        try:
            return net_loss(x, y)
        finally:
            network.time_mean = time_mean

    return opt, loss


def _foreign_net(sizes, readout, lif, device="cpu"):
    """Linear layers without bias into ``lif()`` neurons (all layers for ``mse_count``; the hidden
    ones and a ``torch.nn.Linear`` readout of their mean spike count for ``ce_linear``)."""
    spiking = sizes if readout == "mse_count" else sizes[:-1]
    layers = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(spiking))
    lifs = torch.nn.ModuleList(lif() for _ in layers)
    head = torch.nn.Linear(sizes[-2], sizes[-1]) if readout == "ce_linear" else torch.nn.Identity()
    return layers, lifs, head, torch.nn.ModuleList([layers, lifs, head]).to(device)


def snntorch_row(sizes, steps, readout, temporal, device="cpu"):
    import snntorch as snn
    from snntorch import surrogate

    decay, gain = math.exp(-HORIZON / steps), -math.expm1(-HORIZON / steps)
    gain = 1.0 if temporal else gain  # spikes are impulses (boolgrad.study.network)
    layers, lifs, head, net = _foreign_net(sizes, readout, lambda: snn.Leaky(
        beta=decay, threshold=THETA, spike_grad=surrogate.atan(), reset_mechanism="zero"))

    def forward(x):
        cur0 = None if temporal else layers[0](x) * gain
        mems = [lif.init_leaky() for lif in lifs]
        count = 0
        for t in range(steps):
            h = layers[0](x[:, t]) if temporal else cur0
            for i, lif in enumerate(lifs):
                cur = h if i == 0 else layers[i](h) * gain
                h, mems[i] = lif(cur, mems[i])
            count = count + h
        return head(count / steps)

    return torch.optim.Adam(net.parameters(), lr=1e-3), lambda x, y: _loss(forward(x), y, readout)


def spikingjelly_row(sizes, steps, readout, temporal, device="cpu"):
    from spikingjelly.activation_based import functional, neuron, surrogate

    decay, gain = math.exp(-HORIZON / steps), -math.expm1(-HORIZON / steps)
    gain = 1.0 if temporal else gain

    def lif():
        node = neuron.LIFNode(tau=1.0 / (1.0 - decay), v_threshold=THETA, surrogate_function=surrogate.ATan(),
                              step_mode="m")
        node.backend = "torch"
        return node

    layers, lifs, head, net = _foreign_net(sizes, readout, lif, device)
    # LIFNode charges v += (x - v) / tau = (1 - decay) (x - v): its input is the study's current over (1 - decay)
    scale = gain / (1.0 - decay)

    def forward(x):
        functional.reset_net(net)
        if temporal:
            h = layers[0](x.transpose(0, 1)) * (1.0 / (1.0 - decay))
        else:
            h = (layers[0](x) * scale).unsqueeze(0).expand(steps, -1, -1)
        for i, node in enumerate(lifs):
            h = node(h if i == 0 else layers[i](h) * scale)
        return head(h.mean(0))

    return torch.optim.Adam(net.parameters(), lr=1e-3), lambda x, y: _loss(forward(x), y, readout)


def rows_for(sizes, steps, kinds, step_kinds, stacks, readout, temporal, torch_mean=False, device="cpu"):
    study = lambda k, engine, K: lambda: study_row(k, sizes, steps, engine, K, readout, temporal, device)
    out = [("step", k, 1, study(k, "step", 1)) for k in step_kinds]
    out += [("fused", k, 1, study(k, "fused", 1)) for k in kinds]
    out += [("fused", k, K, study(k, "fused", K)) for K in stacks for k in ("arctan", "boolean_yj2025") if k in kinds]
    if torch_mean:
        out += [("torch.mean", k, K, lambda k=k, K=K: torch_mean_row(k, sizes, steps, K, readout, temporal, device))
                for K in sorted({1, max(stacks, default=1)}) for k in ("arctan", "boolean_yj2025") if k in kinds]
    for name, make in zip(FOREIGN, (snntorch_row, spikingjelly_row)):
        if importlib.util.find_spec(name) is None:
            print(f"({name} not installed: skipped)")
            continue
        out.append((name, "atan", 1, lambda make=make: make(sizes, steps, readout, temporal, device)))
    return out


def measure(net_name, steps, args):
    from boolgrad.study.kinds import KINDS

    x, y, n_in, n_cls, temporal = _data(net_name, args.samples, steps)
    x, y = x.to(args.device), y.to(args.device)
    sizes = (n_in, *_hidden(net_name), n_cls)
    kinds = args.kinds or list(KINDS)
    specs = rows_for(sizes, steps, kinds, args.step_kinds, args.stacks, args.readout, temporal, args.torch_mean,
                     args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)  # a GPU runs asynchronously
    runs = []
    for engine, kind, K, make in specs:
        opt, loss = make()
        run = _epoch(opt, loss, x, y, K)
        run()  # warm: numba compiles (Triton on CUDA), tables load
        sync()
        runs.append((engine, kind, K, run, []))
    for _ in range(args.rounds):
        for *_, run, times in runs:
            t0 = time.perf_counter()
            run()
            sync()
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
        elif engine == "torch.mean" and per_model.get(("fused", kind, K)):
            rel = pm / per_model[("fused", kind, K)]
        label = ("fused" if K == 1 else f"fused K={K}") + (" torch.mean" if engine == "torch.mean" else "")
        rows.append({"net": net_name, "T": steps, "engine": engine if engine == "step" or engine in FOREIGN
                     else label, "kind": kind,
                     "models": K, "median_s": statistics.median(times), "min_s": min(times),
                     "model_samples_per_s": K * len(x) / min(times),
                     "vs_step": step_base / pm if step_base else None, "rel": rel})
    return rows


def _fmt(v, spec):
    return "" if v is None else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", nargs="+", default=list(DEFAULT_NETS), choices=list(NETS))
    ap.add_argument("--steps", nargs="+", type=int, default=[4, 16, 64])
    ap.add_argument("--samples", type=int, default=1024, help="training samples per epoch (at most the split)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", nargs="+", default=None, help="fused kinds (default: every study kind)")
    ap.add_argument("--step-kinds", nargs="+", default=["arctan", "boolean_yj2025"])
    ap.add_argument("--stacks", nargs="+", type=int, default=[4, 16])
    ap.add_argument("--readout", default="ce_linear", choices=["ce_linear", "mse_count"])
    ap.add_argument("--no-flush", action="store_true", help="exact subnormal arithmetic (the study flushes them)")
    ap.add_argument("--no-keep-heap", action="store_true",
                    help="glibc's default mmap policy (the study keeps freed memory: boolgrad.torch.heap)")
    ap.add_argument("--torch-mean", action="store_true",
                    help="also time rows with the readout's mean over time by torch.mean (the network's "
                         "time_mean gives the same bits)")
    ap.add_argument("--device", default="cpu",
                    help="cpu, or cuda: the fused engine's Triton kernels, and every other row, on the GPU")
    ap.add_argument("--no-integrals", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    problem = None
    if args.device != "cpu" and not args.device.startswith("cuda"):
        problem = f"--device must be cpu or cuda, got {args.device!r}"
    elif args.device != "cpu" and not torch.cuda.is_available():
        problem = f"--device {args.device}: no CUDA device visible to torch"
    if problem:
        print(f"bench_study.py: error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    torch.set_num_threads(1)
    from boolgrad.study.train import FLUSH_DENORMAL, KEEP_HEAP
    from boolgrad.torch.heap import keep_freed_memory
    from boolgrad.torch.multistep import prepare

    prepare()
    flush = FLUSH_DENORMAL and not args.no_flush
    torch.set_flush_denormal(flush)
    kept = KEEP_HEAP and not args.no_keep_heap and keep_freed_memory()
    print(f"torch {torch.__version__}, {args.device}, 1 thread, batch {BATCH}, {args.rounds} rounds, readout {args.readout}, "
          f"subnormals {'flushed' if flush else 'exact'}, freed memory {'kept' if kept else 'unmapped'}; "
          "seconds an epoch")
    head = ("| net | T | engine | kind | median s | min s | model-samples/s | vs step | / arctan, K gain |\n"
            "|---|---|---|---|---|---|---|---|---|")
    print(head)
    rows = []
    for net_name in args.nets:
        for steps in args.steps:
            for r in measure(net_name, steps, args):
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
                     threads=1, device=args.device, batch=BATCH, rounds=args.rounds, readout=args.readout, flush=flush,
                     keep_heap=kept, rows=rows)


if __name__ == "__main__":
    main()
