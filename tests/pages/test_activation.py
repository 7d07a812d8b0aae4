"""The activation page in AppTest: every section in both languages, what each control changes,
bad input, and the plotted derivative against a numerical derivative."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnnviz import functional as F
from cnnviz import i18n
from tests.helpers import decode, errors_of, run_page

PAGE = "pages/activation.py"
CJK = re.compile(r"[\u4e00-\u9fff]")


def open_activation(lang: str = "en", state: dict | None = None):
    """The activation page in AppTest, in ``lang``, with ``state`` seeded; no exception."""
    at = run_page(PAGE, lang, state=state, timeout=120)
    assert errors_of(at) == []
    return at


@pytest.fixture(scope="module")
def at_en():
    return open_activation("en")


def figures(at) -> dict[str, dict]:
    """Plotly specs by widget key (the key ends the element id)."""
    out = {}
    for chart in at.get("plotly_chart"):
        key = chart.proto.id.split("-")[-1]
        out[key] = json.loads(chart.proto.spec)
    return out


def traces(spec: dict, axis: str = "y") -> dict[str, dict]:
    return {tr["name"]: tr for tr in spec["data"] if tr.get("yaxis", "y") == axis
            and tr.get("name")}


def tr(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"activation.{key}", lang, **kw)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_section_renders_with_translated_titles(lang):
    at = open_activation(lang)
    assert at.title[0].value == tr("title", lang)
    headers = [h.value for h in at.header]
    for key in ("curves_title", "map_title", "vanish_title", "summary_title"):
        assert tr(key, lang) in headers
    figs = figures(at)
    assert set(figs) == {"act_curves_chart", "act_before_map", "act_before_hist",
                         "act_after_map", "act_after_hist", "act_chain_chart", "act_norms_chart"}
    for key, spec in figs.items():
        title = spec["layout"]["title"]["text"]
        assert title, key
        assert bool(CJK.search(title)) == (lang == "zh") or key.endswith("_map"), (key, title)
    for key in ("act_curves_chart", "act_before_hist", "act_chain_chart", "act_norms_chart"):
        layout = figs[key]["layout"]
        axes = [v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))]
        titled = {k[0] for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))
                  and v.get("title", {}).get("text")}
        assert titled == {"x", "y"} and axes, key
    assert len(at.warning) == 0 and len(at.table) == 1
    table = at.table[0].value
    assert list(table.index) == [tr(f"fn_{n}", lang) for n in
                                 ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
                                  "gelu")]
    assert tr("advice_relu", lang) in table.values
    # the same rows as cards for a phone or tablet (the browser shows one of the two)
    cards = [m.value for m in at.markdown]
    for name in ("sigmoid", "relu", "gelu"):
        assert f"**{tr(f'fn_{name}', lang)}**" in cards
    sep = "：" if lang == "zh" else ": "
    zero = tr("col_zero", lang).rstrip("?？")
    assert any(f"- {zero}{sep}" in c and tr("advice_relu", lang) in c for c in cards)


def test_every_control_is_prefixed_explained_and_serialisable(at_en):
    widgets = []
    for kind in ("slider", "selectbox", "toggle", "number_input", "button_group"):
        widgets += list(getattr(at_en, kind))
    ours = [w for w in widgets if w.key and w.key.startswith("act_")]
    assert len(ours) >= 15
    for w in ours:
        assert w.help, w.key
    assert not [w.key for w in widgets if w.key and not w.key.startswith(("act_", "img",
                                                                            "work_size",
                                                                            "lang", "view_"))]
    for w in ours:
        json.dumps(w.value)  # plain values, ready for the URL


def test_plotted_derivative_matches_numerical_derivative():
    at = open_activation("en", {"act_fns": ["sigmoid", "tanh", "relu", "leaky_relu", "elu",
                                            "softplus", "gelu"], "act_alpha": 0.2})
    spec = figures(at)["act_curves_chart"]
    f_traces, d_traces = traces(spec, "y"), traces(spec, "y2")
    h = 1e-5
    for name in F.ACTIVATIONS:
        label = tr(f"fn_{name}")
        x = decode(f_traces[label]["x"]).astype(np.float64)
        d_plot = decode(d_traces[f"{label} ′"]["y"]).astype(np.float64)
        np.testing.assert_array_equal(decode(d_traces[f"{label} ′"]["x"]), x)
        f = lambda v, n=name: F.activation_forward(v, n, negative_slope=0.2)[0]  # noqa: E731
        numeric = (f(x + h) - f(x - h)) / (2 * h)
        smooth = np.abs(x) > 2 * h  # the kinks of ReLU, Leaky ReLU and ELU sit at 0
        np.testing.assert_allclose(d_plot[smooth], numeric[smooth], atol=1e-6, err_msg=name)
        # hovering the function shows f'(x) too: it travels as customdata
        np.testing.assert_allclose(decode(f_traces[label]["customdata"]), d_plot)
        np.testing.assert_allclose(decode(f_traces[label]["y"]), f(x), rtol=1e-6, atol=1e-7,
                                   err_msg=name)
    assert "f′" in f_traces[tr("fn_sigmoid")]["hovertemplate"]


def test_toggle_derivatives_alpha_and_x_range(at_en):
    at = open_activation("en")
    spec = figures(at)["act_curves_chart"]
    assert traces(spec, "y2"), "derivatives are on by default"
    at.toggle(key="act_deriv").set_value(False).run()
    spec = figures(at)["act_curves_chart"]
    assert not traces(spec, "y2") and "yaxis2" not in spec["layout"]

    at.slider(key="act_alpha").set_value(0.35).run()
    leaky = traces(figures(at)["act_curves_chart"])[tr("fn_leaky_relu")]
    x, y, d = (decode(leaky[k]) for k in ("x", "y", "customdata"))
    neg = x < 0
    np.testing.assert_allclose(y[neg], 0.35 * x[neg], rtol=1e-6)
    np.testing.assert_allclose(d[neg], 0.35)

    at.slider(key="act_xrange").set_value((-15.0, 2.5)).run()
    sig = traces(figures(at)["act_curves_chart"])[tr("fn_sigmoid")]
    x = decode(sig["x"])
    assert x.min() == -15 and x.max() == 2.5
    assert errors_of(at) == []


def test_sigmoid_steepest_point_and_saturation_are_marked():
    at = open_activation("en", {"act_sat": "tanh", "act_eps": 0.1})
    spec = figures(at)["act_curves_chart"]
    names = [t.get("name") for t in spec["data"]]
    assert tr("tangent", slope="0.25", x="0") in names
    assert tr("zone_legend", fn="tanh", eps="0.1") in names
    zones = sorted({(s["x0"], s["x1"]) for s in spec["layout"]["shapes"] if s["type"] == "rect"})
    assert len(zones) == 2  # tanh saturates on both sides (each shaded in both panels)
    # |tanh'| < 0.1  <=>  |x| > artanh(sqrt(0.9)) ~ 1.818
    assert zones[0][1] == pytest.approx(-1.818, abs=0.03)
    assert zones[1][0] == pytest.approx(1.818, abs=0.03)
    texts = [[x.replace("<br>", "") for x in t["text"]] for t in spec["data"] if t.get("text")]
    assert [tr("peak", slope="0.25")] in texts


def test_saturation_of_a_hidden_function_is_explained():
    at = open_activation("en", {"act_fns": ["relu"], "act_sat": "sigmoid"})
    assert tr("sat_hidden", fn="sigmoid") in [c.value for c in at.caption]


def test_bad_input_gives_one_sentence_and_the_page_goes_on():
    at = open_activation("en", {"act_xrange": (1.0, 1.0)})
    assert [w.value for w in at.warning] == [tr("err_range")]
    assert "act_curves_chart" not in figures(at) and "act_norms_chart" in figures(at)
    at = open_activation("zh", {"act_fns": [], "act_deep_fns": []})
    assert [i.value for i in at.info] == [tr("pick_one", "zh")] * 2
    assert "act_after_map" in figures(at)


def metric(at, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, (label, [m.label for m in at.metric])
    return found[0]


def percent(m) -> float:
    return float(m.value.rstrip("%"))


def test_switching_the_map_activation():
    at = open_activation("en")
    relu_zero = percent(metric(at, tr("m_zero", fn="ReLU")))
    assert 20 < relu_zero < 80
    assert percent(metric(at, tr("m_nograd", fn="ReLU"))) == relu_zero
    zero_bar = figures(at)["act_after_hist"]["data"][1]
    assert zero_bar["name"] == tr("hist_zero", share=f"{relu_zero:g}")

    at.selectbox(key="act_map_fn").set_value("leaky_relu").run()
    assert percent(metric(at, tr("m_zero", fn="Leaky ReLU"))) < 1
    assert percent(metric(at, tr("m_nograd", fn="Leaky ReLU"))) == 0
    assert any(tr("relu_compare", share=f"{relu_zero:g}") == m.value for m in at.markdown)
    assert figures(at)["act_after_map"]["layout"]["title"]["text"].replace("<br>", "") == tr(
        "after_title", fn="Leaky ReLU")
    at.selectbox(key="act_map_fn").set_value("sigmoid").run()
    after = figures(at)["act_after_map"]["data"][-1]
    z = decode(after["z"])
    assert z.min() > 0 and z.max() < 1

    at.selectbox(key="act_map_fn").set_value("relu").run()
    at.slider(key="act_bias").set_value(-0.3).run()
    assert percent(metric(at, tr("m_zero", fn="ReLU"))) > relu_zero
    at.selectbox(key="act_kernel").set_value("blur")
    at.slider(key="act_bias").set_value(0.0).run()
    assert percent(metric(at, tr("m_zero", fn="ReLU"))) == 0  # a blur of pixels in [0, 1]
    at.slider(key="act_bias").set_value(-1.0).run()
    assert percent(metric(at, tr("m_zero", fn="ReLU"))) == 100  # ... minus 1 is never > 0
    assert errors_of(at) == []


def test_gradient_norms_vanish_for_sigmoid_not_for_relu(at_en):
    spec = figures(at_en)["act_norms_chart"]
    lines = traces(spec)
    sig = decode(lines["sigmoid"]["customdata"])
    relu = decode(lines["ReLU"]["customdata"])
    assert lines["sigmoid"]["x"] == [f"fc{i}" for i in range(1, 10)]
    assert sig[0] / sig[-1] < 1e-3 and 0.1 < relu[0] / relu[-1] < 10
    assert spec["layout"]["yaxis"]["type"] == "log"
    sig_metric = metric(at_en, tr("net_metric", fn="sigmoid"))
    orders = float(re.match(r"[-\d.]+", sig_metric.delta).group())
    assert orders < -3
    assert float(re.match(r"[-\d.]+", metric(at_en, tr("net_metric", fn="ReLU")).delta)
                 .group()) > -1


def test_network_controls_change_the_experiment():
    at = open_activation("en")
    at.slider(key="act_layers").set_value(12).run()
    assert len(traces(figures(at)["act_norms_chart"])["sigmoid"]["x"]) == 13
    before = decode(traces(figures(at)["act_norms_chart"])["ReLU"]["customdata"])
    at.number_input(key="act_seed").set_value(7).run()
    after = decode(traces(figures(at)["act_norms_chart"])["ReLU"]["customdata"])
    assert not np.allclose(before, after)
    at.selectbox(key="act_init").set_value("xavier").run()
    xavier = decode(traces(figures(at)["act_norms_chart"])["ReLU"]["customdata"])
    assert xavier[0] < after[0]  # Xavier is too small for ReLU: its gradients shrink
    at.button_group(key="act_deep_fns").set_value(["gelu", "elu"]).run()
    assert set(traces(figures(at)["act_norms_chart"])) == {"GELU", "ELU"}
    assert errors_of(at) == []


def test_chain_shows_the_quarter_ceiling_and_dead_relu():
    at = open_activation("en", {"act_chain_n": 10, "act_chain_z": 0.0})
    lines = traces(figures(at)["act_chain_chart"])
    bound = decode(lines[tr("chain_bound")]["y"])
    np.testing.assert_allclose(bound, 0.25 ** np.arange(1, 11))
    np.testing.assert_allclose(decode(lines["sigmoid"]["customdata"]), bound)  # z = 0: equal
    assert f"ReLU {tr('chain_zero')}" in lines  # ReLU'(0) = 0: nothing passes
    # numbers.fmt writes one minus sign, exponents too
    caption = tr("chain_caption", n=10, power="¹⁰", value="9.54e−07", bound="9.54e−07")
    assert caption in [m.value for m in at.markdown]
    at.slider(key="act_chain_z").set_value(2.0).run()
    lines = traces(figures(at)["act_chain_chart"])
    np.testing.assert_allclose(decode(lines["ReLU"]["customdata"]), 1.0)
    assert np.all(decode(lines["sigmoid"]["customdata"]) < bound)


def test_language_switch_keeps_settings_and_translates():
    at = open_activation("en", {"act_map_fn": "leaky_relu", "act_alpha": 0.3})
    at.session_state["lang"] = "zh"  # what the sidebar switch does (the browser test clicks it)
    at.run()
    assert errors_of(at) == []
    assert at.title[0].value == tr("title", "zh")
    assert at.selectbox(key="act_map_fn").value == "leaky_relu"
    assert at.slider(key="act_alpha").value == 0.3
    assert CJK.search(figures(at)["act_norms_chart"]["layout"]["title"]["text"])
    at.slider(key="act_bias").set_value(0.2).run()  # a rerun in Chinese with translated options
    assert errors_of(at) == []
