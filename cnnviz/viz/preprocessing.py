"""Figures of the preprocessing page: scatter plots of every stage, the RGB cloud in 3-D, value
histograms, patch mosaics, the eigenvalue spectrum and loss contours.

Builders are pure (arrays and already-translated strings in, ``go.Figure`` out) and use the
shared visual language of :mod:`cnnviz.viz.style` / :func:`cnnviz.viz.figures.base_layout`.

Speed: every figure is built in **one** call from plain dicts. Plotly validates on every
``update_*`` call; the five story panels built with updates took ~80 ms per rerun, built in one
go ~10 ms, and without validation at all (:func:`cnnviz.viz.figures.from_parts`; the tests
validate each builder's output instead) ~4 ms (measured on the classroom machine). Subplot rows
are laid out by hand (:func:`_row_layout`) for the same reason.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from cnnviz import preprocess
from cnnviz.lessons.preprocessing import DescentPath, loss_grid
from cnnviz.viz import style
from cnnviz.viz.figures import base_layout, from_parts, two_lines

#: Lines drawn over the points: the 2-sigma ellipse and the principal axes.
SHAPE_COLOR = "#111111"
ORIGIN_COLOR = "#555555"
PATH_COLOR = style.SERIES[1]
#: A cyclic scale: a point's colour is its angle around the mean, so it can be followed
#: from panel to panel (rotations turn the colour wheel, scalings stretch it).
CYCLIC = get_colorscale("Phase")  # as a list: Plotly.js itself does not know the name
GRID = "#eeeeee"
TITLE_COLOR = "#31333f"  # Streamlit's text colour, as its theme gives a figure's own title

# The shared look (fonts, colours, title style) taken once from figures.base_layout; without
# the (large) default template, which Plotly adds by itself and would be copied every time.
_BASE = {k: v for k, v in base_layout(go.Figure(), "title").layout.to_plotly_json().items()
         if k != "template"}


def _layout(title: str, height: int, **extra) -> dict:
    """The shared layout with this figure's title and height, plus ``extra`` keys."""
    lay = copy.deepcopy(_BASE)
    if title:
        lay["title"]["text"] = title
    else:
        lay.pop("title", None)
        lay["margin"]["t"] = 10
    lay["height"] = height
    lay.update(extra)
    return lay


def _row_layout(
    titles: Sequence[str], gap: float = 0.05, *, equal: bool = False, rows: int = 1,
    vgap: float = 0.16, cols: int | None = None,
) -> dict:
    """Axes of a grid of subplots (``rows`` x ``cols``, by default ``len(titles) // rows``
    columns), like make_subplots; a shorter last row is centred.

    Panel ``i`` (0-based, row-major) uses ``xaxis{i+1}``/``yaxis{i+1}`` (``xaxis``/``yaxis``
    for the first) and gets its title as an annotation above it. ``equal``: each y axis is tied
    to its x axis (same scale).
    """
    n = len(titles)
    cols = cols or n // rows
    width = (1 - gap * (cols - 1)) / cols
    height = (1 - vgap * (rows - 1)) / rows
    out: dict = {"annotations": []}
    for i, text in enumerate(titles):
        r, c = divmod(i, cols)
        in_row = min(cols, n - r * cols)
        x0 = (c + (cols - in_row) / 2) * (width + gap)
        y1 = 1 - r * (height + vgap)
        sx = "" if i == 0 else str(i + 1)
        # (clipped: the sum of the widths and gaps can come out a rounding error past 1)
        out[f"xaxis{sx}"] = {"domain": [x0, min(x0 + width, 1.0)], "anchor": f"y{sx}"}
        out[f"yaxis{sx}"] = {"domain": [max(y1 - height, 0.0), y1], "anchor": f"x{sx}"}
        if equal:
            out[f"yaxis{sx}"] |= {"scaleanchor": f"x{sx}", "scaleratio": 1}
        out["annotations"].append({
            "text": text, "x": x0 + width / 2, "y": y1, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": style.FONT_SIZE},
        })
    return out


def fmt_matrix(cov: np.ndarray) -> tuple[int, list[list[str]]]:
    """A matrix for printing: a power of ten and entries with one shared number of decimals.

    The largest entry gets 3 significant digits and never fewer than 2 decimals ("1.00",
    "0.174"); a matrix of small numbers is printed as ``10^e`` times entries around 1 so it
    stays narrow (0.0150 -> 10^-2 x 1.50). Rounding noise such as 1e-17 reads as 0 and "-0.00"
    as "0.00", so a whitened covariance reads exactly as the identity to two decimals.

    Returns
    -------
    exponent : int
        0, or the power of ten factored out.
    rows : list of list of str
    """
    c = np.asarray(cov, dtype=np.float64)
    finite = np.abs(c[np.isfinite(c)])
    m = float(f"{finite.max():.3g}") if finite.size else 0.0  # 0.99999 counts as 1
    exponent = int(np.floor(np.log10(m))) if 0 < m < 0.1 else 0
    scaled = c / 10.0**exponent
    m /= 10.0**exponent
    decimals = 2 if m == 0 or exponent else int(np.clip(2 - np.floor(np.log10(m)), 0, 8))
    decimals = max(decimals, 2) if m < 10 else decimals

    def one(v: float) -> str:
        if not np.isfinite(v):
            return style.fmt(v)
        s = f"{v:.{decimals}f}"
        return s[1:] if s.startswith("-") and float(s) == 0 else s

    return exponent, [[one(v) for v in row] for row in scaled]


def cov_latex(cov: np.ndarray, name: bool = True) -> str:
    r"""``\Sigma = [10^{e}] \begin{pmatrix}...\end{pmatrix}`` (see :func:`fmt_matrix`);
    without the ``\Sigma =`` when ``name`` is False (narrow columns)."""
    exponent, entries = fmt_matrix(cov)
    rows = r" \\ ".join(" & ".join(row) for row in entries)
    factor = rf"10^{{{exponent}}} \, " if exponent else ""
    return (r"\Sigma = " if name else "") + factor + r"\begin{pmatrix} " + rows + r" \end{pmatrix}"


#: Superscript digits, for a power of ten in plain text.
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: Left and right parenthesis pieces of a matrix printed in ``n`` lines (Unicode's bracket
#: pieces, as a pmatrix in KaTeX looks).
_PARENS = {1: [("(", ")")], 2: [("⎛", "⎞"), ("⎝", "⎠")],
           3: [("⎛", "⎞"), ("⎜", "⎟"), ("⎝", "⎠")]}
_NBSP = "\u00a0"  # a space that neither HTML nor Plotly's SVG text collapses


def cov_text(cov: np.ndarray) -> list[str]:
    """The covariance matrix as lines of plain text for a figure in a monospaced font: the
    numbers of :func:`cov_latex` (:func:`fmt_matrix`), entries right-aligned in columns,
    ``Σ = [10^e ×]`` before the first line and the others indented to match."""
    exponent, entries = fmt_matrix(cov)
    n = len(entries)
    w = max(len(e) for row in entries for e in row)
    head = "Σ = " + (f"10{str(exponent).translate(_SUPERSCRIPT)} × " if exponent else "")
    parens = _PARENS.get(n, [("|", "|")] * n)
    lines = []
    for k, (row, (lp, rp)) in enumerate(zip(entries, parens, strict=False)):
        body = "  ".join(e.rjust(w) for e in row)
        lines.append((head if k == 0 else " " * len(head)) + f"{lp} {body} {rp}")
    return [line.replace(" ", _NBSP) for line in lines]


def square_range(
    arrays: Sequence[np.ndarray], include_origin: bool = True, pad: float = 0.08
) -> tuple[list[float], list[float]]:
    """Equal-extent x and y ranges around every point of ``arrays`` (each ``(N, 2)``).

    The origin is included on request; a zero extent (all points equal) becomes 2 units wide,
    so the axes are never empty or NaN.
    """
    pts = [np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays]
    if include_origin:
        pts.append(np.zeros((1, 2)))
    allp = np.concatenate(pts)
    allp = allp[np.isfinite(allp).all(axis=1)]
    if allp.size == 0:
        return [-1.0, 1.0], [-1.0, 1.0]
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    mid = (lo + hi) / 2
    half = float(np.max(hi - lo)) / 2
    half = half * (1 + pad) if half > 1e-9 * max(1.0, float(np.abs(mid).max())) else 1.0
    return [mid[0] - half, mid[0] + half], [mid[1] - half, mid[1] + half]


def story_ranges(
    points: dict[str, np.ndarray],
    covs: dict[str, np.ndarray],
    means: dict[str, np.ndarray],
    groups: Sequence[Sequence[str]],
) -> dict[str, tuple[list[float], list[float]]]:
    """Axis ranges per stage: stages in one group share a range that holds all their points
    and 2-sigma ellipses (so, e.g., the PCA rotation is seen at the scale it started from)."""
    out = {}
    for group in groups:
        arrays = [points[n] for n in group] + [ellipse_points(covs[n], means[n]) for n in group]
        rng = square_range(arrays)
        out |= dict.fromkeys(group, rng)
    return out


def fmt_mean(v: float) -> str:
    """A mean for a caption: rounding noise such as 1e-17 reads as 0."""
    return style.fmt(round(float(v), 3))


def ellipse_points(cov: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The 2-sigma ellipse outline ``(101, 2)``, by :func:`cnnviz.preprocess.covariance_ellipse`."""
    xs, ys = preprocess.covariance_ellipse(cov, 2.0, 100, center=tuple(mean))
    return np.column_stack([xs, ys])


def angle_colors(points: np.ndarray) -> np.ndarray:
    """Each point's angle around the mean, in [0, 1) (for the cyclic colour scale)."""
    p = np.asarray(points, dtype=np.float64)
    d = p - p.mean(axis=0)
    return (np.arctan2(d[:, 1], d[:, 0]) / (2 * np.pi)) % 1.0


def rgb_strings(rgb: np.ndarray) -> list[str]:
    """``(N, 3)`` values in [0, 1] -> CSS colours, for colouring pixels by their own colour."""
    u8 = np.round(np.clip(np.asarray(rgb, dtype=np.float64), 0, 1) * 255).astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in u8]


def _marker(colors) -> dict:
    if isinstance(colors, np.ndarray) and colors.dtype.kind == "f":
        return {"color": colors.astype(np.float32), "colorscale": CYCLIC, "cmin": 0.0,
                "cmax": 1.0, "size": 5, "opacity": 0.75}
    return {"color": list(colors), "size": 5, "opacity": 0.8}


#: The story figure's grid: three panels in the first row, two (centred) in the second.
STORY_COLS = 3


def _stage_parts(
    points: np.ndarray, cov: np.ndarray, mean: np.ndarray, *, colors, x_range: list[float],
    y_range: list[float], axis_labels: tuple[str, str], box: bool, hover_point: str, sx: str = "",
) -> tuple[dict, list[dict], dict, dict]:
    """One stage on the axes ``x{sx}``/``y{sx}``: its points trace, its shapes (2-sigma ellipse,
    principal axes, the [-1, 1] box when ``box``), and its x and y axis (ranges, titles)."""
    p = np.asarray(points, dtype=np.float32)
    trace = {
        "type": "scattergl", "x": p[:, 0], "y": p[:, 1], "mode": "markers",
        "marker": _marker(colors), "customdata": np.arange(len(p)), "showlegend": False,
        "hovertemplate": f"{hover_point} #%{{customdata}}<br>(%{{x:.3g}}, %{{y:.3g}})"
                         "<extra></extra>",
    }
    if sx:
        trace |= {"xaxis": f"x{sx}", "yaxis": f"y{sx}"}
    ref = {"xref": f"x{sx}", "yref": f"y{sx}"} if sx else {}
    # Ellipse and axes as layout shapes, drawn above the points (also above a WebGL canvas).
    ell = ellipse_points(cov, mean)
    path = "M " + " L ".join(f"{x:.5g},{y:.5g}" for x, y in ell) + " Z"
    shapes = [{"type": "path", "path": path, "layer": "above",
               "line": {"color": SHAPE_COLOR, "width": 2, "dash": "dash"}} | ref]
    ax = preprocess.principal_axes(cov, tuple(mean), 2.0)
    shapes += [{"type": "line", "x0": ax[k, 0, 0], "y0": ax[k, 0, 1], "x1": ax[k, 1, 0],
                "y1": ax[k, 1, 1], "layer": "above", "line": {"color": SHAPE_COLOR, "width": w}}
               | ref for k, w in ((0, 3.5), (1, 2))]
    if box:
        shapes.append({"type": "rect", "x0": -1, "x1": 1, "y0": -1, "y1": 1, "layer": "below",
                       "line": {"color": ORIGIN_COLOR, "width": 1.5, "dash": "dot"}} | ref)
    axis = {"showgrid": True, "gridcolor": GRID, "zeroline": True, "constrain": "domain",
            "zerolinecolor": ORIGIN_COLOR, "zerolinewidth": 1.5, "tickformat": ".3~g"}
    xaxis = axis | {"range": x_range, "title": {"text": axis_labels[0], "standoff": 4}}
    yaxis = axis | {"range": y_range, "title": {"text": axis_labels[1], "standoff": 4},
                    "scaleanchor": f"x{sx}", "scaleratio": 1, "constraintoward": "top"}
    return trace, shapes, xaxis, yaxis


def stage_scatter(
    points: np.ndarray,
    cov: np.ndarray,
    mean: np.ndarray,
    *,
    title: str,
    axis_labels: tuple[str, str],
    colors,
    x_range: list[float],
    y_range: list[float],
    box: bool = False,
    hover_point: str = "point",
    height: int = 230,
) -> go.Figure:
    """One stage of the story: points (WebGL), 2-sigma ellipse, principal axes, the origin.

    Parameters
    ----------
    points : (N, 2)
    cov, mean : (2, 2), (2,) of these points
    colors : (N,) floats in [0, 1] for the cyclic scale, or N CSS colour strings
    box : draw the square [-1, 1]^2 (the target range of min-max normalization)
    """
    trace, shapes, xaxis, yaxis = _stage_parts(
        points, cov, mean, colors=colors, x_range=x_range, y_range=y_range,
        axis_labels=axis_labels, box=box, hover_point=hover_point)
    layout = _layout(title, height, shapes=shapes, dragmode="pan",
                     margin={"l": 8, "r": 8, "t": 44, "b": 8}, xaxis=xaxis, yaxis=yaxis)
    return from_parts([trace], layout)


#: The story figure in pixels: a panel's height (its width follows the column), the room for a
#: row's axis titles and the next row's titles, and a stage's numbers (three lines) below it.
STORY_CELL, STORY_ROW_GAP, STORY_NOTE = 208, 85, 62
_MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def story_figure(
    stages: Sequence[dict],
    *,
    colors,
    hover_point: str = "point",
    notes: Sequence[Sequence[str]] | None = None,
) -> go.Figure:
    """Every stage of the story in one figure: three panels in the first row, the rest centred
    in the second, each stage's ``notes`` (lines of text: its covariance :func:`cov_text`, its
    mean) under its own panel. One figure instead of five, and numbers in it rather than fifteen
    elements and KaTeX below it: each WebGL figure sets up its own context in the browser, and
    each element mounted delays the page (opening the lesson in Chromium on the classroom
    machine, measured beside the alternatives in one run: see README, "Opening a lesson").

    ``stages``: per stage a dict with the keyword arguments of :func:`stage_scatter` except
    ``colors``/``hover_point``/``height`` (``points``, ``cov``, ``mean``, ``title``,
    ``axis_labels``, ``x_range``, ``y_range``, optional ``box``). Panel ``i`` uses the axes
    ``x{i+1}``/``y{i+1}`` (``x``/``y`` for the first), each square, titled above.
    """
    n = len(stages)
    rows = -(-n // STORY_COLS)
    note = STORY_NOTE if notes else 0
    top, bottom = 30, 8 + (note + 40 if notes else 0)  # (40: the last row's ticks, axis title)
    row_gap = STORY_ROW_GAP + note
    plot = rows * STORY_CELL + (rows - 1) * row_gap
    layout = _layout("", top + bottom + plot, dragmode="pan",
                     margin={"l": 8, "r": 8, "t": top, "b": bottom},
                     **_row_layout([f"<b>{st_['title']}</b>" for st_ in stages], 0.06,
                                   rows=rows, vgap=row_gap / plot, cols=STORY_COLS))
    data, shapes = [], []
    for i, st_ in enumerate(stages):
        sx = "" if i == 0 else str(i + 1)
        trace, more, xaxis, yaxis = _stage_parts(
            st_["points"], st_["cov"], st_["mean"], colors=colors, x_range=st_["x_range"],
            y_range=st_["y_range"], axis_labels=st_["axis_labels"], box=st_.get("box", False),
            hover_point=hover_point, sx=str(i + 1))
        if not sx:  # the first panel's axes are plain x / y
            trace |= {"xaxis": "x", "yaxis": "y"}
            yaxis["scaleanchor"] = "x"
            for shape in more:
                shape |= {"xref": "x", "yref": "y"}
        data.append(trace)
        shapes += more
        layout[f"xaxis{sx}"] = xaxis | layout[f"xaxis{sx}"]
        layout[f"yaxis{sx}"] = yaxis | layout[f"yaxis{sx}"]
        layout["annotations"][i] |= {
            "yshift": 4, "font": {"size": _BASE["title"]["font"]["size"], "color": TITLE_COLOR}}
    for i, lines in enumerate(notes or ()):
        sx = "" if i == 0 else str(i + 1)
        # below the panel's tick labels and axis title; "domain" refers to the panel as drawn
        # (a square narrower than its cell keeps to the top: constraintoward)
        layout["annotations"].append({
            "text": "<br>".join(lines), "x": 0.5, "y": 0, "xref": f"x{sx} domain",
            "yref": f"y{sx} domain", "xanchor": "center", "yanchor": "top", "yshift": -42,
            "showarrow": False, "align": "left",
            "font": {"family": _MONO, "size": style.FONT_SIZE - 2, "color": TITLE_COLOR}})
    layout["shapes"] = shapes
    return from_parts(data, layout)


def cloud_3d(
    points: np.ndarray,
    colors: Sequence[str],
    axes: np.ndarray,
    *,
    title: str,
    axis_labels: tuple[str, str, str],
    hover_point: str = "point",
    cube: bool = False,
    height: int = 560,
) -> go.Figure:
    """Pixels as points in 3-D colour space, coloured by their own colour, with their principal
    axes ``(3, 2, 3)`` (see :func:`cnnviz.lessons.preprocessing.axes_segments`) and equal axis
    ranges: the whole colour cube [0, 1]^3 when ``cube`` (raw pixels), else around the points."""
    p = np.asarray(points, dtype=np.float32)
    data = [{
        "type": "scatter3d", "x": p[:, 0], "y": p[:, 1], "z": p[:, 2], "mode": "markers",
        "showlegend": False, "marker": {"color": list(colors), "size": 2.5, "opacity": 0.85},
        "customdata": np.arange(len(p)),
        "hovertemplate": (f"{hover_point} #%{{customdata}}<br>"
                          "(%{x:.3g}, %{y:.3g}, %{z:.3g})<extra></extra>"),
    }]
    for k in range(axes.shape[0]):
        seg = np.asarray(axes[k], dtype=np.float64)
        data.append({"type": "scatter3d", "x": seg[:, 0], "y": seg[:, 1], "z": seg[:, 2],
                     "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                     "line": {"color": SHAPE_COLOR, "width": 7 if k == 0 else 4}})
    if cube:
        mid, half = np.full(3, 0.5), 0.5
    else:
        allp = np.concatenate([p.astype(np.float64), axes.reshape(-1, 3), np.zeros((1, 3))])
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        mid, half = (lo + hi) / 2, float(np.max(hi - lo)) / 2 * 1.05
        half = half if half > 1e-9 else 1.0
    scene_axis = [{"range": [m - half, m + half], "title": {"text": lab},
                   "tickformat": ".2~g", "backgroundcolor": "#fafafa"}
                  for m, lab in zip(mid, axis_labels, strict=True)]
    scene = {"xaxis": scene_axis[0], "yaxis": scene_axis[1], "zaxis": scene_axis[2],
             "aspectmode": "cube", "camera": {"eye": {"x": 1.4, "y": 1.4, "z": 1.0}}}
    return from_parts(data, _layout(title, height, scene=scene,
                                               margin={"l": 0, "r": 0, "t": 40, "b": 0}))


def histograms_figure(
    hists: Sequence[tuple[np.ndarray, np.ndarray, str]],
    channel_names: Sequence[str],
    *,
    x_label: str,
    y_label: str,
    height: int = 280,
) -> go.Figure:
    """Value histograms, one panel per stage: ``(centers (bins,), shares (C, bins), title)``.

    Each channel is one line in its channel colour (R red, G green, B blue; gray otherwise).
    """
    # three titles over a phone's width: each may take two lines
    layout = _layout("", height, margin={"l": 10, "r": 10, "t": 56, "b": 10},
                     **_row_layout([two_lines(h[2], 10) for h in hists], gap=0.06))
    data = []
    for i, (centers, shares, _) in enumerate(hists):
        sx = "" if i == 0 else str(i + 1)
        for k, name in enumerate(channel_names):
            data.append({
                "type": "scatter", "x": np.asarray(centers, np.float32),
                "y": np.asarray(shares[k], np.float32), "xaxis": f"x{sx}", "yaxis": f"y{sx}",
                "mode": "lines", "name": name, "legendgroup": name, "showlegend": i == 0,
                "line": {"color": style.CHANNEL_COLORS.get(name, "#555555"), "width": 2,
                         "shape": "hvh"},
                "hovertemplate": f"{name}: %{{x:.3g}}<br>%{{y:.1%}}<extra></extra>",
            })
        layout[f"xaxis{sx}"] |= {"title": {"text": x_label, "standoff": 10},
                                 "tickformat": ".2~g", "zeroline": True,
                                 "zerolinecolor": ORIGIN_COLOR,
                                 "nticks": 4}  # three panels in a phone's width: few ticks
        layout[f"yaxis{sx}"] |= {"tickformat": ".0%", "showticklabels": i == 0,
                                 "gridcolor": GRID}
    layout["yaxis"]["title"] = {"text": y_label}
    return from_parts(data, layout)


def mosaic(patches: np.ndarray, gap: int = 1) -> np.ndarray:
    """``(k, s, s)`` patches in one row with NaN gutters: ``(s, k*(s+gap) - gap)``."""
    p = np.asarray(patches, dtype=np.float64)
    k, s, _ = p.shape
    out = np.full((s, k * (s + gap) - gap), np.nan)
    for i in range(k):  # k ~ 10 small copies, not a per-pixel loop
        out[:, i * (s + gap): i * (s + gap) + s] = p[i]
    return out


def patches_figure(
    raw: np.ndarray,
    whitened: np.ndarray,
    *,
    titles: tuple[str, str],
    hover_label: str = "value",
    height: int = 300,
) -> go.Figure:
    """Raw patches (grayscale) above their whitened versions (diverging, 0 = white).

    The whitened row shares one symmetric colour limit (the 99th percentile of |values|), so a
    few extreme pixels do not wash out the rest.
    """
    top, bottom = mosaic(raw), mosaic(whitened)
    hover = f"{hover_label}: %{{z:.3g}}<extra></extra>"
    lo, hi = float(np.nanmin(top)), float(np.nanmax(top))
    finite = np.abs(bottom[np.isfinite(bottom)])
    lim = float(np.percentile(finite, 99)) if finite.size else 0.0
    lim = lim if lim > 0 else style.signed_limit(bottom)
    common = {"type": "heatmap", "showscale": False, "hovertemplate": hover,
              "hoverongaps": False}
    data = [
        common | {"z": top.astype(np.float32), "zmin": lo, "zmax": hi if hi > lo else lo + 1,
                  "colorscale": style.GRAY},
        common | {"z": bottom.astype(np.float32), "zmin": -lim, "zmax": lim,
                  "colorscale": style.DIVERGING, "xaxis": "x2", "yaxis": "y2"},
    ]
    layout = _layout("", height, margin={"l": 10, "r": 10, "t": 36, "b": 10},
                     **_row_layout(list(titles), rows=2, equal=True))
    for sx in ("", "2"):
        layout[f"xaxis{sx}"] |= {"visible": False, "constrain": "domain"}
        layout[f"yaxis{sx}"] |= {"visible": False, "autorange": "reversed",
                                 "constrain": "domain"}
    return from_parts(data, layout)


def filter_figure(values: np.ndarray, *, title: str, hover_label: str = "value",
                  height: int = 400) -> go.Figure:
    """A whitening filter as a signed grid with its weights printed (2 significant digits).

    The colour limit is the second-largest |weight|: the centre weight is far larger than the
    rest and saturates, so the ring of negative weights around it stays visible.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.abs(v) < 1e-9 * max(style.signed_limit(v), 1e-300), 0.0, v)  # 1e-15 noise
    mags = np.sort(np.abs(v).ravel())[::-1]
    lim = float(mags[1]) if mags.size > 1 and mags[1] > 0 else style.signed_limit(v)
    text = [[style.fmt(x, 2) for x in row] for row in v]
    trace = {
        "type": "heatmap", "z": v.astype(np.float32), "zmin": -lim, "zmax": lim,
        "colorscale": style.DIVERGING, "showscale": False, "text": text,
        "texttemplate": "%{text}", "xgap": 1, "ygap": 1,
        "textfont": {"size": 12, "color": "#111111"},
        "hovertemplate": f"(%{{y}}, %{{x}})<br>{hover_label}: %{{z:.4g}}<extra></extra>",
    }
    layout = _layout(title, height, xaxis={"visible": False, "constrain": "domain"},
                     yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x",
                            "constrain": "domain", "constraintoward": "top"})
    return from_parts([trace], layout)


def spectrum_figure(
    eigenvalues: np.ndarray,
    gain: np.ndarray,
    eps: float,
    *,
    title: str,
    x_label: str,
    var_label: str,
    gain_label: str,
    eps_label: str,
    height: int = 360,
) -> go.Figure:
    """Variance along each principal direction and whitening's gain ``1/sqrt(lambda + eps)``,
    both on log axes, with ``eps`` as a dashed line. Directions without variance are left out
    (a log axis has no 0)."""
    vals, g = np.asarray(eigenvalues, np.float64), np.asarray(gain, np.float64)
    live = g > 0
    k = np.arange(1, len(vals) + 1)[live]
    lo = min(float(vals[live].min()) if live.any() else 1.0, eps)
    hi = max(float(vals[live].max()) if live.any() else 1.0, eps)
    data = [
        {"type": "scatter", "x": k, "y": vals[live], "mode": "lines+markers", "name": var_label,
         "line": {"color": style.SERIES[0], "width": 2.5},
         "hovertemplate": "%{x}: %{y:.3g}<extra></extra>"},
        {"type": "scatter", "x": k, "y": g[live], "mode": "lines+markers", "name": gain_label,
         "yaxis": "y2", "line": {"color": PATH_COLOR, "width": 2.5, "dash": "dot"},
         "hovertemplate": "%{x}: ×%{y:.3g}<extra></extra>"},
    ]
    eps_style = {"dash": "dash", "color": "#444444", "width": 2}
    eps_line = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": eps,
                "y1": eps, "line": eps_style}
    # the line itself is a shape; this empty trace only gives it a legend entry
    data.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines",
                 "name": eps_label, "line": eps_style, "hoverinfo": "skip"})
    layout = _layout(
        title, height, shapes=[eps_line],
        legend={"orientation": "h", "x": 0, "y": -0.25},
        margin={"l": 10, "r": 10, "t": 48, "b": 10},
        xaxis={"title": {"text": x_label}, "domain": [0, 0.94]},
        yaxis={"type": "log", "title": {"text": var_label}, "exponentformat": "power",
               "range": [np.log10(lo) - 0.3, np.log10(hi) + 0.3], "dtick": 1},
        yaxis2={"type": "log", "title": {"text": gain_label}, "exponentformat": "power",
                "overlaying": "y", "side": "right", "anchor": "x", "showgrid": False,
                "dtick": 1},
    )
    return from_parts(data, layout)


def descent_figure(
    panels: Sequence[tuple[DescentPath, str]],
    *,
    axis_labels: tuple[str, str],
    start_label: str,
    best_label: str,
    step_label: str,
    height: int = 360,
) -> go.Figure:
    """Loss contours with the gradient-descent path, one panel per ``(DescentPath, title)``.

    Contours are of ``sqrt(loss)``, so they are evenly spaced ellipses (round when the data are
    whitened); the path starts at w = 0 (circle) and heads for w* (star).
    """
    # "1 · Original · κ = 47.8": the condition number on its own line (narrow panels)
    titles = [t[: t.rfind(" · ") + 3] + "<br>" + t[t.rfind(" · ") + 3 :] if " · " in t else t
              for t in (p[1] for p in panels)]
    layout = _layout("", height, margin={"l": 10, "r": 10, "t": 62, "b": 10},
                     **_row_layout(titles, gap=0.05, equal=True))
    data = []
    for i, (d, _) in enumerate(panels):
        sx = "" if i == 0 else str(i + 1)
        on = {"xaxis": f"x{sx}", "yaxis": f"y{sx}", "showlegend": False}
        # a square around w* that holds the start and the whole zig-zag
        reach = float(np.max(np.abs(d.path - d.w_star))) if len(d.path) else 0.0
        half = max(1.3 * float(np.linalg.norm(d.w_star)), 1.08 * reach) or 1.0
        xs, ys, Z = loss_grid(d.H, d.w_star, half)
        data += [
            on | {"type": "contour", "x": xs.astype(np.float32), "y": ys.astype(np.float32),
                  "z": np.sqrt(np.maximum(Z, 0)).astype(np.float32), "ncontours": 14,
                  "colorscale": [[0, "#f7fbff"], [1, "#9ecae1"]], "showscale": False,
                  "line": {"width": 1, "color": "#6b8fb3"}, "hoverinfo": "skip"},
            on | {"type": "scatter", "x": d.path[:, 0], "y": d.path[:, 1],
                  "mode": "lines+markers", "line": {"color": PATH_COLOR, "width": 2.5},
                  "marker": {"size": 5}, "customdata": np.arange(len(d.path)),
                  "hovertemplate": f"{step_label} %{{customdata}}<extra></extra>"},
            on | {"type": "scatter", "x": [0, d.w_star[0]], "y": [0, d.w_star[1]],
                  "mode": "markers", "hovertext": [start_label, best_label],
                  "hoverinfo": "text",
                  "marker": {"symbol": ["circle", "star"], "size": [11, 16],
                             "color": [SHAPE_COLOR, "#ffd400"],
                             "line": {"color": SHAPE_COLOR, "width": 1}}},
        ]
        layout[f"xaxis{sx}"] |= {"range": [xs[0], xs[-1]], "constrain": "domain",
                                 "title": {"text": axis_labels[0], "standoff": 2}}
        layout[f"yaxis{sx}"] |= {"range": [ys[0], ys[-1]], "constrain": "domain",
                                 "title": {"text": axis_labels[1], "standoff": 2}}
    return from_parts(data, layout)
