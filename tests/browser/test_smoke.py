"""Every registered page in Chromium, in both languages; uploads of good and bad files."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import assert_clean, choose_source, open_page, settle, shot, upload
from tests.helpers import registered_pages

PAGES = registered_pages()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", [url for _, url in PAGES])
def test_page_loads_clean(page, path, lang):
    open_page(page, path, lang)
    assert_clean(page)
    title = page.locator("h1").first.inner_text()
    assert bool(re.search(r"[\u4e00-\u9fff]", title)) == (lang == "zh"), title
    shot(page, f"page-{path or 'home'}-{lang}")


def choose_upload(page, lang="en"):
    label = "My own picture" if lang == "en" else "我自己的图片"
    choose_source(page, label)


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def sidebar_caption(page) -> str:
    return page.locator("[data-testid=stSidebar] [data-testid=stImage]").first.inner_text()


def test_good_then_bad_uploads_keep_previous_image(page):
    open_page(page, "", "en")
    choose_upload(page)
    rng = np.random.default_rng(0)
    good = png_bytes((rng.random((300, 200, 3)) * 255).astype(np.uint8))
    upload(page, "mine.png", good, "image/png")
    assert_clean(page)
    assert "mine.png" in sidebar_caption(page)
    assert page.locator("[data-testid=stSidebar] [data-testid=stAlert]").count() == 0

    from tests.helpers import raw_png

    bad_files = {
        "empty.png": b"",
        "notes.png": b"this is not a picture at all",
        "cut.png": good[: len(good) // 2],
        "bomb.png": raw_png(20000, 20000),
        "dot.png": png_bytes(np.zeros((1, 1, 3), np.uint8)),
        "line.png": png_bytes(np.zeros((2, 400), np.uint8)),
    }
    for name, data in bad_files.items():
        upload(page, name, data, "image/png")
        assert_clean(page)
        alert = page.locator("[data-testid=stSidebar] [data-testid=stAlert]")
        assert alert.count() == 1, name
        assert "previous picture is still in use" in alert.first.inner_text(), name
        assert "mine.png" in sidebar_caption(page), name
    shot(page, "upload-bad-kept-previous")


def test_odd_but_valid_uploads_are_accepted(page):
    open_page(page, "", "en")
    choose_upload(page)
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, 25:, 3] = 255  # left half transparent: composited on white
    buf = io.BytesIO()
    Image.fromarray(np.full((30, 40), 40000, np.uint16)).save(buf, format="PNG")
    for name, data, note in [("rgba.png", png_bytes(rgba), "white background"),
                             ("deep.png", buf.getvalue(), "16-bit")]:
        upload(page, name, data, "image/png")
        assert_clean(page)
        assert name in sidebar_caption(page)
        assert note in page.locator("[data-testid=stSidebar]").inner_text()
        assert page.locator("[data-testid=stSidebar] [data-testid=stAlert]").count() == 0


def test_bad_upload_message_in_chinese(page):
    open_page(page, "", "zh")
    choose_upload(page, "zh")
    upload(page, "x.png", b"garbage", "image/png")
    assert_clean(page)
    alert = page.locator("[data-testid=stSidebar] [data-testid=stAlert]").first.inner_text()
    assert "仍在使用你之前的图片" in alert
    shot(page, "upload-bad-zh")


def test_language_toggle_redraws_picture_titles(page):
    open_page(page, "", "en")
    pills = page.locator(".st-key-img_choice")
    chosen = pills.locator("button[aria-checked=true], button[aria-pressed=true]")
    assert chosen.count() == 1 and "Chelsea" in chosen.inner_text()
    page.locator("[data-testid=stSidebar]").get_by_text("中文", exact=True).click()
    settle(page)
    page.wait_for_timeout(500)
    settle(page)
    assert chosen.count() == 1 and "小猫切尔西" in chosen.inner_text()
    assert "Chelsea" not in pills.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", page.locator("h1").first.inner_text())
    assert "lang=zh" in page.url
    assert_clean(page)


def test_every_page_works_offline(page):
    """A classroom may have no internet: opening every page (its parts drawn on demand too)
    asks nothing of any host but the app's own, and the tab's icon is served by the app.
    (Streamlit fetched a Material page icon from fonts.gstatic.com.)"""
    from urllib.parse import urlsplit

    own = urlsplit(page.base_url).netloc
    outside: list[str] = []
    page.on("request", lambda r: urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).netloc != own and outside.append(r.url))
    for _, url in PAGES:
        open_page(page, url, "en")
        assert_clean(page)
    assert outside == [], outside
    icon = page.evaluate("() => (document.querySelector('link[rel*=icon]') || {}).href || ''")
    assert urlsplit(icon).netloc == own, icon
    reply = page.request.get(icon)
    assert reply.ok and reply.headers["content-type"].startswith("image/"), icon
