"""The pooling page in Chromium: play and step the max / average animations, change window and
stride, edit a cell, move the shift slider, the 横折 example's 3, both languages."""

from __future__ import annotations

import contextlib
import re
import time

import numpy as np
import pytest

from cnnviz import functional as F
from cnnviz import images
from cnnviz.lessons import pooling as pool_math
from cnnviz.viz import style
from tests.browser.conftest import SHOTS, assert_clean, open_page, settle, shot

# The state of one Plotly chart (found by its title) as the browser draws it right now.
STATE_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot'))
    .find(g => g.layout.title && g.layout.title.text.includes(title));
  if (!gd) return null;
  const byName = (n) => (gd.layout.shapes || []).find(s => s.name === n);
  const out = (gd._fullData.find(t => t.name === 'output') || {}).z;
  return {
    active: gd.layout.sliders ? gd.layout.sliders[0].active : null,
    frames: gd._transitionData ? gd._transitionData._frames.length : 0,
    window: byName('window') ? [byName('window').y0 + 0.5, byName('window').x0 + 0.5] : null,
    chosen: byName('chosen') ? [(byName('chosen').y0 + byName('chosen').y1) / 2,
                                (byName('chosen').x0 + byName('chosen').x1) / 2] : null,
    // what is actually on screen: the formula drawn as the label of a shape
    drawn: Array.from(gd.querySelectorAll('.shapelayer text')).map(e => e.textContent),
    output: out ? Array.from(out, row => Array.from(row)) : null,
  };
}"""


def state(page, title: str) -> dict:
    # Plotly draws a chart shortly after Streamlit has settled: wait for it to exist.
    with contextlib.suppress(Exception):  # the assertion below reports a missing chart
        page.wait_for_function(f"(title) => ({STATE_JS})(title) !== null", arg=title,
                               timeout=20_000)
    result = page.evaluate(STATE_JS, title)
    assert result is not None, f"no chart titled {title!r}"
    return result


def chart(page, title: str):
    return page.locator("[data-testid=stPlotlyChart]").filter(has_text=title).first


def element_shot(locator, name: str) -> None:
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(SHOTS / f"{name}.png"))


def click_step(page, title: str, k: int) -> None:
    """Click the k-th tick of a chart's step slider, as a student would."""
    chart(page, title).scroll_into_view_if_needed()
    tick = chart(page, title).locator(".slider-tick-rect").nth(k)
    rail = chart(page, title).locator(".slider-rail-touch-rect")
    tb, rb = tick.bounding_box(), rail.bounding_box()
    page.mouse.click(tb["x"] + tb["width"] / 2, rb["y"] + rb["height"] / 2)
    wait_for(page, title, lambda st_: st_["active"] == k, f"step {k} after the click")
    page.wait_for_timeout(150)  # the frame's shapes are drawn with the step


def wait_for(page, title: str, ok, what: str, timeout: float = 15.0) -> dict:
    """Poll the chart's drawn state until ``ok(state)``: a loaded machine draws late, and a
    fixed sleep either wastes time or is too short."""
    end = time.monotonic() + timeout
    while True:
        st_ = state(page, title)
        if ok(st_) or time.monotonic() > end:
            assert ok(st_), f"{title}: {what} never happened; state {st_}"
            return st_
        page.wait_for_timeout(100)


def stable_active(page, title: str) -> int:
    """The step shown once the slider has stopped moving (two reads 400 ms apart agree)."""
    last = state(page, title)["active"]
    for _ in range(40):
        page.wait_for_timeout(400)
        now = state(page, title)["active"]
        if now == last:
            return now
        last = now
    raise AssertionError(f"{title}: the animation did not stop")


def expect_step(page, title: str, k: int, grid, f: int, s: int, p: int, mode: str) -> None:
    """The drawn window, chosen element and formula at step k agree with the engine."""
    out, cache = F.pool2d_forward(grid, f, s, p, mode=mode)
    ho, wo = out.shape
    i, j = divmod(k, wo)
    st_ = state(page, title)
    assert st_["active"] == k
    assert st_["window"] == [i * s, j * s]
    formula = [t for t in st_["drawn"] if "→" in t]
    assert len(formula) == 1 and formula[0].endswith(f"= {style.fmt(out[i, j])}"), st_["drawn"]
    if mode == "max":
        rows, cols = F.pool2d_argmax(cache)
        assert st_["chosen"] == [rows[i, j] + p, cols[i, j] + p]
    else:
        assert st_["chosen"] is None


def set_number(page, label: str, value: int, nth: int = 0) -> None:
    box = page.locator("[data-testid=stNumberInput]").filter(has_text=label).nth(nth)
    field = box.locator("input")
    field.fill(str(value))
    field.press("Enter")
    settle(page)


def test_play_pause_and_step_both_animations(page):
    open_page(page, "pooling", "en")
    assert_clean(page)
    grid = pool_math.ARTICLE_4X4
    for title, mode in (("Max pooling", "max"), ("Average pooling", "avg")):
        start = state(page, title)
        assert start["frames"] == 4
        expect_step(page, title, 0, grid, 2, 2, 0, mode)
        chart(page, title).get_by_text("Play").click()
        wait_for(page, title, lambda st_, w0=start["window"]: (st_["active"] or 0) >= 1
                 and st_["window"] != w0, "playing")
        chart(page, title).get_by_text("Pause").click()
        paused = stable_active(page, title)
        page.wait_for_timeout(1500)
        assert state(page, title)["active"] == paused  # pause really stops it
        for k in (2, 1, 3):
            click_step(page, title, k)
            expect_step(page, title, k, grid, 2, 2, 0, mode)
    element_shot(chart(page, "Max pooling"), "pool-step-max-en")
    element_shot(chart(page, "Average pooling"), "pool-step-avg-en")
    assert_clean(page)


def test_change_window_stride_padding_then_step(page):
    open_page(page, "pooling", "en")
    set_number(page, "Window F", 3)
    set_number(page, "Stride S", 1)
    set_number(page, "Padding P", 1)
    assert_clean(page)
    grid = pool_math.ARTICLE_4X4
    for title, mode in (("Max pooling", "max"), ("Average pooling", "avg")):
        out, _ = F.pool2d_forward(grid, 3, 1, 1, mode=mode)
        st_ = state(page, title)
        assert st_["frames"] == 16
        np.testing.assert_allclose(st_["output"], out)
        for k in (5, 15):
            click_step(page, title, k)
            expect_step(page, title, k, grid, 3, 1, 1, mode)
    body = page.locator("[data-testid=stMarkdownContainer]").filter(has_text="⌊(4 + 2·1 − 3)")
    assert "= 4" in body.first.inner_text()
    element_shot(chart(page, "Max pooling"), "pool-step-max-w3s1p1-en")
    # a window that cannot fit: one sentence, the rest of the page still there
    set_number(page, "Window F", 8)
    assert_clean(page)
    alert = page.locator("[data-testid=stAlert]").first.inner_text()
    assert "does not fit in a 4×4 map" in alert
    assert page.evaluate(STATE_JS, "Max pooling") is None
    assert state(page, "Global pooling")["frames"] == 0
    element_shot(page.locator("[data-testid=stAlert]").first, "pool-window-too-big-en")


def test_edit_a_cell_of_the_map(page):
    open_page(page, "pooling", "en")
    page.get_by_text("Edit the numbers").click()
    settle(page)
    editor = page.locator("[data-testid=stDataFrame]").first
    editor.scroll_into_view_if_needed()
    bb = editor.bounding_box()
    # the grid is a canvas: the columns "1".."4" (no row index, as on the convolution page)
    # share its width about equally (width="content"); the header and each row are 35 px high
    page.mouse.click(bb["x"] + 1.5 * bb["width"] / 4, bb["y"] + 35 + 35 + 17)  # row 1, col "2"
    page.keyboard.press("Enter")
    page.wait_for_selector(".gdg-input")
    page.locator(".gdg-input").fill("10")
    page.keyboard.press("Enter")
    settle(page)
    page.wait_for_timeout(500)
    assert_clean(page)
    grid = pool_math.ARTICLE_4X4.copy()
    grid[1, 1] = 10
    out, _ = F.pool2d_forward(grid, 2, 2)
    np.testing.assert_allclose(state(page, "Max pooling")["output"], out)
    expect_step(page, "Max pooling", 0, grid, 2, 2, 0, "max")
    element_shot(chart(page, "Max pooling"), "pool-edited-en")


def test_turn_example_shows_three(page):
    open_page(page, "pooling", "en")
    pooled = chart(page, "3×3 max pooling")
    pooled.scroll_into_view_if_needed()
    assert state(page, "3×3 max pooling")  # drawn
    assert pooled.locator("text").filter(has_text=re.compile(r"^3$")).count() == 1
    assert "keeps exactly 3" in page.locator("[data-testid=stMarkdownContainer]").filter(
        has_text="keeps exactly").first.inner_text()
    section = page.locator("[data-testid=stHorizontalBlock]").filter(has=pooled).first
    element_shot(section, "pool-turn-en")
    element_shot(page.locator("[data-testid=stHorizontalBlock]").filter(
        has=chart(page, "4×4 map")).first, "pool-4x4-en")


def lesson_gray() -> np.ndarray:
    """The default picture at the default working size, as the page computes on it."""
    name = images.list_samples()[0]["name"]
    arr = images.resize_to_working(images.load_sample(name, max_side=1024).array, 1024)
    work = images.resize_to_working(arr, 256)
    gray = images.to_gray(work) if work.ndim == 3 else work
    return np.ascontiguousarray(images.resize_to_working(gray, 128), dtype=np.float32)


def metric_values(page) -> dict[str, str]:
    out = {}
    for m in page.locator("[data-testid=stMetric]").all():
        label = m.locator("[data-testid=stMetricLabel]").inner_text().strip()
        out[label] = m.locator("[data-testid=stMetricValue]").inner_text().strip()
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shift_slider_shows_the_measured_difference(page, lang):
    open_page(page, "pooling", lang)
    names = {"en": ("Feature maps changed", "After max pooling", "After average pooling"),
             "zh": ("特征图的变化", "最大池化后", "平均池化后")}[lang]
    tol = pool_math.tolerance(lesson_gray(), list(pool_math.KERNELS), 2, 2)
    slider = page.locator("[data-testid=stSlider]").filter(
        has_text="Shift" if lang == "en" else "平移").first.locator("input[type=range]")
    slider.locator("xpath=../..").scroll_into_view_if_needed()
    seen = []
    for shift in (1, 2, 3, 2, 1, 0):
        current = int(slider.input_value())
        if shift != current:
            slider.focus()
            page.keyboard.press("ArrowRight" if shift > current else "ArrowLeft")
            settle(page)
        assert int(slider.input_value()) == shift
        m = metric_values(page)
        expected = [f"{style.fmt(100 * tol[k][shift])}%" for k in ("feature", "max", "avg")]
        assert [m[n] for n in names] == expected, (shift, m)
        seen.append(m[names[1]])
        if shift == 2:
            element_shot(chart(page, "How much" if lang == "en" else "图片移动时"),
                         f"pool-tolerance-{lang}")
            element_shot(page.locator("[data-testid=stHorizontalBlock]").filter(
                has=page.locator("[data-testid=stMetric]")).nth(1), f"pool-tol-metrics-{lang}")
    assert seen[-1] == "0%" and len(set(seen)) >= 3  # the number really moves with the slider
    assert_clean(page)


def test_chinese_page_steps_and_examples(page):
    open_page(page, "pooling", "zh")
    assert_clean(page)
    assert re.search(r"[\u4e00-\u9fff]", page.locator("h1").first.inner_text())
    shot(page, "pool-top-zh")
    chart(page, "最大池化").get_by_text("播放").click()
    page.wait_for_timeout(1500)
    st_ = state(page, "最大池化")
    assert st_["active"] >= 1
    assert any(t.startswith("第 ") and "max(" in t for t in st_["drawn"]), st_["drawn"]
    click_step(page, "平均池化", 3)
    expect_step(page, "平均池化", 3, pool_math.ARTICLE_4X4, 2, 2, 0, "avg")
    element_shot(page.locator("[data-testid=stHorizontalBlock]").filter(
        has=chart(page, "最大池化")).first, "pool-step-zh")
    pooled = chart(page, "3×3 最大池化")
    pooled.scroll_into_view_if_needed()
    assert pooled.locator("text").filter(has_text=re.compile(r"^3$")).count() == 1
    element_shot(page.locator("[data-testid=stHorizontalBlock]").filter(has=pooled).first,
                 "pool-turn-zh")
    slices = page.locator("[data-testid=stPlotlyChart]").filter(has_text="Sobel").first
    element_shot(slices, "pool-slices-zh")
    element_shot(chart(page, "全局池化"), "pool-global-zh")
    set_number(page, "窗口 F", 8)
    assert_clean(page)
    assert "放不进" in page.locator("[data-testid=stAlert]").first.inner_text()


def test_english_sections_screenshots(page):
    open_page(page, "pooling", "en")
    shot(page, "pool-top-en")
    slices = page.locator("[data-testid=stPlotlyChart]").filter(has_text="Sobel").first
    element_shot(slices, "pool-slices-en")
    metrics = page.locator("[data-testid=stHorizontalBlock]").filter(
        has=page.locator("[data-testid=stMetric]")).first
    element_shot(metrics, "pool-slices-metrics-en")
    assert metric_values(page)["Parameters"] == "0"
    element_shot(chart(page, "Global pooling"), "pool-global-en")
    assert_clean(page)
