"""The overshoot study's experiment and grids: one training run (:class:`RunConfig`), the
training grid (:func:`grid`), the random-weight simulation grid and its cached records.

* :class:`RunConfig` -- one training run (:mod:`boolgrad.study.train`), an experiment of
  :mod:`boolgrad.study.executor`; its identity is its fields less ``data_dir``, plus the
  gradient kind's definition, and its result file ``OUT/runs/<hash[:16]>.json``.
* :data:`QUICK`, :data:`FULL`, :data:`FULL_DT`, :data:`FULL_CE_DT`, :data:`FULL_KINDS`,
  :data:`DEFAULT_DATASETS` -- the quick and the full (committed) grid of ``boolgrad study
  overshoot``;
* :func:`simulation_grid` and :func:`simulation_record` -- the random-weight crossing
  simulation per (dataset, dt/tau, scheme), cached in ``OUT/sim/<hash>.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..atomic import write_json_atomic
from .executor import SCHEMA
from .kinds import KINDS, get_kind
from .simulate import DT_OVER_TAU, SCHEMES

__all__ = ["DEFAULT_DATASETS", "FULL", "FULL_CE_DT", "FULL_DT", "FULL_KINDS", "QUICK", "STACK_ELEMENTS", "RunConfig",
           "grid", "simulation_grid", "simulation_record"]

DEFAULT_DATASETS = ("mnist1d", "yinyang", "digits")
QUICK = {"datasets": ("yinyang", "digits"), "kinds": ("boolean_yj2025", "boolean_matched", "arctan"),
         "dt": (1.0, 0.25), "seeds": 1, "epochs": 2, "subset": (1000, 300)}
#: dt/tau of the default (full) training grid: the five coarsest of DT_OVER_TAU (1/16 costs as much
#: as the other five together; the simulation covers it)
FULL_DT = DT_OVER_TAU[:5]
#: the cross-entropy readout variant is trained at these dt/tau (the full grid)
FULL_CE_DT = (1.0,)
#: kinds of the default (full) grid; boolean_bf16 and fast_sigmoid are in KINDS (--kinds) but left
#: out of the committed full run to fit its budget on 2 cores
FULL_KINDS = ("boolean_yj2025", "boolean_secant_clamp", "boolean_fixed16", "boolean_matched", "rectangle",
              "arctan", "straight_through")
#: floats in one layer's activations of a stack (``RunConfig.stack_limit``): 32 MiB of float32,
#: 16 models at T = 64 of the study's networks (batch 64, 128 hidden).  The limit was 2 MiB while
#: a stack's ``u`` went to memory and back; since a surrogate's unrecorded last layer computes its
#: ``u`` again in cache (:mod:`boolgrad.study.fused_network`), 16 stacked models at T = 64 train
#: 2.4-2.6x the model-samples/s of one for digits and Yin-Yang (the Boolean kinds 1.05-1.2x, the
#: temporal spike trains 0.96-1.04x), and at T = 16 K = 16 gains more than K = 4 did or as much
#: (``results/benchmarks/study_cpu.json``).  Results are the same bits at any stack (tests).
STACK_ELEMENTS = 1 << 23
#: per-dataset network, epochs (and learning rate) of the full grid (sized for ~1 h on 2 cores, docs/study.md)
FULL = {"mnist1d": {"hidden": (128,), "epochs": 5}, "yinyang": {"hidden": (64,), "epochs": 4},
        "digits": {"hidden": (128,), "epochs": 12},
        "spiketrains": {"hidden": (128,), "epochs": 40, "lr": 1e-2}}  # spiketrains: 1e-3 barely moves in 20 epochs


@dataclass(frozen=True)
class RunConfig:
    """One training run of the overshoot study (see :mod:`boolgrad.study.train`)."""

    dataset: str = "yinyang"
    kind: str = "arctan"
    dt_over_tau: float = 1.0
    seed: int = 0
    scheme: str = "exact"  # "exact" exponential integration or the "authors'" form
    horizon: float = 8.0  # simulated time, in membrane time constants
    hidden: tuple = (64,)
    readout: str = "mse_count"  # "mse_count" (the authors') or "ce_linear"
    epochs: int = 10  # the cap, with early stopping
    patience: int = 0  # stop after this many epochs without a better validation accuracy (0: never)
    batch_size: int = 64
    lr: float = 1e-3
    theta: float = 0.3
    probe: int = 256  # probe batch for the gradient statistics
    subset: tuple = ()  # (n_train, n_eval) or () for the full splits
    data_seed: int = 0  # split seed of the dataset (fixed across run seeds)
    data_dir: str = ""  # for mnist / fashion (not part of the identity: see identity())
    engine: str = "fused"  # "fused" (boolgrad.torch.multistep) or the "step" loop: the same network
    detach_reset: bool = False  # True: no gradient through the reset term (an ablation; snnTorch's default)
    schema: int = field(default=SCHEMA)

    #: what a worker process imports before its first run (:func:`~.executor.worker_context`):
    #: the training module, with torch (~3 s) and the fused engine
    preload = ("boolgrad.study.train",)

    def identity(self) -> dict:
        """What the result depends on: the fields (less ``data_dir``) and the kind's definition,
        so a changed kind never reuses a stale result file."""
        d = asdict(self)
        d.pop("data_dir")
        d["hidden"], d["subset"] = list(self.hidden), list(self.subset)
        d["kind_spec"] = get_kind(self.kind).describe()
        return d

    def validate(self) -> RunConfig:
        from .data import DATASETS

        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose from {', '.join(DATASETS)}")
        get_kind(self.kind)
        if not (self.dt_over_tau > 0 and self.dt_over_tau < float("inf")):
            raise ValueError(f"dt/tau must be positive, got {self.dt_over_tau!r}")
        if self.scheme not in ("exact", "authors"):
            raise ValueError(f"scheme must be 'exact' or 'authors', got {self.scheme!r}")
        if self.readout not in ("mse_count", "ce_linear"):
            raise ValueError(f"readout must be 'mse_count' or 'ce_linear', got {self.readout!r}")
        if self.dataset == "spiketrains":
            from .spiketrains import SPIKETRAINS

            if self.horizon < SPIKETRAINS["horizon"]:
                raise ValueError(f"spiketrains: the horizon must cover its spikes, >= {SPIKETRAINS['horizon']:g} tau")
        if DATASETS[self.dataset] and not self.data_dir:
            raise ValueError(f"dataset {self.dataset!r} needs --data-dir DIR (IDX files)")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be >= 1")
        if not (isinstance(self.patience, int) and self.patience >= 0):
            raise ValueError(f"patience must be an integer >= 0 (0: no early stopping), got {self.patience!r}")
        if self.engine not in ("fused", "step"):
            raise ValueError(f"engine must be 'fused' or 'step', got {self.engine!r}")
        if not (self.lr > 0):
            raise ValueError(f"the learning rate must be positive, got {self.lr!r}")
        return self

    def group_key(self) -> tuple:
        """Configs with equal keys train as one stacked model (:meth:`execute_group`): every
        identity field but ``seed`` and ``lr`` (and, for a matched kind, whose format depends on
        the seed's initial weights, the seed too)."""
        d = self.identity()
        d.pop("lr")
        if not get_kind(self.kind).matched:
            d.pop("seed")
        return tuple(sorted((k, repr(v)) for k, v in d.items()))

    def stack_limit(self) -> int:
        """How many such runs to stack: a stack's activations of one layer (``K x steps x batch x
        hidden`` floats) within :data:`STACK_ELEMENTS`.  Beyond that a stack leaves the cache and
        trains slower per model than one network alone (``benchmarks/bench_study.py``)."""
        from .simulate import steps_for

        per_model = steps_for(self.dt_over_tau, self.horizon) * self.batch_size * max(self.hidden)
        return max(1, STACK_ELEMENTS // per_model)

    @staticmethod
    def execute_group(configs) -> list[dict]:
        """:meth:`execute` for configs of one :meth:`group_key`, trained as one stacked model
        (:func:`~boolgrad.study.train.train_group`): each result as if trained alone."""
        from .train import train_group

        return [c._named(r) for c, r in zip(configs, train_group(configs, configs[0]._data()))]

    def _data(self):
        from .data import load_dataset

        return load_dataset(self.dataset, seed=self.data_seed, data_dir=self.data_dir or None,
                            subset=tuple(self.subset) or None)

    def _named(self, res: dict) -> dict:
        res.update(dt_over_tau=self.dt_over_tau, scheme=self.scheme, readout=self.readout, kind_name=self.kind)
        return res

    def execute(self) -> dict:
        """Train the network; the result names its cell (``dt_over_tau``, ``scheme``, ``readout``,
        ``kind_name``) beside :func:`~boolgrad.study.train.train`'s fields."""
        return self.execute_group([self])[0]

    def label(self) -> str:
        return f"{self.kind:22s} dt/tau={self.dt_over_tau:<7g}" + (" detached reset" if self.detach_reset else "")

    def cost(self) -> float:
        """Relative run time, for the order of a parallel sweep only (never part of a result):
        ``epochs x batches x steps``: at these sizes a batch's time grows with its step count far
        more than with its size (the quick grid's costliest: the authors' row, 42 batches x 60
        steps; cheapest: dt/tau 1, 16 batches x 8 steps)."""
        n_train = self.subset[0] if self.subset else {"yinyang": 5000, "digits": 1150, "mnist1d": 3200, "spiketrains": 4800}.get(
            self.dataset, 55000)
        batches = -(-int(n_train) // int(self.batch_size))
        return float(self.epochs * batches * max(1, round(self.horizon / self.dt_over_tau)))


def grid(datasets, kinds, dts, seeds, *, epochs=None, quick=False, data_dir="", authors_row=True, ce_dts=(),
         engine="fused", detach_reset=False):
    """The configs of a sweep: datasets x kinds x dt x seeds (exact scheme, the authors' MSE
    spike-count readout), the cross-entropy readout at ``ce_dts``, plus the authors' row."""
    out = []
    for ds in datasets:
        base = dict(FULL.get(ds, {"hidden": (128,), "epochs": 10}))
        if quick:
            base.update(epochs=QUICK["epochs"], subset=QUICK["subset"])
        if epochs is not None:
            base["epochs"] = epochs
        for kind in kinds:
            for readout, these in (("mse_count", dts), ("ce_linear", ce_dts)):
                for dt in these:
                    for seed in range(seeds):
                        out.append(RunConfig(dataset=ds, kind=kind, dt_over_tau=float(dt), seed=seed,
                                             readout=readout, data_dir=data_dir, engine=engine,
                                             detach_reset=detach_reset, **base))
        if authors_row:  # Yoo & Jeong: their form, dt = tau, T = 60, batch 24, Adam 1e-4
            for kind in [k for k in ("boolean_yj2025", "rectangle") if k in kinds]:
                for seed in range(seeds):
                    out.append(RunConfig(**{**base, "lr": 1e-4}, dataset=ds, kind=kind, dt_over_tau=1.0, seed=seed,
                                         scheme="authors", horizon=60.0, batch_size=24, data_dir=data_dir,
                                         engine=engine, detach_reset=detach_reset))
    return out


def simulation_grid(datasets, dts, schemes=SCHEMES):
    return [(ds, float(dt), sch) for ds in datasets for dt in dts for sch in schemes]


def simulation_record(out, dataset, dt, scheme, *, hidden=64, n=512, seed=0, data_dir="", kinds=tuple(KINDS)):
    """Random-weight simulation of one (dataset, dt, scheme), cached in ``OUT/sim/<hash>.json``
    (spike-train data: its counts at ``dt``, a current per step)."""
    from .data import load_dataset
    from .simulate import simulate, xavier_uniform

    ident = {"dataset": dataset, "dt_over_tau": dt, "scheme": scheme, "hidden": hidden, "n": n, "seed": seed,
             "kinds": [get_kind(k).describe() for k in kinds], "schema": 4}
    h = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(out) / "sim" / f"{h}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except ValueError:
            pass
    d = load_dataset(dataset, data_dir=data_dir or None).at_dt(dt)  # spike trains: counts at this dt
    w = xavier_uniform(d.n_features, hidden, seed)
    res = simulate(d.x_train[:n], w, dt, scheme=scheme, kinds=kinds, seed=seed)
    res.update(dataset=dataset, identity=ident)
    write_json_atomic(path, res)
    return res
