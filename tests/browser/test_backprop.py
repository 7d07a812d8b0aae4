"""The backprop page in Chromium: play the conv dW animation and land on the engine's dW, take
three steps and watch the loss fall, run the gradient check, refuse bad learning rates, and fit
a phone and a projector in both languages."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from cnnviz import i18n
from cnnviz.lessons import backprop as B
from cnnviz.numbers import MINUS
from cnnviz.viz import style
from tests.browser.conftest import (
    CHARTS_DRAWN,
    SETTLED,
    assert_clean,
    open_parts,
    settle,
    settle_for_good,
    shot,
    type_number,
)

SLIDE_JS = """() => {
  const gd = document.querySelector('.st-key-bp_slide .js-plotly-plot');
  if (!gd || !gd.layout.sliders) return null;
  const sum = gd._fullData[2];
  return {active: gd.layout.sliders[0].active,
          frames: gd._transitionData ? gd._transitionData._frames.length : 0,
          sum: Array.from(sum.z, row => Array.from(row)),
          text: Array.from(gd.querySelectorAll('.annotation-text')).map(e => e.textContent)};
}"""


def open_page(page, path: str = "backprop", lang: str = "en") -> None:
    """conftest's open_page with more patience: this page draws ~30 small charts, and on the
    shared 2-core machine (load average 25 seen) the first drawing can take over 30 s."""
    page.goto(f"{page.base_url}/{path}?lang={lang}")
    page.wait_for_selector(SETTLED, timeout=120_000)
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
    settle_for_good(page, timeout=120.0)
    open_parts(page)  # the backward pass, the update, sigmoid and the check: drawn on demand
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
    settle_for_good(page, timeout=120.0)


def slide_state(page) -> dict:
    page.wait_for_function(f"() => ({SLIDE_JS})() !== null", timeout=20_000)
    return page.evaluate(SLIDE_JS)


def wait_slide(page, ok, what: str, timeout: float = 20.0) -> dict:
    end = time.monotonic() + timeout
    while True:
        st_ = slide_state(page)
        if ok(st_) or time.monotonic() > end:
            assert ok(st_), f"{what} never happened; state {st_}"
            return st_
        page.wait_for_timeout(100)


def metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def number(shown: str) -> float:
    return float(shown.replace(MINUS, "-"))


def text(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"backprop.{key}", lang, **kw)


def test_dw_animation_plays_and_ends_on_the_engines_dw(page):
    open_page(page, "backprop")
    assert_clean(page)
    chart = page.locator(".st-key-bp_slide")
    chart.scroll_into_view_if_needed()
    start = slide_state(page)
    assert start["active"] == 0 and start["frames"] == 16
    chart.get_by_text(text("play"), exact=False).first.click()
    moved = wait_slide(page, lambda s: s["active"] >= 3, "playing to stop 4")
    assert moved["sum"] != start["sum"]  # the running sum grows as the window slides
    assert any(re.match(r"^\d+/16", line) for line in moved["text"])
    done = wait_slide(page, lambda s: s["active"] == 15, "the last stop", timeout=30)
    page.wait_for_timeout(300)
    done = slide_state(page)
    tr = B.current(B.Setup())
    np.testing.assert_allclose(np.array(done["sum"]), tr.conv_dw[0], rtol=1e-9, atol=1e-12)
    shot(page, "backprop_slide_end")


def test_three_steps_lower_the_loss(page):
    open_page(page, "backprop")
    expected = B.losses(B.Setup(), (B.DEFAULT_LR,) * 3)
    seen = [metric(page, text("loss_now"))]
    button = page.get_by_role("button", name=text("step"))
    for _ in range(3):
        button.scroll_into_view_if_needed()
        button.click()
        settle(page)
        seen.append(metric(page, text("loss_now")))
    assert seen == [style.fmt(v) for v in expected]
    values = [float(v) for v in seen]
    assert values[0] > values[1] > values[2] > values[3]
    assert metric(page, text("steps_taken")) == "3"
    # the update section is a fragment; a step reruns the page, so the forward pass at the top
    # (its "Loss" is the first metric of the page) shows the stepped weights too
    assert metric(page, text("loss")) == seen[3]
    assert_clean(page)
    shot(page, "backprop_three_steps")
    page.get_by_role("button", name=text("reset")).click()
    settle(page)
    assert metric(page, text("loss_now")) == seen[0]
    assert metric(page, text("loss")) == seen[0]


def test_gradient_check_on_screen(page):
    open_page(page, "backprop")
    box = page.locator(".st-key-bp_weight")
    box.scroll_into_view_if_needed()
    box.click()
    option = text("weight_name", k=2, r=1, c=1)
    page.get_by_role("option", name=option).click()
    settle(page)
    g = B.grad_check(B.Setup(), (), 1, 1, 1, B.DEFAULT_EPS)
    numeric = number(metric(page, text("gc_numeric")))
    backprop = number(metric(page, text("gc_backprop")))
    assert backprop == pytest.approx(g["backprop"], abs=1e-8)
    assert numeric == pytest.approx(g["numeric"], abs=1e-8)
    assert numeric == pytest.approx(backprop, rel=1e-4, abs=1e-7)
    rel, eps = style.fmt(g["rel_error"], 2), style.fmt(B.DEFAULT_EPS, 1)
    assert page.get_by_text(text("gc_good", rel=rel, eps=eps)).count()
    shot(page, "backprop_gradcheck")


@pytest.mark.parametrize("lr, code", [(0, "lr_zero"), (-0.5, "lr_negative"), (1e6, "lr_huge")])
def test_bad_learning_rates_get_a_sentence(page, lr, code):
    open_page(page, "backprop")
    type_number(page, "bp_lr", lr)
    warning = page.locator("[data-testid=stAlert]").filter(
        has_text=text(f"err_{code}", max=style.fmt(B.MAX_LR)))
    assert warning.count() == 1
    assert_clean(page)
    assert page.get_by_role("button", name=text("step")).is_disabled()
    body = page.locator("[data-testid=stMain]").inner_text()
    assert not re.search(r"\bnan\b", body, re.IGNORECASE)
    # the rest of the page still works: the gradient check below is drawn
    assert metric(page, text("gc_backprop"))


FIT_JS = """() => {
  const doc = document.scrollingElement;
  const wide = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]')).filter(c => {
    const svg = c.querySelector('.main-svg');
    return svg && svg.getBoundingClientRect().width > c.getBoundingClientRect().width + 1;
  }).length;
  return {page: doc.scrollWidth - doc.clientWidth, wide: wide,
          charts: document.querySelectorAll('[data-testid=stPlotlyChart]').length};
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(390, 844), (1024, 768)])
def test_fits_phone_and_projector(browser, app_url, _warm, lang, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]},
                              locale="zh-CN" if lang == "zh" else "en-US")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.base_url = app_url
    try:
        open_page(page, "backprop", lang)
        assert_clean(page)
        fit = page.evaluate(FIT_JS)
        assert fit["charts"] >= 20
        assert fit["page"] <= 0, f"the page scrolls sideways by {fit['page']} px"
        assert fit["wide"] == 0, "a chart is wider than its column"
        shot(page, f"backprop_{lang}_{size[0]}x{size[1]}")
    finally:
        ctx.close()
