"""Draw your own input, in Chromium: strokes drawn with the mouse and with touch (Chrome's
DevTools touch events, the ones a tablet's finger makes) on the trainer's "Draw and classify"
and on the convolution page through the shared picture picker. The answer and the feature
maps appear, change when the stroke moves, and Clear empties them; an empty canvas is a
sentence. English and Chinese; screenshots at desktop (1400x1000) and tablet (768x1024) sizes.

Playwright's ``touchscreen`` can only tap, so a touch stroke is sent with the DevTools
protocol's ``Input.dispatchTouchEvent`` (touchStart, touchMoves, touchEnd): Chromium turns
those into touch and pointer events exactly as for a finger, and Fabric.js draws from them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz import i18n
from tests.browser.conftest import SHOTS, assert_clean, choose_source, settle, settle_for_good

DESKTOP = {"width": 1400, "height": 1000}
TABLET = {"width": 768, "height": 1024}
#: Stroke paths in canvas pixels (240 x 240); kept below the top 40 px, where the canvas's
#: toolbar sits until the pointer has been over the canvas.
HORIZONTAL_HIGH = [(40, 70), (190, 72)]
HORIZONTAL_LOW = [(40, 180), (190, 182)]
TURN_A = [(40, 60), (130, 60), (126, 140)]
TURN_B = [(110, 120), (200, 120), (196, 210)]


@pytest.fixture
def tab(browser, app_url, _warm):
    """A fresh session in a browser context with a touch screen (and a mouse)."""
    ctx = browser.new_context(viewport=DESKTOP, has_touch=True)
    p = ctx.new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    yield p
    ctx.close()


def d(key: str, lang: str, **kw) -> str:
    return i18n.t(f"draw.{key}", lang, **kw)


def open_at(page, path: str, lang: str, query: str = "") -> None:
    page.goto(f"{page.base_url}/{path}?lang={lang}{query}")
    settle(page)
    page.wait_for_selector("h1", timeout=30_000)
    settle_for_good(page)


def stroke(page, canvas, points, how: str) -> None:
    """Draw a polyline through ``points`` (canvas pixels) with the mouse or a finger."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    path = [points[0]]
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        path += [(ax + (bx - ax) * k / 12, ay + (by - ay) * k / 12) for k in range(1, 13)]
    path = [(box["x"] + x, box["y"] + y) for x, y in path]
    if how == "mouse":
        page.mouse.move(*path[0])
        page.mouse.down()
        for x, y in path[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
    else:
        cdp = page.context.new_cdp_session(page)

        def touch(kind: str, x: float = 0, y: float = 0) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", *path[0])
        for x, y in path[1:]:
            touch("touchMove", x, y)
            page.wait_for_timeout(10)
        touch("touchEnd")
        cdp.detach()
    settle(page)


def charts_in(page, selector: str) -> dict[str, list[float]]:
    """Title -> every z (or y) value of each Plotly chart inside ``selector``."""
    return page.evaluate(
        """(sel) => {
            const out = {};
            for (const e of document.querySelectorAll(sel + ' .js-plotly-plot')) {
                const raw = e.layout && e.layout.title && e.layout.title.text;
                if (!raw || !e._fullData) continue;
                const t = raw.replace(/<[^>]+>/g, '');
                const vals = [];
                for (const d of e._fullData) {
                    const v = d.z || d.y || [];
                    for (const row of v) {
                        if (row && row.length !== undefined) vals.push(...Array.from(row));
                        else vals.push(row);
                    }
                }
                out[t] = vals.map(v => v === null ? NaN : Number(v));
            }
            return out;
        }""",
        selector,
    )


def wait_until(page, cond, timeout_ms: int = 30_000) -> None:
    for _ in range(timeout_ms // 250):
        if cond():
            return
        page.wait_for_timeout(250)
    raise AssertionError("timed out")


def shoot(page, locator, name: str) -> None:
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    locator.screenshot(path=str(SHOTS / f"drawing-{name}.png"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trainer_draw_and_classify_with_mouse_and_touch(tab, lang):
    page = tab
    open_at(page, "trainer", lang, "&tr_epochs=1")
    sec = page.locator(".st-key-tr_sec_draw")
    sec.scroll_into_view_if_needed()
    assert d("no_net", lang) in sec.inner_text()
    sec.get_by_role("button", name=d("train_default", lang)).click()
    canvas = sec.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=240_000)  # the one-click net trained (1 epoch) and the canvas shows
    settle(page)
    empty = i18n.t("errors.draw_empty", lang)
    assert empty in sec.inner_text()
    preview = d("preview_title", lang, s=16)
    maps1 = d("maps_title", lang, b=1, name="relu1", c=8, h=16, w=16)
    maps2 = d("maps_title", lang, b=2, name="relu2", c=16, h=8, w=8)
    assert preview not in charts_in(page, ".st-key-tr_sec_draw")
    verdict = d("verdict", lang, guess="@", p="", act="ReLU").split("@")[0].replace("**", "")

    # a horizontal stroke with the mouse, high on the canvas
    stroke(page, canvas, HORIZONTAL_HIGH, "mouse")
    wait_until(page, lambda: preview in charts_in(page, ".st-key-tr_sec_draw"))
    first = charts_in(page, ".st-key-tr_sec_draw")
    assert {preview, maps1, maps2} <= set(first), list(first)
    text = sec.inner_text()
    assert verdict in text and empty not in text
    softmax = first[i18n.t("trainer.softmax_title", lang)]
    assert abs(sum(softmax) - 1) < 1e-6
    x = np.array(first[preview]).reshape(16, 16)
    assert x.max() > 0.5 and np.argmax(x.sum(axis=1)) <= 6  # the ink is in the upper part
    page.wait_for_timeout(400)
    shoot(page, sec, f"trainer-mouse-{lang}")

    # Clear: the answer and the maps go, the sentence comes back
    sec.get_by_role("button", name=d("clear", lang)).click()
    settle(page)
    wait_until(page, lambda: preview not in charts_in(page, ".st-key-tr_sec_draw"))
    assert empty in sec.inner_text()
    assert maps1 not in charts_in(page, ".st-key-tr_sec_draw")

    # the same stroke lower, with a finger: the input and the maps move down with it
    canvas = sec.locator("canvas.upper-canvas").first
    stroke(page, canvas, HORIZONTAL_LOW, "touch")
    wait_until(page, lambda: preview in charts_in(page, ".st-key-tr_sec_draw"))
    second = charts_in(page, ".st-key-tr_sec_draw")
    y = np.array(second[preview]).reshape(16, 16)
    assert np.argmax(y.sum(axis=1)) - np.argmax(x.sum(axis=1)) >= 5
    assert second[maps1] != first[maps1] and second[maps2] != first[maps2]
    assert verdict in sec.inner_text()
    shoot(page, sec, f"trainer-touch-{lang}")
    page.set_viewport_size(TABLET)
    settle(page)
    shoot(page, sec, f"trainer-tablet-{lang}")
    assert_clean(page)


def choose_drawing(page, lang: str) -> None:
    choose_source(page, d("source_option", lang))


def fmap_peak(page) -> tuple[int, int]:
    """(row, col) of the brightest pixel of kernel 1's feature map (16 x 16 with padding 1)."""
    z = page.evaluate("""() => {
        const e = document.querySelector('.st-key-conv_fmap_0 .js-plotly-plot');
        const d = e && e._fullData && e._fullData.find(t => t.z);
        return d ? Array.from(d.z, row => Array.from(row, v => v === null ? NaN : v)) : null;
    }""")
    z = np.array(z, dtype=float)
    r, c = np.unravel_index(np.nanargmax(z), z.shape)
    return int(r), int(c)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_convolution_draw_the_input_lights_the_turn_kernel(tab, lang):
    page = tab
    open_at(page, "convolution", lang, "&conv_img_open=true")  # the picture section open
    choose_drawing(page, lang)
    side = page.locator("[data-testid=stSidebar]")
    canvas = side.locator("canvas.upper-canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    bar = side.bounding_box()
    assert box["x"] >= bar["x"] and box["x"] + box["width"] <= bar["x"] + bar["width"]  # fits
    empty = i18n.t("errors.draw_empty", lang)
    assert empty in side.inner_text()
    # kernel 1 becomes the 横折 turn detector, padding 1 keeps the map 16 x 16
    page.locator(".st-key-conv_img_preset_0").click()
    page.keyboard.type("横折")  # the list is long (and drawn lazily): filter it
    page.get_by_role("option", name=i18n.t("conv.preset_stroke_turn", lang)).click()
    settle(page)
    pad = page.locator(".st-key-conv_img_padding input")
    if pad.count():
        pad.fill("1")
        pad.press("Enter")
        settle(page)

    stroke(page, canvas, TURN_A, "mouse")
    hint = d("hint_conv", lang)
    wait_until(page, lambda: hint in page.locator("[data-testid=stMain]").inner_text())
    settle(page)
    a = fmap_peak(page)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"drawing-conv-sidebar-{lang}.png"))
    shoot(page, page.locator(".st-key-conv_fmap_0"), f"conv-map-a-{lang}")

    side.get_by_role("button", name=d("clear", lang)).click()
    settle(page)
    wait_until(page, lambda: empty in side.inner_text())
    assert empty in page.locator("[data-testid=stMain]").inner_text()

    canvas = side.locator("canvas.upper-canvas").first
    stroke(page, canvas, TURN_B, "touch")
    wait_until(page, lambda: empty not in side.inner_text())
    settle(page)
    b = fmap_peak(page)
    # the turn moved ~70 canvas px right and ~60 down (15 px per input pixel): so did the peak
    assert 2 <= b[0] - a[0] <= 7 and 3 <= b[1] - a[1] <= 8, (a, b)
    shoot(page, page.locator(".st-key-conv_fmap_0"), f"conv-map-b-{lang}")
    page.set_viewport_size(TABLET)
    settle(page)
    page.screenshot(path=str(SHOTS / f"drawing-conv-tablet-{lang}.png"))
    opener = page.locator("[data-testid=stExpandSidebarButton], "
                          "[data-testid=stSidebarCollapsedControl] button").first
    if opener.count():
        opener.click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / f"drawing-conv-tablet-sidebar-{lang}.png"))
    assert re.search(r"\S", page.locator("h1").first.inner_text())
    assert_clean(page)
