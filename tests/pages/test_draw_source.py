"""AppTest of "Draw the input", the shared picture picker's third source: every lesson runs
on a drawing (16x16, bright on black, in place) and on an empty canvas (one sentence).

AppTest cannot draw on the custom canvas: ``ui.drawing._component`` is replaced by a stand-in
returning the RGBA array the browser would send, so the picker's own code runs for real. The
canvas itself is driven in Chromium (tests/browser/test_drawing.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.lessons import drawing as D
from tests.helpers import APP, STROKES, errors_of, lazy_parts, registered_pages, stroke_canvas

DRAW = "__draw__"


def turn(i: int = 0) -> np.ndarray:
    return stroke_canvas([STROKES[2][i]], width=D.BRUSH["shapes"], side=D.CANVAS_SIDE)


def run_page(page: str, lang: str = "en", state: dict | None = None) -> AppTest:
    # switch before the first run: the home page's selectbox cannot be collected in Chinese
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    for key in lazy_parts():  # every part drawn on demand open, as a student would have it
        at.session_state[key] = True
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(page).run()
    return at


def infos(at) -> list[str]:
    return [str(e.value) for e in at.info]


@pytest.mark.parametrize("page", [f for f, _ in registered_pages() if "trainer" not in f])
def test_every_lesson_runs_on_a_drawing(fake_canvas, page):
    fake_canvas.image = turn()
    at = run_page(page, state={"img_choice": DRAW})
    assert errors_of(at) == []
    img = at.session_state["image"]
    assert img["array"].shape == (16, 16) and img["array"].dtype == np.float32
    np.testing.assert_allclose(img["array"], D.to_input(turn(), "shapes")[0, 0])
    assert fake_canvas.calls and fake_canvas.calls[-1]["width"] <= 240  # fits the sidebar


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_convolution_hint_or_the_empty_sentence(fake_canvas, lang):
    fake_canvas.image = turn()
    at = run_page("pages/convolution.py", lang, state={"img_choice": DRAW})
    assert errors_of(at) == []
    assert i18n.t("draw.hint_conv", lang) in infos(at)
    fake_canvas.image = None  # nothing drawn yet (or just cleared)
    at = run_page("pages/convolution.py", lang, state={"img_choice": DRAW})
    assert errors_of(at) == []
    assert infos(at).count(i18n.t("errors.draw_empty", lang)) == 2  # sidebar and lesson
    assert not at.session_state["image"]["array"].any()


def test_a_new_stroke_replaces_the_picture_and_clear_empties_it(fake_canvas):
    # (English only: AppTest cannot re-send the Chinese page's example selectbox on a rerun)
    fake_canvas.image = turn()
    at = run_page("pages/convolution.py", state={"img_choice": DRAW})
    serial = at.session_state["image"]["serial"]
    at.run()  # nothing drawn since: the picture is not stored again
    assert at.session_state["image"]["serial"] == serial
    fake_canvas.image = turn(1)  # the turn drawn elsewhere
    at.run()
    assert at.session_state["image"]["serial"] == serial + 1
    np.testing.assert_allclose(at.session_state["image"]["array"],
                               D.to_input(turn(1), "shapes")[0, 0])
    fake_canvas.image = None  # cleared
    at.run()
    assert errors_of(at) == []
    assert i18n.t("errors.draw_empty", "en") in infos(at)
    assert not at.session_state["image"]["array"].any()


def test_the_turn_kernel_lights_up_at_the_drawn_corner(fake_canvas):
    """On the convolution page, kernel 1 set to the 横折 preset: its map's brightest pixel
    follows the corner of the drawn turn."""
    peaks = []
    for i in (0, 1):
        fake_canvas.image = turn(i)
        at = run_page("pages/convolution.py", state={"img_choice": DRAW})
        at.selectbox(key="conv_img_preset_0").set_value("stroke_turn").run()
        assert errors_of(at) == []
        fmap = at.session_state["_conv_last0"]["map"]
        peaks.append(np.unravel_index(np.argmax(fmap), fmap.shape))
    (r0, c0), (r1, c1) = peaks
    # the second turn's corner is 50 canvas px lower and 40 px further right: ~3 input pixels
    assert 2 <= r1 - r0 <= 5 and 1 <= c1 - c0 <= 4, peaks


def test_a_drawing_stays_in_its_session(fake_canvas):
    """Two students: the first draws; the second, who has drawn nothing yet, gets an empty
    canvas and a black picture, not the first one's drawing (nothing is cached for the class)."""
    fake_canvas.image = turn()
    first = run_page("pages/convolution.py", state={"img_choice": DRAW})
    assert first.session_state["image"]["array"].any()
    fake_canvas.image = None  # the second browser sends no drawing
    second = run_page("pages/convolution.py", state={"img_choice": DRAW})
    assert errors_of(second) == []
    assert not second.session_state["image"]["array"].any()
    assert i18n.t("errors.draw_empty", "en") in infos(second)
    third = run_page("pages/convolution.py")  # a student on the sample photo
    assert third.session_state["image"]["label"] != DRAW
