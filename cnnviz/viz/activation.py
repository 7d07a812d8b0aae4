"""Figures of the activation lesson: curves with derivatives, value histograms, vanishing
gradients. Arrays and already-translated labels in, ``go.Figure`` out.

Every activation keeps its colour from :data:`cnnviz.viz.style.ACTIVATION_COLORS`; signed values
use the diverging blue (negative) / red (positive) colours; zeros that ReLU produced use the
highlight colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.lessons.activation import Curve, Histogram
from cnnviz.viz import figures, style

LINE = 3


def _layout(fig: go.Figure, title: str, *, height: int) -> go.Figure:
    # The shared layout, plus hover labels large enough to read on a projector.
    figures.base_layout(fig, title, height=height)
    return fig.update_layout(hoverlabel={"font": {"size": style.FONT_SIZE,
                                                  "family": style.FONT_FAMILY}})


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


F_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
D_DASHES = ("dash", "dot", "dashdot", "longdash", "solid")
#: Two curves "coincide" where they differ by less than this share of the curve's height, and
#: "overlap" when they coincide on at least OVERLAP_SHARE of the grid.
SAME_TOL, OVERLAP_SHARE = 1e-3, 0.05


def _dashes(ys: Mapping[str, np.ndarray], styles: tuple[str, ...]) -> dict[str, str]:
    """A line style per curve such that a curve drawn over an earlier one where they coincide
    (Leaky ReLU over ReLU for x > 0) is broken and lets the earlier one show through."""
    out: dict[str, str] = {}
    for name, y in ys.items():
        y = np.asarray(y, dtype=np.float64)
        taken = set()
        for other, style_ in out.items():
            z = np.asarray(ys[other], dtype=np.float64)
            tol = SAME_TOL * max(1.0, float(np.nanmax(z) - np.nanmin(z)) if z.size else 1.0)
            if y.shape == z.shape and np.mean(np.abs(y - z) <= tol) >= OVERLAP_SHARE:
                taken.add(style_)
        out[name] = next((d for d in styles if d not in taken), styles[-1])
    return out


def curves_figure(
    curves: Mapping[str, Curve],
    *,
    names: Mapping[str, str],
    labels: Mapping[str, str],
    derivative: bool = True,
    zones: list[tuple[float, float]] = (),
    zone_color: str = "#999999",
    steepest: tuple[float, float, float] | None = None,
) -> go.Figure:
    """f(x) on top and, when ``derivative``, f'(x) below on a shared x axis.

    Parameters
    ----------
    curves : {name: Curve}
    names : display name of each activation
    labels : translated texts: ``title``, ``x``, ``f``, ``df``, ``f_panel``, ``df_panel``,
        ``zone`` (legend entry of the shaded zones), ``tangent`` and ``peak`` (sigmoid's
        steepest point).
    zones : x intervals to shade (the saturated parts of one curve)
    steepest : ``(x, f, f')`` of sigmoid's steepest point, marked with its tangent and value.
    """
    rows = 2 if derivative else 1
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.1,
        subplot_titles=[labels["f_panel"], labels["df_panel"]][:rows],
    )
    f_lab, d_lab = labels["f"], labels["df"]
    hover_f = f"x = %{{x:.4g}}<br>{f_lab} = %{{y:.6g}}<br>{d_lab} = %{{customdata:.6g}}"
    hover_d = f"x = %{{x:.4g}}<br>{f_lab} = %{{customdata:.6g}}<br>{d_lab} = %{{y:.6g}}"
    f_dash = _dashes({n: c.f for n, c in curves.items()}, F_DASHES)
    d_dash = _dashes({n: c.df for n, c in curves.items()}, D_DASHES)
    for name, c in curves.items():
        color = style.ACTIVATION_COLORS[name]
        # float32 halves what every rerun sends; 7 significant digits are plenty on hover
        x, f, df = (np.asarray(a, dtype=np.float32) for a in (c.x, c.f, c.df))
        fig.add_trace(go.Scatter(
            x=x, y=f, customdata=df, mode="lines", name=names[name], legendgroup=name,
            line={"color": color, "width": LINE, "dash": f_dash[name]},
            hovertemplate=f"<b>{names[name]}</b><br>{hover_f}<extra></extra>",
        ), row=1, col=1)
        if derivative:
            fig.add_trace(go.Scatter(
                x=x, y=df, customdata=f, mode="lines", name=f"{names[name]} ′",
                legendgroup=name, showlegend=False,
                line={"color": color, "width": LINE, "dash": d_dash[name]},
                hovertemplate=f"<b>{names[name]}</b><br>{hover_d}<extra></extra>",
            ), row=2, col=1)
    x_all = next(iter(curves.values())).x if curves else np.array([-1.0, 1.0])
    lo, hi = float(x_all.min()), float(x_all.max())
    for x0, x1 in zones:
        fig.add_vrect(x0=x0, x1=x1, fillcolor=_rgba(zone_color, 0.14), line_width=0,
                      layer="below", row="all", col=1)
    if zones:  # a legend entry, so the shading is explained in words, not by colour alone
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=labels["zone"],
            marker={"symbol": "square", "size": 16, "color": _rgba(zone_color, 0.3)},
        ), row=1, col=1)
    if steepest is not None and lo <= steepest[0] <= hi:
        _mark_steepest(fig, steepest, lo, hi, labels, derivative)
    fig.update_xaxes(zeroline=True, zerolinecolor="#bbbbbb", gridcolor="#eeeeee",
                     range=[lo, hi])
    fig.update_yaxes(zeroline=True, zerolinecolor="#bbbbbb", gridcolor="#eeeeee")
    fig.update_xaxes(title=labels["x"], row=rows, col=1)
    fig.update_yaxes(title=labels["f"], row=1, col=1)
    if derivative:
        fig.update_yaxes(title=labels["df"], row=2, col=1)
    _layout(fig, labels["title"], height=620 if derivative else 420)
    fig.update_annotations(font={"size": style.FONT_SIZE})
    fig.update_layout(hovermode="closest", legend={"orientation": "h", "y": -0.12 if derivative
                                                   else -0.2, "x": 0},
                      margin={"b": 40})
    return fig


def _mark_steepest(fig, steepest, lo, hi, labels, derivative) -> None:
    x0, f0, d0 = steepest
    color = style.ACTIVATION_COLORS["sigmoid"]
    xs = np.array([max(lo, x0 - 2.5), min(hi, x0 + 2.5)])
    fig.add_trace(go.Scatter(
        x=xs, y=f0 + d0 * (xs - x0), mode="lines", name=labels["tangent"],
        line={"color": color, "width": 3, "dash": "dot"}, hoverinfo="skip",
    ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=[x0], y=[f0], mode="markers", showlegend=False, hoverinfo="skip",
        marker={"color": color, "size": 11, "line": {"color": "white", "width": 2}},
    ), row=1, col=1)
    if derivative:
        fig.add_trace(go.Scatter(
            x=[x0], y=[d0], mode="markers+text", text=[figures.two_lines(labels["peak"], 14)],
            textposition="top center", showlegend=False, hoverinfo="skip",
            textfont={"color": color, "size": style.FONT_SIZE},
            marker={"color": color, "size": 11, "line": {"color": "white", "width": 2}},
        ), row=2, col=1)
        fig.add_hline(y=d0, line={"color": color, "width": 1, "dash": "dot"}, row=2, col=1)


def histogram_figure(
    hist: Histogram, *, title: str, x_label: str, y_label: str, zero_label: str,
    height: int = 300,
) -> go.Figure:
    """Share of units per value bin; negative bins blue, positive red, exact zeros apart.

    ``zero_label`` is the translated text of the exact-zero bar, with ``{share}`` filled in
    by the caller (e.g. "exactly 0: 48%").

    Written as plain Plotly dicts (validated in tests): it is redrawn whenever the bias moves,
    and Plotly's own validation would cost ~15 ms of a shared server per histogram.
    """
    total = max(hist.total, 1)
    centres = 0.5 * (hist.edges[:-1] + hist.edges[1:])
    width = float(hist.edges[1] - hist.edges[0])
    share = 100.0 * hist.counts / total
    colors = np.where(centres < 0, style.NEG_COLOR, style.POS_COLOR).tolist()
    data: list[dict] = [{
        "type": "bar", "x": centres, "y": share, "width": width,
        "marker": {"color": colors, "line": {"width": 0}}, "name": x_label, "showlegend": False,
        "customdata": np.stack([hist.edges[:-1], hist.edges[1:]], axis=-1),
        "hovertemplate": "[%{customdata[0]:.4g}, %{customdata[1]:.4g}): %{y:.3g}%<extra></extra>",
    }]
    lo, hi = min(float(hist.edges[0]), 0.0), max(float(hist.edges[-1]), 0.0)
    notes = []
    if hist.zeros:
        zshare = 100.0 * hist.zeros / total
        data.append({
            "type": "bar", "x": [0.0], "y": [zshare], "width": max(width, (hi - lo) / 120),
            "name": zero_label, "showlegend": False, "marker": {"color": style.HIGHLIGHT},
            "hovertemplate": f"{zero_label}<extra></extra>",
        })
        # The label in words, beside the bar: the highlight colour alone would not say "zero".
        notes.append({"x": 0.0, "y": zshare, "text": zero_label, "showarrow": False,
                      "xanchor": "left", "xshift": 6, "yanchor": "top",
                      "font": {"color": style.HIGHLIGHT, "size": style.FONT_SIZE}})
    pad = 0.02 * (hi - lo)
    layout = figures.layout_dict(title, height)
    layout.update(
        annotations=notes, barmode="overlay", bargap=0,
        hoverlabel={"font": {"size": style.FONT_SIZE, "family": style.FONT_FAMILY}},
        xaxis={"range": [lo - pad, hi + pad], "title": {"text": x_label}, "zeroline": True,
               "zerolinecolor": "#888888"},
        yaxis={"title": {"text": y_label}, "gridcolor": "#eeeeee", "rangemode": "tozero"},
    )
    return figures.from_parts(data, layout)


def _log_trace_values(y: np.ndarray) -> np.ndarray:
    # A log axis cannot show 0: those points become gaps (the legend says why).
    y = np.asarray(y, dtype=np.float64).copy()
    y[~(y > 0)] = np.nan
    return y


def _decade_step(*series: np.ndarray, most: int = 8) -> int:
    """Ticks every k decades so that at most ``most`` labels share the axis (a sigmoid chain
    spans ~30 decades: one label per decade overlapped on a tablet's 440-px chart)."""
    v = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in series])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return 1
    decades = np.log10(v.max()) - np.log10(v.min())
    return max(1, int(np.ceil(decades / most)))


def chain_figure(
    products: Mapping[str, np.ndarray], bound: np.ndarray, *, names: Mapping[str, str],
    labels: Mapping[str, str],
) -> go.Figure:
    """``prod f'(z_i)`` against depth on a log axis, with sigmoid's (1/4)^n ceiling dashed.

    ``labels``: ``title``, ``x``, ``y``, ``bound``, ``zero`` (legend suffix for a product that
    reached exactly 0), ``hover``.
    """
    n = np.arange(1, len(bound) + 1)
    fig = go.Figure(go.Scatter(
        x=n, y=bound, mode="lines", name=labels["bound"],
        line={"color": "#555555", "width": 2, "dash": "dash"},
        hovertemplate=f"{labels['bound']}<br>n = %{{x}}: %{{y:.4g}}<extra></extra>",
    ))
    for name, prod in products.items():
        shown = names[name] + (f" {labels['zero']}" if np.any(prod == 0) else "")
        fig.add_trace(go.Scatter(
            x=n, y=_log_trace_values(prod), customdata=prod, mode="lines+markers", name=shown,
            line={"color": style.ACTIVATION_COLORS[name], "width": LINE},
            marker={"size": 6}, connectgaps=False,
            hovertemplate=f"<b>{names[name]}</b><br>n = %{{x}}<br>{labels['hover']} = "
                          "%{customdata:.4g}<extra></extra>",
        ))
    fig.update_xaxes(title=labels["x"], gridcolor="#eeeeee")
    # decades only: a wide chart (the projector view) drew 9-px "2" and "5" between them
    fig.update_yaxes(title=labels["y"], type="log", exponentformat="power",
                     dtick=_decade_step(bound, *products.values()), gridcolor="#eeeeee")
    _layout(fig, labels["title"], height=440)
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0}, margin={"b": 40})
    return fig


def grad_norms_figure(
    layer_names: list[str], norms: Mapping[str, np.ndarray], *, names: Mapping[str, str],
    labels: Mapping[str, str],
) -> go.Figure:
    """Per-layer gradient norm (log axis), layer 1 next to the input on the left.

    ``labels``: ``title``, ``x``, ``y``, ``hover``.
    """
    fig = go.Figure()
    for name, values in norms.items():
        fig.add_trace(go.Scatter(
            x=layer_names, y=_log_trace_values(values), customdata=values,
            mode="lines+markers", name=names[name],
            line={"color": style.ACTIVATION_COLORS[name], "width": LINE}, marker={"size": 8},
            hovertemplate=f"<b>{names[name]}</b><br>%{{x}}<br>{labels['hover']} = "
                          "%{customdata:.4g}<extra></extra>",
        ))
    fig.update_xaxes(title=labels["x"], type="category", gridcolor="#eeeeee")
    # decades only: a wide chart (the projector view) drew 9-px "2" and "5" between them
    fig.update_yaxes(title=labels["y"], type="log", exponentformat="power",
                     dtick=_decade_step(*norms.values()), gridcolor="#eeeeee")
    _layout(fig, labels["title"], height=440)
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0}, margin={"b": 40})
    return fig
