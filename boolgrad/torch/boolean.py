"""The Boolean-gradient spike function: forward ``[u >= theta]``, backward the table's exact ``g``.

``g`` is evaluated at each element's *own* bit pattern in the table's format (spec §5-6) by the
lookup of :mod:`boolgrad.torch.lookup`: a float32 tensor with a float32 table is exact for
every element; with another format (``ufixed16.12``, ``bfloat16``...) ``u`` is rounded to that
format for the gradient and, with ``quantize_forward=True``, in the forward as well.

Everything that fixes ``g`` is one :class:`~boolgrad.GradientSpec`, built once from the
options (or taken from the table) and passed whole: ``spec.at_theta(t)`` is a learnable
theta's new threshold, ``spec.with_wrt("theta")`` its threshold table.

Scalings (``scale=``, :data:`~boolgrad.rules.scalings.SCALINGS`): ``g / divisor`` clipped to
``[lo, hi]``, in float64 before the cast -- ``none``, ``clamp`` (``min(g, grad_max) / grad_max``),
``clamp01`` (``clip(g, 0, grad_max) / grad_max``, Yoo & Jeong's), ``unit_area``, ``unit_peak``.

Presets (:data:`~boolgrad.rules.presets.SPIKE_PRESETS`): ``boolean_spike("yoo_jeong2025", theta)``
is the authors' training setup: float32, ``paper`` convention, ``clamp01`` at 500, firing on
``u > theta`` (``gt``).

Learnable thresholds (``learn_theta=True``): theta is an ``nn.Parameter``; the spike uses the
tables at theta's current value rounded to the format (built on first use, kept in a bounded
cache) and theta's gradient is ``sum dL/ds * g_theta`` from the ``wrt="theta"`` table (spec §5,
``<= 0`` under the secant convention), divided by the same divisor (bounded below by ``-1``
under the clamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from boolgrad import (
    GradientSpec,
    GradientTable,
    closed_form_table_from_spec,
    make_spec,
    make_threshold,
    parse_format,
)
from boolgrad.rules.presets import SPIKE_PRESETS
from boolgrad.rules.scalings import SCALINGS, check_grad_max, get_scaling

from .cache import LRU
from .lookup import compile_plan, grad_input, plan_gradient, plan_gradient_as
from .lookup.plan import range_error
from .spike import Spike, SpikeFunction, spike_forward

__all__ = [
    "SCALINGS",
    "SPIKE_PRESETS",
    "BooleanSpike",
    "BooleanState",
    "boolean_backward",
    "boolean_spike",
    "check_table",
    "default_builder",
    "load_spike",
]


def default_builder(spec: GradientSpec) -> GradientTable:
    """The table of ``spec`` in closed form (milliseconds for any format; equal to enumeration)."""
    return closed_form_table_from_spec(spec)


def check_table(table: GradientTable, *, theta=None, comparator=None, convention=None) -> GradientTable:
    """The one check of a table against the arguments given with it (``None``: not given)."""
    meta = table.meta
    if meta.wrt != "u":
        raise ValueError("a Boolean spike needs a wrt='u' table (the threshold's comes from the builder)")
    for name, given, have in (
        ("comparator", comparator, meta.comparator),
        ("convention", convention, meta.convention),
    ):
        if given is not None and given != have:
            raise ValueError(
                f"{name}={given!r} disagrees with the table's {have!r}; "
                f"rebuild the table with {name}={given!r}"
            )
    if theta is not None and float(theta) not in (meta.theta_requested, meta.theta_used):
        raise ValueError(f"theta={theta!r} disagrees with the table's ({meta.theta_requested!r})")
    return table


@dataclass(eq=False)
class BooleanState:
    """The Boolean rule of one spike function: its spec, scaling, and bounded caches.

    ``tables`` (threshold key -> ``(table_u, table_theta or None)``) are built by ``builder``
    (``spec -> table``; ``None``: only the thresholds added); plans are compiled per
    ``(key, dtype, device)`` on first use and dropped on pickling (rebuilt lazily).
    """

    spec: GradientSpec
    scale: str = "none"
    grad_max: float = 500.0
    quantize_forward: bool = False
    theta_tables: bool = False
    builder: Callable | None = field(default=default_builder, repr=False)
    max_cached: int = 64
    _tables: LRU = field(init=False, repr=False)
    _keys: LRU = field(init=False, repr=False)
    _plans: LRU = field(init=False, repr=False)
    _last: tuple | None = field(default=None, init=False, repr=False)  # (theta, dtype, device, plans)

    def __post_init__(self):
        get_scaling(self.scale)
        check_grad_max(self.grad_max)
        self._tables, self._keys, self._plans = (
            LRU(self.max_cached),
            LRU(16 * self.max_cached),
            LRU(self.max_cached),
        )

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_plans"] = LRU(self.max_cached)  # tensors and thread-local scratch: rebuilt on use
        state["_last"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"format={self.spec.fmt.name}, {self.spec.convention}, scale={self.scale!r}"
            + (f" (grad_max={self.grad_max})" if SCALINGS[self.scale].uses_grad_max else "")
            + (", quantize_forward" if self.quantize_forward else "")
        )

    # -- thresholds, tables, plans --------------------------------------------------------------
    def threshold_key(self, theta):
        """Cache key of a threshold: its pattern in the format (its value with ``exact_threshold``)."""
        if isinstance(theta, torch.Tensor):
            if theta.numel() != 1:
                raise ValueError(
                    "a Boolean spike's threshold must be one number (its tables depend on it); "
                    f"got a tensor of shape {tuple(theta.shape)}"
                )
            theta = float(theta.detach())
        key = self._keys.get(theta)
        if key is None:
            thr = self.spec.threshold
            resolved = make_threshold(self.spec.fmt, float(theta), thr.comparator, thr.exact)
            key = self._keys.put(theta, ("exact", resolved.used) if thr.exact else resolved.pattern)
        return key

    def add_table(self, table: GradientTable):
        """Use ``table`` (a ``wrt="u"`` table of this spec's options) at its own threshold."""
        theta = table.meta.theta_requested
        table_t = self.builder(table.spec.with_wrt("theta")) if self.theta_tables else None
        self._tables.put(self.threshold_key(theta), (table, table_t))

    def tables_at(self, theta):
        """``(table_u, table_theta or None)`` at ``theta`` (built on first use)."""
        key = self.threshold_key(theta)
        hit = self._tables.get(key)
        if hit is None:
            if self.builder is None:
                raise ValueError(
                    f"threshold {theta!r} has no table here and no builder was given "
                    "(pass builder=boolgrad.torch.default_builder or learn_theta=True)"
                )
            value = float(theta.detach()) if isinstance(theta, torch.Tensor) else float(theta)
            spec = self.spec.at_theta(value)
            hit = (self.builder(spec), self.builder(spec.with_wrt("theta")) if self.theta_tables else None)
            self._tables.put(key, hit)
        return hit

    def table_at(self, theta) -> GradientTable:
        """The ``wrt="u"`` table at ``theta``."""
        return self.tables_at(theta)[0]

    def plans(self, u: torch.Tensor, theta):
        """Compiled, scaled plans ``(g, g_theta or None, error or None)`` for this threshold, dtype
        and device; ``error``: the peak overflows the dtype (raised by the backward)."""
        last, device = self._last, u.device
        if last is not None and last[0] is theta and last[1] is u.dtype and last[2] == device:
            return last[3]  # the same float threshold object as the last call: every forward and backward
        pkey = (self.threshold_key(theta), u.dtype, device)
        hit = self._plans.get(pkey)
        if hit is None:
            table_u, table_t = self.tables_at(theta)
            scaling = SCALINGS[self.scale]
            d = scaling.divisor(table_u, self.grad_max)
            pu = compile_plan(table_u, u.dtype, u.device, divisor=d, clamp=(scaling.lo, scaling.hi))
            pt = compile_plan(table_t, u.dtype, u.device, divisor=d) if table_t is not None else None
            hit = self._plans.put(pkey, (pu, pt, range_error(table_u, u.dtype, d, scaling.hi)))
        if isinstance(theta, float):  # a tensor's value can change in place: looked up each time
            self._last = (theta, u.dtype, device, hit)
        return hit

    # -- the rule (boolgrad.torch.spike) ---------------------------------------------------------
    def spikes(self, u, theta, comparator):
        pu = self.plans(u, theta)[0]
        t = pu.quantized_threshold if self.quantize_forward else pu.forward_threshold
        if isinstance(t, tuple):  # [t_lo, t_hi): values above t_hi overflow onto NaN
            return (torch.ge(u, t[0]) & torch.lt(u, t[1])).to(u.dtype)
        return spike_forward(u, t, "ge")

    def backward(self, u, theta, grad_out, want_theta):
        return boolean_backward(u, theta, grad_out, self, want_theta)

    def gradient(self, u, theta) -> torch.Tensor:
        """Scaled ``g`` at each element (``u``'s dtype), without an incoming gradient."""
        return boolean_backward(u, theta, None, self, False)[0]


def boolean_backward(u, theta, grad_out, state: BooleanState, want_theta, offset: float = 0.0):
    """``(dL/ds * g, g_theta or None)`` (``g`` alone when ``grad_out`` is ``None``), ``u``'s dtype.

    ``offset``: ``g`` at ``u + offset`` (the shifted adapters; not with ``want_theta``)."""
    pu, pt, error = state.plans(u, theta)
    if error is not None:
        raise error
    if offset and (grad_out is None or want_theta):
        u, offset = u + offset, 0.0
    if grad_out is None:
        grad_u = plan_gradient_as(pu, u, u.dtype)
    else:
        grad_u = grad_input(pu, u, grad_out, offset=offset)
    g_theta = None
    if want_theta:
        if pt is None:
            raise RuntimeError(
                "theta requires grad but this Boolean spike has no wrt='theta' table; "
                "make it with learn_theta=True or theta_tables=True"
            )
        g_theta = plan_gradient(pt, u)
        if pu.hi is not None:
            g_theta = g_theta.clamp_min_(-1.0)
        g_theta = g_theta.to(u.dtype)
    return grad_u, g_theta


class BooleanSpike(SpikeFunction):
    """Spike with the exact Boolean gradient of a table (:class:`BooleanState`)."""


def boolean_spike(
    table_or_format,
    theta=None,
    *,
    scale: str | None = None,
    grad_max: float | None = None,
    comparator: str | None = None,
    convention: str | None = None,
    exact_threshold: bool = False,
    excluded_bits=None,
    quantize_forward: bool = False,
    learn_theta: bool = False,
    theta_tables: bool | None = None,
    builder=None,
) -> Spike:
    """Spike function with the exact Boolean gradient (module doc).

    ``table_or_format``: a :class:`GradientTable` (theta, comparator and convention are then the
    table's; different ones are an error), a format name or object (a table is built with
    ``builder``, ``spec -> table``, default :func:`default_builder`), or a preset name
    (:data:`SPIKE_PRESETS`; the options given here override the preset's).
    ``learn_theta=True`` makes theta an ``nn.Parameter``; ``theta_tables`` (default: the same)
    builds the ``wrt="theta"`` tables, needed whenever a theta passed as ``spike(u, theta)``
    requires grad.
    """
    theta_tables = learn_theta if theta_tables is None else bool(theta_tables)
    preset = {}
    if isinstance(table_or_format, str) and table_or_format in SPIKE_PRESETS:
        preset = SPIKE_PRESETS[table_or_format].options()
        table_or_format = preset.pop("format")
    scale = scale if scale is not None else preset.get("scale", "none")
    grad_max = float(grad_max if grad_max is not None else preset.get("grad_max", 500.0))
    convention = convention if convention is not None else preset.get("convention")
    comparator = comparator if comparator is not None else preset.get("comparator")
    if isinstance(table_or_format, GradientTable):
        table = check_table(table_or_format, theta=theta, comparator=comparator, convention=convention)
        if builder is None and theta_tables:
            builder = default_builder
        state = BooleanState(table.spec, scale, grad_max, quantize_forward, theta_tables, builder)
        state.add_table(table)
        theta = table.meta.theta_requested
    else:
        if theta is None:
            raise ValueError("theta is required when building from a format (or pass a GradientTable)")
        spec = make_spec(
            parse_format(table_or_format),
            float(theta.detach()) if isinstance(theta, torch.Tensor) else theta,
            comparator=comparator or "ge",
            convention=convention or "secant",
            exact_threshold=exact_threshold,
            excluded_bits=excluded_bits,
        )
        state = BooleanState(
            spec, scale, grad_max, quantize_forward, theta_tables, builder or default_builder
        )
        state.tables_at(theta)
    return Spike(
        "boolean", BooleanSpike, theta, state.spec.threshold.comparator, state, learn_theta=learn_theta
    )


def load_spike(path, **options) -> Spike:
    """Spike function from a table saved with :meth:`GradientTable.save` (any trainer).

    ``options`` are :func:`boolean_spike`'s (``scale``, ``quantize_forward``...).
    """
    return boolean_spike(GradientTable.load(path), **options)
