"""Runs over a range of ranks (spec §6) that every builder shares.

* :func:`check_rank_range` -- the one validation of a sweep's ``[start, stop)``.
* :func:`theta_runs` -- ``wrt="theta"`` needs no enumeration:
  ``chi_j(r) = [r >= R_lo_j] XOR [r >= R_hi_j]`` (ranks from ``spec.theta_flip_ranks``)
  changes only at ``R_lo_j`` and ``R_hi_j``, so every run starts at ``start`` or at one of
  these ``2n`` ranks; breakpoints where the mask does not change are dropped.
* :func:`merge_chunks` -- join per-chunk runs into maximal runs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_rank_range", "merge_chunks", "theta_runs"]


def check_rank_range(spec, start: int, stop: int) -> None:
    """``ValueError`` unless ``0 <= start < stop <= n_ranks``."""
    if not 0 <= start < stop <= spec.fmt.n_ranks:
        raise ValueError(f"rank range [{start}, {stop}) is empty or outside 0..{spec.fmt.n_ranks}")


def theta_runs(spec, start: int = 0, stop: int | None = None):
    """Run starts and masks (uint64) over ranks ``[start, stop)`` for ``wrt="theta"``."""
    if spec.wrt != "theta":
        raise ValueError("theta_runs is for wrt='theta'")
    fmt = spec.fmt
    stop = fmt.n_ranks if stop is None else stop
    check_rank_range(spec, start, stop)
    flips = spec.theta_flip_ranks  # Python ints: a 64-bit format's n_ranks is 2**64
    if any(r in fmt.signed_zero_ranks[1:] for pair in flips for r in pair):
        # fires(b, A+1) would fire on +0 but not on -0: not a rank comparison.  A threshold
        # rank is the first of a group of equal values, so it is never -0's rank A+1.
        raise AssertionError("a threshold rank equals the rank of -0; threshold_rank broke its contract")
    at = [start, *sorted({r for pair in flips for r in pair if start < r < stop})]
    masks = [sum(1 << j for j, (lo, hi) in enumerate(flips) if (r >= lo) != (r >= hi)) for r in at]
    keep = [k for k in range(len(at)) if k == 0 or masks[k] != masks[k - 1]]
    return (
        np.asarray([at[k] for k in keep], dtype=np.uint64),
        np.asarray([masks[k] for k in keep], dtype=np.uint64),
    )


def merge_chunks(parts, start: int):
    """Join per-chunk runs ``(r0, (starts, masks, first_mask, last_mask))`` in rank order.

    A chunk's first rank starts a run only if its mask differs from the previous chunk's last.
    """
    starts, masks = [np.asarray([start], dtype=np.uint64)], []
    prev_last = None
    for r0, (idx, m, first, last) in parts:
        if prev_last is None:
            masks.append(np.asarray([first], dtype=np.uint64))
        elif first != prev_last:
            starts.append(np.asarray([r0], dtype=np.uint64))
            masks.append(np.asarray([first], dtype=np.uint64))
        starts.append(idx)
        masks.append(m)
        prev_last = last
    return np.concatenate(starts), np.concatenate(masks)
