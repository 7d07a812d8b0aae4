"""The convolution lesson's own maths: worked examples, the sliding sequence, size advice,
kernel presets and cell validation. Pure NumPy on top of :mod:`cnnviz.functional`.

Everything numeric comes from the engine (``conv2d_image``, ``conv2d_explain``,
``output_size_info``); this module only arranges it for teaching: which stops the kernel makes,
the arithmetic written out at each stop, why a geometry does not fit and what would fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnviz import functional as F
from cnnviz.numbers import fmt, fmt_ascii, fmt_factor

__all__ = [
    "ABSURD",
    "ARTICLE_IMAGE",
    "ARTICLE_KERNEL",
    "ARTICLE_MAP",
    "EXAMPLES",
    "KERNEL_PRESETS",
    "MAX_GRID",
    "MAX_KERNEL",
    "Slide",
    "Stop",
    "arithmetic",
    "axis_report",
    "check_matrix",
    "example",
    "formula_latex",
    "channel_lines",
    "is_flip_symmetric",
    "kernel_preset",
    "pad",
    "resize_matrix",
    "rgb_example",
    "slide",
]

#: The article's 5x5 binary picture and 3x3 kernel; the first stop gives 4.
ARTICLE_IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
    dtype=np.float64,
)
ARTICLE_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
#: The feature map the article reports for that pair (stride 1, no padding).
ARTICLE_MAP = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=np.float64)

#: Cells beyond this magnitude are treated as typing mistakes, not kernels.
ABSURD = 1000.0
#: The largest numeric grid the sliding view draws (numbers must stay readable).
MAX_GRID = 10
#: Kernel sizes offered by the editors.
MAX_KERNEL = 7

#: Worked examples for the sliding view: input, kernel, optional weight names, geometry.
EXAMPLES: dict[str, dict[str, Any]] = {
    "article": {"image": ARTICLE_IMAGE, "kernel": ARTICLE_KERNEL,
                "stride": 1, "padding": 0, "dilation": 1},
    # The article's 4x4 grid of 0..15 with a 2x2 kernel w1..w4: first stop w1*0+w2*1+w3*4+w4*5.
    "symbolic": {"image": np.arange(16, dtype=np.float64).reshape(4, 4),
                 "kernel": np.array([[1, 0], [0, 1]], dtype=np.float64),
                 "names": [["w1", "w2"], ["w3", "w4"]],
                 "stride": 1, "padding": 0, "dilation": 1},
    # 4x4 input, 3x3 kernel, one ring of zeros: the feature map stays 4x4.
    "same4": {"image": ARTICLE_IMAGE[:4, :4].copy(), "kernel": ARTICLE_KERNEL,
              "stride": 1, "padding": 1, "dilation": 1},
    # 5x5 kernel with padding 2 keeps a 5x5 input at 5x5.
    "same5": {"image": ARTICLE_IMAGE, "kernel": np.ones((5, 5), dtype=np.float64),
              "stride": 1, "padding": 2, "dilation": 1},
    # A 7x7 input with stride 2: the window jumps two cells, the map is 3x3.
    "stride2": {"image": np.pad(ARTICLE_IMAGE, 1), "kernel": ARTICLE_KERNEL,
                "stride": 2, "padding": 0, "dilation": 1},
}


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one worked example (arrays copied so callers may edit them)."""
    ex = EXAMPLES[name]
    out = dict(ex)
    out["image"] = np.array(ex["image"], dtype=np.float64)
    out["kernel"] = np.array(ex["kernel"], dtype=np.float64)
    out["names"] = ex.get("names")
    return out


def pad(x: np.ndarray, padding: int | tuple[int, int]) -> np.ndarray:
    """Zero-pad the last two axes of ``x`` by ``padding`` on each side (the visible border)."""
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    widths = [(0, 0)] * (np.ndim(x) - 2) + [(int(ph), int(ph)), (int(pw), int(pw))]
    return np.pad(np.asarray(x, dtype=np.float64), widths)


# --------------------------------------------------------------------------------------------
# Writing numbers and sums
# --------------------------------------------------------------------------------------------


def arithmetic(
    window: np.ndarray,
    kernel: np.ndarray,
    names: list[list[str]] | None = None,
    bias: float = 0.0,
) -> list[str]:
    """The dot product at one stop, written out term by term, one line per kernel row.

    ``window`` and ``kernel`` are ``(kh, kw)``. Terms read "input×weight" as in the article
    (``1×1 + 1×0 + ...``); with weight ``names`` they read "w1×0 + w2×1 + ..." and a second
    group of lines repeats them with the numbers. The last line ends with ``= value``.
    """
    win, ker = np.asarray(window, np.float64), np.asarray(kernel, np.float64)
    value = float(np.sum(win * ker) + bias)
    kh, kw = ker.shape

    def rows(term) -> list[str]:
        out = [" + ".join(term(r, c) for c in range(kw)) for r in range(kh)]
        return [line if r == 0 else "+ " + line for r, line in enumerate(out)]

    lines = rows(lambda r, c: f"{fmt_factor(win[r, c])}×{fmt_factor(ker[r, c])}")
    if names is not None:
        numeric = rows(lambda r, c: f"{fmt_factor(ker[r, c])}×{fmt_factor(win[r, c])}")
        lines = rows(lambda r, c: f"{names[r][c]}×{fmt_factor(win[r, c])}")
        lines += ["= " + numeric[0]] + numeric[1:]
    if bias:
        lines.append(f"+ {fmt_factor(bias)}")
    lines[-1] += f" = {fmt(value)}"
    return lines


# --------------------------------------------------------------------------------------------
# The sliding sequence
# --------------------------------------------------------------------------------------------


@dataclass
class Stop:
    """One position of the kernel: output cell ``(i, j)`` and the padded cells it reads."""

    i: int
    j: int
    rows: np.ndarray          # (kh,) tap rows in padded coordinates
    cols: np.ndarray          # (kw,) tap columns in padded coordinates
    window: np.ndarray        # (C, kh, kw) values under the taps
    products: np.ndarray      # (C, kh, kw)
    channel_sums: np.ndarray  # (C,)
    value: float


@dataclass
class Slide:
    """Everything the sliding view draws for one kernel over one small input."""

    padded: np.ndarray        # (C, Hp, Wp) the input with its border of zeros
    kernel: np.ndarray        # (C, kh, kw) the kernel as applied (flipped when flip=True)
    bias: float
    out: np.ndarray           # (H', W') the feature map, from the engine
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    stops: list[Stop] = field(default_factory=list)


def channel_lines(stop: Stop, kernel: np.ndarray, names: tuple[str, ...]) -> tuple[list[str], str]:
    """Per channel "R: 1×0 + ... = 2" (one line each) and the channel sums "2 + (−1) + 3"."""
    lines = [f"{name}: " + " ".join(arithmetic(stop.window[c], kernel[c]))
             for c, name in enumerate(names)]
    return lines, " + ".join(fmt_factor(v) for v in stop.channel_sums)


def _as_chw(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[None] if x.ndim == 2 else x


def slide(
    image: np.ndarray,
    kernel: np.ndarray,
    bias: float = 0.0,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    flip: bool = False,
) -> Slide:
    """The kernel's path from top-left to bottom-right, row by row, one :class:`Stop` per output.

    Parameters
    ----------
    image : (H, W) or (C, H, W)
    kernel : (kh, kw) or (C, kh, kw), one kernel (a 2-D kernel is used on every channel)
    bias, stride, padding, dilation, flip : as in :func:`cnnviz.functional.conv2d_explain`

    Raises
    ------
    cnnviz.functional.ShapeError
        When the geometry does not fit (the engine's own check).
    """
    img = _as_chw(image)
    out = F.conv2d_image(img, kernel if np.ndim(kernel) == 2 else np.asarray(kernel)[None],
                         bias, stride, padding, dilation, flip=flip)[0]
    res = Slide(padded=pad(img, padding), kernel=np.zeros(0), bias=float(bias), out=out,
                stride=(int(stride),) * 2, padding=(int(padding),) * 2,
                dilation=(int(dilation),) * 2)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            ex = F.conv2d_explain(img, kernel, bias, i, j, stride, padding, dilation, flip=flip)
            res.stops.append(Stop(i, j, ex["rows"], ex["cols"], ex["window"], ex["products"],
                                  ex["channel_sums"], ex["value"]))
    ex0 = F.conv2d_explain(img, kernel, bias, 0, 0, stride, padding, dilation, flip=flip)
    res.kernel = ex0["kernel"]
    return res


# --------------------------------------------------------------------------------------------
# The output-size formula, and advice when it does not fit
# --------------------------------------------------------------------------------------------


def axis_report(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> dict:
    """The formula ``(W + 2P - F)/S + 1`` along one axis, with why and how to fix a misfit.

    Returns a dict with the inputs ``W F S P D``, ``span`` (``D(F-1)+1``, the effective kernel),
    ``padded`` (``W + 2P``), ``numerator`` (``W + 2P - span``) and ``status``:

    * ``"ok"`` - fits exactly; ``value`` is the output size;
    * ``"not_exact"`` - ``numerator / S`` is not whole: ``value`` is the engine's rounded-down
      size, ``quotient`` the exact fraction, ``skipped`` the padded cells no window reaches,
      ``fix_padding`` the smallest larger padding that fits exactly (or None) and
      ``fix_stride`` the largest smaller stride that fits exactly;
    * an engine code (``"stride"``, ``"padding"``, ``"dilation"``, ``"kernel"``, ``"size"``,
      ``"too_big"``) - no output at all; for ``"too_big"``, ``fix_padding`` is the padding
      that would make room and ``max_kernel`` the largest kernel that fits now.
    """
    w, f, s, p, d = (int(v) for v in (size, kernel, stride, padding, dilation))
    span = d * (f - 1) + 1
    rep: dict[str, Any] = {"W": w, "F": f, "S": s, "P": p, "D": d, "span": span,
                           "padded": w + 2 * p, "numerator": w + 2 * p - span, "value": None}
    try:
        info = F.output_size_info(w, f, s, p, d)
    except F.ShapeError as exc:
        rep["status"] = exc.code
        if exc.code == "too_big":
            rep["fix_padding"] = math.ceil((span - w) / 2)
            rep["max_kernel"] = (w + 2 * p - 1) // d + 1 if d >= 1 else None
        return rep
    rep["value"] = info["value"]
    rep["quotient"] = info["numerator"] / s
    if info["exact"]:
        rep["status"] = "ok"
        return rep
    rep["status"] = "not_exact"
    rep["skipped"] = info["remainder"]
    rep["fix_padding"] = next((q for q in range(p + 1, p + s + 1)
                               if (w + 2 * q - span) % s == 0), None)
    rep["fix_stride"] = max(t for t in range(1, s) if info["numerator"] % t == 0)
    return rep


# --------------------------------------------------------------------------------------------
# Kernels for pictures
# --------------------------------------------------------------------------------------------

#: Preset names in the order the editor offers them.
KERNEL_PRESETS: tuple[str, ...] = ("identity", "box", "gaussian", "sharpen", "sobel_x",
                                   "sobel_y", "laplacian", "outline", "emboss", "random")
#: Presets that need at least this size to mean anything (an edge detector needs neighbours).
_MIN_SIZE = {"sharpen": 3, "sobel_x": 2, "sobel_y": 2, "laplacian": 3, "outline": 3,
             "emboss": 2}


def _binomial(n: int) -> np.ndarray:
    row = np.ones(1)
    for _ in range(n - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _identity(n: int) -> np.ndarray:
    k = np.zeros((n, n))
    k[n // 2, n // 2] = 1.0
    return k


def kernel_preset(name: str, size: int = 3, seed: int = 0) -> np.ndarray:
    """A classic image kernel of side ``size`` (raised to the preset's minimum when smaller).

    Larger sizes generalise the 3x3 classics: Sobel = binomial smoothing times a binomial
    derivative (``[-1, 0, 1]`` -> ``[-1, -2, 0, 2, 1]``), Gaussian = binomial outer product,
    outline = ``-1`` everywhere and ``n*n - 1`` in the centre, sharpen = 2 x identity minus the
    Gaussian (3x3: the classic ``[[0,-1,0],[-1,5,-1],[0,-1,0]]``), emboss = a signed diagonal
    ramp plus the identity, random = seeded normal weights rounded to 2 decimals.
    """
    if name not in KERNEL_PRESETS:
        raise ValueError(f"Unknown kernel preset {name!r}; choose one of {KERNEL_PRESETS}.")
    n = max(int(size), _MIN_SIZE.get(name, 1))
    if not 1 <= n <= MAX_KERNEL:
        raise ValueError(f"Kernel size must be 1..{MAX_KERNEL}, got {size}.")
    if name == "identity":
        return _identity(n)
    if name == "box":
        return np.full((n, n), 1.0 / (n * n))
    if name == "gaussian":
        g = _binomial(n)
        return np.outer(g, g) / g.sum() ** 2
    if name == "sharpen":
        if n == 3:
            return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64)
        g = _binomial(n)
        return 2 * _identity(n) - np.outer(g, g) / g.sum() ** 2
    if name in ("sobel_x", "sobel_y"):
        smooth = _binomial(n)
        deriv = np.array([-1.0, 1.0]) if n == 2 else np.convolve(_binomial(n - 2), [-1, 0, 1])
        k = np.outer(smooth, deriv)
        return k if name == "sobel_x" else k.T.copy()
    if name == "laplacian":
        k = np.zeros((n, n))
        c = n // 2
        k[c, c] = -4.0
        k[c - 1, c] = k[c + 1, c] = k[c, c - 1] = k[c, c + 1] = 1.0
        return k
    if name == "outline":
        k = -np.ones((n, n))
        k[n // 2, n // 2] = n * n - 1
        return k
    if name == "emboss":
        r, c = np.indices((n, n))
        return np.sign(r + c - (n - 1)) * np.minimum(abs(r + c - (n - 1)), 2.0) + _identity(n)
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0.0, 1.0, (n, n)), 2)


def resize_matrix(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Grow or shrink a grid around its centre, keeping the cells that still fit (new: 0)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros((int(rows), int(cols)))
    h, w = v.shape
    # centre-aligned overlap in both grids
    r0s, r0d = max(0, (h - rows) // 2), max(0, (rows - h) // 2)
    c0s, c0d = max(0, (w - cols) // 2), max(0, (cols - w) // 2)
    n_r, n_c = min(h, rows), min(w, cols)
    out[r0d:r0d + n_r, c0d:c0d + n_c] = v[r0s:r0s + n_r, c0s:c0s + n_c]
    return out


def check_matrix(values: Any, limit: float = ABSURD) -> tuple[np.ndarray | None, str | None]:
    """Validate a grid typed by a student: ``(array, None)`` or ``(None, reason)``.

    Reasons: ``"blank"`` (an empty or non-numeric cell: None / NaN), ``"absurd"`` (infinite or
    larger in size than ``limit``), ``"empty"`` (no cells at all).
    """
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None, "blank"
    if arr.size == 0:
        return None, "empty"
    if np.isnan(arr).any():
        return None, "blank"
    if not np.isfinite(arr).all() or np.abs(arr).max() > limit:
        return None, "absurd"
    return arr, None


def is_flip_symmetric(kernel: np.ndarray) -> bool:
    """True when rotating the kernel by 180 degrees leaves it unchanged (flip changes nothing)."""
    k = np.asarray(kernel)
    return bool(np.allclose(k, k[..., ::-1, ::-1]))


# --------------------------------------------------------------------------------------------
# The colour (multi-channel) example
# --------------------------------------------------------------------------------------------


def rgb_example(seed: int = 0, kernels: int = 2, size: int = 5, ksize: int = 3) -> dict:
    """A small 3-channel integer picture, ``kernels`` 3-channel kernels and their biases.

    Input values 0..2, weights -1..1, biases 0..1 (as in CS231n's demo), so every partial sum
    can be checked by hand. Seeded: the same ``seed`` always gives the same numbers.
    """
    rng = np.random.default_rng(int(seed))
    return {
        "image": rng.integers(0, 3, (3, size, size)).astype(np.float64),
        "kernels": rng.integers(-1, 2, (int(kernels), 3, ksize, ksize)).astype(np.float64),
        "bias": rng.integers(0, 2, int(kernels)).astype(np.float64),
    }


def formula_latex(rep: dict) -> str:
    """The output-size formula with the numbers of :func:`axis_report` substituted (KaTeX).

    ``(W + 2P - F)/S + 1`` (with dilation, F is the effective size ``D(F-1)+1``), then the
    numbers, then the result: a whole number, a fraction rounded down, or where it breaks.
    """
    w, f, s, p, d = rep["W"], rep["F"], rep["S"], rep["P"], rep["D"]
    fe = str(f) if d == 1 else rep["span"]
    head = r"\dfrac{W + 2P - F}{S} + 1"
    if d > 1:
        head = rf"F' = D(F-1)+1 = {d}({f}-1)+1 = {rep['span']},\quad \dfrac{{W + 2P - F'}}{{S}} + 1"
    sub = rf"\dfrac{{{w} + 2 \times {p} - {fe}}}{{{s}}} + 1"
    num = rep["numerator"]
    if s < 1:
        return rf"{head} = {sub} = \dfrac{{{num}}}{{{s}}} + 1 \;\Rightarrow\; ?"
    exact = num / s + 1
    tail = rf"= \dfrac{{{num}}}{{{s}}} + 1 = {fmt_ascii(exact)}"
    if rep.get("status") == "not_exact":
        tail += rf" \;\Rightarrow\; \lfloor {fmt_ascii(num / s)} \rfloor + 1 = "
        tail += str(rep["value"])
    elif rep.get("value") is None:
        tail += r" \;\Rightarrow\; \times"
    return f"{head} = {sub} {tail}"
