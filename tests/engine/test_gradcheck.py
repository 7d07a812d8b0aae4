"""Centred-difference gradient checks in float64 (CS231n gradient_check.py style).

Every analytic backward is compared with ``sum((out(x + h) - out(x - h)) * dout) / 2h`` for a
fixed random ``dout`` (scalar losses: a fourth-order centred stencil, see :func:`numeric_grad`);
the CS231n relative error ``max |a - n| / max(1e-8, |a| + |n|)`` must stay <= 1e-7.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from cnnviz import functional as F
from cnnviz import nn

TOL = 1e-7


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """CS231n: elementwise relative error ``|a - b| / max(floor, |a| + |b|)``, worst element."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b)), initial=0))


def numeric_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d f / d x for a scalar ``f``, perturbing ``x`` in place one element at a time.

    Uses the fourth-order centred stencil ``(-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h``:
    for a scalar loss of size ~1 the plain ``(f(x+h) - f(x-h)) / 2h`` cannot resolve a 1e-4
    gradient to 1e-7 relative (rounding ~eps/h meets truncation ~h^2), while this stencil's
    h^4 truncation allows a larger h.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        values = []
        for step in (2, 1, -1, -2):
            x[i] = old + step * h
            values.append(f())
        x[i] = old
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def numeric_grad_array(
    forward: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """d sum(forward() * dout) / d x, differencing the *outputs* before summing (CS231n's
    eval_numerical_gradient_array): outputs that ``x[i]`` does not touch cancel exactly."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.array(forward(), copy=True)
        x[i] = old - h
        minus = np.array(forward(), copy=True)
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def check(
    forward: Callable[[], np.ndarray], dout: np.ndarray, pairs, h: float = 1e-5, floor: float = 0
) -> None:
    """Assert each (array, analytic grad) pair matches the numeric gradient of sum(out*dout).

    ``floor`` (a fraction of the largest gradient entry) keeps entries far smaller than the
    rest, whose numeric estimate is pure rounding noise, from deciding the result.
    """
    for name, (array, analytic) in pairs.items():
        num = numeric_grad_array(forward, array, dout, h)
        err = rel_error(analytic, num, max(1e-8, floor * float(np.abs(analytic).max())))
        assert err <= TOL, f"{name}: relative error {err:.2e}"


def spaced(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct values at least 0.1 apart (no ties, no flips of a max under +-h)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.01, n)).reshape(shape)


CONV_GEOMETRIES = [
    # stride, padding, dilation
    (1, 0, 1),
    (1, 1, 1),
    (2, 0, 1),
    (2, 1, 1),
    (1, 2, 2),
    (3, 1, 2),
    ((1, 2), (0, 1), (2, 1)),
    ((2, 1), (2, 0), 1),
]


@pytest.mark.parametrize(("stride", "padding", "dilation"), CONV_GEOMETRIES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(stride, padding, dilation, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4) if bias else None
    out, cache = F.conv2d_forward(x, w, b, stride, padding, dilation)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    pairs = {"x": (x, dx), "w": (w, dw)}
    if bias:
        pairs["b"] = (b, db)
    else:
        assert db is None
    check(lambda: F.conv2d_forward(x, w, b, stride, padding, dilation)[0], dout, pairs)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, None, 0), (3, 2, 1), (3, 1, 0), ((2, 3), (1, 2), (1, 1))]
)
def test_pool2d(mode, kernel, stride, padding):
    rng = np.random.default_rng(1)
    x = spaced(rng, (2, 3, 6, 7))
    out, cache = F.pool2d_forward(x, kernel, stride, padding, mode)
    dout = rng.standard_normal(out.shape)
    dx = F.pool2d_backward(dout, cache)
    check(lambda: F.pool2d_forward(x, kernel, stride, padding, mode)[0], dout, {"x": (x, dx)})


def test_linear():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    out, cache = F.linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.linear_backward(dout, cache)
    check(lambda: F.linear_forward(x, w, b)[0], dout, {"x": (x, dx), "w": (w, dw), "b": (b, db)})


@pytest.mark.parametrize("name", F.ACTIVATIONS)
def test_activation(name):
    rng = np.random.default_rng(3)
    # Keep away from the kink at 0 (relu, leaky_relu, elu), where no derivative exists.
    x = rng.uniform(0.1, 3, (3, 8)) * rng.choice([-1, 1], (3, 8))
    out, cache = F.activation_forward(x, name, 0.05)
    dout = rng.standard_normal(out.shape)
    dx = F.activation_backward(dout, cache)
    check(lambda: F.activation_forward(x, name, 0.05)[0], dout, {"x": (x, dx)})


def test_softmax_cross_entropy():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    _, d = F.softmax_cross_entropy(logits, y)
    num = numeric_grad(lambda: F.softmax_cross_entropy(logits, y)[0], logits)
    assert rel_error(d, num) <= TOL


# ------------------------------------------------------------------ nn layers


def layer_check(layer: nn.Module, x: np.ndarray, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    pairs = {"x": (x, dx)}
    pairs.update({name: (p, layer.grads[name]) for name, p in layer.params.items()})
    check(lambda: layer.forward(x), dout, pairs)


@pytest.mark.parametrize(
    "layer",
    [
        nn.Conv2d(2, 3, 3, seed=0, dtype=np.float64),
        nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, dilation=(1, 2), seed=0, dtype=np.float64),
        nn.Conv2d(2, 3, 1, bias=False, seed=0, dtype=np.float64, init="xavier"),
    ],
    ids=repr,
)
def test_conv_layer(layer):
    layer_check(layer, np.random.default_rng(6).standard_normal((2, 2, 6, 5)))


def test_linear_layer():
    layer_check(
        nn.Linear(6, 4, seed=0, dtype=np.float64), np.random.default_rng(7).standard_normal((3, 6))
    )


@pytest.mark.parametrize(
    "layer",
    [
        nn.ReLU(),
        nn.LeakyReLU(0.1),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.ELU(),
        nn.Softplus(),
        nn.GELU(),
        nn.MaxPool2d(2),
        nn.MaxPool2d(3, stride=1, padding=1),
        nn.AvgPool2d(2),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Flatten(),
    ],
    ids=repr,
)
def test_parameter_free_layers(layer):
    rng = np.random.default_rng(8)
    if isinstance(layer, nn.MaxPool2d):
        x = spaced(rng, (2, 2, 5, 6))  # no ties
    else:  # away from activation kinks at 0, in the range where derivatives are not tiny
        x = rng.uniform(0.1, 2.5, (2, 2, 5, 6)) * rng.choice([-1, 1], (2, 2, 5, 6))
    layer_check(layer, x)


def test_whole_sequential_with_loss():
    """End to end: every parameter of a small net against the numeric gradient of the loss."""
    rng = np.random.default_rng(9)
    kw = {"dtype": np.float64}
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, seed=1, **kw), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3, stride=2, padding=1, seed=2, **kw), nn.Tanh(), nn.AvgPool2d(2, 1),
        nn.Flatten(), nn.Linear(4, 3, seed=3, **kw), nn.Sigmoid(), nn.Linear(3, 3, seed=4, **kw),
    )  # fmt: skip
    x = rng.standard_normal((4, 2, 8, 8))
    y = np.array([0, 1, 2, 1])
    _, d = F.softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(d)
    grads = {
        key: model.layers[int(key[0])].grads[key[2:]].copy() for key, _ in model.named_parameters()
    }
    # Chain rule: dL/dtheta = J^T dL/dlogits, the gradient of sum(logits(theta) * d) at this
    # point, so differencing the logits (not the scalar loss) checks the same numbers with far
    # less rounding error. softmax_cross_entropy's own gradient is checked above.
    pairs = {"x": (x, dx)}
    pairs.update({key: (p, grads[key]) for key, p in model.named_parameters()})
    # A deep net has entries 1e-4 of the largest (saturated sigmoid/tanh paths); their numeric
    # estimate carries ~1e-12 of rounding, so they are compared against 1e-3 of the scale.
    check(lambda: model.forward(x), d, pairs, floor=1e-3)
