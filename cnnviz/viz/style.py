"""The one visual language every lesson uses (see CLASSROOM-UX.md).

- signed values (kernels, feature maps, gradients): diverging blue (negative) - white (zero) -
  red (positive), symmetric around 0, with the numeric range shown;
- images and non-negative maps: grayscale (true colour for RGB input);
- the moving window / current element: one highlight colour everywhere;
- each activation function keeps its colour on every chart.
"""

from __future__ import annotations

import numpy as np

from cnnviz.numbers import fmt  # noqa: F401 - the one formatter, used as style.fmt by figures

#: Diverging scale centred on 0: blue negative, white zero, red positive.
NEG_COLOR = "#2166ac"
ZERO_COLOR = "#ffffff"
POS_COLOR = "#b2182b"
DIVERGING = [[0.0, NEG_COLOR], [0.5, ZERO_COLOR], [1.0, POS_COLOR]]
GRAY = [[0.0, "#000000"], [1.0, "#ffffff"]]

#: The sliding window, the current output cell, the chosen (max) element: always this colour.
HIGHLIGHT = "#e6007e"
HIGHLIGHT_FILL = "rgba(230, 0, 126, 0.18)"
#: Cells that are zero padding (outside the real image).
PADDING_COLOR = "#d9d9d9"

#: One colour per activation function, the same on every chart and page.
ACTIVATION_COLORS: dict[str, str] = {
    "relu": "#1f77b4",
    "leaky_relu": "#9467bd",
    "sigmoid": "#ff7f0e",
    "tanh": "#2ca02c",
    "elu": "#8c564b",
    "softplus": "#7f7f7f",
    "gelu": "#17becf",
}
#: Colours for several kernels / channels / runs when there is no semantic colour.
SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f", "#bcbd22"]
CHANNEL_COLORS = {"R": "#d62728", "G": "#2ca02c", "B": "#1f77b4"}

FONT_SIZE = 15           # readable on a projector
CELL_FONT_SIZE = 16      # numbers printed in small grids
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def signed_limit(values: np.ndarray) -> float:
    """Symmetric colour limit for signed data: max |value|, never 0 (all-zero maps stay white)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    m = float(np.max(np.abs(finite))) if finite.size else 0.0
    return m if m > 0 else 1.0


def is_signed(values: np.ndarray) -> bool:
    """True when the data has negative values, so it needs the diverging scale."""
    values = np.asarray(values)
    return bool(values.size) and bool(np.nanmin(values) < 0)


def _hex_to_rgb(color: str) -> np.ndarray:
    color = color.lstrip("#")
    return np.array([int(color[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def colorize(values: np.ndarray, *, signed: bool, limit: float | None = None) -> np.ndarray:
    """Map a 2-D array to uint8 RGB (H, W, 3) with the shared scales.

    signed=True: diverging, ``-limit`` -> blue, 0 -> white, ``+limit`` -> red.
    signed=False: grayscale from the array's min to max (or 0..limit when given).
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v), v, 0.0)
    if signed:
        lim = limit if limit else signed_limit(v)
        u = np.clip(v / lim, -1.0, 1.0)
        neg, zero, pos = (_hex_to_rgb(c) for c in (NEG_COLOR, ZERO_COLOR, POS_COLOR))
        w = np.abs(u)[..., None]
        end = np.where((u < 0)[..., None], neg, pos)
        rgb = zero * (1 - w) + end * w
    else:
        lo = 0.0 if limit else float(v.min()) if v.size else 0.0
        hi = float(limit) if limit else float(v.max()) if v.size else 1.0
        span = hi - lo if hi > lo else 1.0
        g = np.clip((v - lo) / span, 0.0, 1.0) * 255.0
        rgb = np.repeat(g[..., None], 3, axis=-1)
    return np.round(rgb).astype(np.uint8)
