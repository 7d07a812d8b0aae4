"""Figures of "How a CNN learns": small numeric grids of forward values and gradients, the conv
weight gradient as a sliding window, ReLU beside sigmoid, and the loss over the steps taken.

Pure builders: the lesson's arrays and already-translated labels in, a figure (or its dict) out.
Signed values (kernels, gradients) use the shared diverging scale; inputs and activations light
grays; the window, the current cell and the max-pooling winners the one highlight colour, with
the values printed so nothing is told by colour alone. Every figure is one small panel (at most
8 cells across) so that a phone shows it at a readable size; the page puts panels in columns,
which stack on narrow screens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from cnnviz.viz import figures, style

#: Printed numbers in grids (>= 11 px on every display).
CELL_FONT = 13
#: Gradients are small: two significant digits fit a phone's cell; hover has them all.
DIGITS = 2
LIGHT_GRAY = [[0.0, "#ffffff"], [1.0, "#8c8c8c"]]
_NO_AXIS = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": "",
            "fixedrange": True}


def num(x: float, digits: int = DIGITS) -> str:
    """A cell's number: at most ``digits`` significant digits, minus zero shown as 0."""
    return style.fmt(float(x) + 0.0, digits)


def _scale(v: np.ndarray, signed: bool, limit: float | None) -> dict[str, Any]:
    if signed:
        lim = (limit or style.signed_limit(v)) * 1.4  # largest value a mid tone: text readable
        return {"zmin": -lim, "zmax": lim, "colorscale": style.DIVERGING}
    hi = float(limit or (np.nanmax(v) if v.size else 1.0))
    return {"zmin": min(0.0, float(np.nanmin(v))) if v.size else 0.0,
            "zmax": hi if hi > 0 else 1.0, "colorscale": LIGHT_GRAY}


def grid(values: np.ndarray, title: str, *, signed: bool | None = None,
         digits: int = DIGITS, marks: np.ndarray | None = None,
         row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
         limit: float | None = None, hover: str = "value", cell_px: int = 46,
         blocks: int = 0, label_lines: int = 0, title_lines: int = 1) -> go.Figure:
    """One small grid, every value printed; ``marks`` (bool, same shape) outlines cells in the
    highlight colour (e.g. the max-pooling winners); ``blocks`` > 0 draws dark lines between
    blocks of that many cells (the pooling windows). Row/column labels are drawn as ticks
    (column labels may break lines with ``<br>``; ``label_lines`` reserves room for that many
    lines, so grids side by side line up; ``title_lines`` likewise for the title, which is set
    on two lines when long)."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    h, w = v.shape
    signed = style.is_signed(v) if signed is None else signed
    text = [[num(x, digits) for x in row] for row in v.tolist()]
    trace = {"type": "heatmap", "z": figures.typed_array(v, "f8"), "text": text,
             "texttemplate": "%{text}", "textfont": {"size": CELL_FONT, "color": "#111111"},
             "showscale": False, "xgap": 2, "ygap": 2,
             "hovertemplate": f"({'%{y}'}, {'%{x}'})<br>{hover}: %{{z:.6g}}<extra></extra>",
             **_scale(v, signed, limit)}
    shapes = []
    if blocks:
        line = {"color": "#444444", "width": 2}
        shapes += [{"type": "line", "x0": b - 0.5, "x1": b - 0.5, "y0": -0.5, "y1": h - 0.5,
                    "line": line, "layer": "above"} for b in range(blocks, w, blocks)]
        shapes += [{"type": "line", "y0": b - 0.5, "y1": b - 0.5, "x0": -0.5, "x1": w - 0.5,
                    "line": line, "layer": "above"} for b in range(blocks, h, blocks)]
    if marks is not None:
        rows, cols = np.nonzero(np.atleast_2d(marks))
        shapes += [figures.highlight_shape(r, c, fill=False, width=3)
                  for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
    xaxis = dict(_NO_AXIS, constrain="domain", range=[-0.5, w - 0.5])
    yaxis = dict(_NO_AXIS, autorange="reversed", scaleanchor="x", scaleratio=1,
                 constrain="domain")
    left = 0
    if col_labels is not None:
        # labelled columns stretch to the width (names need more room than a number); the
        # labels never turn sideways
        xaxis.update(showticklabels=True, side="top", tickvals=list(range(w)), tickangle=0,
                     ticktext=list(col_labels), tickfont={"size": 12})
        yaxis.pop("scaleanchor")
        yaxis.pop("scaleratio")
    if row_labels is not None:
        yaxis.update(showticklabels=True, tickvals=list(range(h)), ticktext=list(row_labels),
                     tickfont={"size": 12})
        left = 8 * max(len(str(s)) for s in row_labels) + 8
    lines = max([label_lines] + [str(c).count("<br>") + 1 for c in col_labels or []])
    layout = figures.layout_dict(title)  # a long title is set on two lines: room for both
    lines_used = layout["title"]["text"].count("<br>") + 1 if title else 0
    labels_px = 16 * lines + 14 if lines else 2  # column labels above the grid, and a gap
    top = 6 + 20 * max(lines_used, title_lines if title else 0) + labels_px
    layout["height"] = cell_px * h + top + 8
    layout["title"]["font"]["size"] = style.FONT_SIZE
    # the title sits above the grid's column labels. Plotly places a multi-line title by its
    # first line and lets the others flow down ("top" pushed the first line off the figure),
    # so the anchor is raised by the lines that follow it, into the room kept for them.
    layout["title"].update(yref="paper", y=1.0, yanchor="bottom",
                           pad={"b": labels_px + 20 * (lines_used - 1)})
    layout.update(xaxis=xaxis, yaxis=yaxis, shapes=shapes, dragmode=False,
                  margin={"l": left + 2, "r": 2, "t": top, "b": 4})
    return figures.from_parts([trace], layout)


def bar_compare(groups: Sequence[str], series: Mapping[str, Sequence[float]],
                colors: Mapping[str, str], labels: Mapping[str, str]) -> go.Figure:
    """Grouped bars, one series per activation in its house colour, values printed on bars.

    labels: ``title``, ``y``; series keys are the activation names, ``labels[name]`` their
    display names.
    """
    data = [{"type": "bar", "name": labels[name], "x": list(groups), "y": list(values),
             "marker": {"color": colors.get(name, style.SERIES[0])},
             "text": [num(v, 3) for v in values], "textposition": "outside",
             "textfont": {"size": 12}, "cliponaxis": False,
             "hovertemplate": "%{x}: %{y:.6g}<extra>" + labels[name] + "</extra>"}
            for name, values in series.items()]
    top = max((max(v) for v in series.values() if len(v)), default=1.0)
    layout = figures.layout_dict(labels["title"], 320)
    layout["title"]["font"]["size"] = style.FONT_SIZE
    layout.update(barmode="group", dragmode=False,
                  legend={"orientation": "h", "y": -0.18, "x": 0},
                  yaxis={"title": {"text": labels["y"]}, "range": [0, top * 1.25 or 1],
                         "fixedrange": True},
                  xaxis={"fixedrange": True, "tickfont": {"size": 12}},
                  margin={"l": 50, "r": 8, "t": 40, "b": 60})
    return figures.from_parts(data, layout)


def loss_curve(losses: Sequence[float], labels: Mapping[str, str]) -> go.Figure:
    """The loss before any step (0) and after each step taken; labels ``title``, ``x``, ``y``."""
    xs = list(range(len(losses)))
    trace = {"type": "scatter", "x": xs, "y": [float(v) for v in losses],
             "mode": "lines+markers+text", "text": [num(v, 3) for v in losses],
             "textposition": "top center", "textfont": {"size": 12}, "cliponaxis": False,
             "line": {"color": style.ACTIVATION_COLORS["relu"], "width": 3},
             "hovertemplate": "%{x}: %{y:.6g}<extra></extra>"}
    layout = figures.layout_dict(labels["title"], 300)
    layout["title"]["font"]["size"] = style.FONT_SIZE
    top = max(losses) if len(losses) else 1.0
    layout.update(dragmode=False,
                  xaxis={"title": {"text": labels["x"]}, "dtick": 1, "fixedrange": True,
                         "range": [-0.3, max(3, len(losses) - 1) + 0.3]},
                  yaxis={"title": {"text": labels["y"]}, "range": [0, top * 1.3 or 1],
                         "fixedrange": True},
                  margin={"l": 50, "r": 16, "t": 40, "b": 50})
    return figures.from_parts([trace], layout)


# ---- the dW slide ---------------------------------------------------------------------------

GAP = 1.3  # empty cells between panels (room for their titles)


def _note(x: float, y: float, text: str, *, size: int = CELL_FONT, color: str = "#222222",
          ref: str = "", xanchor: str = "center", yanchor: str = "bottom") -> dict:
    return {"x": x, "y": y, "xref": ref or "x", "yref": ref or "y", "text": text,
            "showarrow": False, "font": {"size": size, "color": color},
            "xanchor": xanchor, "yanchor": yanchor}


def _cells(v: np.ndarray, x0: float, y0: float, scale: dict, hover: str) -> dict:
    h, w = v.shape
    return {"type": "heatmap", "z": np.asarray(v, dtype=np.float64),
            "x": x0 + np.arange(w), "y": y0 + np.arange(h),
            "text": [[num(a) for a in row] for row in np.asarray(v).tolist()],
            "texttemplate": "%{text}", "textfont": {"size": CELL_FONT - 1, "color": "#111111"},
            "showscale": False, "xgap": 2, "ygap": 2, "hovertemplate": hover, **scale}


def slide_spec(x: np.ndarray, dy: np.ndarray, stops: Sequence[Any], labels: Mapping[str, str],
               *, duration: int = 800, cell_px: int = 46) -> dict:
    """The conv weight gradient of one kernel built stop by stop, as a figure dict with one
    animation frame per output cell.

    Top: the input (6x6) with the 3x3 window. Below: the upstream gradient dY (4x4) with the
    current cell, and the running sum of ``window x dY`` (3x3), which ends equal to dW.
    ``stops``: :func:`cnnviz.lessons.backprop.dw_slide`. labels: ``input``, ``dy``, ``dw``
    (panel titles), ``stop`` (template with ``{k}``, ``{n}``, ``{i}``, ``{j}``, ``{dy}``),
    ``play``, ``pause``, ``value`` (hover).
    """
    x = np.asarray(x, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    hx, wx = x.shape
    ho, wo = dy.shape
    kh = kw = hx - ho + 1
    width = wo + GAP + kw
    xi = (width - wx) / 2           # input centred over the row below
    y_low = hx + GAP                # the second row's top
    xw = wo + GAP                   # the running sum's left edge
    height = y_low + max(ho, kh)
    final = np.asarray(stops[-1].running) if stops else np.zeros((kh, kw))
    hover = f"{labels['value']}: %{{z:.6g}}<extra></extra>"
    lim = style.signed_limit(np.concatenate([final.ravel(), [s.running.max() for s in stops],
                                             [abs(s.running.min()) for s in stops]]))
    dw_scale = {"zmin": -1.4 * lim, "zmax": 1.4 * lim, "colorscale": style.DIVERGING}
    data = [
        _cells(x, xi, 0, {"zmin": 0.0, "zmax": max(1.0, float(x.max())),
                          "colorscale": LIGHT_GRAY}, hover),
        _cells(dy, 0, y_low, _scale(dy, True, None), hover),
        _cells(np.zeros((kh, kw)), xw, y_low, dw_scale, hover),
    ]
    notes = [_note(xi + (wx - 1) / 2, -0.55, labels["input"]),
             _note((wo - 1) / 2, y_low - 0.55, labels["dy"]),
             _note(xw + (kw - 1) / 2, y_low - 0.55, labels["dw"])]
    grid_px = cell_px * height
    text_px, player_px = 52, 100
    plot_px = grid_px + text_px + player_px
    y_dom = (text_px + player_px) / plot_px
    frames = []
    for s, stop in enumerate(stops):
        shapes = [figures.highlight_shape(stop.i, xi + stop.j, kh, kw),
                  figures.highlight_shape(y_low + stop.i, stop.j, 1, 1)]
        shapes = [sh | {"xref": "x", "yref": "y"} for sh in shapes]
        line = labels["stop"].format(k=s + 1, n=len(stops), i=stop.i, j=stop.j,
                                     dy=num(stop.dy, 3))
        text = _note(0.0, y_dom - 6 / plot_px, line, size=style.FONT_SIZE, ref="paper",
                     xanchor="left", yanchor="top", color=style.HIGHLIGHT)
        running = _cells(stop.running, xw, y_low, dw_scale, hover)
        frames.append({"name": str(s), "data": [running], "traces": [2],
                       "layout": {"shapes": shapes, "annotations": notes + [text]}})
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
             "transition": {"duration": 0}}
    play = {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    y_player = (player_px - 4) / plot_px
    layout = figures.layout_dict("", plot_px + 10)
    layout.update(
        xaxis=dict(_NO_AXIS, range=[-0.6, width - 0.4], constrain="domain", visible=False),
        yaxis=dict(_NO_AXIS, range=[height - 0.45, -0.75], scaleanchor="x", scaleratio=1,
                   constrain="domain", domain=[y_dom, 1.0], visible=False),
        margin={"l": 6, "r": 6, "t": 10, "b": 0}, dragmode=False, hovermode="closest",
        updatemenus=[{
            "type": "buttons", "direction": "left", "showactive": False, "x": 0.0,
            "y": y_player, "xanchor": "left", "yanchor": "top", "pad": {"r": 6, "t": 0},
            "font": {"size": 14},
            "buttons": [{"label": "▶ " + labels["play"], "method": "animate",
                         "args": [None, play]},
                        {"label": "❚❚ " + labels["pause"], "method": "animate",
                         "args": [[None], still]}]}],
        sliders=[{
            "active": 0, "x": 0.0, "len": 1.0, "y": y_player - 44 / plot_px, "yanchor": "top",
            "pad": {"t": 0, "b": 0, "l": 0, "r": 0}, "currentvalue": {"visible": False},
            "font": {"size": 11}, "ticklen": 3,
            "steps": [{"label": str(s + 1), "method": "animate", "args": [[str(s)], still]}
                      for s in range(len(frames))]}],
    )
    if frames:
        layout.update(frames[0]["layout"])
        data[2] = frames[0]["data"][0]
    return {"data": data, "layout": layout, "frames": frames}
