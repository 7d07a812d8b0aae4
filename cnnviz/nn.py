"""Thin layer classes over :mod:`cnnviz.functional`, with PyTorch-like names.

Every layer has ``forward(x)``, ``backward(dout) -> dx``, and ``.params`` / ``.grads`` dicts keyed
``"weight"`` / ``"bias"`` (empty for layers without parameters). ``backward`` *overwrites*
``.grads`` (no accumulation across calls); ``zero_grad()`` clears them, so an optimizer step
skips a parameter that received no gradient, as PyTorch does with ``grad=None``.

>>> model = Sequential(Conv2d(1, 8, 3, padding=1, seed=0), ReLU(), MaxPool2d(2),
...                    Flatten(), Linear(8 * 8 * 8, 4, seed=0))
>>> model.output_shapes((1, 16, 16))[0]
('conv1', (8, 16, 16), 80)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from cnnviz import functional as F
from cnnviz.functional import Pair, ShapeError

__all__ = [
    "ELU",
    "GELU",
    "AvgPool2d",
    "Conv2d",
    "Flatten",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
]

Seed = int | np.random.Generator | None
Shape = tuple[int, ...]


class Module:
    """Base class: a layer with ``params``, ``grads``, ``forward`` and ``backward``."""

    #: Prefix of the layer's display name in :meth:`Sequential.names` ("conv1", "fc2", ...).
    short_name = "layer"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def output_shape(self, shape: Shape) -> Shape:
        """Output shape for an input of ``shape`` (batch axis included), without running data."""
        return tuple(shape)

    def parameters(self) -> list[tuple[Module, str]]:
        """``(layer, name)`` pairs; the array is ``layer.params[name]``, its gradient
        ``layer.grads.get(name)``. Optimizers hold these pairs, not the arrays, because
        ``backward`` replaces the gradient arrays."""
        return [(self, name) for name in self.params]

    def num_parameters(self) -> int:
        return sum(int(p.size) for p in self.params.values())

    def zero_grad(self) -> None:
        self.grads.clear()

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _init_weight(
    shape: Shape, fan_in: int, fan_out: int, init: str, seed: Seed, dtype: Any
) -> np.ndarray:
    # He (Kaiming) normal keeps ReLU activations' variance steady; Xavier (Glorot) normal suits
    # sigmoid/tanh. Both are zero-mean Gaussians, like torch.nn.init.*_normal_.
    if init == "he":
        std = math.sqrt(2.0 / fan_in)
    elif init == "xavier":
        std = math.sqrt(2.0 / (fan_in + fan_out))
    else:
        raise ValueError(f"Unknown init {init!r}; choose 'he' or 'xavier'.")
    rng = np.random.default_rng(seed)  # an int, None or an existing Generator
    return (rng.standard_normal(shape) * std).astype(dtype)


class Conv2d(Module):
    """2-D convolution layer, weights ``(out_channels, in_channels, kh, kw)``, bias zeros.

    Input ``(N, in_channels, H, W)`` -> output ``(N, out_channels, H', W')`` with
    ``H' = floor((H + 2p - d(k - 1) - 1) / s) + 1``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or (int, int)
    bias : bool
    seed : int, numpy Generator or None
        Source of the initial weights.
    dtype : numpy dtype
        Parameter dtype (float32 for training, float64 for gradient checks).
    init : {"he", "xavier"}
        Zero-mean normal with std ``sqrt(2 / fan_in)`` or ``sqrt(2 / (fan_in + fan_out))``,
        ``fan_in = in_channels*kh*kw``, ``fan_out = out_channels*kh*kw``.
    """

    short_name = "conv"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = 1,
        padding: Pair = 0,
        dilation: Pair = 1,
        bias: bool = True,
        *, seed: Seed = None, dtype: Any = np.float32, init: str = "he",
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F._pair(kernel_size, "kernel size")
        self.stride = F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")
        self.dilation = F._pair(dilation, "dilation")
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.params["weight"] = _init_weight(
            shape, self.in_channels * kh * kw, self.out_channels * kh * kw, init, seed, dtype
        )
        if bias:
            self.params["bias"] = np.zeros(self.out_channels, dtype=dtype)
        self.need_input_grad = True  # Sequential turns this off for a first layer
        self._cache: dict[str, Any] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.conv2d_forward(
            x, self.params["weight"], self.params.get("bias"),
            self.stride, self.padding, self.dilation,
        )  # fmt: skip
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx, dw, db = F.conv2d_backward(dout, self._cache, need_dx=self.need_input_grad)
        self.grads["weight"] = dw
        if db is not None:
            self.grads["bias"] = db
        return dx

    def output_shape(self, shape: Shape) -> Shape:
        n, c, h, w = shape
        if c != self.in_channels:
            raise ShapeError(
                f"This layer expects {self.in_channels} input channels but gets {c}.",
                "channels",
                expected=self.in_channels,
                got=c,
            )
        (kh, kw), s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        return (n, self.out_channels, *F._out_hw(h, w, kh, kw, s, p, d))

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if "bias" not in self.params:
            text += ", bias=False"
        return text


class Linear(Module):
    """Fully connected layer ``out = x @ weight.T + bias``, weight ``(out_features, in_features)``.

    Input ``(N, in_features)`` -> output ``(N, out_features)``. ``seed``, ``dtype`` and ``init``
    as in :class:`Conv2d` (``fan_in = in_features``, ``fan_out = out_features``).
    """

    short_name = "fc"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: Seed = None,
        dtype: Any = np.float32,
        init: str = "he",
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.params["weight"] = _init_weight(
            (self.out_features, self.in_features),
            self.in_features, self.out_features, init, seed, dtype,
        )  # fmt: skip
        if bias:
            self.params["bias"] = np.zeros(self.out_features, dtype=dtype)
        self.need_input_grad = True
        self._cache: dict[str, Any] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx, dw, db = F.linear_backward(dout, self._cache)
        self.grads["weight"] = dw
        if db is not None:
            self.grads["bias"] = db
        return dx if self.need_input_grad else None

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 2 or shape[1] != self.in_features:
            got = int(np.prod(shape[1:]))
            raise ShapeError(
                f"This layer expects {self.in_features} input features but gets {got} "
                f"(shape {tuple(shape[1:])}).",
                "features",
                expected=self.in_features,
                got=got,
            )
        return (shape[0], self.out_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={'bias' in self.params}"
        )


class _Activation(Module):
    name = "relu"

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, Any] | None = None
        self.negative_slope = 0.01

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.activation_forward(x, self.name, self.negative_slope)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.activation_backward(dout, self._cache)


class ReLU(_Activation):
    """``max(0, x)`` elementwise."""

    name = short_name = "relu"


class LeakyReLU(_Activation):
    """``x if x > 0 else negative_slope * x`` elementwise."""

    name = short_name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` elementwise (its derivative is at most 0.25)."""

    name = short_name = "sigmoid"


class Tanh(_Activation):
    """``tanh(x)`` elementwise."""

    name = short_name = "tanh"


class ELU(_Activation):
    """``x if x > 0 else exp(x) - 1`` elementwise (alpha = 1)."""

    name = short_name = "elu"

    def extra_repr(self) -> str:
        return "alpha=1.0"


class Softplus(_Activation):
    """``log(1 + exp(x))`` elementwise."""

    name = short_name = "softplus"

    def extra_repr(self) -> str:
        return "beta=1.0, threshold=20.0"


class GELU(_Activation):
    """``x * Phi(x)`` elementwise, exact erf form."""

    name = short_name = "gelu"

    def extra_repr(self) -> str:
        return "approximate='none'"


class _Pool2d(Module):
    mode = "max"

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self._cache: dict[str, Any] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.pool2d_forward(
            x, self.kernel_size, self.stride, self.padding, self.mode
        )
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.pool2d_backward(dout, self._cache)

    @property
    def cache(self) -> dict[str, Any] | None:
        """The last forward's cache (max pooling: ``cache["argmax"]``, see
        :func:`cnnviz.functional.pool2d_argmax`)."""
        return self._cache

    def output_shape(self, shape: Shape) -> Shape:
        _, _, _, (ho, wo) = F._pool_geometry(shape, self.kernel_size, self.stride, self.padding)
        return (*shape[:-2], ho, wo)


class MaxPool2d(_Pool2d):
    """Max pooling; ``stride`` defaults to ``kernel_size``; padding counts as ``-inf``."""

    short_name = "maxpool"
    mode = "max"

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
            "dilation=1, ceil_mode=False"
        )


class AvgPool2d(_Pool2d):
    """Average pooling; ``stride`` defaults to ``kernel_size``; padded zeros count in the
    average (PyTorch's ``count_include_pad=True``)."""

    short_name = "avgpool"
    mode = "avg"

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class Flatten(Module):
    """``(N, C, H, W)`` -> ``(N, C*H*W)``, channel-major like ``torch.flatten(x, 1)``."""

    short_name = "flatten"

    def __init__(self) -> None:
        super().__init__()
        self._shape: Shape | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)

    def output_shape(self, shape: Shape) -> Shape:
        return (shape[0], int(np.prod(shape[1:])))

    def extra_repr(self) -> str:
        return "start_dim=1, end_dim=-1"


class Sequential(Module):
    """Layers applied in order; the container the trainer uses.

    Attributes
    ----------
    layers : list of Module
    activations : list of ndarray
        After ``forward(x, keep=True)``: the output of each layer, in order (feature maps for
        the inspection view). Empty otherwise.
    """

    short_name = "sequential"

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        self.layers: list[Module] = list(layers)
        self.activations: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def names(self) -> list[str]:
        """Display names numbered per kind: ``["conv1", "relu1", "maxpool1", "conv2", ...]``."""
        counts: dict[str, int] = {}
        names = []
        for layer in self.layers:
            counts[layer.short_name] = counts.get(layer.short_name, 0) + 1
            names.append(f"{layer.short_name}{counts[layer.short_name]}")
        return names

    def forward(self, x: np.ndarray, keep: bool = False) -> np.ndarray:
        """Run every layer. ``keep=True`` stores each layer's output in ``.activations``."""
        self.activations = []
        for layer in self.layers:
            x = layer.forward(x)
            if keep:
                self.activations.append(x)
        return x

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout`` (gradient of the loss w.r.t. the output) through every layer.

        Parameters
        ----------
        dout : ndarray
            Shaped like the last forward's output.
        need_input_grad : bool
            False lets the first layer skip its input gradient (training never uses it, and it
            is the most expensive part of a first conv's backward); then returns None.

        Returns
        -------
        ndarray or None
            Gradient w.r.t. the input of the last forward.
        """
        for i, layer in enumerate(reversed(self.layers)):
            first = i == len(self.layers) - 1
            if first and hasattr(layer, "need_input_grad"):
                layer.need_input_grad = need_input_grad
            dout = layer.backward(dout)
            if first and hasattr(layer, "need_input_grad"):
                layer.need_input_grad = True
        return dout

    def parameters(self) -> list[tuple[Module, str]]:
        """``(layer, name)`` pairs for every parameter, in layer order (see
        :meth:`Module.parameters`)."""
        return [pair for layer in self.layers for pair in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """``("0.weight", array), ("0.bias", array), ...`` with PyTorch's keys."""
        return [
            (f"{i}.{name}", array)
            for i, layer in enumerate(self.layers)
            for name, array in layer.params.items()
        ]

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.layers)

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def grad_norms(self) -> list[tuple[str, float]]:
        """L2 norm of each parameterised layer's gradient (weight and bias together).

        For the vanishing-gradient view: ``[("conv1", 0.03), ("conv2", 0.2), ("fc1", 1.1)]``.
        A layer with no gradient yet reports ``nan``.
        """
        result = []
        for name, layer in zip(self.names(), self.layers, strict=True):
            if not layer.params:
                continue
            grads = [g for g in layer.grads.values()]
            sq = sum(float(np.vdot(g, g)) for g in grads) if grads else math.nan
            result.append((name, math.sqrt(sq)))
        return result

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters keyed like PyTorch (``"0.weight"``), ready for ``np.savez``."""
        return {key: array.copy() for key, array in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy parameters in place (cast to each parameter's dtype); keys and shapes must match.

        Accepts the dict from :meth:`state_dict` or an ``np.load(...)`` of a saved ``.npz``.

        Raises
        ------
        KeyError
            When keys are missing or unexpected.
        ValueError
            When a shape differs.
        """
        own = dict(self.named_parameters())
        missing, unexpected = set(own) - set(state), set(state) - set(own)
        if missing or unexpected:
            raise KeyError(
                f"The saved weights do not match this model: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}."
            )
        for key, array in own.items():
            value = np.asarray(state[key])
            if value.shape != array.shape:
                raise ValueError(
                    f"Saved {key} has shape {value.shape}, the model needs {array.shape}."
                )
        for key, array in own.items():  # checked everything first: no half-loaded model
            np.copyto(array, np.asarray(state[key]), casting="unsafe")

    def output_shapes(self, input_shape: Shape) -> list[tuple[str, Shape, int]]:
        """Each layer's output shape and parameter count, computed without running data.

        Parameters
        ----------
        input_shape : tuple
            ``(C, H, W)`` (shapes come back without a batch axis) or ``(N, C, H, W)``.

        Returns
        -------
        list of (name, shape, n_params)
            ``name`` as in :meth:`names`.

        Raises
        ------
        ShapeError
            When a feature map would shrink below 1 x 1 (``code`` as in
            :func:`cnnviz.functional.output_size`), or channels / features do not match.
        """
        batched = len(input_shape) == 4
        shape = tuple(int(s) for s in input_shape)
        if not batched:
            shape = (1, *shape)
        rows = []
        for name, layer in zip(self.names(), self.layers, strict=True):
            shape = layer.output_shape(shape)
            rows.append((name, shape if batched else shape[1:], layer.num_parameters()))
        return rows

    def output_shape(self, shape: Shape) -> Shape:
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
