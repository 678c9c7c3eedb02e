"""Does flushing subnormals change training?  The study's networks trained with the exact float32
gradient twice -- with ``boolgrad.study.train.FLUSH_DENORMAL`` off, and on
(``torch.set_flush_denormal(True)``: FTZ/DAZ for torch's kernels and the fused engine's numba
loops on the training thread) -- every final weight
compared bit for bit, with the epoch times.

Per (dataset, dt/tau, kind): the full grid's network and epochs (``overshoot.FULL``), seed 0,
the fused engine.  Columns: the fraction of the trained network's ``g`` (probe batch, every
layer and step) that is a float32 subnormal (what a flush touches), weights that differ (of all), the largest relative difference,
test accuracy off / on, training seconds off / on (one run each: a hint, not a benchmark).

Usage::

    python benchmarks/check_flush.py                     # digits, yinyang, mnist1d x dt 1, 0.25
    python benchmarks/check_flush.py --datasets digits --dt 1 --out results/benchmarks/flush_cpu.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _record import check_out, write_record

KINDS = ("boolean_yj2025", "boolean_secant_clamp", "boolean_matched")


def trained(cfg, data, flush):
    from boolgrad.study import train

    weights = []
    train.FLUSH_DENORMAL = flush
    (res,) = train.train_group([cfg], data, weights=weights)
    return res, weights[0]


def subnormal_fraction(cfg, data, weights):
    """Of the trained network's ``g`` on its probe batch (every layer, step, neuron): the fraction
    that is a float32 subnormal -- what a flush would touch."""
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.network import SpikingNet
    from boolgrad.study.simulate import steps_for

    spec = get_kind(cfg.kind)
    if spec.matched:
        from boolgrad.study.train import _resolved

        spec, _ = _resolved(cfg, (data.n_features, *cfg.hidden, data.n_classes),
                            steps_for(cfg.dt_over_tau, cfg.horizon), torch.from_numpy(data.x_train[: cfg.probe]))
    net = SpikingNet((data.n_features, *cfg.hidden, data.n_classes), spec.spike(cfg.theta),
                     dt_over_tau=cfg.dt_over_tau, steps=steps_for(cfg.dt_over_tau, cfg.horizon), scheme=cfg.scheme,
                     readout=cfg.readout)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p[0] = weights[name]
        _, us = net(torch.from_numpy(data.x_train[: cfg.probe]), record=True)
    tiny = total = 0
    for u in us:
        u = u.requires_grad_(True)
        (g,) = torch.autograd.grad(net.spike(u).sum(), u)
        tiny += int(((g != 0) & (g.abs() < torch.finfo(torch.float32).tiny)).sum())
        total += g.numel()
    return tiny / total


def compare(a, b):
    n = same = 0
    worst = 0.0
    for name, x in a.items():
        y = b[name]
        n += x.numel()
        same += int((x.view(torch.int32) == y.view(torch.int32)).sum())
        d = ((x - y).abs() / x.abs().clamp_min(1e-30)).max()
        worst = max(worst, float(d))
    return n - same, n, worst


def main(argv=None):
    from boolgrad.study.data import load_dataset
    from boolgrad.study.overshoot import FULL, RunConfig

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["digits", "yinyang", "mnist1d"])
    ap.add_argument("--dt", nargs="+", type=float, default=[1.0, 0.25])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    if not torch.set_flush_denormal(True):
        sys.exit("this CPU cannot flush denormals (torch.set_flush_denormal returned False)")
    torch.set_flush_denormal(False)  # the training loop sets it per run (study.train.FLUSH_DENORMAL)
    rows = []
    print("| dataset | dt/tau | kind | subnormal g | weights differing | largest rel. diff | test acc off / on | s off / on |")
    print("|---|---|---|---|---|---|---|---|")
    for ds in args.datasets:
        data = load_dataset(ds)
        for dt in args.dt:
            for kind in args.kinds:
                cfg = RunConfig(dataset=ds, kind=kind, dt_over_tau=dt, **FULL[ds])
                (ra, wa), (rb, wb) = trained(cfg, data, False), trained(cfg, data, True)
                diff, n, worst = compare(wa, wb)
                sub = subnormal_fraction(cfg, data, wa)
                row = {"dataset": ds, "dt_over_tau": dt, "kind": kind, "differing": diff, "weights": n,
                       "subnormal_g_fraction": sub,
                       "max_rel_diff": worst, "test_acc": [ra["test_acc"], rb["test_acc"]],
                       "train_seconds": [ra["train_seconds"], rb["train_seconds"]]}
                rows.append(row)
                print(f"| {ds} | {dt:g} | {kind} | {sub:.2%} | {diff} / {n} | {worst:.3g} | {ra['test_acc']:.4f} / "
                      f"{rb['test_acc']:.4f} | {ra['train_seconds']:.1f} / {rb['train_seconds']:.1f} |", flush=True)
    if args.out:
        write_record(args.out, "benchmarks/check_flush.py", sys.argv[1:] if argv is None else argv, rows=rows)


if __name__ == "__main__":
    main()
