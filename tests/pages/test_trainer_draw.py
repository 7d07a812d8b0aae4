"""AppTest of the trainer's "Draw and classify" section.

The canvas is a custom component, which AppTest cannot draw on: the tests replace the
component (``ui.drawing._component``) by a stand-in that returns what the browser would send
(an RGBA array from Pillow, or nothing), so everything after the canvas runs for real: the empty
sentence, the preview, each net's softmax and the feature maps of every conv block, and the
one-click default network. The canvas itself is driven in Chromium (tests/browser/test_drawing.py).
"""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n, models
from cnnviz.lessons import drawing as D
from tests.helpers import APP, STROKES, errors_of, lazy_parts, stroke_canvas


def canvas(strokes, **kw):
    return stroke_canvas(strokes, width=D.BRUSH["shapes"], side=D.CANVAS_SIDE, **kw)


def open_trainer(lang: str, state: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    for key in lazy_parts():  # every part drawn on demand open, as a student would have it
        at.session_state[key] = True
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page("pages/trainer.py").run()
    assert errors_of(at) == []
    return at


def job(at):
    return at.session_state["_tr_job"] if "_tr_job" in at.session_state else None  # noqa: SIM401


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def d(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"draw.{key}", lang, **kw)


def chart_titles(at) -> list[str]:
    return [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "").replace("<br>", "")
            for c in at.get("plotly_chart")]


def train(at, button: str = "tr_draw_train") -> None:
    at.button(key=button).click().run()
    assert errors_of(at) == []
    end = time.monotonic() + 180
    while time.monotonic() < end and not (job(at) is not None and job(at).finished):
        time.sleep(0.5)
        at.run()
    at.run()
    assert job(at) is not None and job(at).finished


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_net_then_one_click_then_draw_and_classify(fake_canvas, lang):
    at = open_trainer(lang, state={"tr_epochs": 1})
    assert d("no_net", lang) in texts(at)
    train(at)
    assert job(at).members[0].spec == models.DEFAULT_SPEC
    # the net exists; the canvas is still empty: one sentence, no chart of the drawing
    assert i18n.t("errors.draw_empty", lang) in texts(at)
    assert d("preview_title", lang, s=16) not in chart_titles(at)
    assert fake_canvas.calls[-1]["stroke_width"] == D.BRUSH["shapes"]
    assert fake_canvas.calls[-1]["width"] == D.CANVAS_SIDE

    fake_canvas.image = canvas([STROKES[1][0]])  # a vertical stroke
    at.run()
    assert errors_of(at) == []
    titles = chart_titles(at)
    assert d("preview_title", lang, s=16) in titles
    assert d("maps_title", lang, b=1, name="relu1", c=8, h=16, w=16) in titles
    assert d("maps_title", lang, b=2, name="relu2", c=16, h=8, w=8) in titles
    relu = i18n.t("trainer.act_relu", lang)
    said = [n for n in models.dataset("shapes").class_names(lang)
            if d("verdict", lang, guess=n, p="X", act=relu).split("X")[0] in texts(at)]
    assert len(said) == 1, said  # one answer, in words, in this language

    fake_canvas.image = canvas([], bg=(0, 0, 0, 255))  # cleared: black again
    at.run()
    assert i18n.t("errors.draw_empty", lang) in texts(at)
    assert d("preview_title", lang, s=16) not in chart_titles(at)


def test_white_canvas_is_a_sentence_not_a_traceback(fake_canvas):
    at = open_trainer("en", state={"tr_epochs": 1})
    train(at)
    fake_canvas.image = canvas([], bg=(255, 255, 255, 255))
    at.run()
    assert errors_of(at) == [] and not at.exception
    assert i18n.t("errors.draw_empty", "en") in texts(at)


def test_the_race_answers_side_by_side(fake_canvas):
    """Both nets of a ReLU-vs-sigmoid race read the same drawing, each with its own maps."""
    at = open_trainer("en", state={"tr_epochs": 1})
    train(at, "tr_start_compare")
    fake_canvas.image = canvas([STROKES[2][1]])  # a turn
    at.run()
    assert errors_of(at) == []
    acts = {m.spec["activation"] for m in job(at).members}
    assert acts == {"relu", "sigmoid"}
    for act in acts:
        assert d("verdict", "en", guess="X", p="Y", act=i18n.t(f"trainer.act_{act}", "en")
                 ).split("X")[0] in texts(at)
    titles = chart_titles(at)
    assert titles.count(d("maps_title", "en", b=1, name="relu1", c=8, h=16, w=16)) == 1
    assert titles.count(d("maps_title", "en", b=1, name="sigmoid1", c=8, h=16, w=16)) == 1
    assert titles.count(i18n.t("trainer.softmax_title", "en")) >= 2
