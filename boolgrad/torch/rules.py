"""Gradient rules: one pure backward function, one ``torch.autograd.Function``, one registry.

Every spike function in :mod:`boolgrad.torch` has the same shape:

* forward: the comparator, ``s = [u >= theta]`` (``ge``) or ``[u > theta]`` (``gt``), as a
  0/1 tensor of ``u``'s dtype;
* backward: ``dL/du = dL/ds * g``, and when ``theta`` is a tensor that requires grad,
  ``dL/dtheta = sum dL/ds * g_theta`` reduced to ``theta``'s shape.

A *rule* supplies ``g`` (and ``g_theta``) as a pure function of the saved input.  Each rule gets
its own ``autograd.Function`` subclass (made by :func:`make_function`, using ``setup_context``
so the forward stays a plain function that ``torch.func`` and ``vmap`` can trace), and a small
factory registered in :data:`RULES` by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch

__all__ = ["RULES", "SpikeFunction", "make_function", "reduce_to", "register", "spike_forward"]

#: name -> factory returning a spike callable (filled by surrogates.py and boolean.py)
RULES: dict[str, Callable] = {}


def register(*names: str):
    """Decorator: register a factory under one or more names."""

    def deco(factory):
        for n in names:
            if n in RULES:
                raise ValueError(f"gradient rule {n!r} is registered twice")
            RULES[n] = factory
        return factory

    return deco


def spike_forward(u: torch.Tensor, theta, comparator: str) -> torch.Tensor:
    """``[u >= theta]`` or ``[u > theta]`` as ``u``'s dtype (NaN never fires)."""
    s = torch.ge(u, theta) if comparator == "ge" else torch.gt(u, theta)
    return s.to(u.dtype)


def reduce_to(grad: torch.Tensor, shape) -> torch.Tensor:
    """Sum a broadcast gradient back to ``shape`` (the inverse of broadcasting)."""
    shape = torch.Size(shape)
    if grad.shape == shape:
        return grad
    lead = grad.dim() - len(shape)
    grad = grad.sum(dim=tuple(range(lead))) if lead > 0 else grad
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(dim=dims, keepdim=True) if dims else grad


class SpikeFunction(torch.autograd.Function):
    """Base of every rule's Function (made by :func:`make_function`).

    A rule gives ``grads(u, theta, state, want_theta) -> (g, g_theta or None)``: ``g`` (in
    ``u``'s dtype) multiplies the incoming gradient for ``u``, ``g_theta`` the one for a tensor
    ``theta``.  ``threshold(u, theta, state)``, if given, replaces what the comparator compares
    with (the Boolean rule compares with the smallest value of ``u``'s dtype that spikes in the
    table's format, as ``u >= t``).
    """

    @staticmethod
    def setup_context(ctx, inputs, output):
        u, theta, _, state = inputs
        theta_t = theta if isinstance(theta, torch.Tensor) else None
        ctx.save_for_backward(u, theta_t)
        ctx.theta = theta if theta_t is None else None
        ctx.state = state


_FORWARD_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for n in ("u", "theta", "comparator", "state")
    ]
)


def make_function(name: str, grads: Callable, threshold: Callable | None = None) -> type[SpikeFunction]:
    """A ``SpikeFunction`` subclass for one rule (its own class: clear autograd graph names)."""

    if threshold is None:

        def forward(u, theta, comparator, state):
            return spike_forward(u, theta, comparator)

    else:

        def forward(u, theta, comparator, state):
            t = threshold(u, theta, state)
            if isinstance(t, tuple):  # [t_lo, t_hi): values above t_hi overflow onto NaN
                return (torch.ge(u, t[0]) & torch.lt(u, t[1])).to(u.dtype)
            return spike_forward(u, t, "ge")

    # Function.apply binds arguments with inspect.signature on every call when setup_context is
    # used; a precomputed __signature__ makes that lookup cheap.
    forward.__signature__ = _FORWARD_SIGNATURE

    def backward(ctx, grad_out):
        u, theta_t = ctx.saved_tensors
        theta = theta_t if theta_t is not None else ctx.theta
        want_theta = theta_t is not None and ctx.needs_input_grad[1]
        g, g_theta = grads(u, theta, ctx.state, want_theta)
        grad_u = g.mul_(grad_out) if ctx.needs_input_grad[0] else None  # g is a new tensor: reuse it
        grad_theta = None
        if want_theta:
            grad_theta = reduce_to(grad_out * g_theta, theta_t.shape).to(theta_t.dtype)
        return grad_u, grad_theta, None, None

    body = {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "grads": staticmethod(grads),
        "__doc__": grads.__doc__,
    }
    return type(f"{name}Spike", (SpikeFunction,), body)


class Spike(torch.nn.Module):
    """A spike function ``spike(u) -> 0/1 tensor`` with its gradient rule (any rule).

    ``theta`` is a float, or a tensor (a learnable ``nn.Parameter`` when made with
    ``learn_theta=True``; any tensor broadcastable to ``u`` otherwise).  ``spike(u, theta)``
    overrides the stored threshold for one call -- neurons that own their thresholds use this.
    """

    def __init__(
        self, name: str, function: type[SpikeFunction], theta, comparator: str, state, learn_theta=False
    ):
        super().__init__()
        if comparator not in ("ge", "gt"):
            raise ValueError(f"comparator must be 'ge' or 'gt', got {comparator!r}")
        self.name = name
        self.function = function
        self.comparator = comparator
        self.state = state
        if learn_theta:
            self.theta = torch.nn.Parameter(torch.as_tensor(theta, dtype=torch.float32).clone())
        elif isinstance(theta, torch.nn.Parameter):
            self.theta = theta
        elif isinstance(theta, torch.Tensor):
            self.register_buffer("theta", theta)
        else:
            self.theta = theta

    def forward(self, u: torch.Tensor, theta=None) -> torch.Tensor:
        theta = self.theta if theta is None else theta
        return self.function.apply(u, theta, self.comparator, self.state)

    def extra_repr(self) -> str:
        theta = self.theta.detach().tolist() if isinstance(self.theta, torch.Tensor) else self.theta
        return f"{self.name}, theta={theta}, comparator={self.comparator!r}, {self.state}"
