"""The room's displays: one stylesheet that keeps every lesson readable on a 1024x768 projector,
a 768x1024 tablet and a 390x844 phone, layout helpers for rows of panels that wrap and for
figures that need another layout on a narrow column, and the projector view
(``?view=projector`` / the sidebar toggle).

Why CSS and not a layout chosen in Python: the server does not know how wide the browser's
column is (``st.context`` has no viewport), so anything that depends on width is left to the
browser — rows of panels wrap (:func:`panels`), a figure with a stacked variant shows the one
that fits the column (:func:`by_width`, a CSS container query), and texts wrap instead of ending
in "…". ``tests/browser/test_displays.py`` checks the result at the three sizes.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import streamlit as st

from ui.lang import t

#: The link parameter and its one value.
VIEW_PARAM = "view"
PROJECTOR = "projector"
_WIDGET = "view_projector"
_SEEN = "_view_seen"
_NARROW = "_narrow_shown"  # a narrow screen asked for the narrow figures (narrow_too)

#: Minimum width (px) of one panel in a wrapping row; the row's container key carries the size.
PANEL_MIN = {"s": 150, "m": 210, "l": 340}
#: Column widths (px) at which a figure may switch between its narrow and wide layout.
WIDTH_STEPS = (560, 900)
#: How much larger the projector view draws the main area's text and controls (figures get the
#: folded sidebar's width instead: see _PROJECTOR_CSS).
PROJECTOR_ZOOM = 1.25
#: How much larger the projector view draws the text inside figures (and their height), where
#: the CSS zoom cannot reach (see _PROJECTOR_CSS); a little less than the zoom, because the
#: figure keeps its width and its grids of numbers must still fit their cells.
FIGURE_TEXT = 1.2
#: Plotly's sizes where a figure sets none (Streamlit's theme: 12 px text, 16 px titles).
_PLOTLY_TEXT, _PLOTLY_TITLE = 12, 16
_CARTESIAN = {"scatter", "scattergl", "bar", "heatmap", "image", "histogram", "contour", "box"}

_BASE_CSS = """
/* the tap-to-pick script's holder (ui.display.inject) takes no room */
.st-key-cnnviz_touch { display: none !important; }
/* Plotly's toolbar covers chart titles on narrow charts and adds nothing to these figures
   (zoom is by drag, full screen is Streamlit's own button) */
[data-testid=stPlotlyChart] .modebar-container { display: none !important; }
/* metric labels and values wrap instead of ending in "…" (Chinese labels are longer) */
[data-testid=stMetricLabel], [data-testid=stMetricLabel] *,
[data-testid=stMetricValue], [data-testid=stMetricValue] *,
[data-testid=stMetricDelta], [data-testid=stMetricDelta] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }
[data-testid=stMetricValue] { line-height: 1.15; }
/* the sidebar's five working sizes on one line (Streamlit pads each segment by 16 px a side) */
.st-key-work_size [data-variant=segmented_control] { padding-left: 0.5rem; padding-right: 0.5rem; }
/* links to other lessons wrap too */
[data-testid=stPageLink-NavLink] { height: auto !important; }
[data-testid=stPageLink-NavLink] *, [data-testid=stPageLink-NavLink] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
/* widget labels (toggles and checkboxes too) wrap rather than end in "…" */
[data-testid=stWidgetLabel] *, [data-testid=stCheckbox] label *,
[data-testid=stCheckbox] [data-testid=stMarkdownContainer] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }
/* long arithmetic in markdown code wraps */
[data-testid=stMarkdownContainer] code { white-space: pre-wrap !important;
  overflow-wrap: anywhere; }
/* a row of panels (ui.display.panels): columns wrap onto the next line below a minimum width */
[class*="st-key-fitrow_"] [data-testid=stHorizontalBlock] { flex-wrap: wrap !important; }
/* (the columns keep their proportions while they fit; below the minimum they wrap and the
   columns of each line share its width) */
[class*="st-key-fitrow_"] [data-testid=stHorizontalBlock] > [data-testid=stColumn] {
  min-width: min(100%, var(--fit-min)) !important; }
""" + "".join(
    f'[class*="st-key-fitrow_{k}_"] {{ --fit-min: {px}px; }}\n' for k, px in PANEL_MIN.items()
) + """
/* a figure drawn in two layouts (ui.display.by_width): the main column's width picks one */
[data-testid=stMainBlockContainer] { container-type: inline-size; }
""" + "".join(
    f'@container (max-width: {px - 0.02}px) {{ [class*="st-key-wide{px}_"] '
    f'{{ display: none !important; }} }}\n'
    f'@container (min-width: {px}px) {{ [class*="st-key-narrow{px}_"] '
    f'{{ display: none !important; }} }}\n' for px in WIDTH_STEPS)

_PROJECTOR_CSS = f"""
/* projector view: text and controls in the main area drawn {PROJECTOR_ZOOM:g}x larger for the
   back row; the layout reflows to the narrower width, so rows wrap as on a tablet */
[data-testid=stMainBlockContainer] {{ zoom: {PROJECTOR_ZOOM}; padding-top: 2.5rem !important;
  max-width: 100% !important; }}
/* Streamlit sizes a Plotly chart or a data grid by its on-screen (zoomed) width; zoomed again,
   it would be {PROJECTOR_ZOOM:g}x too wide and cut. They keep zoom 1 overall and gain from the
   folded sidebar's width instead. */
[data-testid=stMainBlockContainer] [data-testid=stPlotlyChart],
[data-testid=stMainBlockContainer] [data-testid=stDataFrame] {{ zoom: {1 / PROJECTOR_ZOOM:g}; }}
"""


def projector() -> bool:
    """True when this run shows the projector view."""
    return bool(st.session_state.get(_WIDGET, False))


def init_view() -> bool:
    """Decide the view from ``?view=`` (first run, or a followed link); call before the page."""
    qp = st.query_params.get(VIEW_PARAM)
    if _WIDGET not in st.session_state or qp != st.session_state.get(_SEEN):
        st.session_state[_WIDGET] = qp == PROJECTOR
        st.session_state[_SEEN] = qp
    return projector()


def set_view(on: bool) -> None:
    """Turn the projector view on or off and keep the link in step (a preset, the toggle)."""
    st.session_state[_WIDGET] = on
    st.session_state[_SEEN] = PROJECTOR if on else None
    if on:
        st.query_params[VIEW_PARAM] = PROJECTOR
    elif VIEW_PARAM in st.query_params:
        del st.query_params[VIEW_PARAM]


def _on_toggle() -> None:
    set_view(bool(st.session_state.get(_WIDGET)))


def view_toggle() -> None:
    """The sidebar switch for the projector view (kept in the link as ``?view=projector``)."""
    st.toggle(t("common.projector_view"), key=_WIDGET, on_change=_on_toggle,
              help=t("common.projector_view_help"))


#: Plotly selects a point on click from the point under the pointer it last hovered; a finger
#: never hovers, so a tap selected nothing (the tap's own hover comes after the selection). This
#: hovers at the finger as it touches down, so a tap on a feature map picks its pixel as a click
#: does. Constant text of ours, run once per page load (guarded), nothing a user sends.
_TOUCH_JS = """<script>
if (!window.__cnnvizTapHover) {
  window.__cnnvizTapHover = true;
  document.addEventListener("touchstart", (e) => {
    const t = e.touches && e.touches[0];
    const drag = e.target && e.target.closest && e.target.closest(".js-plotly-plot .nsewdrag");
    if (!t || !drag || e.touches.length > 1) return;
    drag.dispatchEvent(new MouseEvent("mousemove",
      {clientX: t.clientX, clientY: t.clientY, bubbles: true}));
  }, {capture: true, passive: true});
}
</script>"""


def inject() -> None:
    """The stylesheet for this run and the tap-to-pick script (call once per run, from
    app.py)."""
    css = _BASE_CSS + (_PROJECTOR_CSS if projector() else "")
    st.html(f"<style>{css}</style>")
    with st.container(key="cnnviz_touch"):  # hidden by _BASE_CSS: it holds no content
        st.html(_TOUCH_JS, unsafe_allow_javascript=True)


def _scale_fonts(node: Any, k: float, in_font: bool = False) -> None:
    """Multiply every font size in a figure dict by ``k``, in place (data arrays untouched)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if in_font and key == "size":
                if isinstance(value, int | float):
                    node[key] = round(value * k, 1)
                elif isinstance(value, list):
                    node[key] = [round(v * k, 1) if isinstance(v, int | float) else v
                                 for v in value]
            elif isinstance(value, dict | list):
                _scale_fonts(value, k, key.endswith("font"))
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                _scale_fonts(item, k)


def projector_figure(spec: dict, k: float = FIGURE_TEXT) -> dict:
    """A copy of a figure dict with its text ``k`` times larger for the projector view: every
    font size it sets, the defaults it leaves to Plotly (text, titles, axis ticks), and its
    height, margins and annotations' pixel offsets, so the larger text keeps its room."""
    out = copy.deepcopy(spec)  # a cached figure is shared: never change it in place
    layout = out.setdefault("layout", {})
    _scale_fonts(out.get("data", []), k)
    _scale_fonts(out.get("frames", []), k)  # an animation's frames restyle their text
    _scale_fonts(layout, k)
    layout.setdefault("font", {}).setdefault("size", round(_PLOTLY_TEXT * k, 1))
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title.setdefault("font", {}).setdefault("size", round(_PLOTLY_TITLE * k, 1))
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis.setdefault("tickfont", {}).setdefault("size", round(_PLOTLY_TEXT * k, 1))
    cartesian = any(trace.get("type", "scatter") in _CARTESIAN for trace in out.get("data", []))
    if cartesian and not any(name.startswith(("xaxis", "yaxis")) for name in layout):
        layout["xaxis"] = {"tickfont": {"size": round(_PLOTLY_TEXT * k, 1)}}
        layout["yaxis"] = {"tickfont": {"size": round(_PLOTLY_TEXT * k, 1)}}
    if isinstance(layout.get("height"), int | float):
        layout["height"] = round(layout["height"] * k)
    # room kept in pixels for text grows with it: margins, and text placed by a pixel offset
    # (a stage's numbers below its panel's tick labels in the preprocessing story)
    margin = layout.get("margin")
    for side, v in (margin.items() if isinstance(margin, dict) else ()):
        if side in ("t", "b", "l", "r") and isinstance(v, int | float):
            margin[side] = round(v * k)
    for note in layout.get("annotations", ()) or ():
        for shift in ("xshift", "yshift"):
            if isinstance(note.get(shift), int | float):
                note[shift] = round(note[shift] * k)
    return out


def chart(where: Any, fig: Any, *, text: float = FIGURE_TEXT, **kwargs: Any) -> Any:
    """``where.plotly_chart(fig, **kwargs)``, with the figure's text ``text`` times larger in
    the projector view (1: a figure that places its text by its own pixel arithmetic). Every
    chart of the app goes through here (``where``: ``st``, a column, a container)."""
    if projector() and text != 1:
        from ui.cache import Prebuilt  # ui.cache imports Streamlit's caches: only when needed

        spec = fig if isinstance(fig, dict) else fig.to_dict()
        fig = Prebuilt(projector_figure(spec, text))
    return where.plotly_chart(fig, **kwargs)


def panels(name: str, spec: int | list[float], size: Literal["s", "m", "l"] = "m") -> list:
    """Columns like ``st.columns(spec)`` that wrap onto a new line when a column would get
    narrower than ``PANEL_MIN[size]`` px (on a tablet, a phone, or next to the sidebar on the
    projector). ``name`` must be unique on the page."""
    with st.container(key=f"fitrow_{size}_{name}"):
        return list(st.columns(spec))


def narrow_too(narrow: Any, name: str) -> bool:
    """For a :func:`by_width` pair whose wide figure is always drawn: whether to draw the narrow
    one as well. Until a student on a narrow screen asks for it with the button that only a
    narrow screen shows (in ``narrow``), it is not drawn, so the projector, laptops and tablets
    mount one figure instead of two (a hidden chart is drawn all the same). Once asked, every
    such pair in the session draws both."""
    if st.session_state.get(_NARROW):
        return True
    narrow.button(t("common.show_narrow"), key=f"show_narrow_{name}", help=t(
        "common.show_narrow_help"), icon=":material/splitscreen:", on_click=_want_narrow)
    return False


def _want_narrow() -> None:
    st.session_state[_NARROW] = True


def by_width(name: str, px: int):
    """Two containers, ``(wide, narrow)``: the browser shows the first where the main column
    is at least ``px`` wide and the second below (one of :data:`WIDTH_STEPS`). For a figure
    that must change its layout, not just its size, on a phone or tablet."""
    if px not in WIDTH_STEPS:
        raise ValueError(f"by_width: {px} is not one of {WIDTH_STEPS}")
    return st.container(key=f"wide{px}_{name}"), st.container(key=f"narrow{px}_{name}")
