"""Figures of the convolution lesson: the sliding window (Plotly animation), the colour
example, the picture with its picked window, feature maps with a click layer, one stop explained.

Pure builders: arrays and already-translated texts in, ``go.Figure`` out. The animation frames
change only ``layout.shapes`` and ``layout.annotations`` and play in the browser without a
server round trip. They need ``redraw=True``: with ``redraw=False`` Plotly moves shapes but does
not redraw annotation text or shape visibility (measured in Chromium), and the grids are
small enough for a redraw per frame to stay smooth.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.lessons.conv import Slide
from cnnviz.numbers import fmt
from cnnviz.viz import figures, style

#: Light grays for non-negative grids so the printed numbers stay readable.
LIGHT_GRAY = [[0.0, "#ffffff"], [1.0, "#8c8c8c"]]
#: Cells the kernel has not reached yet (the output fills in as it slides).
PENDING_FILL = "rgba(236, 236, 236, 1)"
#: Weight labels ("×w") are drawn inside the window only for kernels up to this many taps.
MAX_WEIGHT_LABELS = 9
CELL_PX = 44
#: The colour example's cells (three channels, their kernels and the maps).
RGB_CELL_PX = 34
#: The narrowest column (px) each layout of the animations is drawn for: the page shows the
#: side-by-side layout from WIDE_*_PX of column width up, the narrow one below (a phone's
#: column is ~358 px). Texts are wrapped and cells sized for these widths.
NARROW_PX = 340
WIDE_SLIDE_PX = 560
WIDE_RGB_PX = 900
#: Numeric grids use the diverging scale up to this factor beyond their largest |value|.
LIGHTEN = 1.6
GAP = 1.2  # empty cells between panels


def _trace(kind: str, **props) -> dict:
    """A trace as a plain dict: the figures below skip Plotly's validation (most of their
    cost, redone on every rerun that changes a bias or a picked pixel); tests validate them."""
    return {"type": kind, **props}


def _figure(traces) -> go.Figure:
    return figures.from_parts(traces if isinstance(traces, list) else [traces], {})


def _scale(values: np.ndarray, signed: bool | None) -> dict:
    v = np.asarray(values, dtype=np.float64)
    signed = style.is_signed(v) if signed is None else signed
    if signed:
        # the shared diverging scale, stretched so the largest value is a mid tone: the printed
        # numbers stay readable on the projector
        lim = style.signed_limit(v) * LIGHTEN
        return {"zmin": -lim, "zmax": lim, "colorscale": style.DIVERGING}
    lo = float(np.nanmin(v)) if v.size else 0.0
    hi = float(np.nanmax(v)) if v.size else 1.0
    return {"zmin": min(lo, 0.0), "zmax": hi if hi > min(lo, 0.0) else 1.0,
            "colorscale": LIGHT_GRAY}


def _grid_trace(values, x0: float, *, signed, hover: str, text=None, size=None) -> dict:
    v = np.asarray(values, dtype=np.float64)
    h, w = v.shape
    labels = np.vectorize(fmt)(v) if text is None else text
    return _trace(
        "heatmap", z=v, x=x0 + np.arange(w), y=np.arange(h), showscale=False, xgap=1, ygap=1,
        text=labels, texttemplate="%{text}",
        textfont={"size": size or style.CELL_FONT_SIZE, "color": "#111111"},
        hovertemplate=hover, **_scale(v, signed),
    )


def _input_traces(padded: np.ndarray, padding: tuple[int, int], x0: float, hover: str,
                  y0: float = 0) -> list[dict]:
    """A padded input grid: the real cells on the shared scale, the border of zeros in the
    padding colour (its own trace, so the animation never has to redraw it)."""
    hp, wp = padded.shape
    ph, pw = padding
    in_pad = np.ones_like(padded, dtype=bool)
    in_pad[ph:hp - ph, pw:wp - pw] = False
    inner = padded[ph:hp - ph, pw:wp - pw]
    # the padding's zeros are printed by the border trace only (twice drawn, they were text
    # over text)
    main = _grid_trace(np.where(in_pad, 0.0, padded), x0, signed=None, hover=hover,
                       text=np.where(in_pad, "", np.vectorize(fmt)(padded)))
    main.update(y=y0 + np.arange(hp), **_scale(inner, None))
    if not in_pad.any():
        return [main]
    border = _trace("heatmap", z=np.where(in_pad, 0.0, np.nan), x=x0 + np.arange(wp),
                    y=y0 + np.arange(hp), colorscale=[[0, style.PADDING_COLOR],
                                                      [1, style.PADDING_COLOR]],
                    showscale=False, xgap=1, ygap=1, text=np.where(in_pad, "0", ""),
                    texttemplate="%{text}", hoverinfo="skip",
                    textfont={"size": style.CELL_FONT_SIZE, "color": "#555555"})
    return [main, border]


def _rect(x0, y0, w, h, *, fill=style.HIGHLIGHT_FILL, color=style.HIGHLIGHT, width=4) -> dict:
    return {"type": "rect", "xref": "x", "yref": "y", "x0": x0 - 0.5, "x1": x0 + w - 0.5,
            "y0": y0 - 0.5, "y1": y0 + h - 0.5, "line": {"color": color, "width": width},
            "fillcolor": fill, "layer": "above"}


def _boundary(x0: float, y0: float, padding: tuple[int, int], hp: int, wp: int) -> list[dict]:
    """A dashed line where the real input ends and the zero padding begins."""
    ph, pw = padding
    if not (ph or pw):
        return []
    return [{"type": "rect", "xref": "x", "yref": "y", "x0": x0 + pw - 0.5,
             "x1": x0 + wp - pw - 0.5, "y0": y0 + ph - 0.5, "y1": y0 + hp - ph - 0.5,
             "line": {"color": "#555555", "width": 2, "dash": "dash"},
             "fillcolor": "rgba(0,0,0,0)", "layer": "above"}]


def _pending(x0: float, y0: float, w: int, h: int) -> dict:
    return _rect(x0, y0, w, h, fill=PENDING_FILL, color="rgba(0,0,0,0)", width=0)


def _covers(i: int, j: int, ho: int, wo: int, x0: float, y0: float = 0) -> list[dict]:
    """Gray boxes over output cells after stop (i, j): rest of row i, then the rows below.

    Always two shapes (hidden when empty): Plotly's animate merges shape arrays item by item,
    so every frame must carry the same number of shapes or stale boxes stay on screen.
    """
    rest = _pending(x0 + j + 1, y0 + i, max(wo - j - 1, 1), 1)
    below = _pending(x0, y0 + i + 1, wo, max(ho - i - 1, 1))
    rest["visible"], below["visible"] = j + 1 < wo, i + 1 < ho
    return [rest, below]


def _window_shapes(rows, cols, x0: float, y0: float = 0) -> list[dict]:
    r0, c0 = int(rows[0]), int(cols[0])
    h, w = int(rows[-1]) - r0 + 1, int(cols[-1]) - c0 + 1
    if h == len(rows) and w == len(cols):  # no dilation: one filled box
        return [_rect(x0 + c0, y0 + r0, w, h)]
    # dilated: outline of the span plus one filled cell per tap
    shapes = [_rect(x0 + c0, y0 + r0, w, h, fill="rgba(0,0,0,0)", width=2)]
    shapes += [_rect(x0 + c, y0 + r, 1, 1, width=0) for r in rows for c in cols]
    return shapes


def _note(x: float, y: float, text: str, *, size: int = 12, color: str = style.HIGHLIGHT,
          xanchor="center", yanchor="middle", ref: str = "") -> dict:
    return {"x": x, "y": y, "xref": ref or "x", "yref": ref or "y", "text": text,
            "showarrow": False, "font": {"size": size, "color": color},
            "xanchor": xanchor, "yanchor": yanchor}


def _weight_labels(kernel, rows, cols, x0, names=None, y0: float = 0) -> list[dict]:
    k = np.asarray(kernel)
    if k.size > MAX_WEIGHT_LABELS:
        return []
    # in the cell's corner (the annotation's ~3 px padding may reach into the 1-px gap), clear
    # of the cell's own number
    return [_note(x0 + c + 0.57, y0 + r + 0.55,
                  "×" + (names[a][b] if names else fmt(k[a, b])),
                  size=11, xanchor="right", yanchor="bottom")
            for a, r in enumerate(rows) for b, c in enumerate(cols)]


#: Average advance of a character of the arithmetic lines, in units of the font size (digits,
#: "×", "+" and spaces in the Noto fonts; CJK characters count double).
CHAR_EM = 0.58
#: The margins the animations use (left + right), for their fixed widths.
SIDE_PX = 20


def wrap_terms(lines: Sequence[str], width_px: float, font_px: float) -> list[str]:
    """The arithmetic ``lines`` broken before a " + " wherever a line would be wider than
    ``width_px`` (a phone, or a 5x5 kernel): no sum runs off the figure's right edge."""
    def width(text: str) -> float:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) * CHAR_EM * font_px

    out: list[str] = []
    for line in lines:
        parts = line.split(" + ")
        cur = parts[0]
        for part in parts[1:]:
            if width(cur + " + " + part) > width_px:
                out.append(cur)
                cur = "+ " + part
            else:
                cur += " + " + part
        out.append(cur)
    return out


def _player(n: int, duration: int, labels: dict, y: float,
            below: float | None = None) -> tuple[list, list]:
    """Play/pause buttons and the step slider (scrubber) for ``n`` frames; with ``below``
    (paper y) the slider gets the whole width under the buttons (a phone's narrow figure)."""
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
             "transition": {"duration": 0}}
    play = {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    menus = [{
        "type": "buttons", "direction": "left", "showactive": False,
        "x": 0.0, "y": y, "xanchor": "left", "yanchor": "top", "pad": {"r": 8, "t": 0},
        "font": {"size": style.FONT_SIZE},
        "buttons": [{"label": "▶ " + labels["play"], "method": "animate", "args": [None, play]},
                    {"label": "❚❚ " + labels["pause"], "method": "animate",
                     "args": [[None], still]}],
    }]
    sliders = [{
        "active": 0, "x": 0.36, "len": 0.64, "y": y + 0.01, "yanchor": "top",
        "pad": {"t": 0, "b": 0}, "currentvalue": {"prefix": labels["stop"] + " ",
                                                   "font": {"size": style.FONT_SIZE}},
        "steps": [{"label": str(s + 1), "method": "animate",
                   "args": [[str(s)], still]} for s in range(n)],
        "font": {"size": 11}, "ticklen": 3,
    }]
    if below is not None:
        sliders[0].update(x=0.0, len=1.0, y=below)
        if n > 12:  # step numbers every few steps only: a narrow rail has no room for all
            every = -(-n // 8)
            for i, step in enumerate(sliders[0]["steps"]):
                if i % every and i != n - 1:
                    step["label"] = " "
    return menus, sliders


def _axes_layout(height_cells: float, width_cells: float,
                 y_domain: tuple[float, float]) -> dict:
    """One shared cell grid (layout keys): x in cells over all panels, y in cells, square."""
    return {
        "xaxis": {"range": [-0.5 - 0.1, width_cells - 0.5 + 0.1], "visible": False,
                  "constrain": "domain", "fixedrange": True},
        "yaxis": {"range": [height_cells - 0.5 + 0.05, -0.5 - 0.05], "visible": False,
                  "scaleanchor": "x", "scaleratio": 1, "constrain": "domain",
                  "domain": list(y_domain), "fixedrange": True},
    }


def _axes(fig: go.Figure, panels: Sequence[tuple[float, float]], height_cells: float,
          width_cells: float, y_domain: tuple[float, float]) -> None:
    """One shared cell grid: x in cells over all panels, y in cells, square cells."""
    fig.update_layout(_axes_layout(height_cells, width_cells, y_domain))


def slide_figure(
    sl: Slide,
    lines: Sequence[Sequence[str]],
    *,
    titles: dict[str, str],
    labels: dict[str, str],
    names: list[list[str]] | None = None,
    duration: int = 700,
    start: int = 0,
    narrow: bool = False,
) -> go.Figure:
    """The padded input, the kernel and the feature map side by side, with one frame per stop
    (``narrow``: the input above, the kernel and the map under it, for a phone's column).

    Parameters
    ----------
    sl : the sliding sequence (one channel) from :func:`cnnviz.lessons.conv.slide`
    lines : per stop, the arithmetic lines (:func:`cnnviz.lessons.conv.arithmetic`)
    titles : translated ``input``, ``kernel``, ``output`` panel titles
    labels : translated ``play``, ``pause``, ``stop`` (slider prefix), ``value`` (hover)
    names : optional weight names (the article's w1..w4) printed in the kernel
    duration : milliseconds per stop while playing
    """
    padded, kernel, out = sl.padded[0], sl.kernel[0], sl.out
    hp, wp = padded.shape
    kh, kw = kernel.shape
    ho, wo = out.shape
    if narrow:  # input on top; kernel and feature map side by side under it
        yk = hp + 1.0
        xk, xo = 0.0, kw + GAP
        width_cells = max(wp, xo + wo)
        height_cells = yk + max(kh, ho)
    else:
        yk = 0.0
        xk = wp + GAP
        xo = xk + kw + GAP
        width_cells = xo + wo
        height_cells = max(hp, kh, ho)
    hover = f"({'%{y}'}, {'%{x}'})<br>{labels['value']}: %{{z}}<extra></extra>"
    traces = _input_traces(padded, sl.padding, 0, hover)
    ktext = (np.array([[f"{names[r][c]}={fmt(kernel[r, c])}" for c in range(kw)]
                       for r in range(kh)]) if names else None)
    traces.append(_grid_trace(kernel, xk, signed=True, hover=hover, text=ktext,
                              size=style.CELL_FONT_SIZE - 3 if names else None))
    traces.append(_grid_trace(out, xo, signed=True, hover=hover))
    traces[-2].update(y=yk + np.arange(kh))
    traces[-1].update(y=yk + np.arange(ho))
    fig = _figure(traces)
    # the arithmetic is wrapped for the narrowest column this layout is shown in (the page
    # picks the layout from the column's width): one line when it fits, else one line per
    # kernel row, broken further before a " + " where a row is still too wide
    cell = min(CELL_PX, NARROW_PX / (width_cells + 0.2)) if narrow else CELL_PX
    text_w = (NARROW_PX if narrow else WIDE_SLIDE_PX) - SIDE_PX - 4
    font = style.FONT_SIZE + 1
    wrapped = []
    for lns in lines:
        one = wrap_terms([" ".join(lns)], text_w, font)
        wrapped.append(one if len(one) == 1 and kw <= 3 else wrap_terms(lns, text_w, font))
    text_lines = max((len(lns) for lns in wrapped), default=1)
    player_px = 160 if narrow else 118
    grid_px, text_px = cell * height_cells, 28 * text_lines + 16
    plot_px = grid_px + text_px + player_px
    y0 = (text_px + player_px) / plot_px
    _axes(fig, [], height_cells, width_cells, (y0, 1.0))
    static = [
        _note(0 + (wp - 1) / 2, -0.55, titles["input"], size=style.FONT_SIZE, color="#222",
              yanchor="bottom"),
        _note(xk + (kw - 1) / 2, yk - 0.55, titles["kernel"], size=style.FONT_SIZE,
              color="#222", yanchor="bottom"),
        _note(xo + (wo - 1) / 2, yk - 0.55, titles["output"], size=style.FONT_SIZE,
              color="#222", yanchor="bottom"),
    ]
    frames = []
    for s, st in enumerate(sl.stops):
        shapes = _boundary(0, 0, sl.padding, hp, wp) + _window_shapes(st.rows, st.cols, 0)
        shapes.append(_rect(xo + st.j, yk + st.i, 1, 1))
        shapes += _covers(st.i, st.j, ho, wo, xo, yk)
        text = "<br>".join(wrapped[s])
        arith = _note(0.0, y0 - 8 / plot_px, text, size=font, color="#222",
                      xanchor="left", yanchor="top", ref="paper")
        arith["align"] = "left"
        notes = static + _weight_labels(kernel, st.rows, st.cols, 0, names) + [arith]
        frames.append({"name": str(s), "layout": {"shapes": shapes, "annotations": notes}})
    menus, sliders = _player(len(frames), duration, labels, y=(player_px - 6) / plot_px,
                             below=(player_px - 58) / plot_px if narrow else None)
    start = min(max(int(start), 0), len(frames) - 1) if frames else 0
    sliders[0]["active"] = start
    fig.update_layout(updatemenus=menus, sliders=sliders)
    if frames:
        fig.update_layout(**frames[start]["layout"])
    fig.frames = [go.Frame(f) for f in frames]
    figures.base_layout(fig, "", height=int(plot_px + 44))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 34, "b": 10}, hovermode="closest",
                      dragmode=False)
    return fig


def rgb_slide_figure(
    sl: Slide,
    maps: np.ndarray,
    follow: int,
    lines: Sequence[Sequence[str]],
    *,
    titles: dict[str, object],
    labels: dict[str, str],
    duration: int = 900,
    narrow: bool = False,
) -> go.Figure:
    """Three channels side by side, each with the kernel's slice for it underneath, and the K
    feature maps on the right (output depth K). ``narrow`` (a phone's or tablet's column):
    the channels stacked, each with its kernel slice beside it, the maps under them.

    The followed map (``follow``) fills in as its kernel slides; the others are complete.
    ``titles``: ``channels`` (3 names), ``kernel`` (3 slice titles), ``maps`` (K titles).
    ``lines`` per stop: one line per channel plus the total line.
    """
    padded, kernel = sl.padded, sl.kernel
    c, hp, wp = padded.shape
    kh, kw = kernel.shape[1:]
    k, ho, wo = maps.shape
    out_h = ho + 1.4
    if narrow:
        row_h, title_w = hp + 1.0, 4.8  # a channel's row; room (cells) for a map's title
        width_cells = wp + GAP + max(kw, 4.2)
        chan_xy = [(0.0, ci * row_h) for ci in range(c)]
        kern_xy = [(wp + GAP, ci * row_h + (hp - kh) / 2) for ci in range(c)]
        per_row = max(1, int((width_cells + GAP) // (max(wo, title_w) + GAP)))
        top = c * row_h + 0.6
        map_xy = [((m % per_row) * (max(wo, title_w) + GAP), top + (m // per_row) * out_h)
                  for m in range(k)]
        height_cells = map_xy[-1][1] + ho
    else:
        col_w, ky = wp + GAP + 0.4, hp + 1.6
        xo = c * col_w + 0.8
        chan_xy = [(ci * col_w, 0.0) for ci in range(c)]
        kern_xy = [(ci * col_w + (wp - kw) / 2, ky) for ci in range(c)]
        map_xy = [(xo, m * out_h) for m in range(k)]
        height_cells = max(ky + kh, k * out_h - 1.4)
        width_cells = xo + max(wo, 4.5)
    hover = f"({'%{y}'}, {'%{x}'})<br>{labels['value']}: %{{z}}<extra></extra>"
    traces, static = [], []
    for ci in range(c):
        (x0, y0c), (xk, yk) = chan_xy[ci], kern_xy[ci]
        traces += _input_traces(padded[ci], sl.padding, x0, hover, y0=y0c)
        tk = _grid_trace(kernel[ci], xk, signed=True, hover=hover)
        tk.update(y=yk + np.arange(kh))
        traces.append(tk)
        name = str(titles["channels"][ci])
        color = style.CHANNEL_COLORS.get(name[:1], "#222")
        static.append(_note(x0 + (wp - 1) / 2, y0c - 0.55, name, size=style.FONT_SIZE,
                            color=color, yanchor="bottom"))
        knote = _note(xk + (kw - 1) / 2, yk - 0.55, str(titles["kernel"][ci]),
                      size=style.FONT_SIZE - 2, color=color, yanchor="bottom")
        if narrow:  # beside its channel: the title starts at the slice and may run right
            knote.update(x=xk - 0.5, xanchor="left")
        static.append(knote)
    for m in range(k):
        xm, ym = map_xy[m]
        tm = _grid_trace(maps[m], xm, signed=True, hover=hover)
        tm.update(y=ym + np.arange(ho))
        traces.append(tm)
        mnote = _note(xm + (wo - 1) / 2, ym - 0.55, str(titles["maps"][m]),
                      size=style.FONT_SIZE - 2, color="#222", yanchor="bottom")
        if narrow:
            mnote.update(x=xm - 0.5, xanchor="left")
        static.append(mnote)
    fig = _figure(traces)
    # texts wrapped and cells sized for the narrowest column this layout is shown in
    cell = min(RGB_CELL_PX, NARROW_PX / (width_cells + 0.2)) if narrow else RGB_CELL_PX
    text_w = (NARROW_PX if narrow else WIDE_RGB_PX) - SIDE_PX - 4
    lines = [wrap_terms(lns, text_w, style.FONT_SIZE) for lns in lines]
    text_px = 24 * max((len(lns) for lns in lines), default=c + 1) + 16
    grid_px, player_px = cell * height_cells, 160 if narrow else 118
    plot_px = grid_px + text_px + player_px
    y0 = (text_px + player_px) / plot_px
    _axes(fig, [], height_cells, width_cells, (y0, 1.0))
    frames = []
    ox, oy = map_xy[follow]
    for s, stp in enumerate(sl.stops):
        shapes = []
        for x0, y0c in chan_xy:
            shapes += _boundary(x0, y0c, sl.padding, hp, wp)
            shapes += _window_shapes(stp.rows, stp.cols, x0, y0c)
        shapes.append(_rect(ox + stp.j, oy + stp.i, 1, 1))
        shapes += _covers(stp.i, stp.j, ho, wo, ox, oy)
        text = _note(0.0, y0 - 8 / plot_px, "<br>".join(lines[s]), size=style.FONT_SIZE,
                     color="#222", xanchor="left", yanchor="top", ref="paper")
        text["align"] = "left"
        frames.append({"name": str(s), "layout": {"shapes": shapes,
                                                  "annotations": [*static, text]}})
    menus, sliders = _player(len(frames), duration, labels, y=(player_px - 6) / plot_px,
                             below=(player_px - 58) / plot_px if narrow else None)
    fig.update_layout(updatemenus=menus, sliders=sliders, **frames[0]["layout"])
    fig.frames = [go.Frame(f) for f in frames]
    figures.base_layout(fig, "", height=int(plot_px + 44))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 34, "b": 10}, dragmode=False)
    return fig


#: Above this many pixels a picture or map travels as a JPEG with a coarse hover grid.
MAX_EXACT_CELLS = figures.MAX_HEATMAP_CELLS
#: Hover values are sampled on at most this many points per side.
HOVER_SIDE = 128
#: Click targets (see RECIPES: heatmaps report no selection) on at most this many per side.
CLICK_SIDE = 64
JPEG_QUALITY = 90


def _lut(signed: bool) -> np.ndarray:
    """The shared colour scale as a 256-entry uint8 table (index 0..255)."""
    u = np.linspace(-1.0, 1.0, 256) if signed else np.linspace(0.0, 1.0, 256)
    return style.colorize(u[None, :], signed=signed, limit=1.0)[0]


_LUTS = {True: _lut(True), False: _lut(False)}


def _jpeg_uri(rgb: np.ndarray) -> str:
    # JPEG, not PNG: a 1024x1024 feature map full of fine edges is ~0.6 MB / ~10 ms as JPEG q90
    # and ~2.5 MB / ~300 ms as PNG (benchmarks/bench_conv_page.py); display only, values hover.
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _coarse(h: int, w: int, side: int) -> tuple[int, np.ndarray, np.ndarray]:
    step = int(np.ceil(max(h, w) / side))
    return step, np.arange(step // 2, h, step), np.arange(step // 2, w, step)


def map_layers(values: np.ndarray, *, signed: bool | None = None) -> dict:
    """The expensive part of a feature-map figure, computed once per map (cache it).

    Small maps keep their numbers (an exact heatmap). Large ones become one JPEG coloured with
    the shared scales (via a lookup table: ~10x faster than float maths per pixel) plus a
    coarse grid of true values for hover and the colour bar.
    """
    v = np.asarray(values, dtype=np.float32)
    h, w = v.shape
    signed = style.is_signed(v) if signed is None else signed
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if signed:
        lim = style.signed_limit(finite)
        zmin, zmax, scale = -lim, lim, style.DIVERGING
    else:
        zmin, zmax, scale = lo, hi if hi > lo else lo + 1.0, style.GRAY
    layers = {"shape": (h, w), "zmin": zmin, "zmax": zmax, "scale": scale, "values": v}
    if h * w <= MAX_EXACT_CELLS:
        layers["z"] = v
        return layers
    idx = np.clip((np.nan_to_num(v, nan=zmin) - zmin) * (255.0 / (zmax - zmin)) + 0.5, 0, 255)
    layers["uri"] = _jpeg_uri(_LUTS[bool(signed)][idx.astype(np.uint8)])
    _, ys, xs = _coarse(h, w, HOVER_SIDE)
    ys, xs = ys.astype(np.int16), xs.astype(np.int16)
    layers.update(z=v[ys[:, None], xs[None, :]], ys=ys, xs=xs)
    return layers


def image_layers(image: np.ndarray) -> dict:
    """The expensive part of the input figure: the picture as a JPEG plus coarse hover values
    (a colour picture's R, G, B travel as a list per point, so its grid is coarser)."""
    img = np.asarray(image, dtype=np.float32)
    h, w = img.shape[:2]
    u8 = np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)
    _, ys, xs = _coarse(h, w, HOVER_SIDE if img.ndim == 2 else CLICK_SIDE)
    return {"shape": (h, w), "uri": _jpeg_uri(u8), "ys": ys, "xs": xs,
            "sample": img[ys[:, None], xs[None, :]]}


def _fit_height(h: int, w: int) -> int:
    """A height that suits the picture's shape in a ~400 px wide column (no tall empty bands)."""
    return int(np.clip(110 + 360 * h / max(w, 1), 240, 520))


def _where(axis_labels: tuple[str, str]) -> str:
    row, col = axis_labels
    return f"{row} %{{y}}, {col} %{{x}}"


def _picture_axes(h: int, w: int, axis_labels: tuple[str, str]) -> dict:
    """Pixel axes (layout keys): row 0 at the top, numbered ticks, translated axis titles."""
    row, col = axis_labels
    small = {"size": style.FONT_SIZE - 3}
    return {
        "xaxis": {"showgrid": False, "zeroline": False, "constrain": "domain",
                  "range": [-0.5, w - 0.5], "tickfont": small, "nticks": 5, "side": "top",
                  "title": {"text": col + " →", "font": small, "standoff": 2}},
        "yaxis": {"showgrid": False, "zeroline": False, "scaleanchor": "x", "scaleratio": 1,
                  "constrain": "domain", "range": [h - 0.5, -0.5], "nticks": 5, "tickfont": small,
                  "title": {"text": row + " ↓", "font": small, "standoff": 2}},
    }


def _crosshair(r: float, c: float, hh: float, ww: float, h: int, w: int) -> list[dict]:
    """A highlight box plus dotted crosshair (a 3x3 window is tiny on a 1024-pixel picture)."""
    cx, cy = c + (ww - 1) / 2, r + (hh - 1) / 2
    dotted = {"type": "line", "line": {"color": style.HIGHLIGHT, "width": 1, "dash": "dot"}}
    return [_rect(c, r, ww, hh, width=3, fill="rgba(0,0,0,0)"),
            {**dotted, "x0": cx, "x1": cx, "y0": -0.5, "y1": h - 0.5},
            {**dotted, "y0": cy, "y1": cy, "x0": -0.5, "x1": w - 0.5}]


def _picture_figure(data: list[dict], title: str, h: int, w: int, axis_labels: tuple[str, str],
                    height: int | None, shapes: list[dict], **extra: Any) -> go.Figure:
    layout = figures.layout_dict(title, height or _fit_height(h, w))
    layout.update(_picture_axes(h, w, axis_labels), shapes=shapes, **extra)
    return figures.from_parts(data, layout)


def input_figure(
    layers: dict,
    *,
    title: str,
    window: tuple[int, int, int, int] | None = None,
    hover_label: str = "value",
    axis_labels: tuple[str, str] = ("row", "column"),
    height: int | None = None,
) -> go.Figure:
    """The picture (from :func:`image_layers`), values under the cursor on a coarse transparent
    grid, and the picked window ``(row, col, height, width)`` in the highlight colour.
    ``axis_labels``: translated (row, column) words for the axes and the hover."""
    h, w = layers["shape"]
    sample = layers["sample"]
    if sample.ndim == 3:
        hover = (_where(axis_labels) + "<br>R %{customdata[0]:.3f} · G %{customdata[1]:.3f} · "
                 "B %{customdata[2]:.3f}<extra></extra>")
        z, custom = sample.mean(axis=2), np.round(sample, 3)
    else:
        hover = _where(axis_labels) + f"<br>{hover_label}: %{{z:.3f}}<extra></extra>"
        z, custom = sample, None
    data = [_trace("image", source=layers["uri"], hoverinfo="skip"),
            _trace("heatmap", z=z, x=layers["xs"], y=layers["ys"], customdata=custom,
                   opacity=0.004, showscale=False, colorscale=style.GRAY, hovertemplate=hover)]
    shapes = _crosshair(window[0], window[1], window[2], window[3], h, w) if window else []
    return _picture_figure(data, title, h, w, axis_labels, height, shapes)


def feature_map_figure(
    layers: dict,
    *,
    title: str,
    pick: tuple[int, int] | None = None,
    hover_label: str = "value",
    axis_labels: tuple[str, str] = ("row", "column"),
    clickable: bool = True,
    height: int | None = None,
) -> go.Figure:
    """A feature map (from :func:`map_layers`) with its value under the cursor, the picked
    output pixel marked and, when ``clickable``, a nearly invisible layer of points (at most
    64 x 64) that a click can select (Plotly heatmaps report no selection, see RECIPES.md)."""
    h, w = layers["shape"]
    hover = _where(axis_labels) + f"<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    common = {"zmin": layers["zmin"], "zmax": layers["zmax"], "colorscale": layers["scale"],
              "colorbar": {"thickness": 12, "len": 0.9}, "hovertemplate": hover}
    if "uri" in layers and clickable:
        # the click layer answers hover, so the heatmap only has to carry the colour bar
        data = [_trace("image", source=layers["uri"], hoverinfo="skip"),
                _trace("heatmap", z=[[layers["zmin"], layers["zmax"]]], x=[0, 1], y=[0],
                       opacity=0.0, hoverinfo="skip",
                       **{k: v for k, v in common.items() if k != "hovertemplate"})]
    elif "uri" in layers:
        data = [_trace("image", source=layers["uri"], hoverinfo="skip"),
                _trace("heatmap", z=layers["z"], x=layers["xs"], y=layers["ys"], opacity=0.004,
                       **common)]
    else:
        data = [_trace("heatmap", z=layers["z"], **common)]
    if clickable:
        # the click layer also answers hover (it is always the closest trace): it carries the
        # true value of the pixel each point sits on
        _, ys, xs = _coarse(h, w, CLICK_SIDE)
        yy, xx = np.meshgrid(ys.astype(np.int16), xs.astype(np.int16), indexing="ij")
        data.append(_trace("scatter", x=xx.ravel(), y=yy.ravel(), mode="markers",
                           customdata=layers["values"][yy, xx].ravel().astype(np.float32),
                           marker={"size": max(4, 300 // max(len(xs), len(ys))),
                                   "opacity": 0.004, "color": "#000000"},
                           hovertemplate=hover.replace("%{z", "%{customdata"),
                           hoverlabel={"bgcolor": "white", "bordercolor": style.HIGHLIGHT,
                                       "font": {"color": "#111111"}},
                           showlegend=False))
    shapes = _crosshair(pick[0], pick[1], 1, 1, h, w) if pick is not None else []
    return _picture_figure(data, title, h, w, axis_labels, height, shapes,
                           clickmode="event+select", hovermode="closest")


#: What :func:`explain_figure` draws of ``conv2d_explain``'s result (not the bias or the output
#: value: a bias change leaves the figure as it was, so its cache entry still serves).
EXPLAIN_DRAWS = ("window", "kernel", "products", "in_padding", "channel_sums")


def explain_parts(ex: dict) -> dict:
    """The part of ``conv2d_explain``'s result that :func:`explain_figure` draws."""
    return {k: ex[k] for k in EXPLAIN_DRAWS}


def explain_figure(ex: dict, *, channels: Sequence[str], titles: dict[str, str],
                   hover_label: str = "value", narrow: bool = False) -> go.Figure:
    """One output pixel explained: per channel the input window (padding cells in the padding
    colour), the kernel slice and the products, numbers printed. ``narrow`` (a phone's or
    tablet's column): the products under the window, so each cell keeps room for "0.735"."""
    win, ker, prod = ex["window"], ex["kernel"], ex["products"]
    c, kh, kw = win.shape
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    head = 2.0 if c > 1 else 1.4  # room for the titles above a grid
    xk = kw + GAP
    if narrow:
        xp, yp, row_h = 0.0, kh + head, 2 * (kh + head)
        width_cells = 2 * kw + GAP + 0.4
    else:
        xp, yp, row_h = 2 * (kw + GAP), 0.0, kh + head
        width_cells = xp + kw + 2.6
    traces, notes, shapes = [], [], []
    pad_mask = np.asarray(ex["in_padding"], dtype=bool)
    for ci in range(c):
        y = ci * row_h
        for x0, dy, arr, signed in ((0, 0.0, win[ci], None), (xk, 0.0, ker[ci], True),
                                    (xp, yp, prod[ci], True)):
            tr = _grid_trace(arr, x0, signed=signed, hover=hover, size=style.CELL_FONT_SIZE - 3)
            tr.update(y=y + dy + np.arange(kh))
            if signed is None and not style.is_signed(win):  # pixel values: one scale 0..1
                tr.update(zmin=0.0, zmax=max(1.0, float(np.max(win))))
            traces.append(tr)
        rows, cols = np.nonzero(pad_mask)
        shapes += [_rect(cc, y + rr, 1, 1, fill=style.PADDING_COLOR, color="rgba(0,0,0,0)",
                         width=0) for rr, cc in zip(rows, cols, strict=True)]
        label = f"{channels[ci]}<br>" if c > 1 else ""  # own line: fits a phone's column
        for x0, dy, key in ((0, 0.0, "window"), (xk, 0.0, "kernel"), (xp, yp, "products")):
            notes.append(_note(x0 + (kw - 1) / 2, y + dy - 0.55, label + titles[key],
                               size=style.FONT_SIZE - 2, color="#222", yanchor="bottom"))
        notes.append(_note(xp + kw - 0.3, y + yp + (kh - 1) / 2,
                           "Σ = " + fmt(ex["channel_sums"][ci]), size=style.FONT_SIZE,
                           color=style.HIGHLIGHT, xanchor="left"))
    height_cells = c * row_h - head
    cell = max(22, min(40, 300 // max(kh, 1)))
    if narrow:
        cell = min(cell, NARROW_PX / (width_cells + 0.2))
    layout = figures.layout_dict("", int(cell * height_cells + 30 * c + 20))
    layout.update(_axes_layout(height_cells, width_cells, (0.0, 1.0)), annotations=notes,
                  shapes=shapes, margin={"l": 10, "r": 10, "t": 30, "b": 10}, dragmode=False)
    return figures.from_parts(traces, layout)


def kernel_pair_figure(kernel: np.ndarray, flipped: np.ndarray, *, titles: Sequence[str],
                       hover_label: str = "value") -> go.Figure:
    """A kernel and its 180-degree rotation side by side (correlation vs convolution)."""
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z}}<extra></extra>"
    lim = style.signed_limit(k)
    traces = []
    for x0, arr in ((0, k), (kw + GAP + 0.8, np.asarray(flipped, dtype=np.float64))):
        tr = _grid_trace(arr, x0, signed=True, hover=hover)
        tr.update(zmin=-lim, zmax=lim)
        traces.append(tr)
    fig = _figure(traces)
    _axes(fig, [], kh, 2 * kw + GAP + 0.8, (0.0, 1.0))
    fig.update_layout(annotations=[
        _note((kw - 1) / 2, -0.55, titles[0], size=style.FONT_SIZE - 1, color="#222",
              yanchor="bottom"),
        _note(kw + GAP + 0.8 + (kw - 1) / 2, -0.55, titles[1], size=style.FONT_SIZE - 1,
              color="#222", yanchor="bottom"),
        _note(kw + (GAP + 0.8) / 2 - 0.5, (kh - 1) / 2, "↻ 180°", size=style.FONT_SIZE,
              color="#222")])
    figures.base_layout(fig, "", height=int(36 * kh + 50))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 34, "b": 10}, dragmode=False)
    return fig


def compare_figure(maps: Sequence[tuple[np.ndarray, str]], *, hover_label: str = "value",
                   height: int = 260) -> go.Figure:
    """Small maps side by side on ONE diverging scale (so a difference map reads against the
    maps it compares), in one pair of axes: much lighter to build than subplots."""
    arrs = [np.asarray(m, dtype=np.float32) for m, _ in maps]
    lim = style.signed_limit(np.concatenate([a.ravel() for a in arrs]))
    hover = f"({'%{y}'}, {'%{customdata}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    h = max(a.shape[0] for a in arrs)
    traces, notes, x0 = [], [], 0.0
    for n, (a, (_, title)) in enumerate(zip(arrs, maps, strict=True)):
        cols = np.arange(a.shape[1])
        traces.append(_trace("heatmap", z=a, x=x0 + cols, y=np.arange(a.shape[0]), zmin=-lim,
                             zmax=lim, colorscale=style.DIVERGING, showscale=n == 0,
                             colorbar={"thickness": 10, "len": 0.9},
                             customdata=np.ascontiguousarray(
                                 np.broadcast_to(cols.astype(np.int16), a.shape)),
                             hovertemplate=hover))
        # at the range's edge: Plotly hides data-anchored annotations outside the range
        notes.append(_note(x0 + (a.shape[1] - 1) / 2, -0.5, figures.two_lines(title, 10),
                           size=style.FONT_SIZE - 1, color="#222", yanchor="bottom"))
        x0 += a.shape[1] + max(3, a.shape[1] // 12)
    fig = _figure(traces)
    fig.update_xaxes(visible=False, range=[-0.5, x0 - max(3, arrs[-1].shape[1] // 12) - 0.5],
                     constrain="domain")
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x", scaleratio=1,
                     constrain="domain")
    fig.update_layout(annotations=notes)
    figures.base_layout(fig, "", height=height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 56, "b": 10})
    return fig
