"""The quick and full grids of ``boolgrad study seeds`` (sizes in docs/seeds_experiments.md)."""

from __future__ import annotations

SEEDS = ("000", "001", "002", "003")
SPIKE_KINDS_002 = ("boolean_yj2025", "straight_through", "arctan")
METHODS_000 = (
    "nudge",
    "perceptron",
    "additive",
    "additive_weighted",
    "boolean_yj2025",
    "boolean_secant_clamp",
    "straight_through",
    "arctan",
)
KINDS_003 = ("boolean_fixed16.8", "arctan")


def grid_002(quick, seeds, data_dir=""):
    from .seed002 import BLOG_LRS
    from .seed002 import Seed002Config as C

    if quick:
        sets = {"digits": dict(subset=(300, 200), hidden=(32, 16), epochs=1)}
    else:
        sets = {"digits": dict(hidden=(64, 32)), "mnist1d": dict(hidden=(64, 32), subset=(1600, 1000))}
        if data_dir:
            sets["mnist"] = dict(hidden=(128, 64), data_dir=data_dir)
    out = []
    for ds, kw in sets.items():
        for s in range(seeds):
            for lr in BLOG_LRS:
                for model in ("central", "multi"):
                    for b in (1, 64) if quick else (1, 64, 256):
                        out.append(C(dataset=ds, model=model, lr=lr, batch_size=b, seed=s, **kw))
                for model in ("central_spike", "dendrite_spike"):
                    for k in SPIKE_KINDS_002:
                        if quick and lr != 0.005:
                            continue
                        out.append(C(dataset=ds, model=model, kind=k, lr=lr, batch_size=32, seed=s, **kw))
            if ds != "mnist":
                for model in ("central", "multi"):  # the blog's per-sample evaluation: speed, equality
                    out.append(C(dataset=ds, model=model, impl="naive", lr=0.001, seed=s, **kw))
    return out


def grid_000(quick, seeds, data_dir=""):
    from .seed000 import UPDATE_RULES
    from .seed000 import Seed000Config as C

    sets = (
        {"digits": dict(subset=(400, 200), epochs=2)}
        if quick
        else {"digits": {}, "yinyang": dict(subset=(2000, 1000)), "mnist1d": {}}
    )
    out = []
    for ds, kw in sets.items():
        for depth in (1, 2):
            for m in METHODS_000:
                opt = dict(lr=0.1, batch_size=1) if m in UPDATE_RULES else dict(lr=3e-3, batch_size=32)
                for s in range(seeds):
                    out.append(C(dataset=ds, method=m, depth=depth, seed=s, **opt, **kw))
    return out


def grid_003(quick, seeds, data_dir=""):
    from .seed003 import Seed003Config as C

    sets = (
        {"yinyang": dict(subset=(500, 300), epochs=2)}
        if quick
        else {"yinyang": dict(subset=(2000, 1000)), "mnist1d": {}}
    )
    out = []
    for ds, kw in sets.items():
        for neuron in ("halving", "lif"):
            for k in KINDS_003:
                for leak in (True, False):
                    for s in range(seeds):
                        out.append(C(dataset=ds, neuron=neuron, kind=k, learn_leak=leak, seed=s, **kw))
    return out


def grid(only, quick, data_dir=""):
    seeds = 1 if quick else 3
    out = []
    # seed 001 (straight-through, smooth surrogates) lives in the kinds of 000 and 002
    if "002" in only or "001" in only:
        out += grid_002(quick, seeds, data_dir)
    if "000" in only or "001" in only:
        out += grid_000(quick, seeds, data_dir)
    if "003" in only:
        out += grid_003(quick, seeds, data_dir)
    return out
