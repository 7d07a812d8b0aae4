"""Figures of the trainer page: data preview, live curves, gradient norms, kernels, feature
maps, the FC layer's inputs and outputs, the confusion matrix, misclassified examples.

Pure builders: arrays and already-translated texts in, ``go.Figure`` out. Colours follow
``style``: each activation keeps its colour (``style.ACTIVATION_COLORS``), signed values use
the diverging scale, images and non-negative maps grayscale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.viz import style
from cnnviz.viz.figures import base_layout

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
#: Dash per layer when several layers share one colour.
LAYER_DASH = ["dot", "dash", "dashdot", "longdash", "solid"]


def _legend_below(fig: go.Figure) -> None:
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0,
                              "font": {"size": style.FONT_SIZE - 2}})


def lines_figure(
    lines: Sequence[dict[str, Any]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    y_range: tuple[float, float] | None = None,
    height: int = 340,
) -> go.Figure:
    """Curves on shared axes. Each line: ``name``, ``x``, ``y``, optional ``color``, ``dash``,
    ``width``. Non-finite y values are dropped (a diverged run never draws NaN)."""
    fig = go.Figure()
    for i, line in enumerate(lines):
        x = np.asarray(line["x"], dtype=np.float64)
        y = np.asarray(line["y"], dtype=np.float64)
        n = min(len(x), len(y))
        x, y = x[:n], y[:n]
        ok = np.isfinite(y) & (y > 0 if log_y else True)
        fig.add_trace(go.Scatter(
            x=x[ok], y=y[ok], mode="lines", name=line["name"],
            line={"color": line.get("color") or style.SERIES[i % len(style.SERIES)],
                  "dash": line.get("dash", "solid"), "width": line.get("width", 2.5)},
            hovertemplate=f"{line['name']}<br>{x_title}: %{{x:.3g}}<br>{y_title}: %{{y}}"
                          "<extra></extra>",
        ))  # fmt: skip
    fig.update_xaxes(title=x_title, showgrid=True, gridcolor="#eeeeee", rangemode="tozero")
    fig.update_yaxes(title=y_title, showgrid=True, gridcolor="#eeeeee",
                     type="log" if log_y else "linear")
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    base_layout(fig, title, height=height)
    _legend_below(fig)
    fig.update_layout(margin={"b": 10}, uirevision="keep")
    return fig


def grad_figure(
    members: Sequence[dict[str, Any]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    height: int = 340,
) -> go.Figure:
    """Per-layer gradient norms over training, log scale, one panel per layer.

    ``members``: ``name``, ``color``, ``x`` and ``grad`` (``{"conv1": [...], ...}``). With one
    member, every layer shares one panel (colours per layer); with several, panels per layer
    and a colour per member, so the same layer can be compared across activations.
    """
    layers: list[str] = []
    for m in members:
        layers += [k for k in m["grad"] if k not in layers]
    if len(members) <= 1:
        lines = []
        for m in members:
            for j, name in enumerate(layers):
                lines.append({"name": name, "x": m["x"], "y": m["grad"].get(name, []),
                              "color": style.SERIES[j % len(style.SERIES)],
                              "dash": "solid"})
        return lines_figure(lines, title=title, x_title=x_title, y_title=y_title, log_y=True,
                            height=height)
    cols = max(1, len(layers))
    fig = make_subplots(rows=1, cols=cols, subplot_titles=layers, shared_yaxes=True,
                        horizontal_spacing=0.04)
    for j, name in enumerate(layers, start=1):
        for m in members:
            y = np.asarray(m["grad"].get(name, []), dtype=np.float64)
            x = np.asarray(m["x"], dtype=np.float64)[: len(y)]
            ok = np.isfinite(y) & (y > 0)
            fig.add_trace(go.Scatter(
                x=x[ok], y=y[ok], mode="lines", name=m["name"], legendgroup=m["name"],
                showlegend=j == 1, line={"color": m["color"], "width": 2.2},
                hovertemplate=f"{m['name']} · {name}<br>{x_title}: %{{x:.3g}}<br>"
                              f"{y_title}: %{{y}}<extra></extra>",
            ), row=1, col=j)  # fmt: skip
        fig.update_xaxes(title=x_title, row=1, col=j, showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(type="log", showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(title=y_title, row=1, col=1)
    base_layout(fig, title, height=height)
    fig.update_annotations(font={"size": style.FONT_SIZE})
    _legend_below(fig)
    fig.update_layout(uirevision="keep")
    return fig


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


def mosaic_figure(
    tiles: np.ndarray,
    *,
    title: str,
    cols: int = 8,
    signed: bool | None = None,
    tile_label: str = "#",
    value_label: str = "value",
    text: bool | None = None,
    cell_px: int = 12,
    max_height: int = 520,
) -> go.Figure:
    """Several small maps (kernels, feature-map channels) in one grid with one shared scale,
    so they can be compared: diverging for signed values, grayscale otherwise. Hovering shows
    which tile, the position and the value; small grids print their numbers."""
    tiles = np.asarray(tiles, dtype=np.float32)
    k, h, w = tiles.shape
    signed = style.is_signed(tiles) if signed is None else signed
    m = mosaic(tiles, cols)
    ids = mosaic(np.broadcast_to(np.arange(k, dtype=np.float32)[:, None, None] + 1,
                                 tiles.shape), cols)
    rr = mosaic(np.broadcast_to(np.arange(h, dtype=np.float32)[None, :, None], tiles.shape),
                cols)
    cc = mosaic(np.broadcast_to(np.arange(w, dtype=np.float32)[None, None, :], tiles.shape),
                cols)
    if signed:
        lim = style.signed_limit(tiles)
        zmin, zmax, scale = -lim, lim, style.DIVERGING
    else:
        zmin = float(np.nanmin(tiles)) if tiles.size else 0.0
        zmax = float(np.nanmax(tiles)) if tiles.size else 1.0
        zmax = zmax if zmax > zmin else zmin + 1.0
        scale = style.GRAY
    text = (h * w <= 25 and k <= 16) if text is None else text
    cells = None
    if text:
        cells = np.where(np.isfinite(m), np.vectorize(style.fmt)(np.nan_to_num(m)), "")
    custom = np.dstack([ids, rr, cc])
    fig = go.Figure(go.Heatmap(
        z=m, zmin=zmin, zmax=zmax, colorscale=scale, showscale=True,
        colorbar={"thickness": 12, "len": 0.9}, customdata=custom,
        text=cells, texttemplate="%{text}" if text else None,
        textfont={"size": style.CELL_FONT_SIZE - 3, "color": "#111111"},
        hovertemplate=f"{tile_label} %{{customdata[0]:.0f}} · (%{{customdata[1]:.0f}}, "
                      f"%{{customdata[2]:.0f}})<br>{value_label}: %{{z}}<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", scaleratio=1, constrain="domain")
    height = min(max_height, max(160, cell_px * m.shape[0] + 70))
    return base_layout(fig, title, height=height)


def preview_figure(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str,
    per_class: int = 8,
    value_label: str = "value",
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
    gap = np.full((1, rows[0].shape[1]), np.nan, np.float32)
    grid = np.vstack([r if i == 0 else np.vstack([gap, r]) for i, r in enumerate(rows)])
    fig = go.Figure(go.Heatmap(
        z=grid, zmin=0, zmax=1, colorscale=style.GRAY, showscale=False,
        hovertemplate=f"{value_label}: %{{z:.3f}}<extra></extra>",
    ))  # fmt: skip
    centers = [i * (side + 1) + (side - 1) / 2 for i in range(len(class_names))]
    fig.update_yaxes(tickvals=centers, ticktext=list(class_names), autorange="reversed",
                     scaleanchor="x", scaleratio=1, showgrid=False, zeroline=False,
                     constrain="domain", tickfont={"size": style.FONT_SIZE + 1})
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    cell = 7 if side > 8 else 12
    return base_layout(fig, title, height=min(520, max(220, cell * grid.shape[0] + 70)))


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
    fig = go.Figure(go.Bar(x=np.arange(v.size), y=v, marker_color=colors, marker_line_width=0,
                           hovertemplate=f"{x_title} %{{x}}<br>{y_title}: %{{y}}<extra></extra>"))
    shapes = [{"type": "line", "x0": b - 0.5, "x1": b - 0.5, "y0": 0, "y1": 1, "yref": "paper",
               "line": {"color": "#bbbbbb", "width": 1}} for b in boundaries if 0 < b < v.size]
    fig.update_layout(shapes=shapes, bargap=0)
    fig.update_xaxes(title=x_title, showgrid=False)
    fig.update_yaxes(title=y_title, gridcolor="#eeeeee", zerolinecolor="#999999")
    return base_layout(fig, title, height=height)


def bars_figure(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    y_title: str,
    percent: bool = False,
    highlight: int | None = None,
    height: int = 300,
) -> go.Figure:
    """A few bars with their values printed (3 significant digits, or percentages).

    ``highlight``: the index drawn in the highlight colour (the predicted class).
    """
    v = np.asarray(values, dtype=np.float64)
    text = [f"{100 * x:.1f}%" if percent else style.fmt(x) for x in v]
    colors = [style.HIGHLIGHT if i == highlight else ("#8c8c8c" if percent else
              (style.POS_COLOR if x >= 0 else style.NEG_COLOR)) for i, x in enumerate(v)]
    fig = go.Figure(go.Bar(x=list(labels), y=v, text=text, textposition="outside",
                           marker_color=colors, cliponaxis=False,
                           hovertemplate=f"%{{x}}<br>{y_title}: %{{y}}<extra></extra>"))
    fig.update_yaxes(title=y_title, gridcolor="#eeeeee", zerolinecolor="#999999")
    if percent:
        fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    else:
        lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
        pad = 0.2 * (hi - lo or 1.0)
        fig.update_yaxes(range=[lo - (pad if lo < 0 else 0), hi + pad])
    fig.update_xaxes(tickfont={"size": style.FONT_SIZE + 1})
    return base_layout(fig, title, height=height)


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
    fig = go.Figure(go.Heatmap(
        z=cm, x=names, y=names, colorscale=[[0.0, "#ffffff"], [1.0, "#7f7f7f"]],
        showscale=False, text=cm, texttemplate="%{text}", xgap=2, ygap=2,
        textfont={"size": style.CELL_FONT_SIZE + 2, "color": "#111111"},
        hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>{count_label}: %{{z}}"
                      "<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(title=x_title, side="bottom", tickfont={"size": style.FONT_SIZE + 1})
    fig.update_yaxes(title=y_title, autorange="reversed", tickfont={"size": style.FONT_SIZE + 1},
                     scaleanchor="x", scaleratio=1)
    return base_layout(fig, title, height=380)


def examples_figure(
    images: np.ndarray,
    captions: Sequence[str],
    *,
    title: str,
    cols: int = 8,
    value_label: str = "value",
) -> go.Figure:
    """Small gray images with a caption each (e.g. "横 → 横折" for a mistake)."""
    images = np.asarray(images, dtype=np.float32)
    n = len(images)
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(captions),
                        horizontal_spacing=0.02, vertical_spacing=0.12 / max(rows, 1))
    for i in range(n):
        r, c = divmod(i, cols)
        fig.add_trace(go.Heatmap(z=images[i], zmin=0, zmax=1, colorscale=style.GRAY,
                                 showscale=False,
                                 hovertemplate=f"{value_label}: %{{z:.3f}}<extra></extra>"),
                      row=r + 1, col=c + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     constrain="domain")
    for i in range(1, n + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // cols + 1,
                         col=(i - 1) % cols + 1)
    base_layout(fig, title, height=70 + 150 * rows)
    fig.update_annotations(font={"size": style.FONT_SIZE - 1})
    return fig
