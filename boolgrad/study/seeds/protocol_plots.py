"""The plots of ``OUT/seeds_protocol.md`` (:mod:`boolgrad.study.seeds.protocol_report`): seed 002's
accuracy against the learning rate beside the blog's table, seed 003's threshold trajectories.
Reads what the report collected; never reruns a run."""

from __future__ import annotations

from ..inference import cell_interval

__all__ = ["plots"]


def plots(todo, folder) -> list:
    """Draw the report's plots into ``folder``; ``todo``: ``(name, data, extra)`` as the report's
    seed sections collect them (``seed002_blog_*``: accuracy per rate with the blog's numbers;
    ``seed003_theta``: every run's threshold per epoch). Returns the paths written ([] without
    matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from .report import _save

    made = []
    for name, data, extra in todo:
        if name.startswith("seed002_blog"):
            fig, ax = plt.subplots(figsize=(6, 4))
            for model, by_lr in sorted(data.items()):
                lrs = sorted(by_lr)
                ivs = [cell_interval(by_lr[lr]) for lr in lrs]
                y = [iv.mean for iv in ivs]
                err = [[iv.mean - iv.low if iv.defined else 0 for iv in ivs],
                       [iv.high - iv.mean if iv.defined else 0 for iv in ivs]]
                ax.errorbar(lrs, y, err, marker="o", capsize=3, label=f"{model} (95% CI)")
            from .seed002 import BLOG

            for i, model in enumerate(("central", "multi")):
                ax.plot(sorted(BLOG), [BLOG[lr][i] for lr in sorted(BLOG)], ls=":", marker="x",
                        label=f"blog MNIST {model}")
            ax.set(xscale="log", xlabel="learning rate", ylabel="test accuracy",
                   title=f"seed 002, {name.removeprefix('seed002_blog_')}: the blog's table (batch 1)")
            ax.legend(fontsize=7)
            made.append(_save(fig, folder / f"{name}.png"))
        elif name == "seed003_theta":
            keys = sorted({(ds, n) for ds, n, _ in data})
            fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.6), squeeze=False)
            for ax, (ds, n) in zip(axes[0], keys):
                for i, kind in enumerate(sorted({k for d, nn, k in data if (d, nn) == (ds, n)})):
                    runs = data[(ds, n, kind)][2]
                    paths = [r.get("theta_path") or [] for r in runs]
                    for p in paths:
                        ax.plot(range(len(p)), p, color=f"C{i}", alpha=0.25, lw=0.8)
                    # the mean only while every run still trains: past the first early stop it would
                    # average a shrinking, selected set of runs
                    shortest = min((len(p) for p in paths), default=0)
                    mean = [sum(p[t] for p in paths) / len(paths) for t in range(shortest)]
                    ax.plot(range(shortest), mean, color=f"C{i}", lw=2,
                            label=f"{kind} (mean of {len(paths)}, to the first stop)")
                ax.set(xlabel="epoch", ylabel="threshold theta", title=f"seed 003: {ds}, {n}")
                ax.legend(fontsize=7)
            made.append(_save(fig, folder / "seed003_theta.png"))
    return made
