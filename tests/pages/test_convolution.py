"""The convolution page in AppTest: the article's example on screen, the size formula and its
messages, the editable grids, the image kernel editor (presets, edited cells, bad cells),
several kernels, flipping, the colour example, both languages."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import scipy.signal

from cnnviz import i18n, images, numbers
from cnnviz.lessons import conv as conv_math
from tests.helpers import errors_of, run_page

PAGE = "pages/convolution.py"
SMALL = {"work_size": 64}  # maps of at most 64x64 travel as plain heatmaps: easy to read back


def run(lang="en", **state):
    at = run_page(PAGE, lang, state={**SMALL, **state})
    assert errors_of(at) == []
    return at


def chart(at, key: str) -> dict:
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith("-" + key):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key}")


def has_chart(at, key: str) -> bool:
    return any(c.proto.id.endswith("-" + key) for c in at.get("plotly_chart"))


def z_of(trace: dict) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):  # plotly's typed-array encoding
        arr = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return arr.reshape([int(s) for s in str(z["shape"]).split(",")])
    return np.asarray(z, dtype=np.float64)


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(parts)


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def latex(at) -> str:
    return "\n".join(x.value for x in at.latex)


def edit(key: str, row: int, col: int, value) -> dict:
    """A data_editor edit as the frontend sends it (columns are named 1..n)."""
    return {key: {"edited_rows": {row: {str(col + 1): value}}, "added_rows": [],
                  "deleted_rows": []}}


def working_chw(at) -> np.ndarray:
    arr = images.resize_to_working(at.session_state["image"]["array"], 64)
    return images.to_chw(arr).astype(np.float64)


def corr(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Reference: scipy's correlate2d per channel, summed (what a CNN computes)."""
    return sum(scipy.signal.correlate2d(x[c], kernel[c], mode="valid") for c in range(len(x)))


def fmap(at, k: int = 0) -> np.ndarray:
    return z_of(chart(at, f"conv_fmap_{k}")["data"][0])


# --------------------------------------------------------------------------------------------
# 1 + 2: sliding and sizes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_article_example_on_screen(lang):
    at = run(lang)
    spec = chart(at, "conv_slide_chart")
    assert len(spec["frames"]) == 9
    out = z_of(spec["data"][-1])  # the feature map panel
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    notes = [a["text"] for a in spec["layout"]["annotations"]]
    first = [n for n in notes if "×" in n and "=" in n]
    assert first == ["1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"]
    # window and output cell share the highlight colour; later output cells are still covered
    shapes = spec["layout"]["shapes"]
    assert sum(s["line"]["color"] == "#e6007e" for s in shapes) == 2
    last = spec["frames"][-1]["layout"]["shapes"]
    assert sum(s.get("visible", True) for s in last) == 2, "no covered cells at the last stop"
    # Plotly merges shape arrays item by item: every frame has the same number of shapes
    assert len({len(f["layout"]["shapes"]) for f in spec["frames"]}) == 1
    assert "**4**" in texts(at) and "3×3" in texts(at)
    assert "= 3" in latex(at)


def test_speed_sets_the_frame_duration():
    at = run()
    durations = {}
    for speed in ("slow", "fast"):
        at.select_slider(key="conv_speed").set_value(speed).run()
        play = chart(at, "conv_slide_chart")["layout"]["updatemenus"][0]["buttons"][0]
        durations[speed] = play["args"][1]["frame"]["duration"]
    assert durations["slow"] > durations["fast"] > 0


def test_all_stops_are_written_out():
    at = run()
    listing = next(m.value for m in at.markdown if m.value.startswith("1. "))
    rows = listing.splitlines()
    assert len(rows) == 9
    ends = [int(r.rstrip("`").rsplit("= ", 1)[1]) for r in rows]
    assert ends == [4, 3, 4, 2, 4, 3, 2, 3, 4]


def test_stride_and_padding_update_formula_and_size():
    at = run()
    at.number_input(key="conv_stride").set_value(2).run()
    assert r"\dfrac{5 + 2 \times 0 - 3}{2} + 1" in latex(at) and latex(at).endswith("= 2\n$$")
    assert len(chart(at, "conv_slide_chart")["frames"]) == 4
    at.number_input(key="conv_padding").set_value(1).run()
    assert r"\dfrac{5 + 2 \times 1 - 3}{2} + 1" in latex(at)
    spec = chart(at, "conv_slide_chart")
    assert len(spec["frames"]) == 9 and z_of(spec["data"][-1]).shape == (3, 3)
    # the border of zeros is drawn as its own trace, 7x7 with the real 5x5 inside
    border = z_of(spec["data"][1])
    assert border.shape == (7, 7) and np.isnan(border[1:6, 1:6]).all()
    assert errors_of(at) == []


def test_stride_zero_explained_page_keeps_working():
    at = run()
    at.number_input(key="conv_stride").set_value(0).run()
    assert errors_of(at) == []
    assert any("never moves" in w for w in warnings(at))
    assert not has_chart(at, "conv_slide_chart")
    assert has_chart(at, "conv_rgb_chart") and has_chart(at, "conv_fmap_0")


def test_kernel_too_big_and_not_exact_messages():
    at = run()
    at.selectbox(key="conv_example").set_value("same5").run()
    assert "5×5" in texts(at)
    at.number_input(key="conv_padding").set_value(0).run()
    at.number_input(key="conv_dilation").set_value(2).run()
    msg = " ".join(warnings(at))
    assert "spans 9 cells" in msg and "padding 2 or more" in msg and "at most 3" in msg
    at.selectbox(key="conv_example").set_value("same4").run()
    at.number_input(key="conv_stride").set_value(2).run()
    info = " ".join(i.value for i in at.info)
    assert "3/2 is not a whole number" in info and "Stride 1" in info
    assert r"\lfloor 1.5 \rfloor + 1 = 2" in latex(at)
    assert errors_of(at) == []


@pytest.mark.parametrize(("name", "size"), [("symbolic", 3), ("same4", 4), ("same5", 5),
                                            ("stride2", 3)])
def test_examples_load_with_their_geometry(name, size):
    at = run()
    at.selectbox(key="conv_example").set_value(name).run()
    out = z_of(chart(at, "conv_slide_chart")["data"][-1])
    assert out.shape == (size, size)
    ex = conv_math.example(name)
    assert at.number_input(key="conv_padding").value == ex["padding"]
    assert at.number_input(key="conv_stride").value == ex["stride"]
    if name == "symbolic":
        notes = [a["text"] for a in chart(at, "conv_slide_chart")["layout"]["annotations"]]
        assert any(n.startswith("w1×0 + w2×1 + w3×4 + w4×5 =") for n in notes)


def test_teacher_edits_a_grid_cell():
    at = run(**edit("conv_grid_v0", 0, 0, 5.0))
    out = z_of(chart(at, "conv_slide_chart")["data"][-1])
    assert out[0, 0] == 8  # 4 - 1x1 + 5x1
    assert "**8**" in texts(at)


def test_bad_grid_cell_keeps_last_valid_values():
    at = run(**edit("conv_grid_v0", 1, 1, None))
    assert any("empty or not a number" in w for w in warnings(at))
    np.testing.assert_array_equal(z_of(chart(at, "conv_slide_chart")["data"][-1]),
                                  conv_math.ARTICLE_MAP)
    at = run(**edit("conv_kernel_v0", 0, 0, 1e9))
    assert any("±1000" in w for w in warnings(at))
    np.testing.assert_array_equal(z_of(chart(at, "conv_slide_chart")["data"][-1]),
                                  conv_math.ARTICLE_MAP)


def test_grid_resize():
    at = run()
    at.number_input(key="conv_rows").set_value(7).run()
    at.number_input(key="conv_ksize").set_value(2).run()
    out = z_of(chart(at, "conv_slide_chart")["data"][-1])
    assert out.shape == (6, 4)
    assert errors_of(at) == []


# --------------------------------------------------------------------------------------------
# 3: colour example
# --------------------------------------------------------------------------------------------


def test_rgb_example_depth_follows_kernels():
    at = run()
    spec = chart(at, "conv_rgb_chart")
    assert len(spec["frames"]) == 9  # 5x5, padding 1, stride 2 -> 3x3
    total = spec["layout"]["annotations"][-1]["text"].split("<br>")
    assert [ln[:2] for ln in total[:3]] == ["R:", "G:", "B:"] and "(bias)" in total[3]
    assert "3×3×2" in texts(at)
    at.number_input(key="conv_rgb_k").set_value(3).run()
    assert "3×3×3" in texts(at)
    at.selectbox(key="conv_rgb_follow").set_value(2).run()
    assert errors_of(at) == []
    ex = conv_math.rgb_example(0, 3)
    sl = conv_math.slide(ex["image"], ex["kernels"][2], ex["bias"][2], 2, 1)
    first = chart(at, "conv_rgb_chart")["layout"]["annotations"][-1]["text"]
    assert first.endswith(f"= {numbers.fmt(sl.stops[0].value)}")


# --------------------------------------------------------------------------------------------
# 4: your own picture
# --------------------------------------------------------------------------------------------


def test_default_kernel_is_sobel_x_on_the_colour_picture():
    at = run()
    x = working_chw(at)
    sobel = np.repeat(conv_math.kernel_preset("sobel_x")[None], 3, axis=0)
    np.testing.assert_allclose(fmap(at), corr(x, sobel), atol=1e-4)


def test_edited_kernel_cell_changes_the_map():
    at = run(**edit("conv_img_k0_c0_v0", 1, 2, 10.0))
    x = working_chw(at)
    ker = np.repeat(conv_math.kernel_preset("sobel_x")[None], 3, axis=0)
    ker[0, 1, 2] = 10.0
    np.testing.assert_allclose(fmap(at), corr(x, ker), atol=1e-3)


@pytest.mark.parametrize(("value", "text"), [(None, "empty or not a number"),
                                             (5000.0, "±1000")])
def test_bad_kernel_cell_message_and_last_valid_map(value, text):
    at = run(**edit("conv_img_k0_c1_v0", 0, 0, value))
    assert any(w.startswith("Kernel 1:") and text in w for w in warnings(at))
    sobel = np.repeat(conv_math.kernel_preset("sobel_x")[None], 3, axis=0)
    np.testing.assert_allclose(fmap(at), corr(working_chw(at), sobel), atol=1e-4)


@pytest.mark.parametrize("preset", ["gaussian", "sobel_y", "emboss", "identity"])
def test_presets_reach_the_map(preset):
    at = run()
    at.selectbox(key="conv_img_preset_0").set_value(preset).run()
    ker = np.repeat(conv_math.kernel_preset(preset)[None], 3, axis=0)
    np.testing.assert_allclose(fmap(at), corr(working_chw(at), ker), atol=1e-4)


def test_preset_size_target_channel_and_bias():
    at = run()
    at.selectbox(key="conv_img_preset_0").set_value("box").run()
    at.number_input(key="conv_img_size_0").set_value(5).run()
    at.selectbox(key="conv_img_target_0").set_value("G").run()
    at.number_input(key="conv_img_bias_0").set_value(0.5).run()
    x = working_chw(at)
    ker = np.zeros((3, 5, 5))
    ker[1] = 1 / 25
    np.testing.assert_allclose(fmap(at), corr(x, ker) + 0.5, atol=1e-4)
    # the editor shows the new 5x5 kernel under a fresh key
    assert at.data_editor(key="conv_img_k0_c1_v3").value.shape == (5, 5)


def test_gray_mode_several_kernels_and_flip():
    at = run()
    at.button_group(key="conv_img_mode").set_value("gray").run()
    at.number_input(key="conv_img_count").set_value(3).run()
    assert all(has_chart(at, f"conv_fmap_{k}") for k in range(3))
    gray = images.to_gray(images.resize_to_working(at.session_state["image"]["array"], 64))
    for k, name in enumerate(("sobel_x", "sobel_y", "gaussian")):
        np.testing.assert_allclose(fmap(at, k), corr(gray[None],
                                                     conv_math.kernel_preset(name)[None]),
                                   atol=1e-4)
    at.toggle(key="conv_flip").set_value(True).run()
    np.testing.assert_allclose(fmap(at, 0), -corr(gray[None],
                                                  conv_math.kernel_preset("sobel_x")[None]),
                               atol=1e-4)
    assert "differ" in texts(at)
    assert errors_of(at) == []


def test_pick_a_pixel_explains_its_value():
    at = run(conv_pick_r=5, conv_pick_c=7)
    m = fmap(at)
    title = next(s.value for s in at.subheader if "pixel" in s.value)
    assert "row 5, column 7" in title
    explained = next(t for t in texts(at).splitlines() if "plus bias" in t)
    assert f"**{numbers.fmt(m[5, 7])}**" in explained
    ex = chart(at, "conv_explain")
    assert len(ex["data"]) == 9  # window, kernel, products for R, G, B


def test_kernel_larger_than_the_picture_keeps_last_map():
    tiny = np.random.default_rng(1).random((5, 6, 3)).astype(np.float32)
    image = {"array": tiny, "label": "tiny.png", "orig_size": (6, 5), "notes": [], "serial": 99}
    at = run(image=image)
    before = fmap(at)
    assert before.shape == (3, 4)
    at.number_input(key="conv_img_size_0").set_value(7).run()
    msg = " ".join(warnings(at))
    assert "fits nowhere" in msg and "last valid feature map" in msg
    np.testing.assert_allclose(fmap(at), before)
    assert errors_of(at) == []


def test_grayscale_picture_offers_only_gray_mode():
    gray = np.random.default_rng(2).random((40, 50)).astype(np.float32)
    image = {"array": gray, "label": "g.png", "orig_size": (50, 40), "notes": [], "serial": 98}
    at = run(image=image)
    assert at.button_group(key="conv_img_mode").options == ["Grayscale"]
    np.testing.assert_allclose(fmap(at), corr(gray[None], conv_math.kernel_preset("sobel_x")[None]),
                               atol=1e-4)


def test_chinese_terms_with_english_on_first_mention():
    at = run("zh")
    intro = at.markdown[0].value.replace("**", "")
    for term in ("卷积核（kernel）", "特征图（feature map）", "步长（stride）", "填充（padding）"):
        assert term in intro
    assert re.search(r"[\u4e00-\u9fff]", at.header[0].value)


def test_switching_to_a_grayscale_picture_in_colour_mode():
    at = run()
    assert at.button_group(key="conv_img_mode").value == "color"
    gray = np.random.default_rng(3).random((30, 40)).astype(np.float32)
    at.session_state["image"] = {"array": gray, "label": "g.png", "orig_size": (40, 30),
                                 "notes": [], "serial": 97}
    at.run()
    assert errors_of(at) == []
    assert at.button_group(key="conv_img_mode").value == "gray"
    assert fmap(at).shape == (28, 38)


def test_one_pixel_high_map_and_mixed_kernel_sizes():
    tiny = np.random.default_rng(4).random((5, 6, 3)).astype(np.float32)
    image = {"array": tiny, "label": "t.png", "orig_size": (6, 5), "notes": [], "serial": 96}
    at = run(image=image, conv_img_count=2)
    at.number_input(key="conv_img_size_0").set_value(5).run()
    assert fmap(at, 0).shape == (1, 2) and fmap(at, 1).shape == (3, 4)
    at.selectbox(key="conv_pick_k").set_value(0).run()
    assert errors_of(at) == []
    assert [s.key for s in at.slider] == ["conv_pick_c"]  # no row to choose
    at.slider(key="conv_pick_c").set_value(1).run()
    assert "row 0, column 1" in next(s.value for s in at.subheader if "pixel" in s.value)
    at.selectbox(key="conv_pick_k").set_value(1).run()
    assert {s.key for s in at.slider} == {"conv_pick_r", "conv_pick_c"}
    assert errors_of(at) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stacked_animation_is_drawn_only_when_a_narrow_screen_asks(lang):
    """The projector, laptops and tablets see the side-by-side animation: the stacked twin is
    not sent (a hidden chart is drawn all the same, ~0.5 s more to open the page); a phone
    shows a button in its place, and after it the session draws both."""
    # the first view only: AppTest cannot replay the lower parts' translated select boxes
    at = run_page(PAGE, lang, state=SMALL, opened=False)
    assert has_chart(at, "conv_slide_chart") and not has_chart(at, "conv_slide_chart_narrow")
    show = at.button(key="show_narrow_conv_slide")
    assert show.label == i18n.t("common.show_narrow", lang)
    show.click().run()
    assert errors_of(at) == []
    wide, narrow = chart(at, "conv_slide_chart"), chart(at, "conv_slide_chart_narrow")
    assert len(wide["frames"]) == len(narrow["frames"]) > 1
    assert not any(b.key == "show_narrow_conv_slide" for b in at.button)
