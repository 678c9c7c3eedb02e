"""The shape every spike function shares: forward a comparator, backward ``dL/ds * g``.

* forward: ``s = [u >= theta]`` (``ge``) or ``[u > theta]`` (``gt``), a 0/1 tensor of ``u``'s
  dtype (NaN never fires); a rule may compare with another threshold (the Boolean rule uses the
  smallest value of ``u``'s dtype that spikes in its table's format);
* backward: ``dL/du = dL/ds * g(u)`` and, for a tensor ``theta`` that requires grad,
  ``dL/dtheta = sum dL/ds * g_theta(u)`` reduced to ``theta``'s shape.

A rule is a *state* object with two methods, ``spikes(u, theta, comparator)`` and
``backward(u, theta, grad_out, want_theta) -> (grad_u, g_theta or None)``, that call pure
functions.  Each rule has its own named, module-level :class:`SpikeFunction` subclass (clear
``grad_fn`` names; picklable by reference: no factory-made classes) and :class:`Spike` is the
``nn.Module`` users hold.  The Functions use ``setup_context``, so their forward is a plain
function that ``torch.func`` can trace.
"""

from __future__ import annotations

import inspect

import torch

__all__ = ["Spike", "SpikeFunction", "reduce_to", "spike_forward"]


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
    """``apply(u, theta, comparator, state)``: the rule is ``state`` (module doc)."""

    @staticmethod
    def forward(u, theta, comparator, state):
        return state.spikes(u, theta, comparator)

    @staticmethod
    def setup_context(ctx, inputs, output):
        u, theta, _, state = inputs
        theta_t = theta if isinstance(theta, torch.Tensor) else None
        ctx.save_for_backward(u, theta_t)
        ctx.theta = theta if theta_t is None else None
        ctx.state = state

    @staticmethod
    def backward(ctx, grad_out):
        u, theta_t = ctx.saved_tensors
        theta = theta_t if theta_t is not None else ctx.theta
        want_theta = theta_t is not None and ctx.needs_input_grad[1]
        grad_u, g_theta = ctx.state.backward(u, theta, grad_out, want_theta)
        grad_theta = None
        if want_theta:
            grad_theta = reduce_to(grad_out * g_theta, theta_t.shape).to(theta_t.dtype)
        return (grad_u if ctx.needs_input_grad[0] else None), grad_theta, None, None


# Function.apply binds arguments with inspect.signature on every call when setup_context is
# used; a precomputed __signature__ makes that lookup cheap.
SpikeFunction.forward.__signature__ = inspect.Signature(
    [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for n in ("u", "theta", "comparator", "state")
    ]
)


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
