"""Train a small LIF network on scikit-learn's bundled digits with the Boolean gradient and with
arctan, and print both test accuracies (docs/training.md).

    PYTHONPATH=. python examples/train_digits.py [--table float32.npz] [--epochs 40]
    PYTHONPATH=. python examples/train_digits.py --out results/examples/train_digits.json   # the README's record

The Boolean gradient is the exact one of spec §5 for float32 patterns at theta = 1.0.  Its table
is read from ``--table`` or built once in closed form (milliseconds; equal to the enumeration of
all 2**32 patterns) and saved there.  No downloads: ``load_digits`` ships with scikit-learn.
``--out`` also writes both accuracies with the setup (torch, threads, epochs) to a JSON file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import boolgrad
import boolgrad.torch as bt
from boolgrad.torch.neurons import LIF


def train(spike, X, y, Xt, yt, epochs=40, T=8, seed=0):
    """64 inputs -> 128 LIF (the given spike function) -> linear readout of the spike counts."""
    torch.manual_seed(seed)
    fc1, fc2 = torch.nn.Linear(64, 128), torch.nn.Linear(128, 10)
    lif = LIF(spike, tau=2.0, dt=1.0)
    opt = torch.optim.Adam([*fc1.parameters(), *fc2.parameters()], lr=2e-3)

    def logits(x):
        out, _ = lif.run(fc1(x).expand(T, *x.shape[:-1], 128))  # constant input current, T steps
        return fc2(out.sum(0))

    for _ in range(epochs):
        for idx in torch.randperm(len(X)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(logits(X[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        return (logits(Xt).argmax(1) == yt).float().mean().item()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", type=Path, default=Path(__file__).parent / "tables" / "float32_theta1.npz")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, help="also write the accuracies and the setup to this JSON file")
    args = ap.parse_args(argv)
    if args.out is not None:  # before the training: a folder that cannot be made fails now
        args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.table.exists():
        table = boolgrad.GradientTable.load(args.table)
    else:
        table = boolgrad.closed_form_table("float32", 1.0)
        args.table.parent.mkdir(parents=True, exist_ok=True)
        table.save(args.table)

    digits = load_digits()
    X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    X, Xt, y, yt = train_test_split(X, y, test_size=0.2, random_state=0)
    accuracy = {}
    for key, name, spike in [
        ("boolean", "Boolean (float32, exact)", bt.boolean_spike(table)),
        ("arctan", "arctan surrogate", bt.surrogate("arctan", 1.0)),
    ]:
        accuracy[key] = train(spike, X, y, Xt, yt, args.epochs)
        print(f"{name:26s} test accuracy {accuracy[key]:.3f}", flush=True)
    if args.out is not None:
        from boolgrad.atomic import write_json_atomic

        write_json_atomic(args.out, dict(
            script="examples/train_digits.py", argv=list(argv) if argv is not None else sys.argv[1:],
            date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), torch=torch.__version__,
            threads=torch.get_num_threads(), epochs=args.epochs, test_accuracy=accuracy))
    return accuracy


if __name__ == "__main__":
    main()
