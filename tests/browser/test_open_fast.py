"""A lesson opens with its first view: the first section is complete and answers its controls
while the parts below are not drawn (ui/lazy.py); a part opens when asked, from a link too; a
new session runs the page script once. Timing itself is measured by benchmarks/bench_open.py,
never asserted here."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    CHARTS_DRAWN,
    assert_clean,
    open_page,
    settle,
    settle_for_good,
    shot,
    type_number,
)
from tests.helpers import registered_pages

SLIDE = ".st-key-conv_slide_chart .js-plotly-plot"
#: How many stops the animation steps through (the output's cells: stride changes them), and
#: the formula above it.
OUTPUT_JS = """(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullLayout) return null;
  const tex = Array.from(document.querySelectorAll('.katex-mathml annotation'))
    .map(e => e.textContent).join(' ');
  return {stops: el._fullLayout.sliders[0].steps.length, tex};
}"""
LOWER = (".st-key-conv_rgb_chart", ".st-key-conv_img_input", ".st-key-conv_fmap_0",
         ".st-key-conv_flip_maps")


def switch(page, key: str):
    return page.locator(f".st-key-{key} input[type=checkbox]")


def charts_on_page(page) -> int:
    """Charts a student sees: a figure with a wide and a stacked layout (ui.display.by_width)
    mounts both and the browser hides the one that does not fit the column."""
    return page.locator("[data-testid=stPlotlyChart]:visible").count()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_first_view_is_complete_and_interactive_before_the_lower_parts(page, lang):
    open_page(page, "convolution", lang, parts=False)
    assert_clean(page)
    # the first section is all there and drawn ...
    assert page.locator(SLIDE).count() == 1
    assert page.evaluate(CHARTS_DRAWN)
    assert page.locator(".st-key-conv_stride input").count() == 1
    # ... the parts below are not: only their headings and switches, switched off
    for sel in LOWER:
        assert page.locator(sel).count() == 0, sel
    for key in ("conv_rgb_open", "conv_img_open"):
        assert switch(page, key).count() == 1 and not switch(page, key).is_checked()
    assert charts_on_page(page) == 1
    shot(page, f"open-fast-first-view-{lang}")

    # the first section's controls respond while the rest stays unopened
    before = page.evaluate(OUTPUT_JS, SLIDE)
    type_number(page, "conv_stride", 2)
    settle_for_good(page)
    after = page.evaluate(OUTPUT_JS, SLIDE)
    assert before and after, (before, after)
    assert after["stops"] < before["stops"] and after["tex"] != before["tex"], (before, after)
    for sel in LOWER:
        assert page.locator(sel).count() == 0, sel

    # opening a part draws it, and the link keeps it open
    label = page.locator(".st-key-conv_rgb_open label").first
    label.scroll_into_view_if_needed()
    label.click()
    settle(page)
    settle_for_good(page)
    assert page.locator(".st-key-conv_rgb_chart .main-svg").count() >= 1
    assert page.locator(".st-key-conv_img_input").count() == 0, "only the part asked for"
    assert "conv_rgb_open=true" in page.url
    assert page.locator(".st-key-conv_stride input").input_value() == "2", "the first part kept"
    assert_clean(page)


def test_a_link_with_a_lower_setting_opens_its_part(page):
    page.goto(f"{page.base_url}/convolution?lang=en&conv_rgb_seed=7")
    # two animations mount at once here: on a loaded machine Plotly needs longer than settle's
    # 30 s (speed is the benchmark's business, not this test's)
    page.wait_for_selector(".st-key-conv_rgb_chart .main-svg", timeout=120_000)
    settle(page)
    settle_for_good(page)
    assert_clean(page)
    assert switch(page, "conv_rgb_open").is_checked()
    assert page.locator(".st-key-conv_rgb_seed input").input_value() == "7"
    assert page.locator(".st-key-conv_rgb_chart .main-svg").count() >= 1
    assert page.locator("[data-testid=stToast]").count() == 0, "the setting was used"
    assert not switch(page, "conv_img_open").is_checked()


def script_runs(page, url: str) -> dict[str, int]:
    """Open ``url`` and count the script runs of the new session from its ForwardMsgs."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())))
    page.goto(url)
    settle(page)
    settle_for_good(page)
    page.wait_for_timeout(1000)  # a second run would start within this
    settle(page)
    runs = {"started": 0, "finished": 0, "cut": 0}
    for raw in frames:
        msg = ForwardMsg.FromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            runs["started"] += 1
        elif kind == "script_finished":
            cut = msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN
            runs["cut" if cut else "finished"] += 1
    return runs


@pytest.mark.parametrize("path", [url for _file, url in registered_pages()])
def test_a_new_session_runs_the_page_script_once(page, path):
    # a link with settings of the page (the frontend sends bound widget values back with the
    # first request, not as a second run) and in Chinese
    extra = {"convolution": "&conv_stride=2", "activation": "&act_alpha=0.2",
             "pooling": "&pool_shift=2", "": "&home_copies=4"}.get(path, "")
    runs = script_runs(page, f"{page.base_url}/{path}?lang=zh{extra}")
    assert runs == {"started": 1, "finished": 1, "cut": 0}, runs
    assert_clean(page)
