"""A class through `deploy/serve.py --replicas 2` in Chromium: four students (four browser
contexts, each its own session, pinned to a replica by HAProxy's cookie) upload a picture each
and find it on every lesson; one trains; a share link opens in a fresh context. No broken
image, no media 404, no lost session; stopping the launcher leaves no process behind.
Skipped without haproxy, except in CI (.ci/run installs it)."""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cnnviz import i18n
from deploy import serve
from tests.browser import conftest as C
from tests.browser.conftest import (
    assert_clean,
    choose_source,
    link_from_share_box,
    mean_colour,
    open_page,
    open_parts,
    picture,
    settle,
    shot,
    upload,
)

pytestmark = pytest.mark.skipif(serve.find_haproxy() is None and not os.environ.get("CI"),
                                reason="haproxy not installed (apt-get install haproxy)")

COLOURS = {"red": (200, 30, 30), "blue": (30, 30, 200), "green": (30, 170, 30),
           "yellow": (210, 200, 30)}
#: sidebar titles of the lessons that work on the student's picture
LESSONS = ["1 · Input preprocessing", "2 · Convolution", "3 · Activation", "4 · Pooling"]
#: every <img> on the page has loaded (a broken one has naturalWidth 0)
BROKEN_IMAGES = """() => [...document.querySelectorAll('img')]
  .filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"""




def sidebar_picture(page) -> bytes:
    """The bytes of the sidebar's picture, fetched from /media/ with the page's cookies."""
    img = page.locator("[data-testid=stSidebar] [data-testid=stImage] img").first
    img.wait_for()
    src = img.get_attribute("src")
    resp = page.request.get(src if src.startswith("http") else
                            page.base_url + "/" + src.lstrip("/"))
    assert resp.ok, resp.status
    return resp.body()


def chart_picture(page, key: str) -> bytes:
    """The picture inside the Plotly chart with this key (a data URI in the trace)."""
    uri = page.evaluate(
        """(sel) => { const el = document.querySelector(sel + ' .js-plotly-plot');
                      return el ? el.data[0].source : null; }""", f".st-key-{key}")
    assert uri and uri.startswith("data:image/"), uri
    return base64.b64decode(uri.split(",", 1)[1])


def choose_upload(page) -> None:
    choose_source(page, "My own picture")


def go(page, title: str) -> None:
    """Open a lesson from the sidebar, as a student does (a typed URL starts a new session)."""
    page.locator("[data-testid=stSidebarNav] a").filter(has_text=title).first.click()
    settle(page)
    open_parts(page)  # the parts drawn on demand (ui/lazy.py), as a student scrolling down


def train_one_epoch(page, seed: int) -> None:
    go(page, "Train a CNN")
    C.type_number(page, "tr_seed", seed)
    thumb = (page.locator("[data-testid=stSlider]")
             .filter(has_text=i18n.t("trainer.epochs", "en")).locator("input[type=range]").first)
    thumb.focus()
    thumb.press("Home")  # 1 epoch
    settle(page)
    page.get_by_role("button", name=i18n.t("trainer.start_single", "en")).click()



def nearest(colour: np.ndarray) -> str:
    return min(COLOURS, key=lambda k: float(np.sum((np.array(COLOURS[k]) - colour) ** 2)))


@pytest.fixture(scope="module")
def launcher():
    """deploy/serve.py with two replicas on a free loopback port; yields (process, url, pids)."""
    port = serve.free_port()
    log = open(C.SHOTS / "deploy-serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "deploy/serve.py", "--replicas", "2", "--port", str(port),
         "--address", "127.0.0.1", "--log-dir", str(C.SHOTS / "deploy-logs")],
        cwd=C.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = ""
    while "Ctrl-C" not in banner:
        line = proc.stdout.readline()
        if not line:
            pytest.fail("deploy/serve.py did not start:\n" + banner)
        banner += line
    log.write(banner)
    pids = {k: int(v) for k, v in re.findall(r"\b(r\d|haproxy)=(\d+)", banner)}
    assert set(pids) == {"r1", "r2", "haproxy"}, banner
    yield proc, f"http://127.0.0.1:{port}", pids
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        log.write(proc.communicate(timeout=60)[0])
    log.close()


def student(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.base_url = url  # type: ignore[attr-defined]
    page.media_errors = []  # type: ignore[attr-defined]
    page.on("response", lambda r, p=page: p.media_errors.append((r.status, r.url))
            if "/media/" in r.url and r.status >= 400 else None)
    return ctx, page


def replica_of(ctx) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == "CNNVIZ_REPLICA"), None)


def assert_images_whole(page) -> None:
    page.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete)")
    assert page.evaluate(BROKEN_IMAGES) == []
    assert page.media_errors == []


def test_a_class_through_two_replicas(browser, launcher):
    proc, url, pids = launcher
    students = []
    try:
        # 1. four students, each uploads a picture of its own colour
        for name, rgb in COLOURS.items():
            ctx, page = student(browser, url)
            students.append((name, ctx, page))
            open_page(page, "", "en")
            choose_upload(page)
            png = picture(rgb, (160, 200), secrets.token_bytes(8))
            upload(page, f"{name}.png", png, "image/png")
            assert_clean(page)
            assert nearest(mean_colour(sidebar_picture(page))) == name
        replicas = {name: replica_of(ctx) for name, ctx, _ in students}
        assert all(replicas.values()), replicas  # HAProxy pinned every browser
        assert len(set(replicas.values())) == 2, replicas  # and used both replicas

        # 2. each finds its own picture on every lesson, with every image whole
        for lesson in LESSONS:
            for name, _, page in students:
                go(page, lesson)
                assert_clean(page)
                assert_images_whole(page)
                assert nearest(mean_colour(sidebar_picture(page))) == name, (name, lesson)
                if lesson.endswith("Convolution"):
                    page.locator(".st-key-conv_img_input .js-plotly-plot").wait_for()
                    assert nearest(mean_colour(chart_picture(page, "conv_img_input"))) == name
        shot(students[0][2], "deploy-student-red-pooling")

        # 3. one trains once
        name, _, trainer = students[1]
        train_one_epoch(trainer, 7)
        trainer.get_by_text(re.compile(r"Finished: .* test accuracy")).wait_for(timeout=180_000)
        settle(trainer)
        assert_clean(trainer)
        shot(trainer, "deploy-trained")

        # 4. a share link from one student opens in a fresh context (maybe the other replica)
        _, _, sharer = students[2]
        go(sharer, "2 · Convolution")
        C.type_number(sharer, "conv_img_bias_0", 0.5)
        link = link_from_share_box(sharer)
        assert link.startswith(url), link
        ctx, fresh = student(browser, url)
        try:
            fresh.goto(link)
            settle(fresh)
            C.settle_for_good(fresh)
            assert_clean(fresh)
            assert_images_whole(fresh)
            assert float(fresh.locator(".st-key-conv_img_bias_0 input").input_value()) == 0.5
            shot(fresh, "deploy-link-restored")
        finally:
            ctx.close()

        # 5. no session was lost: everyone still has their own picture, on the same replica
        for name, ctx, page in students:
            go(page, "Overview")
            assert_clean(page)
            assert_images_whole(page)
            assert nearest(mean_colour(sidebar_picture(page))) == name
            assert replica_of(ctx) == replicas[name]
    finally:
        for _, ctx, _ in students:
            ctx.close()

    # 6. stopping the launcher stops everything it started
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    time.sleep(0.2)
    for name, pid in pids.items():
        assert not serve.alive(pid) and not serve.group_alive(pid), f"{name} ({pid}) left"
    for name in ("r1", "r2"):
        C.assert_quiet_log(C.SHOTS / "deploy-logs" / f"{name}.log")
