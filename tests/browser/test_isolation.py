"""Two students on one server, in two independent Chromium contexts (two Streamlit sessions):
each uploads a different picture, sets its own kernel bias and trains its own model. Neither
ever sees the other's picture, kernel, runs or model; no upload is written to disk; a closed
tab's pictures are released when its session is dropped.

The server here drops a disconnected session after 3 s (``server.disconnectedSessionTTL``;
the classroom default is 120 s), so the release can be observed.
"""

from __future__ import annotations

import base64
import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from cnnviz import i18n
from tests.browser import conftest as C
from tests.browser.conftest import (
    assert_clean,
    choose_source,
    mean_colour,
    open_page,
    open_parts,
    picture,
    settle,
    upload,
)

ROOT = C.ROOT


def tr(key: str, **kw) -> str:
    return i18n.t(f"trainer.{key}", "en", **kw)




def sidebar_picture(page) -> bytes:
    """The bytes of the picture the sidebar shows (Streamlit serves it from /media/...)."""
    src = page.locator("[data-testid=stSidebar] [data-testid=stImage] img").first
    src.wait_for()
    resp = page.request.get(media_url(page.base_url, src.get_attribute("src")))
    assert resp.ok, resp.status
    return resp.body()


def media_url(base: str, src: str) -> str:
    return src if src.startswith("http") else base + "/" + src.lstrip("/")


def chart_picture(page, key: str) -> bytes:
    """The picture inside the Plotly chart with this key (a data URI in the trace)."""
    uri = page.evaluate(
        """(sel) => { const el = document.querySelector(sel + ' .js-plotly-plot');
                      return el ? el.data[0].source : null; }""", f".st-key-{key}")
    assert uri and uri.startswith("data:image/"), uri
    return base64.b64decode(uri.split(",", 1)[1])


def red(c: np.ndarray) -> bool:
    return c[0] > c[2] + 40


def blue(c: np.ndarray) -> bool:
    return c[2] > c[0] + 40


def choose_upload(page) -> None:
    choose_source(page, "My own picture")


def set_number(page, key: str, value: float) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def files_with(marker: bytes, since: float, roots: list[Path]) -> list[Path]:
    """Files changed since ``since`` under ``roots`` whose bytes contain ``marker``."""
    hits = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in (".git", "__pycache__", "node_modules")]
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                    if st.st_mtime < since or st.st_size > 50_000_000 or not path.is_file():
                        continue
                    if marker in path.read_bytes():
                        hits.append(path)
                except OSError:
                    continue
    return hits


@pytest.fixture
def short_ttl_server(monkeypatch):
    monkeypatch.setenv("STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL", "3")
    proc, url = C.start_server("isolation-server.log")
    yield url
    C.stop_server(proc)
    C.assert_quiet_log(C.SHOTS / "isolation-server.log")


def student(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.base_url = url  # type: ignore[attr-defined]
    return ctx, page


def go(page, title: str) -> None:
    """Open a lesson from the sidebar, as a student does (a typed URL would start a new
    session, and a reload too: the session and its picture belong to the open tab)."""
    page.locator("[data-testid=stSidebarNav] a").filter(has_text=title).first.click()
    settle(page)
    open_parts(page)  # the parts drawn on demand, as the student scrolls down to them


def train_one_epoch(page, seed: int) -> None:
    go(page, "Train a CNN")
    set_number(page, "tr_seed", seed)
    thumb = (page.locator("[data-testid=stSlider]").filter(has_text=tr("epochs"))
             .locator("input[type=range]").first)
    thumb.focus()
    thumb.press("Home")  # 1 epoch
    settle(page)
    page.get_by_role("button", name=tr("start_single")).click()


def test_two_students_never_see_each_others_picture_kernel_runs_or_model(browser,
                                                                          short_ttl_server):
    started = time.time()
    marker_a, marker_b = secrets.token_bytes(16), secrets.token_bytes(16)
    ctx_a, a = student(browser, short_ttl_server)
    ctx_b, b = student(browser, short_ttl_server)
    try:
        # 1. each uploads a different picture: A a red one, B a blue one of another shape
        for page, name, png in ((a, "alice.png", picture((200, 30, 30), (150, 220), marker_a)),
                                (b, "bob.png", picture((30, 30, 200), (210, 120), marker_b))):
            open_page(page, "", "en")
            choose_upload(page)
            upload(page, name, png, "image/png")
            assert_clean(page)
        a_pic, b_pic = sidebar_picture(a), sidebar_picture(b)
        assert red(mean_colour(a_pic)) and blue(mean_colour(b_pic))
        assert "alice.png" in a.inner_text("body") and "bob.png" not in a.inner_text("body")
        assert "bob.png" in b.inner_text("body") and "alice.png" not in b.inner_text("body")

        # 2. each sets its own bias on kernel 1 of the convolution page
        for page, bias in ((a, 0.5), (b, -0.3)):
            go(page, "Convolution")
            set_number(page, "conv_img_bias_0", bias)
        for page, own, colour in ((a, 0.5, red), (b, -0.3, blue)):  # after both have set theirs
            page.locator(".st-key-conv_img_input .js-plotly-plot").wait_for()
            assert float(page.locator(".st-key-conv_img_bias_0 input").input_value()) == own
            assert colour(mean_colour(chart_picture(page, "conv_img_input")))
            title = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
                .map(e => e.layout.title && e.layout.title.text).join(' | ')""")
            size = "150×220" if page is a else "210×120"
            assert f"Input {size}" in title, title  # its own picture's size, not the other's
            assert_clean(page)

        # 3. each trains one epoch with its own seed
        train_one_epoch(a, 11)
        train_one_epoch(b, 22)
        for page in (a, b):
            page.get_by_text(re.compile(r"Finished: .* test accuracy")).wait_for(timeout=180_000)
            settle(page)
        for page, own, other in ((a, "seed 11", "seed 22"), (b, "seed 22", "seed 11")):
            history = page.locator(".st-key-tr_sec_compare").inner_text()
            assert own in history and other not in history, history  # its one run only
            assert_clean(page)

        # 4. the model each uses is its own: downloaded weights differ (different seeds)
        weights = []
        for page in (a, b):
            use = page.locator(".st-key-tr_sec_use")
            use.scroll_into_view_if_needed()
            with page.expect_download() as info:
                use.get_by_role("button", name=tr("dl_weights")).click()
            with np.load(io.BytesIO(Path(info.value.path()).read_bytes())) as f:
                weights.append(f["0.weight"].copy())
        assert not np.allclose(weights[0], weights[1])

        # 5. no copy of either upload anywhere on disk (repository and temp folder)
        roots = [ROOT, Path(tempfile.gettempdir())]
        for marker in (marker_a, marker_b):
            assert files_with(marker, started, roots) == []

        # 6. A closes the tab: once its session is dropped, its pictures are gone with it
        a_url = a.locator("[data-testid=stSidebar] [data-testid=stImage] img").first \
            .get_attribute("src")
        ctx_a.close()
        ctx_a = None
        gone = False
        for _ in range(40):  # TTL 3 s, then the runtime's clean-up
            time.sleep(0.5)
            resp = b.request.get(media_url(short_ttl_server, a_url))
            if resp.status == 404:
                gone = True
                break
        assert gone, "the closed session's picture is still served"
        assert blue(mean_colour(sidebar_picture(b)))  # B still has its own picture
    finally:
        if ctx_a is not None:
            ctx_a.close()
        ctx_b.close()
