"""ui/display.py in AppTest: ``?view=projector`` turns the projector view on (toggle, CSS) and
stays in the link without a "could not be used" notice; the toggle writes and removes it; the
layout helpers make the containers the stylesheet targets."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import APP, errors_of
from ui import display


def open_link(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page)
    return at.run()


def styles(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_projector_link_turns_the_view_on_without_a_notice(lang):
    at = open_link("pages/pooling.py", {"view": "projector", "lang": lang})
    assert errors_of(at) == []
    assert [t.value for t in at.toast] == []  # "view" is not an unusable setting
    assert at.toggle(key="view_projector").value is True
    assert "zoom: 1.25" in styles(at)
    assert at.query_params["view"] in ("projector", ["projector"])


def test_toggle_writes_and_removes_the_link_parameter():
    at = open_link("pages/activation.py", {"lang": "en"})
    assert at.toggle(key="view_projector").value is False
    assert "zoom:" not in styles(at)
    assert "modebar-container" in styles(at)  # the base stylesheet is always there
    at.toggle(key="view_projector").set_value(True).run()
    assert at.query_params["view"] in ("projector", ["projector"]) and "zoom: 1.25" in styles(at)
    at.toggle(key="view_projector").set_value(False).run()
    assert "view" not in at.query_params and "zoom:" not in styles(at)


def test_other_view_values_are_ignored():
    at = open_link("pages/activation.py", {"view": "bogus", "lang": "en"})
    assert errors_of(at) == [] and at.toggle(key="view_projector").value is False


def test_by_width_only_accepts_the_stylesheet_steps():
    with pytest.raises(ValueError):
        display.by_width("x", 123)
    for px in display.WIDTH_STEPS:
        assert f"st-key-wide{px}_" in display._BASE_CSS
        assert f"st-key-narrow{px}_" in display._BASE_CSS


def test_a_preset_can_open_the_projector_view():
    at = open_link("pages/convolution.py", {"preset": "article_5x5", "lang": "en"})
    assert errors_of(at) == [] and at.toggle(key="view_projector").value is True
    assert "zoom: 1.25" in styles(at)
    at.run()
    assert at.query_params["view"] in ("projector", ["projector"])


def _sizes(node, found=None, in_font=False):
    """Every font size in a figure dict (a list of numbers)."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for k, v in node.items():
            if in_font and k == "size":
                found += v if isinstance(v, list) else [v]
            elif isinstance(v, dict | list):
                _sizes(v, found, k.endswith("font"))
    elif isinstance(node, list):
        for item in node:
            _sizes(item, found)
    return found


def test_projector_figure_enlarges_every_text_and_leaves_the_original_alone():
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], text=[["1", "2"], ["3", "4"]],
                               texttemplate="%{text}", textfont={"size": 16}),
                    layout={"height": 300, "title": {"text": "map"},
                            "margin": {"t": 30, "b": 110, "pad": 2},
                            "annotations": [{"text": "a", "font": {"size": 11}, "yshift": -42}],
                            "xaxis2": {"tickfont": {"size": 10}}})
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="text", text=["b"],
                             textfont={"size": [9, 13]}))
    fig.frames = [go.Frame(data=[{"type": "heatmap", "textfont": {"size": 16}}])]
    spec = fig.to_dict()
    before = _sizes(spec)
    big = display.projector_figure(spec, 1.5)
    assert _sizes(spec) == before  # the cached original is shared: untouched
    assert big["data"][0]["textfont"]["size"] == 24
    assert big["data"][1]["textfont"]["size"] == [13.5, 19.5]
    assert big["frames"][0]["data"][0]["textfont"]["size"] == 24
    lay = big["layout"]
    assert lay["annotations"][0]["font"]["size"] == 16.5
    assert lay["xaxis2"]["tickfont"]["size"] == 15
    # sizes left to Plotly's theme are given, enlarged: text, the title, the axes' ticks
    assert lay["font"]["size"] == 18 and lay["title"]["font"]["size"] == 24
    assert lay["height"] == 450
    # room kept for text in pixels grows with it: margins, an annotation's pixel offset
    assert lay["margin"] == {"t": 45, "b": 165, "pad": 2}
    assert lay["annotations"][0]["yshift"] == -63
    assert spec["layout"]["margin"]["b"] == 110
    assert spec["layout"]["annotations"][0]["yshift"] == -42
    assert big["data"][0]["z"] == spec["data"][0]["z"]


def test_every_chart_goes_through_display_chart():
    """The projector view can only enlarge figure text if no chart bypasses ui.display.chart."""
    from tests.helpers import ROOT

    direct = [f"{p.relative_to(ROOT)}:{n}"
              for p in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py"), ROOT / "app.py"]
              if p.name != "display.py"
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
              if ".plotly_chart(" in line]
    assert direct == []


def test_projector_view_enlarges_the_text_inside_charts():
    def chart_sizes(params):
        at = open_link("pages/pooling.py", params)
        assert errors_of(at) == []
        import json
        return [s for c in at.get("plotly_chart") for s in _sizes(json.loads(c.proto.spec))]

    normal = chart_sizes({"lang": "en"})
    big = chart_sizes({"lang": "en", "view": "projector"})
    assert normal and len(big) >= len(normal)
    assert max(big) >= display.FIGURE_TEXT * max(normal) - 0.1
    assert min(big) >= display.FIGURE_TEXT * min(normal) - 0.1
