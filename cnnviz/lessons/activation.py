"""The maths behind the activation lesson: curves and derivatives, rectified feature maps,
vanishing gradients along a chain and through a small deep network.

Every derivative here comes from the engine's backward pass (``activation_backward`` with an
upstream gradient of ones), never from a second formula, so what the page plots is exactly
what training uses. Pure NumPy; no streamlit, no plotly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from cnnviz import functional as F
from cnnviz import nn

#: The lesson's order: the article's four first, then the modern ones.
NAMES: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu")

#: Longest x range a curve may span, and how many points draw it.
MAX_SPAN = 100.0
CURVE_POINTS = 401

#: Preset 3x3 kernels for the rectified feature map (cross-correlation, as in CNNs).
KERNELS: dict[str, np.ndarray] = {
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "blur": np.full((3, 3), 1.0 / 9.0, dtype=np.float32),
}

#: Which weight initialisation each activation is usually paired with ("matched" init):
#: Xavier (Glorot) for the S-shaped functions, He (Kaiming) for the ReLU family.
MATCHED_INIT = {"sigmoid": "xavier", "tanh": "xavier"}
INITS: tuple[str, ...] = ("matched", "he", "xavier")

#: Facts for the summary table. ``f_bounds`` / ``df_bounds`` are the infimum and supremum of
#: f and f' over the real line (tests check them against the engine); the text columns are
#: maths notation, the same in every language. ``alpha`` stands for the Leaky ReLU slope.
PROPERTIES: dict[str, dict[str, Any]] = {
    "sigmoid": {"formula": "1 / (1 + e⁻ˣ)", "range": "(0, 1)", "d_range": "(0, 1/4]",
                "f_bounds": (0.0, 1.0), "df_bounds": (0.0, 0.25), "zero_centred": "no"},
    "tanh": {"formula": "(eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)", "range": "(−1, 1)", "d_range": "(0, 1]",
             "f_bounds": (-1.0, 1.0), "df_bounds": (0.0, 1.0), "zero_centred": "yes"},
    "relu": {"formula": "max(0, x)", "range": "[0, ∞)", "d_range": "{0, 1}",
             "f_bounds": (0.0, np.inf), "df_bounds": (0.0, 1.0), "zero_centred": "no"},
    "leaky_relu": {"formula": "max(αx, x)", "range": "(−∞, ∞)", "d_range": "{α, 1}",
                   "f_bounds": (-np.inf, np.inf), "df_bounds": ("alpha", 1.0),
                   "zero_centred": "nearly"},
    "elu": {"formula": "x (x > 0);  eˣ − 1 (x ≤ 0)", "range": "(−1, ∞)", "d_range": "(0, 1]",
            "f_bounds": (-1.0, np.inf), "df_bounds": (0.0, 1.0), "zero_centred": "nearly"},
    "softplus": {"formula": "ln(1 + eˣ)", "range": "(0, ∞)", "d_range": "(0, 1)",
                 "f_bounds": (0.0, np.inf), "df_bounds": (0.0, 1.0), "zero_centred": "no"},
    "gelu": {"formula": "x · Φ(x)", "range": "≈ [−0.17, ∞)", "d_range": "≈ [−0.13, 1.13]",
             "f_bounds": (-0.170, np.inf), "df_bounds": (-0.129, 1.129), "zero_centred": "no"},
}


class LessonError(ValueError):
    """A setting the lesson cannot use; ``code`` names the catalogue sentence to show."""

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise LessonError(f"Unknown activation {name!r}.", "unknown")


def forward_and_derivative(
    x: np.ndarray, name: str, alpha: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and ``f'(x)``, both from the engine: forward, then backward with ``dout = 1``.

    ``x`` any shape, ``name`` one of :data:`NAMES`, ``alpha`` leaky ReLU's negative slope
    (ignored by the others); ``f`` and ``df`` are shaped like ``x``.
    """
    _check_name(name)
    out, cache = F.activation_forward(x, name, negative_slope=alpha)
    return out, F.activation_backward(np.ones_like(out), cache)


@dataclass(frozen=True)
class Curve:
    """One activation sampled on a grid: ``x``, ``f`` and ``df`` all shape (n,)."""

    x: np.ndarray
    f: np.ndarray
    df: np.ndarray


def curve_grid(lo: float, hi: float, n: int = CURVE_POINTS) -> np.ndarray:
    """``n`` evenly spaced points on [lo, hi], plus 0 when it lies inside (the kinks sit there).

    Raises
    ------
    LessonError
        ``code="range"`` when ``lo >= hi``, either is not finite, or the span exceeds
        :data:`MAX_SPAN`.
    """
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi or hi - lo > MAX_SPAN:
        raise LessonError(f"Cannot draw over [{lo}, {hi}].", "range", lo=lo, hi=hi)
    x = np.linspace(lo, hi, int(n))
    if lo < 0 < hi:
        x = np.union1d(x, [0.0])
    return x


def curves(names: list[str], lo: float, hi: float, alpha: float = 0.01) -> dict[str, Curve]:
    """Each chosen activation and its derivative over [lo, hi] (float64)."""
    x = curve_grid(lo, hi)
    result = {}
    for name in names:
        f, df = forward_and_derivative(x, name, alpha)
        result[name] = Curve(x, f, df)
    return result


def saturation_zones(x: np.ndarray, df: np.ndarray, eps: float) -> list[tuple[float, float]]:
    """Intervals of ``x`` where the curve is (nearly) flat: ``|f'(x)| < eps``.

    Contiguous runs of grid points; each interval runs from its first to its last point.
    """
    flat = np.abs(np.asarray(df)) < eps
    if not flat.any():
        return []
    edges = np.diff(np.concatenate([[0], flat.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(float(x[a]), float(x[b])) for a, b in zip(starts, stops, strict=True)]


@lru_cache(maxsize=64)
def steepest_point(name: str, alpha: float = 0.01) -> tuple[float, float, float]:
    """Where ``f'`` is largest on [-10, 10] (a fine grid that contains 0): ``(x, f, f')``.

    For sigmoid this is ``(0, 1/2, 1/4)``: no input lets a gradient pass more than a quarter.
    """
    x = curve_grid(-10.0, 10.0, 20001)
    f, df = forward_and_derivative(x, name, alpha)
    i = int(np.argmax(df))
    return float(x[i]), float(f[i]), float(df[i])


# --------------------------------------------------------------------------------------------
# Rectified feature maps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Counts of the non-zero values in ``bins`` bins, plus the exactly-zero count apart."""

    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # (bins,) of int
    zeros: int
    total: int


def histogram(values: np.ndarray, bins: int = 60) -> Histogram:
    """Histogram of a map that keeps the values that are *exactly* zero in their own count.

    ReLU sends every negative input to exactly 0; counted among small positives they would
    hide in the first bin.
    """
    v = np.asarray(values).ravel()
    v = v[np.isfinite(v)]
    nonzero = v[v != 0]
    if nonzero.size:
        lo, hi = float(nonzero.min()), float(nonzero.max())
    else:
        lo, hi = -1.0, 1.0
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(nonzero, bins=bins, range=(lo, hi))
    return Histogram(edges, counts, int(v.size - nonzero.size), int(v.size))


def conv_map(gray: np.ndarray, kernel: str, bias: float = 0.0) -> np.ndarray:
    """The gray picture cross-correlated with a preset kernel, plus a bias.

    No padding: zeros around a photo would look like a strong edge along its border and
    dominate the colour scale, so the map is ``(H - 2, W - 2)``.

    Parameters
    ----------
    gray : (H, W) float array in [0, 1], at least 3x3
    kernel : str
        A key of :data:`KERNELS`.

    Returns
    -------
    (H - 2, W - 2) float32
    """
    if kernel not in KERNELS:
        raise LessonError(f"Unknown kernel {kernel!r}.", "unknown")
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 3:
        raise LessonError(f"Expected a gray (H, W) picture of 3x3 or more, got {g.shape}.",
                          "image")
    return F.conv2d_image(g, KERNELS[kernel], bias=float(bias))[0]


def colour_limit(*maps: np.ndarray, q: float = 99.5) -> float:
    """One symmetric colour limit for several signed maps: the ``q``-th percentile of |value|.

    A few extreme pixels would otherwise wash every other value out to white; hover still
    shows the exact values. Never 0.
    """
    v = np.concatenate([np.abs(np.asarray(m, dtype=np.float64)).ravel() for m in maps])
    v = v[np.isfinite(v)]
    lim = float(np.percentile(v, q)) if v.size else 0.0
    return lim if lim > 0 else (float(v.max()) if v.size and v.max() > 0 else 1.0)


def rectify(
    gray: np.ndarray, kernel: str, name: str, alpha: float = 0.01, bias: float = 0.0,
    bins: int = 60,
) -> dict[str, Any]:
    """Convolve, then apply the activation: the maps, their histograms and who is zero.

    Returns
    -------
    dict
        ``before`` / ``after`` (H-2, W-2) float32 maps; ``limit`` one colour limit for both
        (see :func:`colour_limit`); ``hist_before`` / ``hist_after``
        :class:`Histogram`; shares in [0, 1]: ``negative`` (before < 0), ``zero_after``
        (after == 0 exactly), ``no_grad`` (f'(before) == 0: no gradient flows back through
        that unit), ``relu_zero`` (what ReLU would set to exactly 0).
    """
    before = conv_map(gray, kernel, bias)
    after, grad = forward_and_derivative(before, name, alpha)
    relu_out, _ = F.activation_forward(before, "relu")
    return {
        "before": before,
        "after": after,
        "limit": colour_limit(before, after),
        "hist_before": histogram(before, bins),
        "hist_after": histogram(after, bins),
        "negative": float(np.mean(before < 0)),
        "zero_after": float(np.mean(after == 0)),
        "no_grad": float(np.mean(grad == 0)),
        "relu_zero": float(np.mean(relu_out == 0)),
    }


# --------------------------------------------------------------------------------------------
# Vanishing gradients
# --------------------------------------------------------------------------------------------


def chain_products(
    names: list[str], depth: int, z: float = 1.0, spread: float = 0.0, seed: int = 0,
    alpha: float = 0.01,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The chain rule along ``depth`` units in a row: ``prod_{i<=n} f'(z_i)`` for n = 1..depth.

    Each unit sits at the pre-activation ``z_i = z + spread * N(0, 1)`` (the same ``z_i`` for
    every activation, so the comparison is fair). With ``spread = 0`` the product is
    ``f'(z)^n``. Sigmoid's factor is at most 1/4, so its product is at most ``(1/4)^n``.

    Returns
    -------
    zs : (depth,) the pre-activations used
    products : {name: (depth,) cumulative products}
    """
    depth = int(depth)
    if depth < 1:
        raise LessonError("The chain needs at least one unit.", "depth")
    rng = np.random.default_rng(int(seed))
    zs = float(z) + float(spread) * rng.standard_normal(depth)
    products = {}
    for name in names:
        _, df = forward_and_derivative(zs, name, alpha)
        products[name] = np.cumprod(df)
    return zs, products


def quarter_bound(depth: int) -> np.ndarray:
    """Sigmoid's ceiling ``(1/4)^n`` for n = 1..depth."""
    return 0.25 ** np.arange(1, int(depth) + 1, dtype=np.float64)


def _activation_layer(name: str, alpha: float) -> nn.Module:
    layers = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "elu": nn.ELU,
              "softplus": nn.Softplus, "gelu": nn.GELU}
    return nn.LeakyReLU(alpha) if name == "leaky_relu" else layers[name]()


def deep_net(
    name: str, layers: int, width: int = 64, in_features: int = 32, classes: int = 4,
    seed: int = 0, init: str = "matched", alpha: float = 0.01,
) -> nn.Sequential:
    """``layers`` x (Linear(width) + activation), then Linear(classes); float64.

    The weights come from ``seed`` alone, so two activations get the same random directions
    (only the init's scale differs).
    """
    _check_name(name)
    if init not in INITS:
        raise LessonError(f"Unknown init {init!r}.", "unknown")
    scheme = MATCHED_INIT.get(name, "he") if init == "matched" else init
    rng = np.random.default_rng(int(seed))
    mods: list[nn.Module] = []
    for i in range(int(layers)):
        mods.append(nn.Linear(in_features if i == 0 else width, width, seed=rng,
                              dtype=np.float64, init=scheme))
        mods.append(_activation_layer(name, alpha))
    mods.append(nn.Linear(width if layers else in_features, classes, seed=rng, dtype=np.float64,
                          init=scheme))
    return nn.Sequential(*mods)


def deep_grad_norms(
    names: list[str], layers: int = 8, seed: int = 0, init: str = "matched",
    alpha: float = 0.01, width: int = 64, batch: int = 64,
) -> tuple[list[str], dict[str, np.ndarray]]:
    """One forward and backward pass of :func:`deep_net` on random inputs and labels.

    The same inputs ``x ~ N(0, 1)`` of shape (batch, 32) and random labels in [0, 4) for
    every activation; softmax cross-entropy loss.

    Returns
    -------
    layer_names : ["fc1", ..., "fc{layers+1}"] (fc1 next to the input)
    norms : {name: (layers + 1,) L2 norm of each Linear layer's weight+bias gradient}
    """
    layers = int(layers)
    if not 1 <= layers <= 32:
        raise LessonError(f"Depth {layers} is out of range.", "depth")
    data = np.random.default_rng(int(seed) + 7919)  # inputs independent of the weights
    x = data.standard_normal((int(batch), 32))
    y = data.integers(0, 4, int(batch))
    norms, layer_names = {}, []
    for name in names:
        model = deep_net(name, layers, width, 32, 4, seed, init, alpha)
        _, dlogits = F.softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits, need_input_grad=False)
        pairs = model.grad_norms()
        layer_names = [p[0] for p in pairs]
        norms[name] = np.array([p[1] for p in pairs])
    return layer_names, norms


def orders_of_magnitude(norms: np.ndarray) -> float:
    """``log10(first / last)``: how many orders of magnitude the gradient lost on its way
    from the output layer back to the first layer (negative = it shrank)."""
    n = np.asarray(norms, dtype=np.float64)
    if n.size < 2 or not (n[0] > 0 and n[-1] > 0):
        return float("nan")
    return float(np.log10(n[0] / n[-1]))
