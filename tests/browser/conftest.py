"""Real-browser fixtures: `streamlit run app.py` on a free loopback port, driven by Playwright
through Debian's /usr/bin/chromium (never a downloaded browser).

Screenshots go to ``$CNNVIZ_SHOTS`` (default: a temp folder, printed at the end of the run).
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CNNVIZ_CHROMIUM", "/usr/bin/chromium")
SETTLED = (
    "[data-testid=stApp][data-test-connection-state=CONNECTED]"
    "[data-test-script-state=notRunning]"
)
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS") or tempfile.mkdtemp(prefix="cnnviz-shots-"))
SHOTS.mkdir(parents=True, exist_ok=True)  # CNNVIZ_SHOTS may name a folder not made yet

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config, items):
    # A real browser against a real server on 2 shared cores has timing noise (a key press
    # landing mid-rerun); one retry keeps CI honest about real failures, which fail twice.
    if config.pluginmanager.hasplugin("rerunfailures"):
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        # In CI the browser must be there (.ci/run installs it): a skip would hide a failure.
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_name: str = "server.log") -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port; returns (process, base URL) when healthy."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"}
    log = open(SHOTS / log_name, "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
         "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start; see " + str(SHOTS / log_name))


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url():
    """Start the app once per test session; yield its base URL; stop it afterwards."""
    proc, url = start_server()
    yield url
    stop_server(proc)
    print(f"\nscreenshots and server log: {SHOTS}")
    assert_quiet_log(SHOTS / "server.log")


#: What a teacher must never find in the terminal after a lesson: a traceback (an exception
#: the pages did not turn into a sentence) or a logged stack (Streamlit's warnings).
LOG_ALARMS = ("Traceback (most recent call last)", "Stack (most recent call last)")


def assert_quiet_log(path: Path) -> None:
    lines = path.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if any(alarm in line for alarm in LOG_ALARMS):
            excerpt = "\n".join(lines[max(0, i - 2) : i + 30])
            pytest.fail(f"the server printed a stack to the teacher's terminal ({path}):\n"
                        f"{excerpt}", pytrace=False)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def _warm(browser, app_url):
    """Load the app once: the first interaction after a cold start can be lost."""
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(app_url + "/?lang=en")
    page.wait_for_selector(SETTLED, timeout=60_000)
    ctx.close()
    return True


@pytest.fixture
def page(browser, app_url, _warm):
    """A fresh browser context (its own Streamlit session) per test."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    p = ctx.new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    yield p
    ctx.close()


#: Every Plotly chart on the page has drawn its SVG (Plotly draws a moment after Streamlit
#: reports the run finished; on a loaded machine that moment grows).
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))
  .every(c => c.querySelector('.main-svg'))"""


def settle(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running, the page is connected and every chart on
    it has been drawn."""
    page.wait_for_timeout(250)
    page.wait_for_selector(SETTLED, timeout=timeout)
    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)


def open_page(page, path: str = "", lang: str = "en", *, parts: bool = True) -> None:
    """Open ``/path?lang=..`` and wait for it to settle; ``parts``: then turn on every part
    drawn on demand (ui/lazy.py), as a student scrolling down does (False: the first view)."""
    page.goto(f"{page.base_url}/{path}?lang={lang}")
    settle(page)
    page.wait_for_selector("h1", timeout=30_000)
    settle_for_good(page)
    if parts:
        open_parts(page)


#: Keys of the main area's part switches (ui/lazy.py: widget keys ending in "_open").
PART_KEYS_JS = """() => Array.from(document.querySelectorAll(
    '[data-testid=stMain] [class*="st-key-"][class*="_open"]'))
  .flatMap(e => Array.from(e.classList)).filter(c => /^st-key-.*_open$/.test(c))
  .map(c => c.slice(7))"""


def open_parts(page) -> list[str]:
    """Turn on every part switch on the page (one fragment rerun each); returns their keys."""
    done: list[str] = []
    for _ in range(10):  # a part may hold another part's switch
        todo = [k for k in dict.fromkeys(page.evaluate(PART_KEYS_JS)) if k not in done]
        if not todo:
            break
        for key in todo:
            box = page.locator(f".st-key-{key} input[type=checkbox]")
            if not box.is_checked():
                label = page.locator(f".st-key-{key} label").first
                label.scroll_into_view_if_needed()
                label.click()
                settle(page)
            done.append(key)
    if done:
        settle_for_good(page)
    return done


#: How many elements the app shows now (to tell a finished page from a pause between runs).
COUNT_JS = "() => document.querySelectorAll('[data-testid=stElementContainer]').length"


def settle_for_good(page, timeout: float = 60.0) -> None:
    """Settled twice in a row, 400 ms apart, with the same elements on the page. A new session
    can run its script more than once (the frontend sends the link's widget values back), and
    between those runs the page briefly looks settled with only its first lines drawn."""
    end = time.monotonic() + timeout
    settle(page)
    count = page.evaluate(COUNT_JS)
    while time.monotonic() < end:
        page.wait_for_timeout(400)
        settle(page)
        now = page.evaluate(COUNT_JS)
        if now == count:
            return
        count = now
    raise AssertionError("the page kept changing for a minute")


# ---- driving widgets the way a student does (each waits for the rerun it causes) ----------
def press(page, key: str, keyname: str, times: int = 1) -> None:
    """Press a key on the slider with widget key ``key``, ``times`` times."""
    for _ in range(times):
        thumb = page.locator(f".st-key-{key} input[type=range]").first
        thumb.scroll_into_view_if_needed()
        thumb.focus()
        thumb.press(keyname)
        settle(page)


def type_number(page, key: str, value) -> None:
    """Type ``value`` into the number input with widget key ``key`` and press Enter."""
    box = page.locator(f".st-key-{key} input")
    box.scroll_into_view_if_needed()
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def click_option(page, key: str, text: str) -> None:
    """A segmented control / pills button, or a radio label, by its text."""
    target = page.locator(f".st-key-{key} button, .st-key-{key} label").filter(
        has_text=re.compile(f"^{re.escape(text)}$")).first
    target.scroll_into_view_if_needed()
    target.click()
    settle(page)


def choose_source(page, start: str) -> None:
    """The sidebar's picture: the pill whose title starts with ``start`` (a sample, "My own
    picture", "Draw the input")."""
    target = page.locator(".st-key-img_choice button").filter(
        has_text=re.compile(f"^{re.escape(start)}")).first
    target.scroll_into_view_if_needed()
    target.click()
    settle(page)


def assert_clean(page) -> None:
    """No exception box anywhere on the page."""
    n = page.locator("[data-testid=stException]").count()
    assert n == 0, page.locator("[data-testid=stException]").first.inner_text()


def shot(page, name: str) -> Path:
    """Full-page screenshot into the screenshot folder; returns its path."""
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def upload(page, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    """Upload bytes through the sidebar's uploader (choose "my own picture" first)."""
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    settle(page)

def picture(rgb: tuple[int, int, int], shape: tuple[int, int], marker: bytes) -> bytes:
    """A PNG of one colour with a diagonal band, carrying ``marker`` in a text chunk (so any
    copy of the upload on disk can be found byte for byte)."""
    h, w = shape
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = rgb
    for i in range(h):
        img[i, max(0, i * w // h - 4): i * w // h + 4] = 255
    info = PngImagePlugin.PngInfo()
    info.add_text("cnnviz-test", marker.hex())
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()

def mean_colour(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64).mean(axis=(0, 1))

def link_from_share_box(page) -> str:
    page.locator(".st-key-share_open button").first.click()
    settle(page)
    body = page.locator("[data-testid=stPopoverBody]")
    body.locator("[data-testid=stImage] img").first.wait_for()  # the QR code
    url = body.locator("[data-testid=stCode]").first.inner_text().strip()
    page.keyboard.press("Escape")
    settle(page)
    return url
