"""Figures of the pooling lesson: the animated step-through, feature-map slices before and after
pooling, the translation-tolerance curve and global pooling.

Builders are pure: the engine's arrays and already-translated labels in, a ``go.Figure`` out.
The step-through's frames change only ``layout.shapes`` (the window, its output cell, the
chosen element, the covers over cells not computed yet, and the written-out value as a shape
label), never the data, so they play in the browser with no round trip to the server. They ask
for ``redraw=True``: without it Plotly moves the shapes but keeps the old label text, and a
redraw of two small grids costs the browser a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.viz import figures, style

MINUS_INF = "−∞"
#: Output cells not computed yet at the current step are covered with this colour.
TODO_FILL = "#f1f1f1"
#: Above this many terms an average is written with an ellipsis.
MAX_TERMS = 9


def _num(v: float) -> str:
    return MINUS_INF if v == -np.inf else style.fmt(v)


def formula(terms: Sequence[float], mode: str, value: float) -> str:
    """One window's result written out: ``max(1, 1, 5, 6) = 6`` or
    ``(1 + 1 + 5 + 6)/4 = 13/4 = 3.25`` (long windows are shortened with "…")."""
    t = [_num(v) for v in np.asarray(terms, dtype=np.float64).ravel()]
    if len(t) > MAX_TERMS:
        t = t[:4] + ["…"] + t[-2:]
    if mode == "max":
        return f"max({', '.join(t)}) = {style.fmt(value)}"
    n = len(np.ravel(terms))
    total = float(np.sum(terms))
    return f"({' + '.join(t)})/{n} = {style.fmt(total)}/{n} = {style.fmt(value)}"


def _scale(values: np.ndarray) -> tuple[float, float, list]:
    finite = values[np.isfinite(values)]
    if finite.size and style.is_signed(finite):
        lim = style.signed_limit(finite)
        return -lim, lim, style.DIVERGING
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    # light grays keep the printed numbers readable (as figures.grid_figure)
    return lo, hi if hi > lo else lo + 1.0, [[0.0, "#ffffff"], [1.0, "#8c8c8c"]]


def _cell(r: float, c: float, h: float, w: float, xref: str, yref: str, **kw: Any) -> dict:
    shape = figures.highlight_shape(r, c, h, w, **kw)
    shape.update(xref=xref, yref=yref)
    return shape


def _todo(k: int, ho: int, wo: int) -> list[dict]:
    """Cover the output cells after step ``k`` (row-major): always two rectangles (rest of the
    row, rows below), hidden when empty — Plotly merges frame shapes by index, so every frame
    must list the same shapes."""
    i, j = divmod(k, wo)
    rects = [(i, j + 1, 1, wo - j - 1), (i + 1, 0, ho - i - 1, wo)]
    return [{"type": "rect", "xref": "x2", "yref": "y2", "name": "todo", "layer": "above",
             "visible": bool(h > 0 and w > 0),
             "x0": c - 0.5, "x1": c + max(w, 0) - 0.5, "y0": r - 0.5, "y1": r + max(h, 0) - 0.5,
             "line": {"width": 0}, "fillcolor": TODO_FILL} for r, c, h, w in rects]


def window_rows(seq: Mapping[str, Any], cell: str, max_name: str, avg_name: str) -> list[dict]:
    """Every window of a step sequence written out, one row per output cell (for a table)."""
    ho, wo = seq["out_shape"]
    return [{cell: f"({k // wo}, {k % wo})",
             max_name: formula(seq["terms_max"][k], "max", seq["max"][k // wo, k % wo]),
             avg_name: formula(seq["terms_avg"][k], "avg", seq["avg"][k // wo, k % wo])}
            for k in range(ho * wo)]


def step_frames(seq: Mapping[str, Any], mode: str, step_label: str) -> list[dict]:
    """Per output cell (row-major): the shapes of that step — two ``todo`` covers, ``window`` on
    the input, ``output`` cell, ``chosen`` element for max pooling — and the written-out
    ``formula``. Every step has the same shapes in the same order.

    ``step_label`` is a translated template with ``{k}``, ``{n}``, ``{i}``, ``{j}``.
    """
    f, p = seq["window"], seq["padding"]
    ho, wo = seq["out_shape"]
    out = seq[mode]
    terms = seq["terms_max" if mode == "max" else "terms_avg"]
    steps = []
    for k, (r0, c0) in enumerate(seq["origins"]):
        i, j = divmod(k, wo)
        # covers first, so the highlighted output cell's border is drawn on top of them
        shapes = _todo(k, ho, wo) + [_cell(r0, c0, f, f, "x", "y") | {"name": "window"},
                                     _cell(i, j, 1, 1, "x2", "y2") | {"name": "output"}]
        if mode == "max":
            # the engine's choice (pool2d_argmax), moved into padded coordinates
            r, c = seq["argmax_rows"][i, j] + p, seq["argmax_cols"][i, j] + p
            shapes.append({"type": "circle", "xref": "x", "yref": "y", "name": "chosen",
                           "x0": c - 0.42, "x1": c + 0.42, "y0": r - 0.42, "y1": r + 0.42,
                           "line": {"color": style.HIGHLIGHT, "width": 4}, "layer": "above"})
        label = step_label.format(k=k + 1, n=ho * wo, i=i, j=j)
        steps.append({"shapes": shapes,
                      "formula": f"{label}   {formula(terms[k], mode, out[i, j])}"})
    return steps


def step_spec(seq: Mapping[str, Any], mode: str, labels: Mapping[str, str], *,
              cell_px: int = 48) -> dict:
    """The step-through of one pooling mode: padded input grid (left) and output grid (right),
    as a plain figure dict with one animation frame per output cell (``ui.cache.figure`` draws
    it without a second validation of every frame).

    labels: ``title``, ``input``, ``output``, ``step`` (template, see :func:`step_frames`),
    ``play``, ``pause``, ``value`` (hover label), ``padding`` (hover label of padding cells).
    """
    padded = np.asarray(seq["padded_max" if mode == "max" else "padded_avg"], dtype=np.float64)
    out = np.asarray(seq[mode], dtype=np.float64)
    p = seq["padding"]
    hp, wp = padded.shape
    ho, wo = out.shape
    pad_mask = np.ones_like(padded, dtype=bool)
    pad_mask[p : hp - p, p : wp - p] = False
    values = np.where(pad_mask, np.nan, padded)
    zmin, zmax, scale = _scale(np.concatenate([values.ravel(), out.ravel()]))
    hover = f"({'%{y}'}, {'%{x}'})<br>{labels['value']}: %{{z}}<extra></extra>"
    cells = {"xgap": 2, "ygap": 2, "showscale": False, "texttemplate": "%{text}",
             "textfont": {"size": style.CELL_FONT_SIZE, "color": "#111111"}}
    fig = go.Figure()
    if p:
        pad_text = np.where(pad_mask, MINUS_INF if mode == "max" else "0", "")
        fig.add_trace(go.Heatmap(z=np.where(pad_mask, 0.0, np.nan), text=pad_text, zmin=0, zmax=1,
                                 colorscale=[[0, style.PADDING_COLOR], [1, style.PADDING_COLOR]],
                                 hovertemplate=f"{labels['padding']}<extra></extra>",
                                 name="padding", **cells))
    text_in = np.vectorize(_num)(np.where(pad_mask, 0.0, padded))
    fig.add_trace(go.Heatmap(z=values, text=np.where(pad_mask, "", text_in), zmin=zmin,
                             zmax=zmax, colorscale=scale, hovertemplate=hover, name="input",
                             **cells))
    fig.add_trace(go.Heatmap(z=out, text=np.vectorize(style.fmt)(out), zmin=zmin, zmax=zmax,
                             colorscale=scale, hovertemplate=hover, name="output",
                             xaxis="x2", yaxis="y2", **cells))
    x_off = (wp - wo) / 2
    y_off = (hp - ho) / 2
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "constrain": "domain",
            "ticks": "", "showline": False}
    fig.update_layout(
        # equal domains and ranges: output cells are drawn as large as input cells
        xaxis=axis | {"domain": [0.0, 0.5], "range": [-0.5, wp - 0.5]},
        yaxis=axis | {"range": [hp - 0.5, -0.5], "scaleanchor": "x"},
        xaxis2=axis | {"domain": [0.52, 1.0], "range": [-x_off - 0.5, wp - x_off - 0.5]},
        yaxis2=axis | {"range": [hp - y_off - 0.5, -y_off - 0.5], "scaleanchor": "x2"},
    )
    steps = step_frames(seq, mode, labels["step"])
    plot_px = cell_px * hp  # the plot area's height; controls below it are placed in pixels
    titles = [{"text": f"{labels['input']} {hp - 2 * p}×{wp - 2 * p}"
               + (f" · {labels['padding']} {p}" if p else ""), "xref": "x domain",
               "yref": "y domain"},
              {"text": f"{labels['output']} {ho}×{wo}", "xref": "x2 domain", "yref": "y2 domain"}]
    fig.update_layout(annotations=[
        a | {"x": 0.5, "y": 1.0, "yanchor": "bottom", "showarrow": False,
             "font": {"size": style.FONT_SIZE}} for a in titles])

    def shapes(step: dict) -> list[dict]:
        # The formula is the label of an invisible box under the grids, so one list (shapes)
        # carries everything a frame changes.
        return step["shapes"] + [{
            "type": "rect", "xref": "paper", "yref": "paper", "name": "formula",
            "x0": 0.0, "x1": 1.0, "y0": -30 / plot_px, "y1": -6 / plot_px,
            "line": {"width": 0}, "fillcolor": "rgba(0,0,0,0)",
            "label": {"text": step["formula"], "textposition": "middle left",
                      "font": {"size": style.FONT_SIZE, "color": style.HIGHLIGHT}}}]

    steps = [s | {"shapes": shapes(s)} for s in steps]
    fig.update_layout(shapes=steps[0]["shapes"])
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
             "transition": {"duration": 0}}
    n = len(steps)
    fig.update_layout(
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -44 / plot_px, "xanchor": "left",
            "yanchor": "top", "pad": {"t": 0, "r": 10}, "showactive": False,
            "buttons": [
                {"label": labels["play"], "method": "animate",
                 "args": [None, {"frame": {"duration": 900, "redraw": True},
                                 "fromcurrent": True, "transition": {"duration": 0}}]},
                {"label": labels["pause"], "method": "animate", "args": [[None], still]},
            ],
        }],
        sliders=[{
            "active": 0, "x": 0.0, "len": 1.0, "y": -84 / plot_px, "yanchor": "top",
            "pad": {"t": 0, "b": 0, "l": 0, "r": 0}, "currentvalue": {"visible": False},
            "font": {"size": 11, "color": "#555555" if n <= 20 else "rgba(0,0,0,0)"},
            "steps": [{"label": str(k + 1), "method": "animate", "args": [[str(k)], still]}
                      for k in range(n)],
        }],
    )
    figures.base_layout(fig, labels["title"], height=plot_px + 80 + 150)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 150})
    # Frames stay plain dicts: validating them as go.Frame objects costs ~1-2 ms per frame
    # (100+ ms for an 8x8 map), far too slow for a classroom rerun. They hold only the shapes
    # built above; tests validate the whole spec with go.Figure.
    frames = [{"name": str(k), "layout": {"shapes": s["shapes"]}} for k, s in enumerate(steps)]
    return fig.to_dict() | {"frames": frames}


def small_grid(values: np.ndarray, title: str, marks: Sequence = (), *, limit: float,
               hover_label: str = "value") -> go.Figure:
    """A small numeric grid in the shared style, values printed, kept elements marked."""
    fig = figures.grid_figure(values, title=title, signed=False, highlight=marks, limit=limit,
                              hover_label=hover_label, cell_px=60)
    return fig.update_xaxes(ticks="").update_yaxes(ticks="")  # no stray tick marks


def article_specs(turn: Mapping[str, Any], four: Mapping[str, Any], titles: Mapping[str, str],
                  hover_label: str) -> dict[str, dict]:
    """The article's two examples as figure dicts (built once per language, then cached).

    turn : :func:`cnnviz.lessons.pooling.turn_example`; four : the step sequence of the 4x4 map
    with 2x2 windows. ``titles`` maps each panel's key (``turn_stroke``, ``turn_kernel``,
    ``turn_fmap``, ``turn_max``, ``turn_avg``, ``four_input``, ``four_max``, ``four_avg``) to
    its title. A panel's kept elements (the engine's argmax) are marked.
    """
    r, c = turn["argmax"]
    lim = float(turn["fmap"].max())
    marks = list(zip(four["argmax_rows"].ravel().tolist(), four["argmax_cols"].ravel().tolist(),
                     [1] * four["max"].size, [1] * four["max"].size, strict=True))
    lim4 = float(four["grid"].max())
    panels = {
        "turn_stroke": (turn["stroke"], (), lim), "turn_kernel": (turn["kernel"], (), lim),
        "turn_fmap": (turn["fmap"], [(r, c, 1, 1)], lim),
        "turn_max": (np.array([[turn["max"]]]), (), lim),
        "turn_avg": (np.array([[turn["avg"]]]), (), lim),
        "four_input": (four["grid"], marks, lim4), "four_max": (four["max"], (), lim4),
        "four_avg": (four["avg"], (), lim4),
    }
    return {key: small_grid(v, titles[key], m, limit=lm, hover_label=hover_label).to_dict()
            for key, (v, m, lm) in panels.items()}


def _panel(fig: go.Figure, v: np.ndarray, row: int, col: int, *, signed: bool, limit: float,
           hover: str) -> None:
    """One map as a compressed PNG plus a coarse, invisible heatmap that carries hover values."""
    h, w = v.shape
    rgb = style.colorize(v, signed=signed, limit=limit)
    fig.add_trace(go.Image(source=figures.png_data_uri(rgb), hoverinfo="skip"), row=row, col=col)
    step = int(np.ceil(max(h, w) / 48))
    ys, xs = np.arange(step // 2, h, step), np.arange(step // 2, w, step)
    fig.add_trace(go.Heatmap(z=v[np.ix_(ys, xs)].astype(np.float32), x=xs, y=ys, opacity=0.004,
                             showscale=False, hovertemplate=hover), row=row, col=col)


def slices_figure(before: np.ndarray, after: np.ndarray, top_titles: Sequence[str],
                  bottom_titles: Sequence[str], hover_label: str = "value", *,
                  height: int = 430) -> go.Figure:
    """Each depth slice before pooling (top row) and after (bottom row), drawn the same size so
    the coarser grid shows; a slice keeps one colour scale in both rows.

    before : (C, H, W), after : (C, H', W').
    """
    c = before.shape[0]
    fig = make_subplots(rows=2, cols=c, subplot_titles=list(top_titles) + list(bottom_titles),
                        horizontal_spacing=0.02, vertical_spacing=0.1)
    hover = f"({'%{y}'}, {'%{x}'})<br>{hover_label}: %{{z:.4g}}<extra></extra>"
    signed = style.is_signed(before)
    for k in range(c):
        # A few very strong edge pixels would make every map look black: the colour scale ends
        # at the 99.5th percentile of |values| (hover still shows the true numbers).
        lim = max(float(np.percentile(np.abs(before[k]), 99.5)), 1e-12)
        for row, v in ((1, before[k]), (2, after[k])):
            _panel(fig, np.asarray(v, dtype=np.float64), row, k + 1, signed=signed, limit=lim,
                   hover=hover)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     autorange="reversed", ticks="")
    for i, ax in enumerate(fig.select_yaxes()):
        ax.update(scaleanchor=f"x{i + 1 if i else ''}")
    figures.base_layout(fig, "", height=height)
    fig.update_annotations(font={"size": style.FONT_SIZE - 1})
    fig.update_layout(margin={"t": 30})
    return fig


def tolerance_figure(tol: Mapping[str, np.ndarray], shift: int,
                     labels: Mapping[str, str]) -> go.Figure:
    """Relative change (%) of the feature maps and of the pooled maps over shifts 0..3.

    labels: ``title``, ``x``, ``y``, ``feature``, ``max``, ``avg``, ``now``.
    """
    fig = go.Figure()
    series = (("feature", style.SERIES[6], "dot"), ("max", style.SERIES[0], "solid"),
              ("avg", style.SERIES[1], "dash"))
    for key, color, dash in series:
        y = 100 * np.asarray(tol[key], dtype=np.float64)
        fig.add_trace(go.Scatter(
            x=tol["shifts"], y=y, name=labels[key], mode="lines+markers",
            line={"color": color, "width": 3, "dash": dash}, marker={"size": 9},
            hovertemplate=f"{labels[key]}: %{{y:.1f}}%<extra></extra>"))
    fig.add_vline(x=shift, line={"color": style.HIGHLIGHT, "width": 2},
                  annotation_text=labels["now"], annotation_position="top")
    fig.update_xaxes(title=labels["x"], tickvals=list(tol["shifts"]), showgrid=True,
                     gridcolor="#eeeeee")
    fig.update_yaxes(title=labels["y"], ticksuffix="%", rangemode="tozero", showgrid=True,
                     gridcolor="#eeeeee")
    figures.base_layout(fig, labels["title"], height=380)
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0}, margin={"b": 60})
    return fig


def global_figure(names: Sequence[str], gmax: np.ndarray, gavg: np.ndarray,
                  labels: Mapping[str, str]) -> go.Figure:
    """One number per channel: global max and global average pooling side by side.

    labels: ``title``, ``x``, ``y``, ``max``, ``avg``.
    """
    fig = go.Figure()
    for key, vals, color in (("max", gmax, style.SERIES[0]), ("avg", gavg, style.SERIES[1])):
        v = np.asarray(vals, dtype=np.float64)
        fig.add_trace(go.Bar(x=list(names), y=v, name=labels[key], marker_color=color,
                             text=[style.fmt(x) for x in v], textposition="outside",
                             hovertemplate=f"%{{x}}<br>{labels[key]}: %{{y}}<extra></extra>"))
    fig.update_xaxes(title=labels["x"])
    fig.update_yaxes(title=labels["y"], rangemode="tozero")
    figures.base_layout(fig, labels["title"], height=380)
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": -0.3, "x": 0},
                      margin={"b": 60})
    return fig
