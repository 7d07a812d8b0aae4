"""Optimizers with torch.optim's update rules and defaults, updating parameters in place.

An optimizer holds ``model.parameters()``: ``(layer, name)`` pairs, reading the parameter from
``layer.params[name]`` and its gradient from ``layer.grads.get(name)`` at each :meth:`step`.
A parameter without a gradient is skipped (PyTorch's ``grad is None``). Updates happen in the
parameter's own dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SGD", "Adam", "Optimizer"]


class Optimizer:
    """Base class: ``zero_grad()`` and ``step()`` over a model's ``(layer, name)`` pairs."""

    def __init__(self, model: Any, lr: float, weight_decay: float = 0.0) -> None:
        if lr < 0:
            raise ValueError(f"The learning rate cannot be negative (got {lr}).")
        if weight_decay < 0:
            raise ValueError(f"The weight decay cannot be negative (got {weight_decay}).")
        self.model = model
        self.param_refs = list(model.parameters())
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.state: list[dict[str, Any]] = [{} for _ in self.param_refs]

    def zero_grad(self) -> None:
        """Forget all gradients (``set_to_none=True``, PyTorch's default)."""
        for layer, name in self.param_refs:
            layer.grads.pop(name, None)

    def _pairs(self):
        for i, (layer, name) in enumerate(self.param_refs):
            grad = layer.grads.get(name)
            if grad is None:
                continue
            p = layer.params[name]
            g = np.asarray(grad, dtype=p.dtype)
            if self.weight_decay:
                g = g + self.weight_decay * p  # L2 penalty folded into the gradient, as torch
            yield p, g, self.state[i]

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    ::

        g = grad + weight_decay * p
        buf = g                               (first step: buffer starts at the gradient)
        buf = momentum * buf + (1 - dampening) * g        (later steps)
        g = g + momentum * buf if nesterov else buf       (when momentum != 0)
        p -= lr * g

    Parameters
    ----------
    model : Sequential or layer
        Anything with ``parameters()`` returning ``(layer, name)`` pairs.
    lr : float
    momentum, dampening, weight_decay : float
        Default 0.
    nesterov : bool
        Needs ``momentum > 0`` and ``dampening == 0``.
    """

    def __init__(
        self,
        model: Any,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay)
        if momentum < 0:
            raise ValueError(f"The momentum cannot be negative (got {momentum}).")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs a momentum above 0 and zero dampening.")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for p, g, state in self._pairs():
            if self.momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
                else:
                    buf *= self.momentum
                    buf += (1.0 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * g


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (``amsgrad=False``).

    ::

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Parameters
    ----------
    model : Sequential or layer
    lr : float
        Default 1e-3.
    betas : (float, float)
        Default (0.9, 0.999).
    eps : float
        Default 1e-8.
    weight_decay : float
        Default 0 (L2 penalty, not AdamW's decoupled decay).
    """

    def __init__(
        self,
        model: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Both betas must lie in [0, 1) (got {betas}).")
        if eps < 0:
            raise ValueError(f"eps cannot be negative (got {eps}).")
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        b1, b2 = self.betas
        for p, g, state in self._pairs():
            if not state:
                state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
            state["step"] += 1
            t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            step_size = self.lr / (1.0 - b1**t)
            denom = np.sqrt(v) / math.sqrt(1.0 - b2**t) + self.eps
            p -= step_size * (m / denom)
