"""Inference over seeds: bootstrap intervals, the paired dt-by-kind interaction, Holm, verdicts.

Seed ``s`` of every kind shares initial weights and data order, so results are paired by seed;
every paired function takes dicts ``seed -> value`` and uses only the seeds present (not ``None``,
not NaN) in all of them.  For a surrogate kind S and the Boolean kind B at the coarsest time step
``c`` and the finest ``f``, the per-seed interaction is

    d_s = (S_c,s - B_c,s) - (S_f,s - B_f,s),      I = mean_s d_s,

and the hypothesis is ``I > 0`` (the surrogate's lead over the Boolean gradient grows with dt).

* Interval (:func:`cell_interval`): the mean of ``n`` values and its bootstrap confidence interval
  from ``scipy.stats.bootstrap`` (``method='BCa'``, bias-corrected and accelerated; ``'percentile'``
  where BCa's endpoints are not finite, e.g. a degenerate jackknife).  All values equal gives
  ``low = high = mean``; ``n = 1`` (or 0) gives ``low = high = NaN``: one seed measures no spread.
  Deterministic for a given ``seed`` (``numpy.random.default_rng(seed)``).  Caveat: at ``n = 10``
  the nominal 95% BCa interval of a normal mean covers about 90% (2000 synthetic samples; the
  t interval 95.7%), so read it as a little narrow; the p-value below is exact at any ``n``.
* p-value (:func:`sign_flip_p`): H0 ``E d = 0``, the per-seed ``d_s`` symmetric about 0 under H0,
  a two-sided sign-flip permutation test of ``mean d`` via
  ``scipy.stats.permutation_test(permutation_type='samples')`` on the one sample ``d``: exact, all
  ``2^n`` sign flips, for ``n <= 16``; ``2^16`` random flips beyond.  ``p = min(1, 2 min(p_<, p_>))``,
  which for this symmetric null is ``#{flips: |mean| >= |observed|} / 2^n``.
* :func:`holm`: Holm-Bonferroni step-down over ``m`` tests: sorted ``p_(1) <= .. <= p_(m)``,
  ``q_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``, returned in the input order.
* :func:`verdict` (rules in order): no interval, or fewer than :data:`MIN_SEEDS` seeds -> "inconclusive"; Holm-adjusted ``p < alpha`` with
  ``I < 0`` -> "refuted"; the whole interval inside ``(-margin, +margin)`` -> "refuted" (equivalence:
  no effect as large as the detectable difference; the interval's own confidence, so a 95% interval
  is two one-sided tests at 2.5% each, not Holm-adjusted; it outranks significance, since the claim
  is an effect of practical size); adjusted ``p < alpha`` with ``I > 0`` -> "supported"; otherwise
  "inconclusive".  :func:`overall_verdict`: "supported" only if every dataset supports, "refuted"
  only if every dataset refutes, "mixed" if some support and some refute, else "inconclusive".
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MIN_SEEDS",
    "Effect",
    "Interval",
    "cell_interval",
    "holm",
    "interaction",
    "overall_verdict",
    "paired_difference",
    "sign_flip_p",
    "verdict",
    "verdict_sentence",
]

EXACT_MAX_N = 16  # sign flips enumerated exactly up to 2**16 = 65536


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` seeds and its ``confidence`` bootstrap interval ``[low, high]``.

    ``method``: "BCa", "percentile", "degenerate" (all values equal) or "none" (``n < 2``: NaN ends).
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    method: str = "BCa"

    @property
    def defined(self) -> bool:
        """Whether both ends are finite numbers."""
        return math.isfinite(self.low) and math.isfinite(self.high)


@dataclass(frozen=True)
class Effect:
    """The interaction's interval, its unadjusted two-sided p-value and the seeds it used."""

    interval: Interval
    p_value: float
    seeds: tuple


def _present(values) -> np.ndarray:
    """The values as float64, ``None`` and NaN dropped; a Mapping contributes its values."""
    if isinstance(values, Mapping):
        values = values.values()
    x = np.asarray([float(v) for v in values if v is not None], dtype=np.float64)
    return x[~np.isnan(x)]


def _paired(*maps: Mapping) -> tuple[tuple, np.ndarray]:
    """The seeds present (not None, not NaN) in every map, sorted, and a ``(len(maps), n)`` array."""
    def ok(m, s):
        v = m.get(s)
        return v is not None and not math.isnan(float(v))

    seeds = tuple(sorted(s for s in maps[0] if all(ok(m, s) for m in maps)))
    return seeds, np.array([[float(m[s]) for s in seeds] for m in maps], dtype=np.float64).reshape(
        len(maps), len(seeds)
    )


def _rng_kw(fn, seed: int) -> dict:
    """``rng=`` (scipy >= 1.15) or ``random_state=`` (older), seeded with ``default_rng(seed)``."""
    name = "rng" if "rng" in inspect.signature(fn).parameters else "random_state"
    return {name: np.random.default_rng(seed)}


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def cell_interval(values, confidence: float = 0.95, *, seed: int = 0, n_resamples: int = 9999) -> Interval:
    """The mean of ``values`` (iterable or Mapping; None/NaN dropped) and its bootstrap interval.

    BCa, falling back to percentile where BCa's ends are not finite; all values equal gives
    ``low = high = mean``; fewer than 2 values give NaN ends (mean NaN if none).
    """
    from scipy import stats

    x = _present(values)
    n = int(x.size)
    if n < 2:
        m = float(x[0]) if n else math.nan
        return Interval(m, math.nan, math.nan, n, confidence, "none")
    m = float(np.mean(x))
    if np.all(x == x[0]):
        return Interval(m, m, m, n, confidence, "degenerate")
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            ci = stats.bootstrap(
                (x,), _mean, n_resamples=n_resamples, vectorized=True, axis=-1,
                confidence_level=confidence, method=method, **_rng_kw(stats.bootstrap, seed),
            ).confidence_interval
        low, high = float(ci.low), float(ci.high)
        if math.isfinite(low) and math.isfinite(high):
            return Interval(m, low, high, n, confidence, method)
    return Interval(m, math.nan, math.nan, n, confidence, "none")


def paired_difference(
    a: Mapping, b: Mapping, confidence: float = 0.95, *, seed: int = 0, n_resamples: int = 9999
) -> Interval:
    """:func:`cell_interval` of ``a[s] - b[s]`` over the seeds ``s`` present in both dicts."""
    _, (xa, xb) = _paired(a, b)
    return cell_interval(xa - xb, confidence, seed=seed, n_resamples=n_resamples)


def sign_flip_p(d, *, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value of ``mean(d) = 0`` (module doc); exact for n <= 16.

    None/NaN dropped; NaN if no value is left; 1 for one value (both flips are as extreme).
    """
    from scipy import stats

    x = _present(d)
    if x.size < 2:
        return 1.0 if x.size else math.nan
    res = stats.permutation_test(
        (x,), _mean, permutation_type="samples", vectorized=True, axis=-1,
        n_resamples=2**EXACT_MAX_N, alternative="two-sided", **_rng_kw(stats.permutation_test, seed),
    )
    return float(res.pvalue)


def interaction(
    s_coarse: Mapping, b_coarse: Mapping, s_fine: Mapping, b_fine: Mapping,
    confidence: float = 0.95, *, seed: int = 0, n_resamples: int = 9999,
) -> Effect:
    """Interval and sign-flip p-value of ``d_s = (S_c - B_c) - (S_f - B_f)`` (dicts seed -> value).

    Only the seeds present in all four dicts are used; p is not adjusted (see :func:`holm`).
    """
    seeds, (sc, bc, sf, bf) = _paired(s_coarse, b_coarse, s_fine, b_fine)
    d = (sc - bc) - (sf - bf)
    return Effect(cell_interval(d, confidence, seed=seed, n_resamples=n_resamples), sign_flip_p(d, seed=seed), seeds)


def holm(pvalues) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1), in the input order."""
    p = np.asarray(list(pvalues), dtype=np.float64)
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1]: {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


VERDICTS = ("supported", "refuted", "inconclusive")


#: fewer seeds than this give no verdict (a bootstrap interval of 2-4 values is no interval)
MIN_SEEDS = 5


def verdict(interval: Interval, p_adjusted: float, *, alpha: float = 0.05, margin: float = 0.02) -> str:
    """"supported", "refuted" or "inconclusive" by the rules in the module doc (and
    "inconclusive" below :data:`MIN_SEEDS` seeds)."""
    if not interval.defined or not math.isfinite(p_adjusted) or interval.n < MIN_SEEDS:
        return "inconclusive"
    significant = p_adjusted < alpha
    if significant and interval.mean < 0:
        return "refuted"
    if -margin < interval.low and interval.high < margin:
        return "refuted"
    if significant and interval.mean > 0:
        return "supported"
    return "inconclusive"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict_sentence(dataset: str, interval: Interval, p_adjusted: float, verdict: str) -> str:
    """One sentence, e.g. ``"digits: interaction +0.071 (95% CI +0.052 to +0.090, n = 10 seeds,
    Holm-adjusted p = 0.004): supported."``"""
    seeds = "seed" if interval.n == 1 else "seeds"
    ci = (
        f"{100 * interval.confidence:g}% CI {interval.low:+.3f} to {interval.high:+.3f}"
        if interval.defined else "no CI"
    )
    p = f"Holm-adjusted {_p_text(p_adjusted)}" if math.isfinite(p_adjusted) else "no p-value"
    return f"{dataset}: interaction {interval.mean:+.3f} ({ci}, n = {interval.n} {seeds}, {p}): {verdict}."


def overall_verdict(verdicts: Mapping[str, str] | Iterable[str]) -> str:
    """"supported" / "refuted" if every dataset says so, "mixed" if some support and some refute,
    else "inconclusive" (also for no datasets)."""
    v = list(verdicts.values() if isinstance(verdicts, Mapping) else verdicts)
    unknown = set(v) - set(VERDICTS)
    if unknown:
        raise ValueError(f"unknown verdicts {sorted(unknown)}; expected {VERDICTS}")
    if v and all(x == "supported" for x in v):
        return "supported"
    if v and all(x == "refuted" for x in v):
        return "refuted"
    if "supported" in v and "refuted" in v:
        return "mixed"
    return "inconclusive"
