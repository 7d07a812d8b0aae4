"""The backprop page in AppTest, in both languages: every control, the numbers on screen equal to
the engine's backward pass, the steps and reset, bad learning rates as one sentence (no NaN)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.lessons import backprop as B
from cnnviz.numbers import MINUS, fmt
from tests.helpers import APP, decode, errors_of, lazy_parts

PAGE = "pages/backprop.py"


def open_page(lang: str = "en", state: dict | None = None, *, opened: bool = True) -> AppTest:
    """The page with every part drawn on demand turned on (``opened``), as a student who has
    scrolled through it; False: the first view."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    for key in lazy_parts() if opened else ():
        if key.startswith("bp_"):
            at.session_state[key] = True
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert errors_of(at) == []
    return at


def chart(at, key: str) -> dict:
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, key
    return json.loads(found[0].proto.spec)


def z(at, key: str, trace: int = 0) -> np.ndarray:
    return decode(chart(at, key)["data"][trace]["z"]).astype(np.float64)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def number(text: str) -> float:
    return float(text.replace(MINUS, "-"))


def t(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"backprop.{key}", lang, **kw)


def shown_text(at) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption]
    parts += [m.value for m in at.metric] + [w.value for w in at.warning]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_shows_every_section_with_the_engines_numbers(lang):
    at = open_page(lang)
    assert at.title[0].value == t("title", lang)
    headers = [h.value for h in at.header]
    for key in ("fwd_title", "bwd_title", "upd_title", "gc_title"):
        assert t(key, lang) in headers
    tr = B.current(B.Setup())
    np.testing.assert_allclose(z(at, "bp_x"), tr.x)
    np.testing.assert_allclose(z(at, "bp_dlogits"), [tr.probs, tr.onehot, tr.d_logits])
    np.testing.assert_allclose(z(at, "bp_fc_dw"), tr.fc_dw.T)
    np.testing.assert_allclose(z(at, "bp_flat"), np.stack([tr.flat, tr.d_flat], axis=1))
    for k in range(2):
        np.testing.assert_allclose(z(at, f"bp_dpooled_{k}"), tr.d_pooled[k])
        np.testing.assert_allclose(z(at, f"bp_da_{k}"), tr.d_a[k])
        np.testing.assert_allclose(z(at, f"bp_relu_l_{k}"), tr.local[k])
        np.testing.assert_allclose(z(at, f"bp_relu_r_{k}"), tr.d_z[k])
        # the winners of max pooling are outlined: one per 2x2 window
        outlined = [s for s in chart(at, f"bp_da_{k}")["layout"]["shapes"]
                    if s["type"] == "rect"]
        assert len(outlined) == 4
    np.testing.assert_allclose(z(at, "bp_conv_dw"), tr.conv_dw[0])
    np.testing.assert_allclose(z(at, "bp_dx"), tr.d_x)
    slide = chart(at, "bp_slide")
    assert len(slide["frames"]) == 16
    last = decode(slide["frames"][-1]["data"][0]["z"])
    np.testing.assert_allclose(last, tr.conv_dw[0], rtol=1e-12)
    m = metrics(at)
    assert m[t("loss", lang)] == fmt(tr.loss)
    assert m[t("gc_backprop", lang)] == fmt(tr.conv_dw[0, 0, 0], 9)
    # Chinese: the terms with the English word in parentheses, once
    if lang == "zh":
        text = (t("intro", "zh") + t("fwd_intro", "zh")).replace("**", "")
        for term in ("反向传播（backpropagation）", "梯度（gradient）", "卷积核（kernel）",
                     "特征图（feature map）", "池化（pooling）",
                     "全连接层（fully connected layer）"):
            assert term in text


def test_every_control_has_help_and_changes_the_page():
    at = open_page()
    for w in [*at.selectbox, *at.number_input, *at.radio, *at.select_slider, *at.button]:
        assert w.help, w.key
    at.selectbox(key="bp_example").set_value("vertical").run()
    at.number_input(key="bp_seed").set_value(7).run()
    assert errors_of(at) == []
    tr = B.current(B.Setup(example=1, seed=7))
    np.testing.assert_allclose(z(at, "bp_x"), tr.x)
    at.radio(key="bp_slide_k").set_value(2).run()
    np.testing.assert_allclose(z(at, "bp_conv_dw"), tr.conv_dw[1])
    at.radio(key="bp_pool").set_value("avg").run()
    tr = B.current(B.Setup(example=1, seed=7, pool="avg"))
    np.testing.assert_allclose(z(at, "bp_da_0"), tr.d_a[0])
    assert t("pool_rule_avg") in shown_text(at)
    assert not [s for s in chart(at, "bp_da_0")["layout"]["shapes"] if s["type"] == "rect"]
    at.radio(key="bp_kernels").set_value(1).run()
    assert errors_of(at) == []
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("-bp_da_1")]
    assert len(at.selectbox(key="bp_weight").options) == 9
    at.selectbox(key="bp_weight").set_value("1-2-1").run()
    at.select_slider(key="bp_eps").set_value(1e-6).run()
    g = B.grad_check(B.Setup(example=1, seed=7, kernels=1, pool="avg"), (), 0, 2, 1, 1e-6)
    m = metrics(at)
    assert number(m[t("gc_numeric")]) == pytest.approx(g["numeric"], abs=1e-8)
    assert number(m[t("gc_backprop")]) == pytest.approx(g["backprop"], abs=1e-8)
    assert errors_of(at) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_three_steps_lower_the_loss_and_reset_goes_back(lang):
    at = open_page(lang)
    seen = [metrics(at)[t("loss_now", lang)]]
    for _ in range(3):
        at.button(key="bp_step").click().run()
        assert errors_of(at) == []
        seen.append(metrics(at)[t("loss_now", lang)])
    assert seen == [fmt(v) for v in B.losses(B.Setup(), (B.DEFAULT_LR,) * 3)]
    assert metrics(at)[t("steps_taken", lang)] == "3"
    curve = chart(at, "bp_curve")["data"][0]["y"]
    assert len(decode(curve) if isinstance(curve, dict) else curve) == 4
    # the forward values shown are those after the steps
    np.testing.assert_allclose(z(at, "bp_kernel_0"),
                               B.current(B.Setup(), (B.DEFAULT_LR,) * 3).kernel[0])
    at.button(key="bp_reset").click().run()
    assert metrics(at)[t("steps_taken", lang)] == "0"
    assert metrics(at)[t("loss_now", lang)] == seen[0]
    # a new setting starts over too
    at.button(key="bp_step").click().run()
    at.number_input(key="bp_seed").set_value(6).run()
    assert metrics(at)[t("steps_taken", lang)] == "0"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lr, code", [(0.0, "lr_zero"), (-0.5, "lr_negative"),
                                      (1e6, "lr_huge"), (11.0, "lr_huge")])
def test_bad_learning_rate_is_one_sentence_and_no_nan(lang, lr, code):
    at = open_page(lang)
    at.number_input(key="bp_lr").set_value(lr).run()
    assert errors_of(at) == []
    warnings = [w.value for w in at.warning]
    assert warnings == [t(f"err_{code}", lang, max=fmt(B.MAX_LR))]
    assert at.button(key="bp_step").disabled
    assert not re.search(r"\bnan\b", shown_text(at), re.IGNORECASE)
    # the gradient check below still works
    assert t("gc_backprop", lang) in metrics(at)
    # a good value brings the update back
    at.number_input(key="bp_lr").set_value(0.2).run()
    assert [w.value for w in at.warning] == []
    assert t("loss_next", lang) in metrics(at)


def test_a_big_but_allowed_rate_reports_the_step_honestly():
    at = open_page(state={})
    at.number_input(key="bp_lr").set_value(B.MAX_LR).run()
    u = B.step(B.Setup(), (), B.MAX_LR)
    text = shown_text(at)
    assert t(f"status_{u.status}", lr=fmt(B.MAX_LR)) in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_dead_kernel_preset_shows_relu_blocking_everything():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["preset"] = "dead_kernel"
    at.query_params["lang"] = "en"
    at.switch_page(PAGE).run()
    assert errors_of(at) == []
    tr = B.current(B.Setup(example=2, seed=0, kernels=2, pool="max"))
    assert np.all(tr.z[1] <= 0)  # the preset's point: kernel 2 never fires on this stroke
    np.testing.assert_array_equal(z(at, "bp_relu_l_1"), 0)
    np.testing.assert_array_equal(z(at, "bp_conv_dw"), 0)  # the slide follows kernel 2
    assert np.any(z(at, "bp_da_1") != 0)  # the gradient did arrive, ReLU stopped it


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_first_view_is_the_forward_pass_and_each_part_opens_alone(lang):
    """The page opens with the forward pass only (all sections mount ~30 charts); each later
    section shows its heading, its text and a switch, and turning one on draws that one."""
    at = open_page(lang, opened=False)
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"bp_x", "bp_probs"} <= keys
    assert not keys & {"bp_dlogits", "bp_slide", "bp_curve", "bp_sig_bars"}, keys
    parts = ["bp_bwd_open", "bp_upd_open", "bp_sig_open", "bp_gc_open"]
    assert [at.toggle(key=k).value for k in parts] == [False] * 4
    at.toggle(key="bp_upd_open").set_value(True).run()
    assert errors_of(at) == []
    keys = {c.key for c in at.get("plotly_chart")}
    assert "bp_curve" in keys and "bp_slide" not in keys
    assert at.button(key="bp_step") is not None
