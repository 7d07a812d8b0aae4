"""The guided lesson's questions are fair (issue 16, items 5 and 7): no answer is preselected,
none is on screen before Check, an empty answer asks for one, and the pictures are drawn the way
their titles say (brighter = larger; padding where the title says it is)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnviz.lessons import guided as L
from tests.helpers import decode, errors_of, run_page

PAGE = "pages/lesson.py"
#: Controls that carry the student's answer (the others set up the step).
ANSWERS = {"input": "lesson_answer_input", "activation": "lesson_answer_activation",
           "pooling": "lesson_pool_mode", "fc": "lesson_answer_fc",
           "training": "lesson_train_answer", "backprop": "lesson_answer_backprop"}
#: Choices that set a step up rather than answer it (the backprop step asks a number about the
#: pooling the student picks; either pick is a fair start).
SETUP = {"lesson_bp_mode"}


def open_step(step: str, lang: str = "en", **state):
    at = run_page(PAGE, lang, state={"lesson_step": step, **state})
    assert errors_of(at) == []
    return at


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def shown_text(at) -> str:
    """Every word and number on the page: texts, and every chart's cell labels and titles."""
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning")
             for e in getattr(at, kind)]
    for spec in charts(at):
        for tr in spec["data"]:
            parts += [str(v) for row in tr.get("text") or [] for v in
                      (row if isinstance(row, list) else [row])]
        parts.append(json.dumps(spec["layout"].get("title", ""), ensure_ascii=False))
    return "\n".join(parts)


def widget(at, key: str):
    for kind in ("radio", "selectbox", "number_input"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise AssertionError(key)


@pytest.mark.parametrize("step", L.STEPS)
def test_no_answer_is_preselected(step: str) -> None:
    at = open_step(step)
    if step in ANSWERS:
        assert widget(at, ANSWERS[step]).value is None
    for w in list(at.main.radio) + list(at.main.selectbox):  # every answer choice starts empty
        if w.key in SETUP:
            continue
        assert w.value is None, (step, w.key, w.value)


@pytest.mark.parametrize("mode", L.PREP_MODES)
def test_input_step_hides_the_asked_pixel_until_checked(mode: str) -> None:
    at = open_step("input")
    at.button_group(key="lesson_input_mode").set_value(mode).run()
    text = shown_text(at)
    assert "-80" not in text and "−80" not in text
    at.number_input(key="lesson_answer_input").set_value(-80).run()
    at.button(key="lesson_check_input").click().run()
    assert len(at.success) == 1
    if mode == "centred":
        assert "−80" in shown_text(at) or "-80" in shown_text(at)


@pytest.mark.parametrize("maps", [1, 2, 3, 4])
def test_fc_step_does_not_print_the_weight_count(maps: int) -> None:
    at = open_step("fc")
    at.slider(key="lesson_fc_maps").set_value(maps).run()
    weights = L.fc_step(maps)["weights"]
    assert str(weights) not in shown_text(at).replace(f"{weights}×", "")


def test_pooling_step_shows_no_pooled_value_before_a_choice() -> None:
    at = open_step("pooling")
    kept = [s for s in charts(at) if "1×1" in json.dumps(s["layout"].get("title", ""),
                                                          ensure_ascii=False)]
    assert kept and all("3" not in str(tr.get("text")) for s in kept for tr in s["data"])


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("step", ["input", "activation", "fc", "pooling", "training"])
def test_an_empty_answer_asks_for_one(step: str, lang: str) -> None:
    at = open_step(step, lang)
    at.button(key=f"lesson_check_{step}").click().run()
    assert len(at.warning) == 0 and len(at.success) == 0, [w.value for w in at.warning]
    assert len(at.info) >= 1
    from cnnviz import i18n
    key = "lesson.need_choice" if step in ("pooling", "training") else "lesson.need_number"
    assert any(i18n.t(key, lang) in i.value for i in at.info)


def _colour_at(trace: dict, z: float) -> float:
    """Luminance (0 black .. 1 white) the heatmap gives the value ``z``."""
    lo, hi = trace["zmin"], trace["zmax"]
    u = (z - lo) / (hi - lo)
    stops = trace["colorscale"]
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if a <= u <= b:
            ga = int(ca.lstrip("#")[:2], 16) / 255
            gb = int(cb.lstrip("#")[:2], 16) / 255
            return ga + (gb - ga) * (u - a) / (b - a)
    raise AssertionError(u)


def test_the_patch_is_brighter_where_the_pixel_is_larger() -> None:
    at = open_step("input")
    tr = charts(at)[0]["data"][0]
    assert _colour_at(tr, 180) > _colour_at(tr, 20)


@pytest.mark.parametrize("padding", [1, 2])
def test_padding_is_drawn_as_the_title_says(padding: int) -> None:
    """Padding cells are drawn in their own way (the title names it), never like a pixel."""
    at = open_step("conv")
    at.number_input(key="lesson_conv_padding").set_value(padding).run()
    spec = charts(at)[0]
    title = json.dumps(spec["layout"]["title"], ensure_ascii=False)
    assert "dashed" in title and "grey" not in title
    tr = spec["data"][0]
    z = np.array(decode(tr["z"]), dtype=float)
    n = z.shape[0]
    ring = np.zeros((n, n), bool)
    ring[:padding], ring[-padding:], ring[:, :padding], ring[:, -padding:] = True, True, True, True
    assert np.isnan(z[ring]).all() and not np.isnan(z[~ring]).any()
    dashed = {(round(s["y0"] + 0.5), round(s["x0"] + 0.5)) for s in spec["layout"]["shapes"]
              if s.get("line", {}).get("dash") == "dash"}
    assert dashed == set(zip(*np.nonzero(ring), strict=True))

