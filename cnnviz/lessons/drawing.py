"""Draw your own input: a canvas drawing -> the network's input, its verdict, its feature maps.

The canvas (ui/drawing.py) hands over an RGBA array ``(H, W, 4)`` uint8. Students draw bright
strokes on a dark canvas, like the training data; a light canvas with dark ink is inverted,
and transparent pixels count as no ink. The net's input is then made exactly as an uploaded
picture is (:func:`cnnviz.datasets.preprocess_for`):

- ``"shapes"`` (16x16 strokes): the whole canvas is shrunk by box averaging, so the stroke
  *keeps its place*. The training strokes sit anywhere in the square, so the net has learned
  every position, and the feature maps show the same kernel answering wherever the stroke is
  (weight sharing).
- ``"digits"`` (8x8, UCI): the ink's bounding box is cropped with a small margin and scaled to
  fill the square, as UCI size-normalised every digit.

No Streamlit and no plotly here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnviz import datasets, models, nn

__all__ = [
    "BRUSH",
    "CANVAS_SIDE",
    "DrawingError",
    "STROKE_KERNELS",
    "block_maps",
    "classify",
    "ink",
    "stroke_kernel",
    "to_input",
]

#: The canvas is square and this many CSS pixels wide: it fits Streamlit's sidebar (about
#: 270 px of content) and a phone held upright.
CANVAS_SIDE = 240
#: Brush width in canvas pixels per data set. Training strokes are 1 to 2 pixels thick on a
#: 16-pixel square, so 1.5 x 240 / 16 = 22 px; UCI digits are cropped to their box first, and
#: a pen about a tenth of a 200-px digit's height matches their 4x4-count blur.
BRUSH = {"shapes": 22, "digits": 20}
#: Below this much ink (a pixel's brightness, 0..1) the canvas counts as empty.
INK_THRESHOLD = 0.1
#: Fewer inked pixels than this (at canvas size) is a stray tap, not a stroke.
MIN_INK_PIXELS = 4


#: Kernels that find the four strokes of the "shapes" data set (the convolution page offers
#: them as presets): 横 horizontal, 竖 vertical, 横折 turn (across, then down at the right
#: end), 撇 left-falling (top right to bottom left).
STROKE_KERNELS: tuple[str, ...] = ("stroke_h", "stroke_v", "stroke_turn", "stroke_slant")
#: The smallest kernel in which a turn's two arms and its surroundings both fit.
STROKE_MIN_SIZE = 3


def stroke_kernel(name: str, size: int = 3) -> np.ndarray:
    """An ``n x n`` kernel (``n = max(size, 3)``) that answers 1 to its stroke, one pixel thick,
    bright on black, and 0 to a flat patch.

    The stroke's ``k`` cells weigh ``1 / k``; the other cells share ``-1`` (each
    ``-1 / (n*n - k)``), so the weights sum to 0. A turn is the top row and the right column
    (its corner sits at the kernel's top right).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    n = max(int(size), STROKE_MIN_SIZE)
    r, c = np.indices((n, n))
    masks = {
        "stroke_h": r == n // 2,
        "stroke_v": c == n // 2,
        "stroke_turn": (r == 0) | (c == n - 1),
        "stroke_slant": r + c == n - 1,
    }
    if name not in masks:
        raise ValueError(f"Unknown stroke kernel {name!r}; choose one of {STROKE_KERNELS}.")
    mask = masks[name]
    k = int(mask.sum())
    return np.where(mask, 1.0 / k, -1.0 / (n * n - k))


class DrawingError(ValueError):
    """A drawing the network cannot be asked about.

    ``code`` is ``"draw_empty"``: no ink at all (nothing drawn, a cleared canvas, an all-white
    or all-black or fully transparent picture). ``params`` is empty.
    """

    def __init__(self, code: str = "draw_empty", **params: Any) -> None:
        super().__init__("The canvas is empty: draw a stroke first.")
        self.code = code
        self.params = params


def ink(rgba: np.ndarray | None) -> np.ndarray:
    """How much ink each canvas pixel holds, bright on dark.

    Parameters
    ----------
    rgba : np.ndarray or None
        ``(H, W, 4)`` uint8 (or float in ``[0, 1]``), or ``(H, W, 3)`` / ``(H, W)``.

    Returns
    -------
    np.ndarray
        ``(H, W)`` float32 in ``[0, 1]``. On a mostly transparent canvas, the opacity (any
        colour of paint is ink); otherwise BT.601 brightness times opacity, inverted when the
        opaque part is mostly light (dark ink on light paper).

    Raises
    ------
    DrawingError
        ``"draw_empty"`` when there is no canvas or no ink on it.
    """
    if rgba is None:
        raise DrawingError()
    a = np.asarray(rgba)
    if a.size == 0 or a.ndim not in (2, 3):
        raise DrawingError()
    a = a.astype(np.float32)
    if np.issubdtype(np.asarray(rgba).dtype, np.integer):
        a /= 255.0
    a = np.nan_to_num(np.clip(a, 0.0, 1.0))
    if a.ndim == 2:
        gray, alpha = a, np.ones_like(a)
    else:
        rgb = a[..., :3] if a.shape[2] >= 3 else np.repeat(a[..., :1], 3, axis=2)
        gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        alpha = a[..., 3] if a.shape[2] == 4 else np.ones_like(gray)
    opaque = alpha > 0.5
    if np.mean(opaque) < 0.5:
        # a transparent canvas: whatever was painted on it is ink, whatever its colour
        out = alpha
    else:
        if float(gray[opaque].mean()) > 0.5:
            gray = 1.0 - gray
        out = gray * alpha
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    if np.count_nonzero(out > INK_THRESHOLD) < MIN_INK_PIXELS:
        raise DrawingError()
    return out


def to_input(rgba: np.ndarray | None, dataset_name: str) -> np.ndarray:
    """The drawing as one input of a net trained on ``dataset_name``.

    Parameters
    ----------
    rgba : np.ndarray or None
        The canvas, see :func:`ink`.
    dataset_name : {"shapes", "digits"}

    Returns
    -------
    np.ndarray
        ``(1, 1, S, S)`` float32 in ``[0, 1]``, S = 16 (shapes, position kept) or 8 (digits,
        cropped to the ink).

    Raises
    ------
    DrawingError
        When the canvas holds no ink.
    """
    return datasets.preprocess_for(dataset_name, ink(rgba))


def classify(model: nn.Sequential, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Softmax probabilities ``(K,)`` (float64) and the predicted class of one input ``x``
    ``(1, C, H, W)``."""
    outs = models.trace(model, x)
    models.drop_caches(model)
    probs = models.softmax(outs[-1][1])[0]
    return probs, int(np.argmax(probs))


def block_maps(model: nn.Sequential, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each conv block's feature maps for ``x`` ``(1, C, H, W)``: the activation's output
    (what the block passes on, before pooling), ``[(name, (C, H', W')), ...]`` in order."""
    outs = models.trace(model, x)
    models.drop_caches(model)
    maps, after_conv = [], False
    for name, arr in outs:
        if name.startswith("conv"):
            after_conv = True
        elif after_conv:
            maps.append((name, np.asarray(arr[0], dtype=np.float32)))
            after_conv = False
    return maps
