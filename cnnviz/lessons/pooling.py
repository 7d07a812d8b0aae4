"""The maths behind the pooling lesson: example maps, the window-by-window step sequence, real
feature maps pooled slice by slice, translation tolerance and global pooling.

Every pooled value comes from :func:`cnnviz.functional.pool2d_forward` (and the chosen element of
max pooling from its cache through :func:`cnnviz.functional.pool2d_argmax`); this module only
arranges the engine's results for the page. Pure NumPy, no UI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnviz import functional as F

# --------------------------------------------------------------------------------------------
# Example maps
# --------------------------------------------------------------------------------------------

#: A 4x4 picture with one 横折 stroke (across, then down) in its middle.
TURN_STROKE = np.array(
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float64
)
#: A 2x2 横折 detector: three taps, so a perfect match scores 3.
TURN_KERNEL = np.array([[1, 1], [0, 1]], dtype=np.float64)
#: A 4x4 map for 2x2 windows with stride 2 (the usual textbook example).
ARTICLE_4X4 = np.array(
    [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64
)


def turn_example() -> dict[str, Any]:
    """The 横折 example: stroke (4x4) -> 横折 kernel -> 3x3 feature map -> 3x3 pooling.

    Returns
    -------
    dict
        ``stroke`` (4, 4), ``kernel`` (2, 2), ``fmap`` (3, 3) from ``conv2d_image``, ``max`` and
        ``avg``: the single value that 3x3 max / average pooling keep (from ``pool2d_forward``),
        ``argmax`` ``(row, col)`` of the kept value in ``fmap``.
    """
    fmap = F.conv2d_image(TURN_STROKE, TURN_KERNEL)[0]
    mx, cache = F.pool2d_forward(fmap, 3, mode="max")
    av, _ = F.pool2d_forward(fmap, 3, mode="avg")
    rows, cols = F.pool2d_argmax(cache)
    return {
        "stroke": TURN_STROKE.copy(), "kernel": TURN_KERNEL.copy(), "fmap": fmap,
        "max": float(mx[0, 0]), "avg": float(av[0, 0]),
        "argmax": (int(rows[0, 0]), int(cols[0, 0])),
    }


def _ramp(n: int) -> np.ndarray:
    # A smooth bump plus a diagonal line: overlapping windows give visibly different maxima.
    r, c = np.mgrid[0:n, 0:n]
    bump = np.round(6 * np.exp(-((r - n / 3) ** 2 + (c - n / 2) ** 2) / n))
    return bump + 3 * (r == c)


def example_maps() -> dict[str, np.ndarray]:
    """The numeric grids the step-through offers (a teacher then edits them), all float64."""
    rng = np.random.default_rng(7)
    return {
        "article": ARTICLE_4X4.copy(),
        "turn": turn_example()["fmap"],
        "bump": _ramp(6),
        "random": rng.integers(0, 10, size=(8, 8)).astype(np.float64),
    }


# --------------------------------------------------------------------------------------------
# Geometry check with pooling-specific reasons
# --------------------------------------------------------------------------------------------


def in_range(value: object, lo: int, hi: int) -> bool:
    """True when ``value`` is a whole number from ``lo`` to ``hi`` (a setting from a widget or
    a link)."""
    try:
        return float(value).is_integer() and lo <= float(value) <= hi  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


#: The engine's ShapeError codes, named as this lesson's sentences (``pooling.err_<code>``).
ENGINE_CODES = {"size": "map", "kernel": "window", "stride": "stride", "padding": "padding",
                "pool_padding": "padding_half", "too_big": "too_big"}


def check_geometry(h: int, w: int, window: int, stride: int, padding: int) -> tuple | None:
    """Why a pooling setting cannot work, as ``(code, params)``, or None when it is fine.

    The engine decides (:func:`cnnviz.functional.pool2d_output_shape`, the rules
    :func:`~cnnviz.functional.pool2d_forward` applies); this maps its code to the lesson's:
    ``"map"`` (empty map), ``"window"`` (window < 1), ``"stride"`` (stride < 1), ``"padding"``
    (negative), ``"padding_half"`` (more than half the window: a window could see nothing but
    padding), ``"too_big"`` (window larger than the padded map). ``params`` fill the sentence.
    """
    try:
        F.pool2d_output_shape((h, w), window, stride, padding)
    except F.ShapeError as exc:
        if exc.code not in ENGINE_CODES:
            raise  # not a setting this lesson offers: the engine's own sentence (ui.errors)
        params = {"h": int(h), "w": int(w), "window": int(window), "stride": int(stride),
                  "padding": int(padding), "padded_h": int(h) + 2 * int(padding),
                  "padded_w": int(w) + 2 * int(padding)}
        return ENGINE_CODES[exc.code], params
    return None


# --------------------------------------------------------------------------------------------
# Step-through on a numeric grid
# --------------------------------------------------------------------------------------------


def step_sequence(grid: np.ndarray, window: int, stride: int, padding: int) -> dict[str, Any]:
    """Max and average pooling of one 2-D map, window by window, for the step-through.

    Parameters
    ----------
    grid : (H, W) array
    window, stride, padding : int
        Square window ``F``, stride ``S``, padding ``P`` on each side.

    Returns
    -------
    dict
        ``grid`` (H, W) float64; ``padded_max`` / ``padded_avg`` (H+2P, W+2P): the map as each
        mode sees it (padding ``-inf`` for max, ``0`` for average);
        ``max`` / ``avg`` (H', W') from ``pool2d_forward``; ``argmax_rows`` / ``argmax_cols``
        (H', W') the chosen element in *map* coordinates from the engine's cache;
        ``origins`` (H'*W', 2) top-left of each window in padded coordinates (row-major order
        of the output); ``terms_avg`` (H'*W', F*F) each window's values as average pooling
        sums them; ``terms_max`` the same for max pooling; ``out_shape`` (H', W');
        ``info_h`` / ``info_w`` from ``output_size_info``.
    """
    x = np.asarray(grid, dtype=np.float64)
    out_max, cache = F.pool2d_forward(x, window, stride, padding, mode="max")
    out_avg, _ = F.pool2d_forward(x, window, stride, padding, mode="avg")
    rows, cols = F.pool2d_argmax(cache)
    ho, wo = out_max.shape
    pad = ((padding, padding), (padding, padding))
    padded_max = np.pad(x, pad, constant_values=-np.inf)
    padded_avg = np.pad(x, pad, constant_values=0.0)
    sl = np.s_[: stride * (ho - 1) + 1 : stride, : stride * (wo - 1) + 1 : stride]
    k = window * window
    terms_avg = sliding_window_view(padded_avg, (window, window))[sl].reshape(ho * wo, k)
    terms_max = sliding_window_view(padded_max, (window, window))[sl].reshape(ho * wo, k)
    oi, oj = np.divmod(np.arange(ho * wo), wo)
    return {
        "grid": x, "padded_max": padded_max, "padded_avg": padded_avg,
        "max": np.array(out_max), "avg": np.array(out_avg),
        "argmax_rows": rows, "argmax_cols": cols,
        "origins": np.stack([oi * stride, oj * stride], axis=1),
        "terms_avg": np.ascontiguousarray(terms_avg), "terms_max": np.ascontiguousarray(terms_max),
        "out_shape": (ho, wo), "window": window, "stride": stride, "padding": padding,
        "info_h": F.output_size_info(x.shape[0], window, stride, padding),
        "info_w": F.output_size_info(x.shape[1], window, stride, padding),
    }


# --------------------------------------------------------------------------------------------
# Real feature maps: preset kernels (one per depth slice), activation, pooling
# --------------------------------------------------------------------------------------------

#: One 3x3 kernel per depth slice of the lesson's convolution layer.
KERNELS: dict[str, np.ndarray] = {
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),
    "diag_down": np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]], dtype=np.float32),
    "diag_up": np.array([[-1, -1, 2], [-1, 2, -1], [2, -1, -1]], dtype=np.float32),
}


def feature_stack(gray: np.ndarray, names: list[str] | tuple[str, ...], relu: bool = True
                  ) -> np.ndarray:
    """The picture through the chosen preset kernels (padding 1: same size), then ReLU.

    gray : (H, W) -> (C, H, W) float32, C = len(names), one depth slice per kernel.
    """
    if not names:
        raise ValueError("Choose at least one kernel.")
    ker = np.stack([KERNELS[n] for n in names])[:, None]  # (C, 1, 3, 3)
    maps = F.conv2d_image(np.asarray(gray, dtype=np.float32), ker, padding=1)
    if relu:
        maps, _ = F.activation_forward(maps, "relu")
    return np.ascontiguousarray(maps, dtype=np.float32)


def pool_stack(maps: np.ndarray, window: int, stride: int, padding: int = 0,
               mode: str = "max") -> np.ndarray:
    """Pool each depth slice of ``maps (C, H, W)`` on its own: ``(C, H', W')``."""
    out, _ = F.pool2d_forward(np.asarray(maps)[None], window, stride, padding, mode=mode)
    return np.ascontiguousarray(out[0])


def compression(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> dict[str, float]:
    """How much a pooling layer shrinks the data: values in/out, ratio, share kept."""
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    if n_in < 1 or n_out < 1:
        raise ValueError("Shapes must have at least one value.")
    return {"in": n_in, "out": n_out, "ratio": n_in / n_out, "kept": n_out / n_in}


def global_pool(maps: np.ndarray) -> dict[str, np.ndarray]:
    """Global max / average pooling: the window is the whole map, one number per channel.

    maps : (C, H, W) -> ``{"max": (C,), "avg": (C,)}``.
    """
    maps = np.asarray(maps)
    hw = maps.shape[-2:]
    return {mode: np.asarray(F.pool2d_forward(maps, hw, mode=mode)[0]).reshape(-1)
            for mode in ("max", "avg")}


# --------------------------------------------------------------------------------------------
# Translation tolerance
# --------------------------------------------------------------------------------------------

MAX_SHIFT = 3
DIRECTIONS = {"right": (0, 1), "down": (1, 0), "diagonal": (1, 1)}


def shifted_pair(img: np.ndarray, shift: int, direction: str = "right"
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Two crops of the same picture whose content differs by a shift of ``shift`` pixels.

    Both crops are real picture content (no wrapped or invented border): the first is the picture
    without its first ``MAX_SHIFT`` rows/columns, the second the same frame taken ``shift``
    pixels earlier, so its content appears moved right / down by ``shift``.
    """
    if not 0 <= shift <= MAX_SHIFT:
        raise ValueError(f"The shift must be between 0 and {MAX_SHIFT} pixels.")
    dr, dc = DIRECTIONS[direction]
    img = np.asarray(img)
    h, w = img.shape[-2:]
    m = MAX_SHIFT
    base = img[..., m * dr : h, m * dc : w]
    moved = img[..., (m - shift) * dr : h - shift * dr, (m - shift) * dc : w - shift * dc]
    return base, moved


def relative_change(a: np.ndarray, b: np.ndarray) -> float:
    """``sum |a - b| / sum |a|``: 0 when nothing changed; 0 as well for two all-zero maps."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    den = float(np.abs(a).sum())
    num = float(np.abs(a - b).sum())
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


def tolerance(gray: np.ndarray, names: list[str] | tuple[str, ...], window: int, stride: int,
              direction: str = "right", relu: bool = True) -> dict[str, np.ndarray]:
    """How much the feature maps and their pooled maps change when the picture moves 0..3 px.

    Returns ``shifts`` (0..MAX_SHIFT) and, per shift, ``feature`` / ``max`` / ``avg``: the
    relative change (:func:`relative_change`) of the feature maps, of the max-pooled maps and of
    the average-pooled maps.
    """
    shifts = np.arange(MAX_SHIFT + 1)
    base_maps = feature_stack(shifted_pair(gray, 0, direction)[0], names, relu)
    base_pooled = {m: pool_stack(base_maps, window, stride, mode=m) for m in ("max", "avg")}
    out: dict[str, list[float]] = {"feature": [], "max": [], "avg": []}
    for s in shifts:
        maps = feature_stack(shifted_pair(gray, int(s), direction)[1], names, relu)
        out["feature"].append(relative_change(base_maps, maps))
        for m in ("max", "avg"):
            out[m].append(relative_change(base_pooled[m], pool_stack(maps, window, stride, mode=m)))
    return {"shifts": shifts} | {k: np.array(v) for k, v in out.items()}
