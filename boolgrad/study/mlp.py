"""The non-spiking reference: an MLP of the spiking network's size, trained as the study trains.

``x -> [Linear -> ReLU] x len(hidden) -> Linear``, cross-entropy, Adam, batch 64, the data order
and the initial weights from the run's seed (``torch.nn.Linear``'s own initialisation drawn from
a seeded generator), early stopping on validation accuracy and the test accuracy of the best
validation epoch -- the rules of :mod:`boolgrad.study.train`, so the protocol
(:mod:`boolgrad.study.protocol`) searches its learning rate like any cell's.  It answers what the
data allow a network of this size, with no spikes, under the same budget.  Spike-train data
(``spiketrains``) enter as their spike times, flattened, unbinned: what continuous time allows.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from .executor import SCHEMA

__all__ = ["MLPConfig"]


@dataclass(frozen=True)
class MLPConfig:
    """One training run of the MLP reference (an experiment of :mod:`boolgrad.study.executor`)."""

    dataset: str = "yinyang"
    hidden: tuple = (128,)
    seed: int = 0
    lr: float = 1e-3
    epochs: int = 100  # the cap
    patience: int = 10
    batch_size: int = 64
    data_seed: int = 0
    subset: tuple = ()
    data_dir: str = ""
    schema: int = field(default=SCHEMA)

    preload = ("torch",)

    def identity(self) -> dict:
        d = asdict(self)
        d.pop("data_dir")
        d["hidden"], d["subset"] = list(self.hidden), list(self.subset)
        d["model"] = "mlp"
        return d

    def validate(self) -> MLPConfig:
        from .data import DATASETS

        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose from {', '.join(DATASETS)}")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 0:
            raise ValueError("epochs and batch size must be >= 1, patience >= 0")
        if not (self.lr > 0):
            raise ValueError(f"the learning rate must be positive, got {self.lr!r}")
        return self

    def label(self) -> str:
        return f"{'mlp':22s} hidden={','.join(map(str, self.hidden))}"

    def cost(self) -> float:
        return float(self.epochs)

    def execute(self) -> dict:
        import torch

        from .data import load_dataset
        from .protocol import patience_reached

        torch.set_num_threads(1)
        d = load_dataset(self.dataset, seed=self.data_seed, data_dir=self.data_dir or None,
                         subset=tuple(self.subset) or None)
        flat = lambda a: a.reshape(len(a), -1)  # spike times (n, n_in, n_spikes): one feature each; else a view
        x_tr, y_tr = torch.from_numpy(flat(d.x_train)), torch.from_numpy(d.y_train)
        gen = torch.Generator().manual_seed(self.seed)
        sizes = (x_tr.shape[1], *self.hidden, d.n_classes)
        layers = []
        for i in range(len(sizes) - 1):
            lin = torch.nn.Linear(sizes[i], sizes[i + 1])
            with torch.no_grad():  # torch.nn.Linear's init bounds, drawn from the run's generator
                bound = 1.0 / sizes[i] ** 0.5
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
            layers += [lin, torch.nn.ReLU()]
        net = torch.nn.Sequential(*layers[:-1])
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)

        def accuracy(x, y):
            with torch.no_grad():
                return float((net(torch.from_numpy(flat(x))).argmax(-1) == torch.from_numpy(y)).double().mean())

        history, best, t0 = [], None, time.perf_counter()
        for epoch in range(1, self.epochs + 1):
            total = 0.0
            batches = torch.randperm(len(x_tr), generator=gen).split(self.batch_size)
            for idx in batches:
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(x_tr[idx]), y_tr[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach())
            val = accuracy(d.x_val, d.y_val)
            history.append({"epoch": epoch, "loss": total / len(batches), "val_acc": val})
            if best is None or val > best["val_acc"]:
                best = {"epoch": epoch, "val_acc": val, "state": {k: v.clone() for k, v in net.state_dict().items()}}
            if patience_reached(epoch, best["epoch"], self.patience):
                break
        seconds = time.perf_counter() - t0
        net.load_state_dict(best["state"])
        return {"test_acc": accuracy(d.x_test, d.y_test), "val_acc": best["val_acc"], "best_epoch": best["epoch"],
                "epochs": self.epochs, "stopped_epoch": len(history),
                "stopped_early": patience_reached(len(history), best["epoch"], self.patience),
                "history": history, "train_seconds": seconds, "kind_name": "mlp",
                "samples_per_second": len(history) * len(x_tr) / max(seconds, 1e-9)}
