"""The Boolean-gradient spike function: forward ``[u >= theta]``, backward the table's exact ``g``.

``g`` is evaluated at each element's *own* bit pattern in the table's format (SPEC 5-6) by a
:class:`~boolgrad.torch.plan.TablePlan` (searchsorted over the pieces, then ``P + Q / v``):
a float32 tensor with a float32 table is exact for every element; with another format
(``ufixed16.12``, ``bfloat16``...) ``u`` is rounded to that format for the gradient, and, with
``quantize_forward=True``, in the forward pass as well (the spike of the stored pattern, as
hardware computes it).

Scalings (:data:`SCALINGS`, applied to ``g`` in float64 before the cast):

* ``none``: ``g`` itself;
* ``clamp``: ``min(g, grad_max) / grad_max`` -- what Yoo & Jeong's training code does
  (``grad_max = 500`` there), so the peak becomes 1 and the tails keep their shape;
* ``unit_area``: ``g / area`` (SPEC 7), the normalisation surrogates usually have;
* ``unit_peak``: ``g / peak``.

``boolean_spike("yoo_jeong2025", theta)`` is the authors' setup by name (:data:`PRESETS`):
float32, the ``paper`` convention (SPEC 5), ``clamp`` at 500.

Learnable thresholds (``learn_theta=True``): theta is an ``nn.Parameter``; the spike uses the
tables at theta's current value rounded to the format (built on first use by ``builder`` and
kept per theta pattern), and theta's gradient is ``sum dL/ds * g_theta`` with ``g_theta`` from
the ``wrt="theta"`` table (SPEC 5, ``<= 0`` under the secant convention).  It is scaled by the
same divisor as ``g``; ``clamp`` bounds it below by ``-1``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from ..formats import parse_format
from ..build.closed_form import closed_form_table
from ..table import GradientTable
from .plan import TablePlan, compile_plan, plan_gradient, plan_gradient_as
from .rules import Spike, make_function, register

__all__ = ["PRESETS", "SCALINGS", "BooleanState", "boolean_spike", "default_builder", "load_table"]


# -- scalings: name -> (divisor(table, grad_max), clamp at 1?) ---------------------------------------
def _divisor_none(table, grad_max):
    return 1.0


def _divisor_clamp(table, grad_max):
    return grad_max


def _divisor_area(table, grad_max):
    return table.area()


def _divisor_peak(table, grad_max):
    return table.peak()[0]


SCALINGS = {
    "none": (_divisor_none, False),
    "clamp": (_divisor_clamp, True),
    "unit_area": (_divisor_area, False),
    "unit_peak": (_divisor_peak, False),
}

#: named setups: keyword arguments of :func:`boolean_spike`
PRESETS = {
    # Yoo & Jeong 2025, training code: float32 patterns, 1/D_i terms with the top exponent bit
    # dropped (convention "paper"), gradient clamped at 500 and divided by 500.
    "yoo_jeong2025": dict(format="float32", convention="paper", scale="clamp", grad_max=500.0),
}


def default_builder(fmt, theta, **options) -> GradientTable:
    """Build a table in closed form (milliseconds for any format; equal to enumeration)."""
    return closed_form_table(fmt, theta, **options)


# -- state shared by the autograd Function -----------------------------------------------------------
@dataclass(eq=False)
class BooleanState:
    """Tables, scaling and compiled plans of one Boolean spike function.

    ``tables`` maps a threshold pattern to ``(table_u, table_theta or None)``; plans are compiled
    per ``(pattern, dtype, device)`` on first use.  ``builder`` makes the tables of a new
    threshold (learnable theta).
    """

    fmt: object
    options: dict  # comparator, convention, exact_threshold, excluded_bits
    scale: str
    grad_max: float
    quantize_forward: bool
    theta_tables: bool  # also build the wrt="theta" tables (a threshold that learns)
    builder: object = field(repr=False, default=None)
    tables: dict = field(default_factory=dict, repr=False)
    plans: OrderedDict = field(default_factory=OrderedDict, repr=False)
    keys: dict = field(default_factory=dict, repr=False)  # float theta -> its cache key
    max_plans: int = 64

    def __repr__(self) -> str:
        return (
            f"format={self.fmt.name}, {self.options.get('convention', 'secant')}, scale={self.scale!r}"
            + (f" (grad_max={self.grad_max})" if self.scale == "clamp" else "")
            + (", quantize_forward" if self.quantize_forward else "")
        )

    # tables and plans
    def _pattern(self, theta):
        """Cache key of a threshold: its pattern in the format (its value if exact)."""
        if not isinstance(theta, torch.Tensor):
            key = self.keys.get(theta)
            if key is None:
                key = self.keys[theta] = self._pattern(torch.tensor(float(theta), dtype=torch.float64))
            return key
        if isinstance(theta, torch.Tensor):
            if theta.numel() != 1:
                raise ValueError(
                    "a Boolean spike's threshold must be one number (its tables depend on it); "
                    f"got a tensor of shape {tuple(theta.shape)}"
                )
            theta = float(theta.detach())
        if self.options.get("exact_threshold", False):
            return ("exact", float(theta))
        if not math.isfinite(theta):
            raise ValueError(f"threshold must be finite, got {theta}")
        return int(self.fmt.encode(np.asarray([theta], dtype=np.float64), saturate=True)[0])

    def _tables(self, key, theta):
        if key not in self.tables:
            if self.builder is None:
                raise ValueError(
                    f"threshold {theta!r} has no table here and no builder was given "
                    "(pass builder=boolgrad.torch.default_builder or learn_theta=True)"
                )
            value = float(theta.detach()) if isinstance(theta, torch.Tensor) else float(theta)
            table_u = self.builder(self.fmt, value, wrt="u", **self.options)
            table_t = (
                self.builder(self.fmt, value, wrt="theta", **self.options) if self.theta_tables else None
            )
            self.tables[key] = (table_u, table_t)
        return self.tables[key]

    def plans_for(self, u: torch.Tensor, theta) -> tuple[TablePlan, TablePlan | None]:
        """Compiled (and scaled) plans for ``g`` and ``g_theta`` at this threshold and dtype."""
        key = self._pattern(theta)
        pkey = (key, u.dtype, u.device)
        hit = self.plans.get(pkey)
        if hit is None:
            table_u, table_t = self._tables(key, theta)
            divisor_fn, clamp = SCALINGS[self.scale]
            d = float(divisor_fn(table_u, self.grad_max))
            if not (math.isfinite(d) and d > 0):
                raise ValueError(
                    f"scale={self.scale!r} needs a positive finite divisor; this table gives {d!r}"
                )
            pu = compile_plan(table_u, u.dtype, u.device, divisor=d, clamp=clamp)
            pt = compile_plan(table_t, u.dtype, u.device, divisor=d) if table_t is not None else None
            hit = (pu, pt)
            self.plans[pkey] = hit
            while len(self.plans) > self.max_plans:  # a learnable theta visits many patterns
                self.plans.popitem(last=False)
        return hit


def _boolean_threshold(u, theta, state: BooleanState):
    pu, _ = state.plans_for(u, theta)
    return pu.quantized_threshold if state.quantize_forward else pu.forward_threshold


def _boolean_grads(u, theta, state: BooleanState, want_theta):
    """``g`` at each element's own pattern (exact; module doc), scaled, cast to ``u``'s dtype."""
    pu, pt = state.plans_for(u, theta)
    g = plan_gradient_as(pu, u, u.dtype)
    g_theta = None
    if want_theta:
        if pt is None:
            raise RuntimeError(
                "theta requires grad but this Boolean spike has no wrt='theta' table; "
                "make it with learn_theta=True or theta_tables=True"
            )
        g_theta = plan_gradient(pt, u)
        if pu.clamp:
            g_theta = g_theta.clamp_min_(-1.0)
        g_theta = g_theta.to(u.dtype)
    return g, g_theta


BooleanFunction = make_function("Boolean", _boolean_grads, threshold=_boolean_threshold)


# -- the factory ---------------------------------------------------------------------------------------
@register("boolean")
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

    ``table_or_format``: a :class:`GradientTable` (theta, comparator and convention are then
    the table's; passing different ones is an error), a format name or object (a table is
    built with ``builder``, default :func:`default_builder`), or a preset name.
    ``learn_theta=True`` makes theta an ``nn.Parameter``; ``theta_tables`` (default: the same)
    builds the ``wrt="theta"`` tables, needed whenever a theta passed as ``spike(u, theta)``
    requires grad.
    """
    theta_tables = learn_theta if theta_tables is None else bool(theta_tables)
    preset = {}
    if isinstance(table_or_format, str) and table_or_format in PRESETS:
        preset = dict(PRESETS[table_or_format])
        table_or_format = preset.pop("format")
    scale = scale if scale is not None else preset.get("scale", "none")
    grad_max = float(grad_max if grad_max is not None else preset.get("grad_max", 500.0))
    convention = convention if convention is not None else preset.get("convention")
    if scale not in SCALINGS:
        raise ValueError(f"scale must be one of {', '.join(SCALINGS)}, got {scale!r}")
    if not (math.isfinite(grad_max) and grad_max > 0):
        raise ValueError(f"grad_max must be positive and finite, got {grad_max!r}")
    if theta_tables and builder is None:
        builder = default_builder

    if isinstance(table_or_format, GradientTable):
        table = table_or_format
        if table.meta.wrt != "u":
            raise ValueError("boolean_spike needs a wrt='u' table (the threshold's comes from the builder)")
        meta = table.meta
        for name, given, have in (
            ("comparator", comparator, meta.comparator),
            ("convention", convention, meta.convention),
        ):
            if given is not None and given != have:
                raise ValueError(f"{name}={given!r} disagrees with the table's {have!r}")
        if theta is not None and float(theta) not in (meta.theta_requested, meta.theta_used):
            raise ValueError(f"theta={theta!r} disagrees with the table's ({meta.theta_requested!r})")
        options = dict(
            comparator=meta.comparator,
            convention=meta.convention,
            exact_threshold=meta.exact_threshold,
            excluded_bits=meta.excluded_bits,
        )
        state = BooleanState(table.fmt, options, scale, grad_max, quantize_forward, theta_tables, builder)
        key = state._pattern(meta.theta_requested)
        table_t = None
        if theta_tables:
            table_t = builder(table.fmt, meta.theta_requested, wrt="theta", **options)
        state.tables[key] = (table, table_t)
        theta = meta.theta_requested
    else:
        if theta is None:
            raise ValueError("theta is required when building from a format (or pass a GradientTable)")
        fmt = parse_format(table_or_format)
        options = dict(
            comparator=comparator or "ge",
            convention=convention or "secant",
            exact_threshold=exact_threshold,
            excluded_bits=excluded_bits,
        )
        state = BooleanState(
            fmt, options, scale, grad_max, quantize_forward, theta_tables, builder or default_builder
        )
        state._tables(state._pattern(theta), theta)
    return Spike("boolean", BooleanFunction, theta, options["comparator"], state, learn_theta=learn_theta)


def load_table(path, **options) -> Spike:
    """Spike function from a table saved with :meth:`GradientTable.save` (any trainer).

    ``options`` are :func:`boolean_spike`'s (``scale``, ``quantize_forward``...).
    """
    return boolean_spike(GradientTable.load(path), **options)
