"""Uploads driven through AppTest, as the server runs them: a good file of every awkward kind
becomes the picture of every lesson; a bad one shows one sentence in the student's language and
keeps the previous picture, and the page goes on working (no exception element anywhere)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz import i18n, images
from tests.helpers import raw_png, registered_pages, run_page

RNG = np.random.default_rng(7)


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def photo(w: int = 300, h: int = 200) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx / w, yy / h, ((xx // 25 + yy // 25) % 2) * 0.8], -1)


GOOD = {
    "rgb.png": (encode(Image.fromarray((photo() * 255).astype(np.uint8)), "PNG"), (200, 300, 3)),
    "rgba.png": (encode(Image.fromarray(np.dstack([(photo() * 255).astype(np.uint8),
                                                  np.full((200, 300), 128, np.uint8)]),
                                        "RGBA"), "PNG"), (200, 300, 3)),
    "deep.png": (encode(Image.fromarray((photo()[..., 0] * 65535).astype(np.uint16)), "PNG"),
                 (200, 300)),
    "photo.jpg": (encode(Image.fromarray((photo(640, 480) * 255).astype(np.uint8)), "JPEG"),
                  (480, 640, 3)),
}

_png = GOOD["rgb.png"][0]
BAD = {  # file name -> (bytes, the error code the student's sentence comes from)
    "empty.png": (b"", "empty"),
    "notes.png": (b"these are my notes, not a picture\n" * 20, "not_image"),
    "cut.png": (_png[: len(_png) // 2], "truncated"),
    "bomb.png": (raw_png(20000, 20000), "too_many_pixels"),
    "dot.png": (encode(Image.new("RGB", (1, 1), "red"), "PNG"), "too_small"),
    "strip.png": (encode(Image.new("L", (2, 30)), "PNG"), "too_small"),
    "thin.png": (encode(Image.new("L", (900, 30)), "PNG"), "aspect"),
}


def choose_upload(at):
    at.button_group(key="img_choice").set_value("__upload__").run()
    assert not at.exception
    return at


def upload(at, name: str, data: bytes):
    at.file_uploader(key="img").set_value((name, data, "image/png")).run()
    return at


def sentence(code: str, lang: str) -> str:
    """The start of the catalogue sentence for ``code`` (before its first placeholder)."""
    for ns in ("errors", "images"):
        if i18n.has(f"{ns}.{code}"):
            start = i18n.catalog(lang)[f"{ns}.{code}"].split("{")[0].strip()
            assert len(start) >= 8, f"{ns}.{code} starts with a placeholder: nothing to match"
            return start
    raise AssertionError(f"no sentence for {code}")


@pytest.mark.parametrize("name", list(GOOD))
def test_good_upload_becomes_the_picture(name):
    data, shape = GOOD[name]
    at = upload(choose_upload(run_page()), name, data)
    assert not at.exception and not at.warning
    img = at.session_state["image"]
    assert img["label"] == name and img["array"].shape == shape
    assert img["array"].dtype == np.float32 and 0 <= img["array"].min() <= img["array"].max() <= 1
    if name == "deep.png":  # 16-bit values keep their range instead of clipping to white
        assert 0.9 < img["array"].max() <= 1.0 and img["array"].min() < 0.01
        assert abs(img["array"].mean() - photo()[..., 0].mean()) < 0.01  # a ramp, not white
    if name == "rgba.png":  # half-transparent pixels composited on white: lighter than the RGB
        rgb = GOOD["rgb.png"][0]
        plain = upload(choose_upload(run_page()), "rgb.png", rgb).session_state["image"]
        assert img["array"].mean() > plain["array"].mean() + 0.1


@pytest.mark.parametrize(("page", "url"), registered_pages())
def test_every_lesson_works_on_an_uploaded_picture(page, url):
    at = upload(choose_upload(run_page(page)), "photo.jpg", GOOD["photo.jpg"][0])
    assert not at.exception, (url, [e.value for e in at.exception])
    assert at.session_state["image"]["label"] == "photo.jpg"
    assert at.title and not at.sidebar.warning  # the lesson drew; no message about the file


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_upload_says_why_and_keeps_the_picture(name, lang):
    data, code = BAD[name]
    at = choose_upload(run_page(lang=lang))
    before = at.session_state["image"]
    at = upload(at, name, data)
    assert not at.exception
    texts = [w.value for w in at.sidebar.warning]
    assert len(texts) == 1 and texts[0].startswith(sentence(code, lang)), (texts, code)
    assert "Traceback" not in texts[0] and "Error" not in texts[0]
    after = at.session_state["image"]
    assert after["serial"] == before["serial"] and after["label"] == before["label"]
    # the page still works: pick a sample again and the message goes away
    at.button_group(key="img_choice").set_value(images.list_samples()[0]["name"]).run()
    assert not at.exception and not at.sidebar.warning


def test_a_good_upload_after_a_bad_one_clears_the_message():
    at = upload(choose_upload(run_page()), "notes.png", BAD["notes.png"][0])
    assert len(at.sidebar.warning) == 1
    at = upload(at, "rgb.png", GOOD["rgb.png"][0])
    assert not at.sidebar.warning and at.session_state["image"]["label"] == "rgb.png"
