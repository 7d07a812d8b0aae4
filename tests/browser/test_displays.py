"""Every lesson on the room's displays: a 1024x768 projector with the sidebar open, a 768x1024
tablet and a 390x844 phone (touch), in English and Chinese.

Each page of the navigation (read from ui/nav.py, so a new lesson is covered the day it is
registered) is opened at each size and searched for what a student would see as broken:

- ``chart wider than its box``: a Plotly chart's drawn SVG is wider than its container or its
  column (the right part is cut off);
- ``text cut``: a metric label/value, markdown block, formula, caption, widget label or
  segmented control whose content is wider than its box with no scroll bar (none, or a hidden
  one on a desktop), or a CSS ``text-overflow: ellipsis`` actually cutting ("…");
- ``page scrolls sideways``: the document (or Streamlit's main area) is wider than the window;
- ``chart texts overlap``: two texts of one chart (annotations, tick labels, cell numbers,
  titles) overlap by more than a third of the smaller one, or Plotly's toolbar covers a title;
- ``tiny numbers``: chart text drawn smaller than 10 px (cell numbers must stay ~11 px).

All findings of one page are collected into one message, so a single run tells the whole story.
"""

from __future__ import annotations

import contextlib
import re
import time

import pytest

from tests.browser.conftest import SHOTS, assert_clean, open_page, settle, shot
from ui.nav import PAGES, ROOT

#: (name, viewport, extra context options)
SIZES = {
    "projector": ({"width": 1024, "height": 768}, {}),
    "tablet": ({"width": 768, "height": 1024}, {"has_touch": True, "is_mobile": True}),
    "phone": ({"width": 390, "height": 844}, {"has_touch": True, "is_mobile": True}),
}
NAV = [url for file, _key, url, _icon in PAGES if (ROOT / file).exists()]

#: Returns a list of findings, each {what, where, detail}. Runs inside the page.
FIND_JS = r"""() => {
  const out = [];
  const label = (el) => {
    const key = el.closest('[class*="st-key-"]');
    const k = key ? Array.from(key.classList).find(c => c.startsWith('st-key-')) : null;
    const txt = (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    const tid = el.closest('[data-testid]');
    return (k ? k.slice(7) + ' ' : '') + (tid ? tid.dataset.testid : el.tagName) +
      (txt ? ' "' + txt + '"' : '');
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false;
    }
    return true;
  };
  // An ancestor that scrolls sideways (then content wider than its box can be reached).
  const scrollsX = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const ox = getComputedStyle(e).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && e.scrollWidth > e.clientWidth + 1) return true;
      if (e.dataset && e.dataset.testid === 'stMain') break;
    }
    return false;
  };

  // A chart by its widget key and its title (or first annotation / axis title).
  const chartName = (chart) => {
    const key = chart.closest('[class*="st-key-"]');
    const k = key ? Array.from(key.classList).find(c => c.startsWith('st-key-')).slice(7) : '';
    const t = chart.querySelector('.gtitle, .annotation-text, .g-xtitle text, .g-ytitle text');
    return (k ? k + ' ' : '') + 'chart "' + (t ? t.textContent.trim().slice(0, 40) : '') + '"';
  };

  // 1. page scrolls sideways
  const de = document.documentElement;
  if (de.scrollWidth > window.innerWidth + 1)
    out.push({what: 'page scrolls sideways', where: 'document',
              detail: de.scrollWidth + ' px in a ' + window.innerWidth + ' px window'});
  for (const sel of ['[data-testid=stMain]', '[data-testid=stAppViewContainer]',
                     '[data-testid=stMainBlockContainer]']) {
    const m = document.querySelector(sel);
    if (m && m.scrollWidth > m.clientWidth + 1)
      out.push({what: 'page scrolls sideways', where: sel,
                detail: m.scrollWidth + ' px of content in ' + m.clientWidth + ' px'});
  }

  // 2. charts wider than their box (the SVG is what is drawn; the column is what is seen)
  for (const chart of document.querySelectorAll('[data-testid=stPlotlyChart]')) {
    if (!visible(chart)) continue;
    const svg = chart.querySelector('.main-svg');
    if (!svg) continue;
    const w = svg.getBoundingClientRect().width;
    let box = chart.getBoundingClientRect().width;
    const col = chart.closest('[data-testid=stColumn]') ||
                chart.closest('[data-testid=stVerticalBlock]');
    if (col) box = Math.min(box, col.getBoundingClientRect().width);
    if (w > box + 1 && !scrollsX(chart.parentElement))
      out.push({what: 'chart wider than its box', where: chartName(chart),
                detail: Math.round(w) + ' px drawn in ' + Math.round(box) + ' px'});
  }

  // 3. text cut: content wider than its box without a scroll bar; ellipsis that cuts
  const TEXT = ['[data-testid=stMetricLabel]', '[data-testid=stMetricValue]',
                '[data-testid=stMetricDelta]', '[data-testid=stMarkdownContainer]',
                '[data-testid=stCaptionContainer]', '[data-testid=stWidgetLabel]',
                '[data-testid=stMarkdownContainer] p', '[data-testid=stMetricLabel] p',
                '[data-testid=stMetricValue] div', '[data-testid=stHeading]',
                '[data-testid=stAlertContentInfo]', '[data-testid=stAlertContentWarning]',
                '[data-testid=stButtonGroup]', '.katex-display'];
  // a box that scrolls but shows no scroll bar (Streamlit hides KaTeX's): on a desktop, where
  // scroll bars take room, nothing tells the student there is more to the right
  const touch = matchMedia('(pointer: coarse)').matches;
  const hiddenBar = (el) => {
    const cs = getComputedStyle(el);
    const bar = el.offsetHeight - el.clientHeight - parseFloat(cs.borderTopWidth) -
                parseFloat(cs.borderBottomWidth);
    return !touch && bar < 1;
  };
  const seen = new Set();
  for (const el of document.querySelectorAll(TEXT.join(','))) {
    if (!visible(el) || (el.closest('.katex-display') && !el.matches('.katex-display')))
      continue;
    const cs = getComputedStyle(el);
    const ox = cs.overflowX;
    if ((ox === 'auto' || ox === 'scroll') && !hiddenBar(el)) continue;  // its own scroll bar
    if (el.scrollWidth > el.clientWidth + 1 && !scrollsX(el.parentElement)) {
      const where = label(el);
      if (seen.has(where)) continue;
      seen.add(where);
      out.push({what: cs.textOverflow === 'ellipsis' ? 'text cut with "…"' : 'text cut',
                where, detail: el.scrollWidth + ' px of text in ' + el.clientWidth + ' px'});
    }
  }
  // a selectbox shows its chosen value in a one-line text box: wider text is simply cut
  const boxes = '[data-testid=stMain] [data-testid=stSelectbox] input';
  for (const el of document.querySelectorAll(boxes)) {
    if (!visible(el) || el.scrollWidth <= el.clientWidth + 1) continue;
    const where = label(el.closest('[data-testid=stSelectbox]')) + ' "' + el.value + '"';
    if (seen.has(where)) continue;
    seen.add(where);
    out.push({what: 'text cut', where,
              detail: el.scrollWidth + ' px of text in ' + el.clientWidth + ' px'});
  }
  for (const el of document.querySelectorAll('[data-testid=stMain] *, [data-testid=stSidebar] *')) {
    const cs = getComputedStyle(el);
    if (cs.textOverflow !== 'ellipsis' || el.scrollWidth <= el.clientWidth + 1) continue;
    if (!visible(el) || el.closest('[data-baseweb=select] [role=listbox]')) continue;
    const where = label(el);
    if (seen.has(where)) continue;
    seen.add(where);
    out.push({what: 'text cut with "…"', where,
              detail: el.scrollWidth + ' px of text in ' + el.clientWidth + ' px'});
  }

  // 4. texts of one chart over each other; the toolbar over a title; tiny numbers
  const area = (r) => Math.max(0, r.width) * Math.max(0, r.height);
  const inter = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  };
  // Two texts collide when they share more than 1.5 px of width over a third of the lower
  // one's height (neighbouring cell numbers that touch read as one number: "0.710.73"), or
  // when one covers a third of the other.
  const collide = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w <= 0 || h <= 0) return false;
    return (w > 1.5 && h > 0.33 * Math.min(a.height, b.height)) ||
           w * h > 0.33 * Math.min(area(a), area(b));
  };
  for (const chart of document.querySelectorAll('[data-testid=stPlotlyChart]')) {
    if (!visible(chart)) continue;
    const title = chartName(chart);
    const svgBox = chart.querySelector('.main-svg').getBoundingClientRect();
    const texts = [];
    for (const t of chart.querySelectorAll('svg text')) {
      const s = (t.textContent || '').trim();
      if (!s || t.closest('.hoverlayer, .legendtoggle')) continue;
      const cs = getComputedStyle(t);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0' ||
          t.closest('[style*="opacity: 0"], [opacity="0"]')) continue;
      const r = t.getBoundingClientRect();
      if (area(r) < 1) continue;
      texts.push({s, r, t});
    }
    let cut = 0, cutEx = '';
    for (const x of texts) {
      if (x.t.closest('.slider-container, .updatemenu-container')) continue;
      if (x.r.left < svgBox.left - 2 || x.r.right > svgBox.right + 2) {
        cut++; if (!cutEx) cutEx = x.s.slice(0, 40);
      }
    }
    if (cut) out.push({what: 'chart text runs off the edge', where: title,
                       detail: cut + ' texts, e.g. "' + cutEx + '"'});
    let tiny = 0, tinyEx = '', tinyPx = 99;
    for (const x of texts) {
      const px = parseFloat(getComputedStyle(x.t).fontSize);
      if (px >= 10) continue;
      tiny++; tinyPx = Math.min(tinyPx, px);
      if (!tinyEx) tinyEx = x.s.slice(0, 20);
    }
    if (tiny) out.push({what: 'tiny chart text', where: title,
                        detail: tiny + ' texts under 10 px (smallest ' + tinyPx.toFixed(1) +
                                ' px, e.g. "' + tinyEx + '")'});
    let n = 0, ex = '';
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i], b = texts[j];
        if (a.t.contains(b.t) || b.t.contains(a.t)) continue;
        if (collide(a.r, b.r)) {
          n++;
          if (!ex) ex = '"' + a.s.slice(0, 25) + '" over "' + b.s.slice(0, 25) + '"';
        }
      }
    }
    if (n) out.push({what: 'chart texts overlap', where: title, detail: n + ' pairs, e.g. ' + ex});
    const bar = chart.querySelector('.modebar');
    if (bar && visible(bar)) {
      const br = bar.getBoundingClientRect();
      for (const x of texts) {
        const isTitle = x.t.closest('.g-gtitle, .infolayer .annotation') &&
                        x.r.top < br.bottom + 4;
        if (isTitle && inter(br, x.r) > 0.1 * area(x.r)) {
          out.push({what: 'toolbar covers a title', where: title,
                    detail: '"' + x.s.slice(0, 30) + '"'});
          break;
        }
      }
    }
  }
  return out;
}"""

#: Plotly shows its toolbar while the pointer is over a chart (a tap on a phone): show every
#: toolbar as a hover would, so the check sees what a student sees.
SHOW_BARS_JS = """() => document.querySelectorAll('.modebar-container, .modebar').forEach(
  m => { m.style.opacity = '1'; })"""


@pytest.fixture(scope="module")
def contexts(browser, _warm):
    """One browser context per display size (each page opened in it is its own session)."""
    made = {}

    def get(size: str):
        if size not in made:
            viewport, extra = SIZES[size]
            made[size] = browser.new_context(viewport=viewport, locale="en-US", **extra)
        return made[size]

    yield get
    for ctx in made.values():
        ctx.close()


def findings(p) -> list[dict]:
    """What is broken on the open page (see the module docstring)."""
    p.evaluate(SHOW_BARS_JS)
    p.wait_for_timeout(150)
    return p.evaluate(FIND_JS)


def tall_shot(p, name: str) -> None:
    """The whole page at this width: Streamlit scrolls inside its main area, so a full-page
    screenshot shows one window; the window is made as tall as the content for the picture."""
    viewport = p.viewport_size
    height = p.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }")
    p.set_viewport_size({"width": viewport["width"], "height": min(int(height) + 40, 12000)})
    p.wait_for_timeout(600)
    shot(p, name)
    p.set_viewport_size(viewport)


def report(path: str, size: str, lang: str, found: list[dict]) -> str:
    lines = [f"/{path} at {size} {SIZES[size][0]['width']}x{SIZES[size][0]['height']} ({lang}): "
             f"{len(found)} problem(s)"]
    lines += [f"  - {f['what']}: {f['where']} — {f['detail']}" for f in found]
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("path", NAV)
def test_page_fits_the_display(contexts, app_url, path, size, lang):
    p = contexts(size).new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    try:
        open_page(p, path, lang)
        assert_clean(p)
        found = findings(p)
        tall_shot(p, f"display-{path or 'home'}-{size}-{lang}")
        (SHOTS / f"display-{path or 'home'}-{size}-{lang}.txt").write_text(
            report(path, size, lang, found))
        assert not found, report(path, size, lang, found)
    finally:
        p.close()


# ---- touch: the lesson's controls operated by taps on a phone ---------------------------------
SLIDE = ".st-key-conv_slide_chart_narrow"  # the stacked layout a phone shows
SLIDE_JS = """(sel) => {
  const el = document.querySelector(sel + ' .js-plotly-plot');
  if (!el || !el._fullLayout) return null;
  const drawn = Array.from(el.querySelectorAll('.annotation-text')).map(e => e.textContent);
  return {sum: drawn.filter(t => t.includes('=')).pop() || null,
          active: el._fullLayout.sliders[0].active,
          kernel: Array.from(el.calcdata[1][0].z, r => Array.from(r))};
}"""


def _slide(p) -> dict:
    return p.evaluate(SLIDE_JS, SLIDE)


def _wait(p, cond, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        p.wait_for_timeout(200)
    return False


def _tap_at(p, locator, fx: float, fy: float = 0.5) -> None:
    """Tap ``locator`` at fractions of its box (after scrolling it into the window)."""
    locator.scroll_into_view_if_needed()
    p.wait_for_timeout(200)
    box = locator.bounding_box()
    p.touchscreen.tap(box["x"] + fx * box["width"], box["y"] + fy * box["height"])



def _stable_box(p, locator, timeout_s: float = 10):
    """The locator's bounding box once it stops moving (an expander opens with an animation)."""
    last = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        if box and last and all(abs(box[k] - last[k]) < 0.5 for k in box):
            return box
        last = box
        p.wait_for_timeout(250)
    raise AssertionError(f"{locator} kept moving: {last}")


def _open_cell_by_touch(p, grid, row: int, col: int, rows: int, cols: int):
    """Open one data-editor cell's text box with taps, as a student would: tap the cell, tap it
    again (or type on the selected cell). Retried, because a tap during a rerun is lost."""
    for _attempt in range(4):
        box = _stable_box(p, grid)
        header = box["height"] / (rows + 1)
        x = box["x"] + (col + 0.5) * box["width"] / cols
        y = box["y"] + header * (row + 1.5)
        p.touchscreen.tap(x, y)
        p.wait_for_timeout(300)
        p.touchscreen.tap(x, y)
        p.wait_for_timeout(300)
        if p.locator(".gdg-input").count() == 0:
            p.keyboard.type("7")  # the phone's keyboard on a selected cell
        try:
            p.wait_for_selector(".gdg-input", timeout=5_000)
            return
        except Exception:
            p.keyboard.press("Escape")
            settle(p)
    raise AssertionError("no kernel cell opened for editing by touch")

def test_touch_operates_a_lesson_on_a_phone(contexts, app_url):
    """At 390x844 with touch only: play, pause and step the convolution animation, move a
    slider, edit one kernel cell, move the pixel picker's slider, start (and stop) the trainer."""
    p = contexts("phone").new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    try:
        open_page(p, "convolution", "en")
        # the stacked animation is drawn when the phone asks for it (wide screens never draw it)
        assert p.locator(SLIDE).count() == 0
        show = p.locator(".st-key-show_narrow_conv_slide button:visible").first
        assert show.is_visible()
        _tap_at(p, show, 0.5)
        settle(p)
        chart = p.locator(SLIDE)
        chart.wait_for(timeout=30_000)
        chart.scroll_into_view_if_needed()
        assert _wait(p, lambda: _slide(p) is not None, 30), "the stacked animation was not drawn"
        start = _slide(p)
        assert start["active"] == 0 and start["sum"].endswith("= 4")
        # play / pause are Plotly buttons inside the figure
        chart.locator(".updatemenu-button", has_text="Play").tap()
        assert _wait(p, lambda: _slide(p)["active"] >= 2, 10), "Play did not react to a tap"
        chart.locator(".updatemenu-button", has_text="Pause").tap()
        paused = _slide(p)["active"]
        p.wait_for_timeout(1500)
        assert _slide(p)["active"] == paused, "Pause did not react to a tap"
        # step: tap the end of the step slider's rail
        _tap_at(p, chart.locator(".slider-rail-rect").first, 0.995)
        assert _wait(p, lambda: _slide(p)["active"] == 8, 5), _slide(p)
        # a Streamlit slider by touch: the speed's far right is "fast"
        speed = p.locator(".st-key-conv_speed input[type=range]").first
        track = p.locator(".st-key-conv_speed [role=group] > [data-orientation=horizontal]").first
        _tap_at(p, track, 0.99)
        settle(p)
        assert _wait(p, lambda: speed.input_value() == "2", 10), speed.input_value()
        # edit one kernel cell: open the editor by tap, tap the centre cell twice, type
        p.get_by_text("Make your own example").first.tap()
        grid = p.locator("[class*='st-key-conv_kernel_v'] [data-testid=stDataFrame]").first
        _open_cell_by_touch(p, grid, row=1, col=1, rows=3, cols=3)
        p.locator(".gdg-input").fill("7")
        p.keyboard.press("Enter")
        settle(p)
        assert _wait(p, lambda: _slide(p) and _slide(p)["kernel"][1][1] == 7, 15), _slide(p)
        # the pixel picker's row slider by touch (a tap on the map itself: see the test below)
        row = p.locator(".st-key-conv_pick_r input[type=range]").first
        before = row.input_value()
        _tap_at(p, p.locator(".st-key-conv_pick_r [role=group] > [data-orientation=horizontal]")
                .first, 0.1)
        settle(p)
        assert _wait(p, lambda: row.input_value() != before, 10), before
        assert_clean(p)
        tall_shot(p, "touch-convolution-phone-en")
        # the trainer: Start and Stop by tap
        open_page(p, "trainer", "en")
        p.get_by_role("button", name="Start", exact=True).tap()
        assert _wait(p, lambda: p.get_by_text(re.compile(r"Training: epoch")).count() > 0, 30)
        p.get_by_role("button", name="Stop", exact=True).first.tap()
        assert _wait(p, lambda: p.get_by_text(re.compile(r"Stopped at epoch")).count() > 0, 15)
        assert_clean(p)
    finally:
        p.close()


def test_tap_on_a_feature_map_picks_its_pixel(contexts, app_url):
    """On a phone, a tap on a feature map picks the pixel under the finger, as a click does
    (ui.display's touch script hovers at the finger first; without it Plotly selects nothing)."""
    p = contexts("phone").new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    try:
        open_page(p, "convolution", "en")
        fmap = p.locator(".st-key-conv_fmap_0")
        heading = p.locator("h3", has_text="pixel").first
        before = heading.inner_text()
        rows, cols = p.evaluate(
            "() => { const l = document.querySelector('.st-key-conv_fmap_0 .js-plotly-plot')"
            "._fullLayout; const n = (a) => Math.abs(a.range[1] - a.range[0]);"
            " return [n(l.yaxis), n(l.xaxis)]; }")  # a map's axes span its pixels
        _tap_at(p, fmap.locator(".nsewdrag").first, 0.2, 0.25)
        settle(p)
        assert _wait(p, lambda: heading.inner_text() != before, 10), before
        r, c = map(int, re.findall(r"\d+", heading.inner_text())[-2:])
        assert abs(r - 0.25 * rows) <= 0.05 * rows + 1, (r, rows, heading.inner_text())
        assert abs(c - 0.2 * cols) <= 0.05 * cols + 1, (c, cols, heading.inner_text())
        assert_clean(p)
    finally:
        p.close()


CHART_TEXT_PX_JS = """() => Array.from(document.querySelectorAll(
  '[data-testid=stMain] .js-plotly-plot text')).filter(e => e.textContent.trim())
  .map(e => parseFloat(getComputedStyle(e).fontSize)).sort((a, b) => a - b)"""


def test_projector_view_draws_chart_text_larger(contexts, app_url):
    """The back row reads the numbers: in the projector view the text inside the charts (grid
    numbers, titles, ticks) is drawn larger than in the normal view of the same page."""
    p = contexts("projector").new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    try:
        sizes = {}
        for view in ("", "&view=projector"):
            p.goto(f"{app_url}/pooling?lang=zh{view}")
            settle(p)
            p.wait_for_selector(".js-plotly-plot text", timeout=30_000)
            settle(p)
            px = p.evaluate(CHART_TEXT_PX_JS)
            assert px, view
            sizes[view] = px[len(px) // 2]
        assert sizes["&view=projector"] >= 1.15 * sizes[""], sizes
    finally:
        p.close()


def test_projector_view_on_every_page(contexts, app_url):
    """``?view=projector`` at 1024x768: the sidebar starts folded, the main area is drawn
    larger, and every page still passes every check (in Chinese, the longer labels)."""
    p = contexts("projector").new_page()
    p.set_default_timeout(30_000)
    p.base_url = app_url  # type: ignore[attr-defined]
    problems = []
    try:
        for path in NAV:
            p.goto(f"{app_url}/{path}?lang=zh&view=projector")
            settle(p)
            p.wait_for_selector("h1", timeout=30_000)
            assert_clean(p)
            zoom_js = ("() => getComputedStyle(document.querySelector("
                       "'[data-testid=stMainBlockContainer]')).zoom")
            # the view's stylesheet arrives with the run: wait for it (the assert says if not)
            with contextlib.suppress(Exception):
                p.wait_for_function(f"() => ({zoom_js})() === '1.25'", timeout=15_000)
            zoom = p.evaluate(zoom_js)
            assert float(zoom) == 1.25, (path, zoom)
            folded = p.locator("[data-testid=stSidebar]").get_attribute("data-collapsed")
            assert folded == "true", f"/{path}: the sidebar should start folded"
            found = findings(p)
            tall_shot(p, f"display-{path or 'home'}-projector-view-zh")
            if found:
                problems.append(report(path, "projector", "zh", found))
        assert not problems, "projector view:\n" + "\n".join(problems)
    finally:
        p.close()


# ---- the sidebar's picture: every choice in sight, the working sizes on one line -------------
SIDEBAR_PICKER_JS = """() => {
  const rows = (sel) => new Set([...document.querySelectorAll(sel)].map(
    b => Math.round(b.getBoundingClientRect().top))).size;
  const pills = [...document.querySelectorAll('.st-key-img_choice button')]
    .filter(b => b.innerText.trim());
  return {sizes: [...document.querySelectorAll('.st-key-work_size button[data-variant]')]
            .map(b => b.innerText.trim()),
          size_rows: rows('.st-key-work_size button[data-variant]'),
          pills: pills.map(b => b.innerText.trim()),
          cut: pills.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)};
}"""


@pytest.mark.parametrize("size", ["projector", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sidebar_picture_choices_fit(browser, app_url, size, lang):
    # a context of its own: the sidebar opened here stays open for the context's next pages
    viewport, extra = SIZES[size]
    ctx = browser.new_context(viewport=viewport, locale="en-US", **extra)
    p = ctx.new_page()
    p.base_url = app_url  # type: ignore[attr-defined]
    try:
        open_page(p, "pooling", lang)
        opener = p.locator("[data-testid=stExpandSidebarButton]")
        if opener.count() and opener.first.is_visible():  # a phone starts with it folded
            opener.first.click()
            p.wait_for_timeout(600)
        p.locator(".st-key-work_size").scroll_into_view_if_needed()
        got = p.evaluate(SIDEBAR_PICKER_JS)
        shot(p, f"sidebar-picture-{size}-{lang}")
        assert got["sizes"] == ["64", "128", "256", "512", "1024"], got
        assert got["size_rows"] == 1, got  # five sizes on one line, not four and a lonely 1024
        assert len(got["pills"]) == 7 and not got["cut"], got  # five samples, upload, drawing
        assert not any(t.endswith("…") for t in got["pills"]), got
    finally:
        ctx.close()
