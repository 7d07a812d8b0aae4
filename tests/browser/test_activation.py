"""The activation page in Chromium: toggle derivatives, change Leaky ReLU's alpha, hover a curve,
switch the activation of the rectified map, and watch sigmoid's gradients vanish with depth
while ReLU's do not, in English and Chinese."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz import i18n
from tests.browser.conftest import SHOTS, assert_clean, open_page, settle, shot


def tr(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"activation.{key}", lang, **kw)


def chart_data(page, key: str) -> list[dict]:
    """Traces of the Plotly chart with widget key ``key``, as Plotly holds them in the page."""
    return page.evaluate(
        """(key) => {
            const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            if (!gd || !gd._fullData) return null;
            const arr = (a) => (a == null ? null : Array.from(a));
            return gd._fullData.map(t => ({name: t.name, yaxis: t.yaxis, x: arr(t.x),
                                           y: arr(t.y), customdata: arr(t.customdata)}));
        }""",
        key,
    )


def chart_layout(page, key: str, path: str):
    return page.evaluate(
        """([key, path]) => {
            const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            return path.split('.').reduce((o, k) => (o == null ? o : o[k]), gd._fullLayout);
        }""",
        [key, path],
    )


def wait_for_chart(page, key: str, predicate, timeout_ms: int = 20_000):
    """Poll the chart until ``predicate(traces)`` holds (Plotly redraws after the rerun)."""
    waited = 0
    while True:
        data = chart_data(page, key)
        if data and predicate(data):
            return data
        if waited > timeout_ms:
            raise AssertionError(f"{key}: condition not met; traces {[t['name'] for t in data]}")
        page.wait_for_timeout(200)
        waited += 200


def element_shot(locator, name: str):
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(400)
    path = SHOTS / f"{name}.png"
    locator.screenshot(path=str(path))
    return path


def metric_text(page, label: str) -> tuple[str, str]:
    m = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    m.scroll_into_view_if_needed()
    value = m.locator("[data-testid=stMetricValue]").inner_text()
    delta = m.locator("[data-testid=stMetricDelta]")
    return value, (delta.inner_text() if delta.count() else "")


def choose(page, key: str, option: str) -> None:
    opener = page.locator(f".st-key-{key} button[aria-haspopup=listbox]")
    opener.scroll_into_view_if_needed()
    opener.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def derivative_traces(data):
    """The f'(x) curves (the lower panel; the sigmoid peak marker there has no name)."""
    return [t for t in data if t["yaxis"] == "y2" and str(t["name"]).endswith("′")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_toggle_alpha_hover_map_and_vanishing_gradients(page, lang):
    open_page(page, "activation", lang)
    assert_clean(page)
    assert page.locator("h1").first.inner_text() == tr("title", lang)
    curves = page.locator(".st-key-act_curves_chart")

    # 1. derivatives on (default) -> off -> on
    data = wait_for_chart(page, "act_curves_chart", lambda d: derivative_traces(d))
    shot(page, f"activation-top-{lang}")
    assert len(derivative_traces(data)) == 4
    page.locator(".st-key-act_deriv label").click()
    settle(page)
    wait_for_chart(page, "act_curves_chart", lambda d: not derivative_traces(d))
    element_shot(curves, f"activation-curves-no-deriv-{lang}")
    page.locator(".st-key-act_deriv label").click()
    settle(page)
    wait_for_chart(page, "act_curves_chart", lambda d: len(derivative_traces(d)) == 4)

    # 2. alpha 0.10 -> 0.15 with the keyboard; Leaky ReLU's left-hand slope follows
    thumb = page.locator(".st-key-act_alpha input[type=range]")
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    settle(page)
    leaky = tr("fn_leaky_relu", lang)

    def leaky_slope_is(alpha):
        def check(d):
            t = next((t for t in derivative_traces(d) if t["name"].startswith(leaky)), None)
            x, dy = np.array(t["x"]), np.array(t["y"])
            return t is not None and np.allclose(dy[x < -0.1], alpha)
        return check

    wait_for_chart(page, "act_curves_chart", leaky_slope_is(0.15))
    assert thumb.input_value() == "0.15"
    assert_clean(page)

    # 3. hovering sigmoid's derivative at x = 1 shows f(x) and f'(x)
    plot = curves.locator(".js-plotly-plot")
    plot.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    sig_f = 1 / (1 + np.exp(-1.0))
    sig_d = sig_f * (1 - sig_f)
    pos = page.evaluate(
        """(fy) => {
            const L = document.querySelector('.st-key-act_curves_chart .js-plotly-plot')
                ._fullLayout;
            return [L.xaxis2._offset + L.xaxis2.l2p(1.0), L.yaxis2._offset + L.yaxis2.l2p(fy)];
        }""",
        sig_d,
    )
    plot_box = plot.bounding_box()
    page.mouse.move(plot_box["x"] + pos[0], plot_box["y"] + pos[1])
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for(timeout=5000)
    text = hover.text_content()
    assert "sigmoid" in text and "f′(x)" in text, text
    x, f, d = (float(v) for v in re.findall(r"=\s*(-?[\d.]+)", text))
    assert abs(x - 1.0) < 0.05, text  # the grid point nearest the cursor
    assert f == pytest.approx(1 / (1 + np.exp(-x)), abs=1e-5), text
    assert d == pytest.approx(f * (1 - f), abs=1e-5), text
    element_shot(curves, f"activation-curves-hover-{lang}")
    page.mouse.move(5, 5)

    # 4. the rectified map: ReLU -> Leaky ReLU
    relu_zero, _ = metric_text(page, tr("m_zero", lang, fn="ReLU"))
    assert 20 < float(relu_zero.rstrip("%")) < 80
    element_shot(page.locator(".st-key-act_after_hist"), f"activation-hist-relu-{lang}")
    choose(page, "act_map_fn", leaky)
    assert_clean(page)
    after_title = page.locator(".st-key-act_after_map .gtitle").text_content()
    assert after_title == tr("after_title", lang, fn=leaky)
    zero, _ = metric_text(page, tr("m_zero", lang, fn=leaky))
    nograd, _ = metric_text(page, tr("m_nograd", lang, fn=leaky))
    assert float(zero.rstrip("%")) < 1 and nograd == "0%"
    maps = page.locator(".st-key-act_before_map").locator("xpath=../../..")
    element_shot(maps, f"activation-maps-leaky-{lang}")

    # 5. gradient norms: sigmoid falls by orders of magnitude towards the input, ReLU does not
    norms = {t["name"]: np.array(t["customdata"], dtype=float)
             for t in chart_data(page, "act_norms_chart")}
    assert set(norms) == {"sigmoid", "tanh", "ReLU"}
    assert norms["sigmoid"][0] / norms["sigmoid"][-1] < 1e-3
    assert 0.1 < norms["ReLU"][0] / norms["ReLU"][-1] < 10
    assert chart_layout(page, "act_norms_chart", "yaxis.type") == "log"
    _, sig_delta = metric_text(page, tr("net_metric", lang, fn="sigmoid"))
    _, relu_delta = metric_text(page, tr("net_metric", lang, fn="ReLU"))
    assert float(re.search(r"-?[\d.]+", sig_delta).group()) < -3
    assert float(re.search(r"-?[\d.]+", relu_delta).group()) > -1
    element_shot(page.locator(".st-key-act_norms_chart"), f"activation-norms-{lang}")
    element_shot(page.locator(".st-key-act_chain_chart"), f"activation-chain-{lang}")
    table = page.locator("[data-testid=stTable]")
    element_shot(table, f"activation-table-{lang}")
    assert tr("advice_relu", lang) in table.inner_text()
    assert_clean(page)


def test_deeper_network_and_init_in_the_browser(page):
    open_page(page, "activation", "en")
    thumb = page.locator(".st-key-act_layers input[type=range]")
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    for _ in range(4):  # 8 -> 12 hidden layers
        page.keyboard.press("ArrowRight")
    settle(page)
    data = wait_for_chart(page, "act_norms_chart", lambda d: len(d[0]["x"]) == 13)
    sig = np.array(next(t for t in data if t["name"] == "sigmoid")["customdata"], dtype=float)
    assert sig[0] / sig[-1] < 1e-5  # more layers, more lost
    choose(page, "act_init", tr("init_he"))
    data = chart_data(page, "act_norms_chart")
    sig_he = np.array(next(t for t in data if t["name"] == "sigmoid")["customdata"], dtype=float)
    assert sig_he[0] / sig_he[-1] < 1e-3  # larger He weights do not save sigmoid
    assert_clean(page)


def test_no_function_selected_and_language_switch_keep_the_page_working(page):
    open_page(page, "activation", "en")
    for name in ("sigmoid", "tanh", "ReLU", "Leaky ReLU"):
        page.locator(".st-key-act_fns button").filter(has_text=re.compile(f"^{name}$")).click()
        settle(page)
    assert_clean(page)
    info = page.locator("[data-testid=stAlert]").filter(has_text=tr("pick_one"))
    assert info.count() == 1
    assert page.locator(".st-key-act_norms_chart .js-plotly-plot").count() == 1
    choose(page, "act_map_fn", "tanh")
    page.locator("[data-testid=stSidebar]").get_by_text("中文", exact=True).click()
    settle(page)
    assert_clean(page)
    assert page.locator("h1").first.inner_text() == tr("title", "zh")
    assert page.locator("[data-testid=stAlert]").filter(has_text=tr("pick_one", "zh")).count()
    after = page.locator(".st-key-act_after_map .gtitle").text_content()
    assert after == tr("after_title", "zh", fn="tanh")  # the choice survived the switch
    # ... and the selectboxes show their labels in Chinese (Streamlit alone would keep English)
    assert page.locator(".st-key-act_kernel input").input_value() == tr("kernel_sobel_x", "zh")
    assert page.locator(".st-key-act_init input").input_value() == tr("init_matched", "zh")
    shot(page, "activation-empty-zh")
