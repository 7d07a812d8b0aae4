"""Figures of the trainer page: data preview, live curves, gradient norms, kernels, feature
maps, the FC layer's inputs and outputs, the confusion matrix, misclassified examples.

Pure builders: arrays and already-translated texts in, ``go.Figure`` out. Colours follow
``style``: each activation keeps its colour (``style.ACTIVATION_COLORS``), signed values use
the diverging scale, images and non-negative maps grayscale.

The live curves are redrawn several times a second for every training student, so figures
are built in one go from plain dicts (about ten times cheaper than ``update_layout`` calls);
the shared look comes from :func:`cnnviz.viz.figures.layout_dict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from cnnviz.viz import style
from cnnviz.viz.figures import from_parts, layout_dict, png_data_uri, to_u8

__all__ = [
    "bars_figure",
    "confusion_figure",
    "examples_figure",
    "grad_figure",
    "lines_figure",
    "mosaic",
    "mosaic_figure",
    "preview_figure",
    "vector_figure",
]

#: Line styles: test accuracy solid, training accuracy dotted (colour = activation or run).
DASH = {"test": "solid", "train": "dot"}
GRID = "#eeeeee"
_HIDDEN_AXIS = {"showticklabels": False, "showgrid": False, "zeroline": False, "showline": False,
                "ticks": ""}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    """The shared layout (fonts, margins, white background: ``figures.layout_dict``) plus
    ``extra``."""
    return _merge(layout_dict(title, int(height)), extra)


def _legend_below() -> dict[str, Any]:
    return {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0,
            "font": {"size": style.FONT_SIZE - 2}}


def _finite(x: Any, y: Any, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    ok = np.isfinite(y) & (y > 0) if positive else np.isfinite(y)
    return x[ok], y[ok]


def lines_figure(
    lines: Sequence[dict[str, Any]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    y_range: tuple[float, float] | None = None,
    height: int = 340,
    validate: bool = False,
) -> go.Figure:
    """Curves on shared axes. Each line: ``name``, ``x``, ``y``, optional ``color``, ``dash``,
    ``width``, ``markers`` (dots at the measured points, for sparse curves). Non-finite y values
    are dropped (a diverged run never draws NaN)."""
    data = []
    for i, line in enumerate(lines):
        x, y = _finite(line["x"], line["y"], positive=log_y)
        data.append({
            "type": "scatter", "x": x, "y": y, "name": line["name"],
            "mode": "lines+markers" if line.get("markers") else "lines",
            "marker": {"size": 6},
            "line": {"color": line.get("color") or style.SERIES[i % len(style.SERIES)],
                     "dash": line.get("dash", "solid"), "width": line.get("width", 2.5)},
            "hovertemplate": f"{line['name']}<br>{x_title}: %{{x:.3g}}<br>{y_title}: %{{y}}"
                             "<extra></extra>",
        })  # fmt: skip
    yaxis = {"title": {"text": y_title}, "showgrid": True, "gridcolor": GRID,
             "type": "log" if log_y else "linear"}
    if y_range is not None:
        yaxis["range"] = list(y_range)
    layout = _layout(
        title, height, showlegend=len(lines) > 1, legend=_legend_below(), uirevision="keep",
        xaxis={"title": {"text": x_title}, "showgrid": True, "gridcolor": GRID,
               "rangemode": "tozero"},
        yaxis=yaxis,
    )  # fmt: skip
    return _fast_figure(data, layout, validate)


def _fast_figure(data: list, layout: dict, validate: bool) -> go.Figure:
    # The live charts are rebuilt several times a second per training student; plotly's
    # property validation is most of that cost, so it is skipped there. Tests build the same
    # figures with validate=True, which would reject any property plotly does not know.
    return go.Figure(data=data, layout=layout) if validate else from_parts(data, layout)


def grad_figure(
    members: Sequence[dict[str, Any]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    height: int = 340,
    validate: bool = False,
) -> go.Figure:
    """Per-layer gradient norms over training, log scale.

    ``members``: ``name``, ``color``, ``x`` and ``grad`` (``{"conv1": [...], ...}``). With one
    member, every layer shares one panel (a colour per layer); with several, one panel per
    layer and a colour per member, so the same layer can be compared across activations.
    """
    layers: list[str] = []
    for m in members:
        layers += [k for k in m["grad"] if k not in layers]
    if len(members) <= 1 or not layers:  # one net, or nothing measured yet
        lines = [{"name": name, "x": m["x"], "y": m["grad"].get(name, []),
                  "color": style.SERIES[j % len(style.SERIES)]}
                 for m in members for j, name in enumerate(layers)]
        return lines_figure(lines, title=title, x_title=x_title, y_title=y_title, log_y=True,
                            height=height, validate=validate)
    cols = max(1, len(layers))
    gap = 0.04
    width = (1 - gap * (cols - 1)) / cols
    data, axes, notes = [], {}, []
    for j, name in enumerate(layers):
        suffix = "" if j == 0 else str(j + 1)
        lo = j * (width + gap)
        axes[f"xaxis{suffix}"] = {"domain": [lo, lo + width], "anchor": f"y{suffix}",
                                  "title": {"text": x_title}, "showgrid": True,
                                  "gridcolor": GRID}
        axes[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "type": "log", "showgrid": True,
                                  "gridcolor": GRID, "showticklabels": j == 0}
        if j:
            axes[f"yaxis{suffix}"]["matches"] = "y"
        notes.append({"text": name, "x": lo + width / 2, "y": 1.0, "xref": "paper",
                      "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                      "showarrow": False, "font": {"size": style.FONT_SIZE}})
        for m in members:
            x, y = _finite(m["x"], m["grad"].get(name, []), positive=True)
            data.append({
                "type": "scatter", "x": x, "y": y, "mode": "lines", "name": m["name"],
                "legendgroup": m["name"], "showlegend": j == 0, "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}", "line": {"color": m["color"], "width": 2.2},
                "hovertemplate": f"{m['name']} · {name}<br>{x_title}: %{{x:.3g}}<br>"
                                 f"{y_title}: %{{y}}<extra></extra>",
            })  # fmt: skip
    axes["yaxis"]["title"] = {"text": y_title}
    layout = _layout(title, height, legend=_legend_below(), uirevision="keep",
                     annotations=notes, **axes)
    layout["margin"]["t"] = 70
    return _fast_figure(data, layout, validate)


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """Tile ``(K, H, W)`` into one 2-D array, ``cols`` per row, NaN between tiles."""
    tiles = np.asarray(tiles, dtype=np.float32)
    k, h, w = tiles.shape
    cols = max(1, min(cols, k))
    rows = -(-k // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(k):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[i]
    return out


def _image_axes(**y: Any) -> dict[str, Any]:
    return {"xaxis": {**_HIDDEN_AXIS, "constrain": "domain"},
            "yaxis": {**_HIDDEN_AXIS, "autorange": "reversed", "scaleanchor": "x",
                      "scaleratio": 1, "constrain": "domain", **y}}


def _scale(values: np.ndarray, signed: bool) -> tuple[float, float, list]:
    if signed:
        lim = style.signed_limit(values)
        return -lim, lim, style.DIVERGING
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    return lo, (hi if hi > lo else lo + 1.0), style.GRAY


def mosaic_figure(
    tiles: np.ndarray,
    *,
    title: str,
    cols: int = 8,
    signed: bool | None = None,
    tile_label: str = "#",
    value_label: str = "value",
    text: bool | None = None,
    width_px: int = 800,
    max_height: int = 560,
) -> go.Figure:
    """Several small maps (kernels, feature-map channels) in one grid with one shared scale,
    so they can be compared: diverging for signed values, grayscale otherwise. Hovering shows
    which tile, the position and the value; small grids print their numbers."""
    tiles = np.asarray(tiles, dtype=np.float32)
    k, h, w = tiles.shape
    signed = style.is_signed(tiles) if signed is None else signed
    grid = mosaic(tiles, cols)
    ones = np.ones_like(tiles)
    ids = mosaic(ones * (np.arange(k, dtype=np.float32)[:, None, None] + 1), cols)
    rows_ = mosaic(ones * np.arange(h, dtype=np.float32)[None, :, None], cols)
    cols_ = mosaic(ones * np.arange(w, dtype=np.float32)[None, None, :], cols)
    zmin, zmax, scale = _scale(tiles, signed)
    # about how many pixels one cell gets; numbers are printed only where they fit
    cell = min(width_px / grid.shape[1], (max_height - 70) / grid.shape[0])
    text = (cell >= 46) if text is None else text
    trace: dict[str, Any] = {
        "type": "heatmap", "z": grid, "zmin": zmin, "zmax": zmax, "colorscale": scale,
        "showscale": True, "colorbar": {"thickness": 12, "len": 0.9},
        "customdata": np.dstack([ids, rows_, cols_]),
        "hovertemplate": f"{tile_label} %{{customdata[0]:.0f}} · (%{{customdata[1]:.0f}}, "
                         f"%{{customdata[2]:.0f}})<br>{value_label}: %{{z}}<extra></extra>",
    }  # fmt: skip
    if text:
        fmt = np.vectorize(style.fmt)
        trace["text"] = np.where(np.isfinite(grid), fmt(np.nan_to_num(grid)), "")
        trace["texttemplate"] = "%{text}"
        trace["textfont"] = {"size": style.CELL_FONT_SIZE - 3, "color": "#111111"}
    # as tall as the grid is at about ``width_px`` wide: no empty band above or below
    height = min(max_height, max(150, 70 + int(width_px * grid.shape[0] / grid.shape[1])))
    return go.Figure(data=[trace], layout=_layout(title, height, **_image_axes()))


def preview_figure(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str,
    per_class: int = 10,
) -> go.Figure:
    """The first ``per_class`` examples of each class, one row per class, class names left."""
    x = np.asarray(x)
    side = x.shape[-1]
    rows = []
    for k in range(len(class_names)):
        idx = np.flatnonzero(np.asarray(y) == k)[:per_class]
        tiles = np.zeros((per_class, side, side), np.float32)
        tiles[: len(idx)] = x[idx, 0]
        rows.append(mosaic(tiles, per_class))
    gap = np.full((1, rows[0].shape[1]), 1.0, np.float32)  # a white line between the classes
    grid = np.vstack([r if i == 0 else np.vstack([gap, r]) for i, r in enumerate(rows)])
    # one lossless picture (~10 KB) rather than a heatmap of every value (~60 KB): the trainer
    # opens faster, and the preview only has to show what the classes look like
    trace = {"type": "image", "source": png_data_uri(to_u8(grid)), "hoverinfo": "skip"}
    centers = [i * (side + 1) + (side - 1) / 2 for i in range(len(class_names))]
    axes = _image_axes(showticklabels=True, tickvals=centers, ticktext=list(class_names),
                       tickfont={"size": style.FONT_SIZE + 1})
    # as tall as the grid needs at about 560 px wide, so no empty band above or below
    height = 70 + int(560 * grid.shape[0] / grid.shape[1])
    return go.Figure(data=[trace], layout=_layout(title, height, **axes))


def vector_figure(
    values: np.ndarray,
    *,
    title: str,
    x_title: str,
    y_title: str,
    boundaries: Sequence[int] = (),
    height: int = 260,
) -> go.Figure:
    """A long vector (the flattened feature maps) as bars: red positive, blue negative.

    ``boundaries``: indices where a new channel starts, drawn as thin vertical lines.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    colors = np.where(v >= 0, style.POS_COLOR, style.NEG_COLOR)
    trace = {"type": "bar", "x": np.arange(v.size), "y": v, "marker": {"color": colors,
             "line": {"width": 0}},
             "hovertemplate": f"{x_title} %{{x}}<br>{y_title}: %{{y}}<extra></extra>"}
    shapes = [{"type": "line", "x0": b - 0.5, "x1": b - 0.5, "y0": 0, "y1": 1, "yref": "paper",
               "line": {"color": "#bbbbbb", "width": 1}} for b in boundaries if 0 < b < v.size]
    layout = _layout(title, height, shapes=shapes, bargap=0,
                     xaxis={"title": {"text": x_title}, "showgrid": False},
                     yaxis={"title": {"text": y_title}, "gridcolor": GRID,
                            "zerolinecolor": "#999999"})
    return go.Figure(data=[trace], layout=layout)


def bars_figure(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    y_title: str,
    x_title: str = "",
    percent: bool = False,
    highlight: int | None = None,
    height: int = 300,
) -> go.Figure:
    """A few bars with their values printed (3 significant digits, or percentages).

    ``highlight``: the index drawn in the highlight colour (the predicted class).
    """
    v = np.asarray(values, dtype=np.float64)
    text = [f"{100 * x:.1f}%" if percent else style.fmt(x) for x in v]
    plain = [("#8c8c8c" if percent else (style.POS_COLOR if x >= 0 else style.NEG_COLOR))
             for x in v]
    colors = [style.HIGHLIGHT if i == highlight else c for i, c in enumerate(plain)]
    trace = {"type": "bar", "x": list(labels), "y": v, "text": text, "textposition": "outside",
             "marker": {"color": colors}, "cliponaxis": False,
             "hovertemplate": f"%{{x}}<br>{y_title}: %{{y}}<extra></extra>"}
    if percent:
        yaxis = {"range": [0, 1.15], "tickformat": ".0%"}
    else:
        lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
        pad = 0.2 * (hi - lo or 1.0)
        yaxis = {"range": [lo - (pad if lo < 0 else 0), hi + pad]}
    yaxis.update({"title": {"text": y_title}, "gridcolor": GRID, "zerolinecolor": "#999999"})
    layout = _layout(title, height, yaxis=yaxis,
                     xaxis={"tickfont": {"size": style.FONT_SIZE + 1},
                            "title": {"text": x_title}})
    return go.Figure(data=[trace], layout=layout)


def confusion_figure(
    cm: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str,
    x_title: str,
    y_title: str,
    count_label: str = "count",
) -> go.Figure:
    """Counts of true class (rows) predicted as each class (columns), numbers printed."""
    cm = np.asarray(cm)
    names = list(class_names)
    trace = {
        "type": "heatmap", "z": cm, "x": names, "y": names,
        "colorscale": [[0.0, "#ffffff"], [1.0, "#7f7f7f"]], "showscale": False,
        "text": cm, "texttemplate": "%{text}", "xgap": 2, "ygap": 2,
        "textfont": {"size": style.CELL_FONT_SIZE + 2, "color": "#111111"},
        "hovertemplate": f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>{count_label}: %{{z}}"
                         "<extra></extra>",
    }  # fmt: skip
    tick = {"size": style.FONT_SIZE + 1}
    layout = _layout(title, 380,
                     xaxis={"title": {"text": x_title}, "side": "bottom", "tickfont": tick},
                     yaxis={"title": {"text": y_title}, "autorange": "reversed",
                            "tickfont": tick, "scaleanchor": "x", "scaleratio": 1})
    return go.Figure(data=[trace], layout=layout)


def examples_figure(
    images: np.ndarray,
    captions: Sequence[str],
    *,
    title: str,
    cols: int = 6,
    value_label: str = "value",
    width_px: int = 900,
) -> go.Figure:
    """Small gray images in a grid, a caption above each (e.g. "横 → 横折" for a mistake)."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    band = max(3, h // 3)  # empty rows above each image for its caption
    tiles = np.full((n, h + band, w), np.nan, np.float32)
    tiles[:, band:, :] = images
    grid = mosaic(tiles, cols, gap=2)
    notes = []
    for i, caption in enumerate(captions):
        r, c = divmod(i, cols)
        notes.append({"text": caption, "x": c * (w + 2) + (w - 1) / 2,
                      "y": r * (h + band + 2) + band - 1, "xref": "x", "yref": "y",
                      "showarrow": False, "yanchor": "bottom",
                      "font": {"size": style.FONT_SIZE - 2}})
    trace = {"type": "heatmap", "z": grid, "zmin": 0, "zmax": 1, "colorscale": style.GRAY,
             "showscale": False, "hovertemplate": f"{value_label}: %{{z:.3f}}<extra></extra>"}
    height = 70 + int(width_px * grid.shape[0] / grid.shape[1])
    return go.Figure(data=[trace], layout=_layout(title, height, annotations=notes,
                                                  **_image_axes()))
