"""The convolution page in Chromium: the article's animation plays and steps, stride and padding
change the formula and the output, an uploaded photo goes through a Sobel kernel whose cells are
edited in the table, a bad cell gives a message; in English and Chinese, never an exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import (
    SHOTS,
    assert_clean,
    choose_source,
    open_page,
    settle,
    shot,
    upload,
)

ROOT = Path(__file__).resolve().parents[2]
SLIDE = ".st-key-conv_slide_chart"

# What the slide figure currently shows: the arithmetic line actually drawn, how many covers
# (not-yet-computed output cells) are visible, the slider's step.
STATE_JS = """(sel) => {
  const el = document.querySelector(sel + ' .js-plotly-plot');
  if (!el || !el._fullLayout) return null;
  const drawn = Array.from(el.querySelectorAll('.annotation-text')).map(e => e.textContent);
  return {sum: drawn.filter(t => t.includes('=')).pop() || null,
          shapes: el.querySelectorAll('.shapelayer path').length,
          active: el._fullLayout.sliders[0].active};
}"""
# The data a feature map sends (PNG source for large maps, numbers for small ones).
MAP_JS = """(sel) => {
  const el = document.querySelector(sel + ' .js-plotly-plot');
  return el ? JSON.stringify(el.data[0].source || el.data[0].z) : null;
}"""
FIRST = "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"
LAST = "1×1 + 1×0 + 1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 0×0 + 0×1 = 4"


def section_shot(page, selector: str, name: str) -> Path:
    """Screenshot of one part of the page (Streamlit scrolls inside a container)."""
    loc = page.locator(selector).first
    loc.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    path = SHOTS / f"{name}.png"
    loc.screenshot(path=str(path))
    return path


def slide_state(page) -> dict:
    page.wait_for_selector(SLIDE + " .js-plotly-plot")
    return page.evaluate(STATE_JS, SLIDE)


def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def latex_source(page) -> str:
    return " ".join(page.locator(".katex-mathml annotation").all_text_contents())


def result_text(page) -> str:
    return page.locator("[data-testid=stMarkdown]", has_text="Feature map:").first.inner_text()


def step_to(page, fraction: float) -> None:
    """Click the animation's step slider at ``fraction`` of its length."""
    chart = page.locator(SLIDE)
    chart.scroll_into_view_if_needed()
    rail = chart.locator(".slider-rail-rect").first.bounding_box()
    x = rail["x"] + min(max(fraction * rail["width"], 2), rail["width"] - 2)
    page.mouse.click(x, rail["y"] + rail["height"] / 2)
    page.wait_for_timeout(500)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_article_animation_plays_and_steps(page, lang):
    open_page(page, "convolution", lang)
    assert_clean(page)
    start = slide_state(page)
    assert start["sum"] == FIRST and start["active"] == 0
    chart = page.locator(SLIDE)
    chart.scroll_into_view_if_needed()
    play = "Play" if lang == "en" else "播放"
    pause = "Pause" if lang == "en" else "暂停"
    chart.locator(".updatemenu-button", has_text=play).click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .js-plotly-plot')._fullLayout.sliders[0]"
        ".active >= 2", arg=SLIDE, timeout=10_000)
    chart.locator(".updatemenu-button", has_text=pause).click()
    paused = slide_state(page)
    assert paused["active"] >= 2 and paused["sum"] != FIRST
    page.wait_for_timeout(1500)
    assert slide_state(page)["active"] == paused["active"], "pause must stop the animation"
    step_to(page, 1.0)
    end = slide_state(page)
    assert end["active"] == 8 and end["sum"] == LAST
    # at the last stop only the window and the output cell remain: the map is complete
    assert end["shapes"] == 2
    out = page.evaluate("(sel) => document.querySelector(sel + ' .js-plotly-plot')"
                        ".calcdata.slice(-1)[0][0].z.map(r => Array.from(r))", SLIDE)
    assert out == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    section_shot(page, SLIDE, f"conv-slide-end-{lang}")
    step_to(page, 0.0)
    assert slide_state(page)["sum"] == FIRST
    assert_clean(page)


def test_stride_and_padding_update_formula_and_size(page):
    open_page(page, "convolution", "en")
    assert r"\dfrac{5 + 2 \times 0 - 3}{1} + 1" in latex_source(page)
    set_number(page, "conv_stride", 2)
    assert r"\dfrac{5 + 2 \times 0 - 3}{2} + 1" in latex_source(page)
    assert "Feature map: 2×2" in result_text(page)
    set_number(page, "conv_padding", 1)
    assert latex_source(page).endswith(r"\dfrac{5 + 2 \times 1 - 3}{2} + 1 = \dfrac{4}{2} + 1 = 3")
    assert "Feature map: 3×3" in result_text(page)
    # the border of zeros is drawn: 7x7 cells, the outer ring in the padding trace
    n_pad = page.evaluate(
        "(sel) => document.querySelector(sel + ' .js-plotly-plot').calcdata[1][0].z"
        ".map(r => Array.from(r)).flat().filter(v => v === 0).length", SLIDE)
    assert n_pad == 7 * 7 - 5 * 5
    section_shot(page, ".st-key-conv_stride", "conv-stride-controls")
    section_shot(page, SLIDE, "conv-slide-stride2-pad1")
    set_number(page, "conv_stride", 0)
    alert = page.locator("[data-testid=stAlert]", has_text="never moves")
    assert alert.count() == 1
    assert page.locator(SLIDE).count() == 0
    assert page.locator(".st-key-conv_fmap_0 .js-plotly-plot").count() == 1, "rest still works"
    assert_clean(page)


def choose_upload(page, lang="en"):
    label = "My own picture" if lang == "en" else "我自己的图片"
    choose_source(page, label)


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in a selectbox (type to filter, then click the option)."""
    box = page.locator(f".st-key-{key} [role=combobox]")
    box.scroll_into_view_if_needed()
    for _ in range(3):  # a rerun arriving meanwhile can close the list: open it again
        box.click()
        box.fill(option[:7])
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - retried; the final assertion is below
            page.keyboard.press("Escape")
    settle(page)
    assert box.input_value() == option


def edit_cell(page, editor: str, row: int, col: int, n_cols: int, value: str) -> None:
    """RECIPES: click the cell centre (header and rows are 35 px), Enter, fill, Enter.

    The grid (glide-data-grid) keeps its place on the page from the last scroll event: after
    content above or around it changed (a part opened, a fragment redrawn) and no scroll since,
    a click lands on the wrong cell or none. A student scrolls to reach it; so does this, a
    little down and back, before it clicks."""
    grid = page.locator(f"[class*='st-key-{editor}'] [data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 30)
    page.wait_for_timeout(200)
    page.mouse.wheel(0, -30)
    page.wait_for_timeout(200)
    box = grid.bounding_box()
    x = box["x"] + (col + 0.5) * box["width"] / n_cols
    y = box["y"] + 35 + (row + 0.5) * 35
    page.mouse.click(x, y)
    page.keyboard.press("Enter")
    page.wait_for_selector(".gdg-input")
    page.locator(".gdg-input").fill(value)
    page.keyboard.press("Enter")
    settle(page)


def map_data(page) -> str:
    page.wait_for_selector(".st-key-conv_fmap_0 .js-plotly-plot")
    return page.evaluate(MAP_JS, ".st-key-conv_fmap_0")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_sobel_edit_cell_and_bad_cell(page, lang):
    open_page(page, "convolution", lang)
    choose_upload(page, lang)
    upload(page, "astronaut.jpg", (ROOT / "assets" / "astronaut.jpg").read_bytes(), "image/jpeg")
    assert_clean(page)
    caption = page.locator("[data-testid=stSidebar] [data-testid=stImage]").first.inner_text()
    assert "astronaut.jpg" in caption
    first = map_data(page)
    sobel_y = "Sobel y (horizontal edges)" if lang == "en" else "Sobel y（水平边缘）"
    choose(page, "conv_img_preset_0", sobel_y)
    after_preset = map_data(page)
    assert after_preset != first
    section_shot(page, ".st-key-conv_img_preset_0", f"conv-preset-{lang}")
    edit_cell(page, "conv_img_k0_c0_v", 1, 1, 3, "5")
    after_edit = map_data(page)
    assert after_edit != after_preset
    assert page.locator("[data-testid=stAlert]", has_text="1000").count() == 0
    edit_cell(page, "conv_img_k0_c0_v", 0, 0, 3, "5000")
    alert = page.locator("[data-testid=stAlert]", has_text="1000")
    assert alert.count() == 1
    assert ("typing mistake" if lang == "en" else "输错") in alert.first.inner_text()
    assert map_data(page) == after_edit, "the last valid feature map stays"
    assert_clean(page)
    section_shot(page, "[data-testid=stAlert]:has-text('1000')", f"conv-bad-cell-{lang}")
    section_shot(page, ".st-key-conv_fmap_0", f"conv-map-{lang}")
    shot(page, f"conv-page-{lang}")


def test_click_or_hover_a_feature_map_pixel(page):
    open_page(page, "convolution", "en")
    fmap = page.locator(".st-key-conv_fmap_0")
    fmap.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    area = fmap.locator(".nsewdrag").first.bounding_box()
    x, y = area["x"] + area["width"] * 0.25, area["y"] + area["height"] * 0.3
    page.mouse.move(x, y)
    page.wait_for_timeout(400)
    hover = fmap.locator(".hoverlayer").text_content()
    assert re.search(r"row \d+, column \d+value: -?[0-9.]+", hover), hover
    row, col = (int(v) for v in re.findall(r"\d+", hover)[:2])
    section_shot(page, ".st-key-conv_fmap_0", "conv-map-hover")
    page.mouse.click(x, y)
    settle(page)
    title = page.locator("h3", has_text="pixel").first.inner_text()
    assert f"row {row}, column {col}" in title, (title, hover)
    assert f"\n{row}\n" in page.locator(".st-key-conv_pick_r").inner_text()
    section_shot(page, ".st-key-conv_explain", "conv-explain")
    assert_clean(page)
