"""Figure builders shared by every lesson: numeric grids, feature maps, images.

All builders take already-translated titles and labels (the UI passes ``t(...)`` results) so
this module stays free of any UI state.

Built for a classroom server (one process, many students): the builders write Plotly's JSON
structure directly and wrap it with ``go.Figure(spec, _validate=False)``. Plotly's validation is
most of the cost of a figure (5-25 ms each, several per rerun); the unit tests validate every
builder's output instead. Pictures travel as compressed images: a colour lookup table (no float
maths per pixel) and JPEG for anything larger than :data:`MAX_PNG_CELLS` (~30x faster to encode
than PNG and ~5x smaller), with a coarse grid of true values underneath for hover.
"""

from __future__ import annotations

import base64
import functools
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import is_skipped_key, to_typed_array_spec
from PIL import Image

from cnnviz.viz import style

#: Up to this many cells a map is a heatmap that carries every value; above it, one JPEG
#: plus a coarse hover grid.
MAX_HEATMAP_CELLS = 128 * 128
#: Above this many cells a grid no longer prints its numbers.
MAX_TEXT_CELLS = 15 * 15
#: Pictures up to this many pixels are sent as PNG (exact; JPEG would ring around the sharp
#: edges of a tiny picture that the browser magnifies); larger ones as JPEG.
MAX_PNG_CELLS = 64 * 64
JPEG_QUALITY = 90
#: Hover values of a large map are sampled on at most this many points per side.
HOVER_SIDE = 96

_NO_AXIS = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}


# ---- encoding ---------------------------------------------------------------------------------
def typed_array(values: np.ndarray, dtype: str = "f4") -> dict[str, str]:
    """A NumPy array in Plotly's compact JSON form ``{"dtype", "bdata", "shape"}`` (base64 of the
    raw little-endian bytes), as validated figures send it: far smaller than a list of numbers."""
    a = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    spec = {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in a.shape)
    return spec


def png_data_uri(rgb: np.ndarray) -> str:
    """Encode an (H, W, 3) or (H, W) uint8 array as a PNG data URI (compressed, for the browser)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def jpeg_data_uri(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """Encode an (H, W, 3) or (H, W) uint8 array as a JPEG data URI (display only).

    Full-resolution colour (no 4:2:0 chroma subsampling): a feature map's fine red/blue detail
    would otherwise fade to pink and pale blue; it costs ~30% more bytes.
    """
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=quality,
                                                    subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def picture_uri(u8: np.ndarray) -> str:
    """PNG for tiny pictures, JPEG for the rest (see :data:`MAX_PNG_CELLS`)."""
    h, w = u8.shape[:2]
    return png_data_uri(u8) if h * w <= MAX_PNG_CELLS else jpeg_data_uri(u8)


def _lut(signed: bool) -> np.ndarray:
    """The shared colour scale as a 256-entry uint8 table (index 0..255 spans zmin..zmax)."""
    u = np.linspace(-1.0, 1.0, 256) if signed else np.linspace(0.0, 1.0, 256)
    return style.colorize(u[None, :], signed=signed, limit=1.0)[0]


#: signed -> (256, 3) uint8 colour table; the gray table is also used as a one-channel ramp.
LUTS = {True: _lut(True), False: _lut(False)}


def color_index(values: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    """uint8 index 0..255 of each value between ``zmin`` and ``zmax`` (NaN -> zmin), clipped."""
    v = np.asarray(values, dtype=np.float32)
    scale = np.float32(255.0 / (zmax - zmin)) if zmax > zmin else np.float32(0.0)
    idx = (np.nan_to_num(v, nan=zmin, posinf=zmax, neginf=zmin) - np.float32(zmin)) * scale
    return np.clip(idx + np.float32(0.5), 0, 255).astype(np.uint8)


def colorize_map(values: np.ndarray, zmin: float, zmax: float, *, signed: bool) -> np.ndarray:
    """The shared colours of a map via the lookup table: (H, W, 3) uint8 for the diverging scale,
    (H, W) uint8 for gray (one channel: a third of the encoding work)."""
    idx = color_index(values, zmin, zmax)
    return LUTS[True][idx] if signed else idx


def to_u8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] (H, W) or (H, W, 3) as uint8 (values outside are clipped)."""
    img = np.asarray(image, dtype=np.float32)
    return (np.clip(np.nan_to_num(img), 0.0, 1.0) * np.float32(255.0) + np.float32(0.5)).astype(
        np.uint8)


def coarse_grid(h: int, w: int, side: int = HOVER_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of at most ``side`` sample points per side, at pixel centres."""
    step = int(np.ceil(max(h, w) / side)) if max(h, w) > side else 1
    return np.arange(step // 2, h, step), np.arange(step // 2, w, step)


# ---- layout -----------------------------------------------------------------------------------
#: Plotly never wraps a title: above this many character widths (a CJK character counts two)
#: :func:`two_lines` breaks it, so it fits a chart in a tablet's or phone's column.
TITLE_UNITS = 26
_BREAKS_BEFORE = ("（", " (", " → ")
_BREAKS_AFTER = ("：", ": ", " · ")


def text_units(text: str) -> int:
    """The width of ``text`` in Latin character widths (a CJK character counts two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def two_lines(text: str, limit: int = TITLE_UNITS) -> str:
    """``text`` set on two lines when it is wider than ``limit`` character widths: a "<br>"
    goes before its first "（", " (" or " → ", else after its first "：", ": " or " · ", else at
    the space (or, in Chinese, the character) nearest the middle. Nothing else changes, so
    ``two_lines(t).replace("<br>", "") == t``."""
    if "<br>" in text or text_units(text) <= limit:
        return text
    for sep in _BREAKS_BEFORE:
        i = text.find(sep, 1)
        if i > 0:
            return text[:i] + "<br>" + text[i:]
    for sep in _BREAKS_AFTER:
        i = text.find(sep, 1)
        if 0 < i < len(text) - len(sep):
            i += len(sep)
            return text[:i] + "<br>" + text[i:]
    i = text.rfind(" ", 0, len(text) // 2 + 8)
    i = i + 1 if i > 0 else len(text) // 2  # Chinese: no spaces
    return text[:i] + "<br>" + text[i:]


def layout_dict(title: str = "", height: int | None = None) -> dict[str, Any]:
    """The shared fonts and margins as a layout dict (what :func:`base_layout` applies), for
    builders that write Plotly's structure directly (see :func:`from_parts`). A long title is
    set on two lines (:func:`two_lines`) with room for both."""
    title = two_lines(title) if title else title
    top = (48 + 22 * title.count("<br>")) if title else 10
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left",
                  "font": {"size": style.FONT_SIZE + 2}},
        "font": {"family": style.FONT_FAMILY, "size": style.FONT_SIZE},
        "margin": {"l": 10, "r": 10, "t": top, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
    }
    if height:
        layout["height"] = height
    return layout


def from_parts(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, without Plotly's validation (most of the cost
    of a figure). Only for builders whose output a unit test validates; NumPy arrays may stay
    in the dicts (they travel as compact typed arrays)."""
    return _PartsFigure(data, layout)


@functools.cache
def _default_template_json() -> str:
    """The template Plotly adds to a layout without one, as JSON (parsed again per figure, so
    no caller shares and edits one dict)."""
    return json.dumps(go.Figure().to_dict()["layout"].get("template", {}))


#: Plotly.js's short names of the dtypes it takes as typed arrays.
_SHORT_TYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
                "uint32": "u4", "float32": "f4", "float64": "f8"}


def _typed(v: np.ndarray) -> Any:
    """Plotly's ``to_typed_array_spec`` for a native-order numeric array, without its generic
    conversion (a dataframe check per array, ~0.1 ms, most of a figure's conversion); any other
    array goes to Plotly's own (64-bit integers are narrowed there, as Plotly.js wants)."""
    if v.dtype.kind in "USO":  # text: stays an array (the JSON encoder lists it)
        return v
    if v.dtype.kind in "iu" and v.dtype.itemsize == 8 and v.size:  # as Plotly: narrowed
        lo, hi = int(v.min()), int(v.max())
        for name in (("int8", "int16", "int32") if v.dtype.kind == "i" else
                     ("uint8", "uint16", "uint32")):
            if np.iinfo(name).min <= lo and hi <= np.iinfo(name).max:
                v = v.astype(name)
                break
    short = _SHORT_TYPES.get(v.dtype.name)
    if short is None or v.size == 0 or not v.dtype.isnative:
        return to_typed_array_spec(v)
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec


def typed_arrays(obj: Any) -> None:
    """Plotly's ``convert_to_base64``, in place: every NumPy array that is a dict's value (not
    under the keys Plotly skips) becomes a typed-array spec. Same result, a fraction of the
    cost (``tests/viz/test_parts_figure.py`` compares them)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(value, np.ndarray | dict | list | tuple) or is_skipped_key(key):
                continue
            if isinstance(value, np.ndarray):
                obj[key] = _typed(value)
            else:
                typed_arrays(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            if isinstance(value, dict | list | tuple):
                typed_arrays(value)


class _PartsFigure(go.Figure):
    """A ``go.Figure`` that stays plain dicts until something other than ``to_dict`` needs it.

    ``ui.charts`` only calls ``to_dict()`` on a fresh figure and throws it away: Plotly's
    constructor (its layout objects, even unvalidated) and the deep copy inside ``to_dict``
    were ~40 % of a preprocessing rerun. Any other use (``fig.layout``, ``update_layout``,
    ``fig.frames = ...``) builds the real figure first, so it behaves exactly like one.
    """

    def __init__(self, data: list[dict], layout: dict) -> None:  # see __getattr__
        object.__setattr__(self, "_parts", (data, layout))

    def __getattr__(self, name: str):
        # Only reached for attributes the instance lacks, i.e. before the real figure exists.
        parts = self.__dict__.pop("_parts", None)
        if parts is None:
            raise AttributeError(name)
        go.Figure.__init__(self, {"data": parts[0], "layout": parts[1]}, _validate=False)
        return getattr(self, name)

    def to_dict(self) -> dict:
        parts = self.__dict__.get("_parts")
        if parts is None:
            return super().to_dict()
        data, layout = parts
        # as Plotly: a top-level None means "not set" and is left out
        layout = {k: v for k, v in layout.items() if v is not None}
        layout.setdefault("template", json.loads(_default_template_json()))
        res = {"data": [{k: v for k, v in trace.items() if v is not None} for trace in data],
               "layout": layout}
        typed_arrays(res)  # as Plotly's to_dict: arrays become typed-array specs
        return res


def base_layout(fig: go.Figure, title: str = "", *, height: int | None = None) -> go.Figure:
    """Apply the shared fonts and margins; keep titles short and translated."""
    return fig.update_layout(**layout_dict(title, height))


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


def _range(v: np.ndarray, signed: bool, limit: float | None) -> tuple[float, float, list]:
    """zmin, zmax and colour scale of a map: symmetric diverging, or gray from min to max (or
    0..limit)."""
    if signed:
        lim = limit or style.signed_limit(v)
        return -lim, lim, style.DIVERGING
    finite = v[np.isfinite(v)]
    zmin = 0.0 if limit else float(finite.min()) if finite.size else 0.0
    zmax = float(limit) if limit else float(finite.max()) if finite.size else 1.0
    return zmin, zmax if zmax > zmin else zmin + 1.0, style.GRAY


# ---- builders ---------------------------------------------------------------------------------
#: Pixel values: dark gray (smallest) to white (largest), light enough for black numbers.
PICTURE_SCALE = [[0.0, "#767676"], [1.0, "#ffffff"]]


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
    picture: bool = False,
    hidden: Sequence[tuple[int, int]] = (),
) -> go.Figure:
    """A small numeric grid: every cell coloured and (when small) its value printed.

    Parameters
    ----------
    values : (H, W) array
    signed : diverging scale when True, grayscale when False, chosen from the data when None.
    highlight : rectangles ``(row, col, height, width)`` drawn in the highlight colour.
    padding : width of a border of zero padding already included in ``values``; those cells are
        left out of the colour scale and drawn in the padding colour with a dashed outline, so
        they never look like a pixel of the picture.
    picture : pixel values: brighter = larger (as a photo), instead of the light "ink" scale.
    hidden : cells ``(row, col)`` whose value is a question's answer: drawn blank with "?".
    """
    v = np.asarray(values, dtype=np.float64)
    h, w = v.shape
    labels = [[style.fmt(x) for x in row] for row in v.tolist()]
    for r, c in hidden:
        labels[r][c] = "?"
    pad_mask = np.zeros((h, w), dtype=bool)
    if padding > 0:
        pad_mask[:padding, :] = pad_mask[-padding:, :] = True
        pad_mask[:, :padding] = pad_mask[:, -padding:] = True
    inside = v[~pad_mask] if pad_mask.any() else v
    signed = style.is_signed(v) if signed is None else signed
    text = (h * w <= MAX_TEXT_CELLS) if text is None else text
    if signed:
        lim = limit or style.signed_limit(inside)
        zmin, zmax, scale = -lim, lim, style.DIVERGING
    else:
        zmin = 0.0 if limit else float(np.nanmin(inside)) if inside.size else 0.0
        zmax = float(limit) if limit else float(np.nanmax(inside)) if inside.size else 1.0
        if zmax <= zmin:
            zmax = zmin + 1.0
        # grays light enough that the printed numbers stay readable
        scale = PICTURE_SCALE if picture else [[0.0, "#ffffff"], [1.0, "#8c8c8c"]]
    z = v.copy()
    z[pad_mask] = np.nan  # padding is drawn by its own shapes below, not by the scale
    for r, c in hidden:
        z[r, c] = np.nan
    trace: dict[str, Any] = {
        "type": "heatmap", "z": typed_array(z, "f8"), "zmin": zmin, "zmax": zmax,
        "colorscale": scale, "showscale": False, "xgap": 1, "ygap": 1,
        "hovertemplate": f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z}}<extra></extra>",
    }
    if text and v.size:
        trace.update(text=labels, texttemplate="%{text}",
                     textfont={"size": style.CELL_FONT_SIZE, "color": "#111111"})
    shapes = []
    if padding > 0:
        rows, cols = np.nonzero(pad_mask)
        shapes += [
            {"type": "rect", "x0": c - 0.45, "x1": c + 0.45, "y0": r - 0.45, "y1": r + 0.45,
             "line": {"width": 1.5, "dash": "dash", "color": "#777777"},
             "fillcolor": style.PADDING_COLOR, "layer": "below"}
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        ]
    shapes += [_rect(*box) for box in highlight]
    layout = layout_dict(title, min(560, max(140, cell_px * h + (60 if title else 20))))
    layout.update(
        shapes=shapes,
        xaxis={**_NO_AXIS, "constrain": "domain", "range": [-0.5, w - 0.5]},
        yaxis={**_NO_AXIS, "autorange": "reversed", "scaleanchor": "x", "scaleratio": 1},
    )
    return from_parts([trace], layout)


def _map_traces(v: np.ndarray, zmin: float, zmax: float, scale: list, signed: bool,
                hover: str, colorbar: dict | None, *, axes: tuple[str, str] = ("x", "y"),
                exact_cells: int = MAX_HEATMAP_CELLS, hover_side: int = HOVER_SIDE,
                ) -> list[dict]:
    """The traces of one map: an exact heatmap up to ``exact_cells``, else a picture (shared
    colours via the lookup table) plus a nearly invisible coarse heatmap (``hover_side``
    points per side at most) that answers hover and carries the colour bar."""
    h, w = v.shape
    common = {"zmin": zmin, "zmax": zmax, "colorscale": scale, "hovertemplate": hover,
              "showscale": colorbar is not None, "xaxis": axes[0], "yaxis": axes[1]}
    if colorbar is not None:
        common["colorbar"] = colorbar
    if h * w <= exact_cells:
        return [{"type": "heatmap", "z": typed_array(v), **common}]
    ys, xs = coarse_grid(h, w, hover_side)
    image = {"type": "image", "source": picture_uri(colorize_map(v, zmin, zmax, signed=signed)),
             "hoverinfo": "skip", "xaxis": axes[0], "yaxis": axes[1]}
    hover_grid = {"type": "heatmap", "z": typed_array(v[np.ix_(ys, xs)]),
                  "x": typed_array(xs, "i2"), "y": typed_array(ys, "i2"), "opacity": 0.004,
                  **common}
    return [image, hover_grid]


def map_figure(
    values: np.ndarray,
    *,
    title: str = "",
    signed: bool | None = None,
    limit: float | None = None,
    colorbar: bool = True,
    hover_label: str = "value",
    height: int | None = 380,
    exact_cells: int = MAX_HEATMAP_CELLS,
    hover_side: int = HOVER_SIDE,
) -> go.Figure:
    """A feature map or gray image of any size, with its value under the cursor.

    Small maps (<= ``exact_cells``, 128x128) are a Heatmap with every value. Larger ones go to
    the browser as one JPEG (``go.Image``) with a transparent heatmap of values sampled on at
    most ``hover_side`` points per side on top, which answers hover and carries the colour bar:
    a 1024x1024 map costs ~0.1 MB and ~15 ms instead of ~4 MB and ~200 ms.
    """
    v = np.asarray(values, dtype=np.float32)
    signed = style.is_signed(v) if signed is None else signed
    zmin, zmax, scale = _range(v, signed, limit)
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    cbar = {"thickness": 12, "len": 0.9} if colorbar else None
    layout = layout_dict(title, height)
    layout.update(
        xaxis={**_NO_AXIS, "constrain": "domain"},
        yaxis={**_NO_AXIS, "autorange": "reversed", "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain"},
    )
    return from_parts(_map_traces(v, zmin, zmax, scale, signed, hover, cbar,
                                  exact_cells=exact_cells, hover_side=hover_side), layout)


def image_figure(image: np.ndarray, *, title: str = "", height: int | None = 380) -> go.Figure:
    """A photo (H, W, 3) or gray (H, W) float image in [0, 1], sent as a compressed picture
    (JPEG above :data:`MAX_PNG_CELLS` pixels); hover shows the pixel's row and column."""
    layout = layout_dict(title, height)
    layout.update(xaxis=dict(_NO_AXIS),
                  yaxis={**_NO_AXIS, "scaleanchor": "x"})
    trace = {"type": "image", "source": picture_uri(to_u8(image)),
             "hovertemplate": "(%{y}, %{x})<extra></extra>"}
    return from_parts([trace], layout)


def maps_row_figure(
    maps: Sequence[tuple[np.ndarray, str, bool]],
    *,
    height: int = 300,
    hover_label: str = "value",
    spacing: float = 0.03,
    exact_cells: int = MAX_HEATMAP_CELLS,
    hover_side: int = HOVER_SIDE,
) -> go.Figure:
    """Several maps side by side, each with its own scale: ``(array, title, signed)``.

    Maps up to ``exact_cells`` keep every true value on hover; a larger one travels as a picture
    with a hover grid of at most ``hover_side`` points per side, as in :func:`map_figure` (a
    page's first view passes smaller limits: four 96x96 heatmaps are ~130 KB, as pictures with a
    32-point hover grid ~30 KB).
    """
    n = max(len(maps), 1)
    width = (1.0 - spacing * (n - 1)) / n
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    data, notes = [], []
    layout = layout_dict("", height)
    for i, (arr, title, signed) in enumerate(maps):
        v = np.asarray(arr, dtype=np.float32)
        zmin, zmax, scale = _range(v, bool(signed), None)
        sfx = str(i + 1) if i else ""
        x0 = i * (width + spacing)
        data += _map_traces(v, zmin, zmax, scale, bool(signed), hover, None,
                            axes=(f"x{sfx}", f"y{sfx}"), exact_cells=exact_cells,
                            hover_side=hover_side)
        layout[f"xaxis{sfx}"] = {**_NO_AXIS, "domain": [x0, x0 + width], "anchor": f"y{sfx}",
                                 "constrain": "domain"}
        layout[f"yaxis{sfx}"] = {**_NO_AXIS, "domain": [0.0, 1.0], "anchor": f"x{sfx}",
                                 "autorange": "reversed", "scaleanchor": f"x{sfx}",
                                 "constrain": "domain"}
        notes.append({"text": title, "x": x0 + width / 2, "xref": "paper", "xanchor": "center",
                      "y": 1.0, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                      "font": {"size": style.FONT_SIZE}})
    layout["annotations"] = notes
    layout["margin"] = {**layout["margin"], "t": 40}
    return from_parts(data, layout)


def counts_figure(labels: Sequence[str], values: Sequence[int], *, axis_title: str,
                  title: str, height: int = 360) -> go.Figure:
    """Bars of whole-number counts on a log axis (parameter counts that differ 1000-fold), each
    bar labelled with its count ("307,300").

    Long labels go on two lines (two never run into each other in a half column), the counts
    keep their size above the bars (Plotly would shrink them to fit the plot), and the log axis
    is labelled at decades only (its "2" and "5" between them were 9 px).
    """
    ticks = [two_lines(lab, 12) for lab in labels]
    fig = go.Figure(go.Bar(x=ticks, y=list(values), text=[f"{v:,}" for v in values],
                           textposition="outside", constraintext="none", cliponaxis=False,
                           textfont={"size": style.FONT_SIZE},
                           marker_color=[style.SERIES[1], style.SERIES[0]][: len(values)],
                           hovertemplate="%{x}: %{y:,}<extra></extra>"))
    fig.update_yaxes(type="log", title=axis_title, dtick=1)
    base_layout(fig, title, height=height)
    return fig.update_layout(margin={"t": 70}, xaxis={"tickangle": 0})
