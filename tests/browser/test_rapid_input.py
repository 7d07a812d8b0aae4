"""Rapid input never wedges a session (issue 16, item 12): 30 key presses within two seconds on
each lesson's main control, then the page must settle within a few seconds showing the last
value (and keep showing it)."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import SETTLED, assert_clean, settle, settle_for_good, shot

#: page path, widget key, key sequence (30 presses), step of the control
#: A control in a part drawn on demand (ui/lazy.py) is opened by its switch in the link.
CONTROLS = [
    ("preprocessing", "prep_corr", ["ArrowLeft"] * 30, 0.05),
    ("convolution?conv_img_open=true", "conv_img_stride", ["ArrowUp"] * 30, 1),
    ("activation?act_deep_open=true", "act_chain_z", ["ArrowLeft"] * 30, 0.1),
    ("pooling?pool_fm_open=true", "pool_shift", ["ArrowRight", "ArrowRight", "ArrowLeft"] * 10, 1),
    ("?home_share_open=true", "home_copies", ["ArrowRight", "ArrowLeft", "ArrowRight"] * 10, 1),
    ("lesson", "lesson_fc_maps", ["ArrowRight", "ArrowRight", "ArrowLeft"] * 10, 1),
    ("trainer", "tr_epochs", ["ArrowRight"] * 30, 1),
]
BURST_SECONDS = 2.0
#: "Within a few seconds" once the last press has reached the page. On this shared 2-core
#: machine (load 12-40) it took 0.9-12 s; the browser itself may need longer than the two
#: seconds to take the 30 presses in (measured, printed, never asserted).
SETTLE_SECONDS = 20.0

VALUE_JS = """(key) => {
  const box = document.querySelector('.st-key-' + key + ' input');
  if (!box) return null;
  const num = (a, d) => (box.hasAttribute(a) && box.getAttribute(a) !== '' ?
                         Number(box.getAttribute(a)) : d);
  return {value: Number(box.value), lo: num('min', -1e308), hi: num('max', 1e308)};
}"""


def expected(start: float, lo: float, hi: float, keys: list[str], step: float,
             box_hi: float | None = None) -> float:
    v = start
    for k in keys:
        v += step if k in ("ArrowRight", "ArrowUp") else -step
        v = min(max(v, lo), hi)
    if box_hi is not None:
        v = min(v, box_hi)
    return round(v, 6)


@pytest.mark.parametrize(("path", "key", "keys", "step"), CONTROLS,
                         ids=[c[1] for c in CONTROLS])
def test_thirty_fast_presses_settle_on_the_last_value(page, path, key, keys, step) -> None:
    page_path, _, query = path.partition("?")
    page.goto(f"{page.base_url}/{page_path}?{query + '&' if query else ''}lang=en")
    settle(page)
    page.wait_for_selector("h1", timeout=30_000)
    settle_for_good(page)
    if key == "lesson_fc_maps":  # step 5 of the guided lesson
        page.locator(".st-key-lesson_step button").filter(has_text="5 ·").first.click()
        settle_for_good(page)
    control = page.locator(f".st-key-{key} input").first
    control.scroll_into_view_if_needed()
    before = page.evaluate(VALUE_JS, key)
    box_hi = 8 if key == "conv_img_stride" else None  # clamped by the page, with a sentence
    want = expected(before["value"], before["lo"], before["hi"], keys, step, box_hi)
    control.focus()
    t0 = time.monotonic()
    for k in keys:
        page.keyboard.press(k)
        page.wait_for_timeout(int(1000 * BURST_SECONDS / len(keys)) - 10)
    burst = time.monotonic() - t0
    page.wait_for_timeout(300)
    page.wait_for_selector(SETTLED, timeout=1000 * SETTLE_SECONDS)
    settled = time.monotonic() - t0 - burst
    settle_for_good(page, timeout=SETTLE_SECONDS)
    got = page.evaluate(VALUE_JS, key)
    shot(page, f"rapid_{key}")
    print(f"{key}: burst {burst:.2f} s, settled {settled:.2f} s after it, value {got['value']}")
    assert got["value"] == pytest.approx(want), (got, want)
    page.wait_for_timeout(1500)  # and it stays there: no late rerun snaps it back
    assert page.evaluate(VALUE_JS, key)["value"] == pytest.approx(want)
    assert_clean(page)
