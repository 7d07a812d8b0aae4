"""Helpers shared by test modules (imported from here; no test module imports another).

AppTest runners for the pages, Plotly array decoding, a hand-written PNG, and training-job
builders. Importing this module also makes AppTest route every run through app.py.
"""

from __future__ import annotations

import base64
import os
import re
import struct
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"

# AppTest reads .streamlit/config.toml, which hides error details from students; in tests we
# want the real exception text when something fails.
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")


def _app_test_like_the_server() -> None:
    """Make AppTest route every run through app.py, as the real server does.

    AppTest resets Streamlit's "uses a pages/ directory" flag before every run, so with our
    folder named ``pages/`` each rerun after ``switch_page`` ran the page file alone (Streamlit's
    old directory mode: no app.py, no sidebar). A real server leaves that mode for good on its
    first ``st.navigation`` call; this keeps AppTest in step with it.
    """
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class ServerLikePagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test.PagesManager = ServerLikePagesManager


_app_test_like_the_server()


# --------------------------------------------------------------------------------------------
# Pages in AppTest
# --------------------------------------------------------------------------------------------


def registered_pages() -> list[tuple[str, str]]:
    """(file, url path) of every page app.py registers (only files that exist)."""
    from ui.nav import PAGES

    return [(f, url) for f, _, url, _ in PAGES if (ROOT / f).exists()]


def lazy_parts() -> list[str]:
    """Keys of every part a page draws on demand (``lazy.shown("key", ...)``, or the switch
    key of ``lazy.section(title, intro, "key", ...)``, in pages/ and ui/)."""
    keys = []
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py")]):
        text = path.read_text(encoding="utf-8")
        keys += re.findall(r'lazy\.shown\(\s*"([a-z_0-9]+)"', text)
        keys += re.findall(r'lazy\.section\(.*?"([a-z_0-9]+_open)"', text, flags=re.DOTALL)
    return list(dict.fromkeys(keys))


def run_page(page: str | None = None, lang: str = "en", *, timeout: float = 90, state=None,
             opened: bool = True):
    """Run app.py (and switch to ``page``, e.g. "pages/convolution.py") in AppTest.

    ``state`` seeds ``st.session_state`` before the first run (widget keys, data_editor edits).
    ``opened``: every part drawn on demand starts open, as if the student had opened it (the
    closed first view has its own tests); False: the page as a new session first sees it.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key in lazy_parts() if opened else ():
        at.session_state[key] = True
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page is not None and page != "pages/home.py":
        at.switch_page(page).run()
    return at


def open_page(page: str, lang: str = "en", state: dict | None = None, *, timeout: float = 90,
              opened: bool = True):
    """Like :func:`run_page`, but switching to ``page`` before the first run (the home page never
    runs), and checked to run without an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key in lazy_parts() if opened else ():
        at.session_state[key] = True
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(page).run()
    assert errors_of(at) == []
    return at


def errors_of(at) -> list[str]:
    """Exception texts shown on the page (empty when the run was clean)."""
    return [str(e.value) + "\n" + "\n".join(e.stack_trace or []) for e in at.exception]


def as_json(value) -> str:
    """``value`` (a figure dict, arrays and all) as sorted JSON, for comparing two of them."""
    import json

    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(value, sort_keys=True, cls=PlotlyJSONEncoder)


def decode(arr) -> np.ndarray:
    """A Plotly array as sent to the browser: a plain list or ``{"dtype", "bdata", "shape"}``.

    Plain numeric lists come back as float arrays (``None`` becomes NaN); lists of text as they
    are."""
    if isinstance(arr, dict) and "bdata" in arr:
        out = np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))
        shape = arr.get("shape")
        return out.reshape([int(s) for s in str(shape).split(",")]) if shape else out
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray(arr)


# --------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------


def raw_png(width: int, height: int, *, bit_depth: int = 1, rows: bool = True) -> bytes:
    """A grayscale PNG written by hand, so its pixels never exist in memory at full size."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    idat = b""
    if rows:
        row = b"\x00" * (1 + (width * bit_depth + 7) // 8)  # filter byte + packed zeros
        block = row * 256
        for _ in range(height // 256):
            idat += comp.compress(block)
        idat += comp.compress(row * (height % 256))
    idat += comp.flush()
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------------------------
# Training jobs (cnnviz.classroom.train_jobs), without Streamlit
# --------------------------------------------------------------------------------------------

TRAIN_DEFAULTS = {"optimizer": "momentum", "lr": 0.05, "batch_size": 32, "epochs": 10, "seed": 0}


def member(spec=None, **kw):
    """One model to train: ``spec`` (default: the page's default) with settings ``kw``."""
    from cnnviz import models
    from cnnviz.classroom import train_jobs

    spec = models.normalize_spec(spec or models.DEFAULT_SPEC)
    settings = {**TRAIN_DEFAULTS, **kw}
    ds = models.dataset(spec["dataset"])
    return train_jobs.Member(spec["activation"], spec, settings,
                             models.build(spec, settings["seed"]), ds)


def job_of(*members, **kw):
    from cnnviz.classroom import train_jobs

    kw.setdefault("slots", train_jobs.Slots(2))
    kw.setdefault("heartbeat_timeout", 300.0)  # a loaded test machine must not end jobs
    return train_jobs.TrainJob(list(members), **kw)


def wait(cond, timeout=60.0, every=0.01, watch=()):
    """Poll ``cond``; meanwhile "look at" the ``watch`` jobs as the page's fragment does
    (without that heartbeat a job stops by itself, which is tested separately)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for job in watch:
            job.touch()
        if cond():
            return True
        time.sleep(every)
    return False


def finished(job, timeout=120.0, watched=True) -> dict:
    assert wait(lambda: job.finished, timeout, watch=[job] if watched else []), job.state
    job.thread.join(5)
    return job.snapshot()


# ---- drawings, as the canvas component sends them (tests of the drawing lesson) ------------
#: Two positions of each stroke class of the "shapes" data set, in canvas pixels (240 x 240,
#: 15 canvas pixels per input pixel): 0 横 horizontal, 1 竖 vertical, 2 横折 turn, 3 撇.
STROKES = {
    0: [[(50, 70), (190, 73)], [(40, 170), (150, 167)]],
    1: [[(80, 40), (80, 190)], [(170, 60), (172, 200)]],
    2: [[(50, 60), (160, 60), (155, 170)], [(90, 110), (200, 110), (195, 210)]],
    3: [[(180, 50), (70, 170)], [(215, 105), (115, 205)]],
}


def stroke_canvas(strokes, width: int = 22, side: int = 240, bg=(0, 0, 0, 255),
                  ink=(255, 255, 255, 255)) -> np.ndarray:
    """An RGBA canvas ``(side, side, 4)`` uint8 like the component's: each stroke a polyline
    ``width`` pixels wide with round caps and joints (Fabric's freehand brush)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (side, side), bg)
    d = ImageDraw.Draw(img)
    r = width / 2
    for points in strokes:
        d.line(points, fill=ink, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            d.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return np.asarray(img)
