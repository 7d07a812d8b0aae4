"""Figure builders shared by every lesson: numeric grids, feature maps, images.

All builders take already-translated titles and labels (the UI passes ``t(...)`` results) so
this module stays free of any UI state.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.viz import style

#: Above this many cells a map is sent as a compressed PNG with a coarse hover grid.
MAX_HEATMAP_CELLS = 128 * 128
#: Above this many cells a grid no longer prints its numbers.
MAX_TEXT_CELLS = 15 * 15


def base_layout(fig: go.Figure, title: str = "", *, height: int | None = None) -> go.Figure:
    """Apply the shared fonts and margins; keep titles short and translated."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": style.FONT_SIZE + 2}},
        font={"family": style.FONT_FAMILY, "size": style.FONT_SIZE},
        margin={"l": 10, "r": 10, "t": 48 if title else 10, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    if height:
        fig.update_layout(height=height)
    return fig


def png_data_uri(rgb: np.ndarray) -> str:
    """Encode an (H, W, 3) or (H, W) uint8 array as a PNG data URI (compressed, for the browser)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _rect(r: float, c: float, h: float, w: float, *, fill: bool = True, width: int = 4) -> dict:
    """Highlight rectangle over rows r..r+h-1, columns c..c+w-1 (cell centres at integers)."""
    return {
        "type": "rect",
        "x0": c - 0.5, "x1": c + w - 0.5, "y0": r - 0.5, "y1": r + h - 0.5,
        "line": {"color": style.HIGHLIGHT, "width": width},
        "fillcolor": style.HIGHLIGHT_FILL if fill else "rgba(0,0,0,0)",
        "layer": "above",
    }


def highlight_shape(r: float, c: float, h: float = 1, w: float = 1, **kw: object) -> dict:
    """Public form of the highlight rectangle, for pages that animate ``layout.shapes``."""
    return _rect(r, c, h, w, **kw)


def grid_figure(
    values: np.ndarray,
    *,
    title: str = "",
    signed: bool | None = None,
    limit: float | None = None,
    highlight: Sequence[tuple[int, int, int, int]] = (),
    padding: int = 0,
    text: bool | None = None,
    hover_label: str = "value",
    cell_px: int = 46,
) -> go.Figure:
    """A small numeric grid: every cell coloured and (when small) its value printed.

    Parameters
    ----------
    values : (H, W) array
    signed : diverging scale when True, grayscale when False, chosen from the data when None.
    highlight : rectangles ``(row, col, height, width)`` drawn in the highlight colour.
    padding : width of a border of zero padding already included in ``values``; those cells are
        drawn in the padding colour so the border of zeros is visible.
    """
    v = np.asarray(values, dtype=np.float64)
    h, w = v.shape
    signed = style.is_signed(v) if signed is None else signed
    text = (h * w <= MAX_TEXT_CELLS) if text is None else text
    lim = limit or (style.signed_limit(v) if signed else None)
    if signed:
        zmin, zmax, scale = -lim, lim, style.DIVERGING
    else:
        zmin = 0.0 if limit else float(np.nanmin(v)) if v.size else 0.0
        zmax = float(limit) if limit else float(np.nanmax(v)) if v.size else 1.0
        if zmax <= zmin:
            zmax = zmin + 1.0
        # light grays so printed numbers stay readable: map to white..mid-gray reversed
        scale = [[0.0, "#ffffff"], [1.0, "#8c8c8c"]]
    cells = np.vectorize(style.fmt)(v) if text and v.size else None
    fig = go.Figure(
        go.Heatmap(
            z=v, zmin=zmin, zmax=zmax, colorscale=scale, showscale=False,
            text=cells, texttemplate="%{text}" if text else None,
            textfont={"size": style.CELL_FONT_SIZE, "color": "#111111"},
            xgap=1, ygap=1,
            hovertemplate=f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z}}<extra></extra>",
        )
    )
    shapes = []
    if padding > 0:
        mask = np.zeros_like(v, dtype=bool)
        mask[:padding, :] = mask[-padding:, :] = True
        mask[:, :padding] = mask[:, -padding:] = True
        rows, cols = np.nonzero(mask)
        shapes += [
            {"type": "rect", "x0": c - 0.5, "x1": c + 0.5, "y0": r - 0.5, "y1": r + 0.5,
             "line": {"width": 0}, "fillcolor": style.PADDING_COLOR, "layer": "below"}
            for r, c in zip(rows, cols, strict=True)
        ]
        fig.data[0].update(opacity=1.0)
    shapes += [_rect(*box) for box in highlight]
    fig.update_layout(shapes=shapes)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     range=[-0.5, w - 0.5], ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", scaleratio=1, ticks="")
    base_layout(fig, title, height=min(560, max(140, cell_px * h + (60 if title else 20))))
    return fig


def map_figure(
    values: np.ndarray,
    *,
    title: str = "",
    signed: bool | None = None,
    limit: float | None = None,
    colorbar: bool = True,
    hover_label: str = "value",
    height: int | None = 380,
) -> go.Figure:
    """A feature map or gray image of any size, with its value under the cursor.

    Small maps (<= 128x128) are a Heatmap. Larger ones go to the browser as one compressed PNG
    (``go.Image``) with a transparent, coarser Heatmap on top that carries hover values and the
    colour bar, so a 1024x1024 map costs ~0.3 MB instead of ~6 MB of numbers.
    """
    v = np.asarray(values, dtype=np.float64)
    h, w = v.shape
    signed = style.is_signed(v) if signed is None else signed
    lim = limit or (style.signed_limit(v) if signed else None)
    if signed:
        zmin, zmax, scale = -lim, lim, style.DIVERGING
    else:
        zmin = 0.0 if limit else float(np.nanmin(v)) if v.size else 0.0
        zmax = float(limit) if limit else float(np.nanmax(v)) if v.size else 1.0
        if zmax <= zmin:
            zmax = zmin + 1.0
        scale = style.GRAY
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    cbar = {"thickness": 12, "len": 0.9} if colorbar else None
    if h * w <= MAX_HEATMAP_CELLS:
        fig = go.Figure(go.Heatmap(z=v.astype(np.float32), zmin=zmin, zmax=zmax, colorscale=scale,
                                   showscale=colorbar, colorbar=cbar, hovertemplate=hover))
    else:
        rgb = style.colorize(v, signed=signed, limit=lim if signed else (limit or None))
        if not signed and not limit:
            rgb = style.colorize((v - zmin) / (zmax - zmin), signed=False, limit=1.0)
        step = int(np.ceil(max(h, w) / 128))
        coarse = v[step // 2 :: step, step // 2 :: step]
        ys = np.arange(step // 2, h, step)[: coarse.shape[0]]
        xs = np.arange(step // 2, w, step)[: coarse.shape[1]]
        fig = go.Figure(go.Image(source=png_data_uri(rgb), hoverinfo="skip"))
        fig.add_trace(go.Heatmap(z=coarse.astype(np.float32), x=xs, y=ys, zmin=zmin, zmax=zmax,
                                 colorscale=scale, opacity=0.004, showscale=colorbar,
                                 colorbar=cbar, hovertemplate=hover))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", scaleratio=1, constrain="domain", ticks="")
    return base_layout(fig, title, height=height)


def image_figure(image: np.ndarray, *, title: str = "", height: int | None = 380) -> go.Figure:
    """A photo (H, W, 3) or gray (H, W) float image in [0, 1], sent as a compressed PNG."""
    img = np.asarray(image, dtype=np.float64)
    u8 = np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)
    if u8.ndim == 2:
        u8 = np.repeat(u8[..., None], 3, axis=-1)
    fig = go.Figure(go.Image(source=png_data_uri(u8), hovertemplate="(%{y}, %{x})<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x",
                     ticks="")
    return base_layout(fig, title, height=height)


def maps_row_figure(
    maps: Sequence[tuple[np.ndarray, str, bool]],
    *,
    height: int = 300,
    hover_label: str = "value",
) -> go.Figure:
    """Several small maps side by side, each with its own scale: ``(array, title, signed)``.

    Meant for maps up to ~128x128 (downscale before calling); each keeps its true values on hover.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(maps), subplot_titles=[m[1] for m in maps],
                        horizontal_spacing=0.03)
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    for i, (arr, _, signed) in enumerate(maps, start=1):
        v = np.asarray(arr, dtype=np.float32)
        if signed:
            lim = style.signed_limit(v)
            zmin, zmax, scale = -lim, lim, style.DIVERGING
        else:
            zmin, zmax, scale = float(v.min()), float(v.max()), style.GRAY
            zmax = zmax if zmax > zmin else zmin + 1.0
        fig.add_trace(go.Heatmap(z=v, zmin=zmin, zmax=zmax, colorscale=scale, showscale=False,
                                 hovertemplate=hover), row=1, col=i)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=i,
                         constrain="domain", ticks="")
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=i,
                         autorange="reversed", scaleanchor=f"x{i if i > 1 else ''}",
                         constrain="domain", ticks="")
    base_layout(fig, "", height=height)
    fig.update_annotations(font={"size": style.FONT_SIZE})
    fig.update_layout(margin={"t": 40})
    return fig
