"""Train a Norse network with the exact Boolean gradient on scikit-learn's bundled digits.

    PYTHONPATH=. python examples/train_norse.py [--epochs 5] [--steps 16] [--train 1437]

64 inputs -> ``Linear`` -> Norse LIF (:class:`boolgrad.torch.adapters.norse.BooleanLIF`: Norse's
own LIF module and Euler step, firing on Norse's ``v - v_th > 0`` through the Boolean spike of
the float32 ``gt`` table at ``v_th = 1``, spec §5) -> linear readout of the spike counts.  Prints
the mean training loss of each epoch and the test accuracy; ``main`` returns both.  No
downloads: ``load_digits`` ships with scikit-learn; the table is built in closed form
(milliseconds; equal to the enumeration of all 2**32 patterns).  Needs ``pip install --no-deps
norse nir nirtorch`` next to the CPU torch (docs/compatibility.md).
"""

from __future__ import annotations

import argparse

import torch
from norse.torch.functional.lif import LIFParameters
from sklearn.datasets import load_digits

import boolgrad
from boolgrad.torch.adapters.norse import BooleanLIF


def model(table, hidden=128, seed=0):
    torch.manual_seed(seed)
    fc1, fc2 = torch.nn.Linear(64, hidden), torch.nn.Linear(hidden, 10)
    # Norse's default time constants (tau_mem_inv 100/s, tau_syn_inv 200/s) at dt = 1 ms
    lif = BooleanLIF(table, LIFParameters(v_th=torch.tensor(1.0)))
    return fc1, lif, fc2


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=16, help="timesteps per sample")
    ap.add_argument(
        "--train", type=int, default=1437, help="training digits (the first N; the last 360 test)"
    )
    args = ap.parse_args(argv)
    table = boolgrad.closed_form_table("float32", 1.0, comparator="gt")  # Norse's tie rule
    d = load_digits()
    X, y = torch.tensor(d.data / 16 * 10, dtype=torch.float32), torch.tensor(d.target)
    (X, Xt), (y, yt) = (X[: args.train], X[1437:]), (y[: args.train], y[1437:])
    fc1, lif, fc2 = model(table)
    opt = torch.optim.Adam([*fc1.parameters(), *fc2.parameters()], lr=2e-3)

    def logits(x):  # constant input current for T steps: (T, batch, hidden)
        z, _ = lif(fc1(x).expand(args.steps, *x.shape[:-1], fc1.out_features))
        return fc2(z.sum(0))

    losses = []
    g = torch.Generator().manual_seed(0)
    for epoch in range(args.epochs):
        total = 0.0
        for idx in torch.randperm(len(X), generator=g).split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(logits(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
        print(f"epoch {epoch + 1}: mean training loss {losses[-1]:.4f}")
    with torch.no_grad():
        acc = (logits(Xt).argmax(1) == yt).float().mean().item()
    print(f"test accuracy (Norse LIF, Boolean gradient): {acc:.3f}")
    return losses, acc


if __name__ == "__main__":
    main()
