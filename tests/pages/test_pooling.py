"""The pooling page in AppTest: widgets, invalid settings, both languages, and the numbers shown
checked against the engine (pool2d_forward and the argmax in its cache)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import functional as F
from cnnviz import i18n, images
from cnnviz.lessons import pooling as pool_math
from cnnviz.viz import style
from tests.helpers import decode, errors_of, open_page

PAGE = "pages/pooling.py"


def open_pool(lang: str = "en", state: dict | None = None) -> AppTest:
    return open_page(PAGE, lang, state)


def specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def chart(at, title: str) -> dict:
    found = [s for s in specs(at) if s["layout"].get("title", {}).get("text") == title]
    assert len(found) == 1, [s["layout"].get("title", {}).get("text") for s in specs(at)]
    return found[0]


def trace(spec: dict, name: str) -> dict:
    return next(tr for tr in spec["data"] if tr.get("name") == name)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def check_step_charts(at, grid: np.ndarray, f: int, s: int, p: int) -> None:
    """Both step-through charts show the engine's output; every max frame marks the engine's
    argmax and its output cell."""
    out_max, cache = F.pool2d_forward(grid, f, s, p, mode="max")
    out_avg, _ = F.pool2d_forward(grid, f, s, p, mode="avg")
    rows, cols = F.pool2d_argmax(cache)
    ho, wo = out_max.shape
    for title, out in (("Max pooling", out_max), ("Average pooling", out_avg)):
        spec = chart(at, title)
        np.testing.assert_allclose(decode(trace(spec, "output")["z"]), out)
        assert len(spec["frames"]) == ho * wo
        for k, frame in enumerate(spec["frames"]):
            i, j = divmod(k, wo)
            shapes = {sh["name"]: sh for sh in frame["layout"]["shapes"]}
            win, cell = shapes["window"], shapes["output"]
            assert (win["x0"] + 0.5, win["y0"] + 0.5) == (j * s, i * s)
            assert (cell["x0"] + 0.5, cell["y0"] + 0.5) == (j, i)
            text = shapes["formula"]["label"]["text"]
            assert text.endswith(f"= {style.fmt(out[i, j])}"), text
            if title == "Max pooling":
                ch = shapes["chosen"]
                r = (ch["y0"] + ch["y1"]) / 2 - p
                c = (ch["x0"] + ch["x1"]) / 2 - p
                assert (round(r), round(c)) == (rows[i, j], cols[i, j])
                assert grid[rows[i, j], cols[i, j]] == out[i, j]
            else:
                assert "chosen" not in shapes


def test_default_page_shows_the_article_map_with_engine_values():
    at = open_pool()
    assert at.title[0].value.startswith("Pooling")
    check_step_charts(at, pool_math.ARTICLE_4X4, 2, 2, 0)
    assert any("= **2**" in m.value for m in at.markdown)  # output size formula, substituted
    assert metrics(at)["Parameters"] == "0"
    assert not at.warning


def test_changing_window_stride_and_padding():
    at = open_pool()
    at.number_input(key="pool_window").set_value(3)
    at.number_input(key="pool_stride").set_value(1)
    at.number_input(key="pool_padding").set_value(1).run()
    assert errors_of(at) == [] and not at.warning
    check_step_charts(at, pool_math.ARTICLE_4X4, 3, 1, 1)
    # padding shows as -inf for max pooling, 0 for average pooling
    assert "−∞" in np.array(trace(chart(at, "Max pooling"), "padding")["text"]).ravel().tolist()
    assert any("⌊(4 + 2·1 − 3) / 1⌋ + 1 = **4**" in m.value for m in at.markdown)


def test_stride_that_leaves_a_rest_is_explained():
    at = open_pool()
    at.selectbox(key="pool_example").set_value("random").run()
    at.number_input(key="pool_window").set_value(3)
    at.number_input(key="pool_stride").set_value(2).run()
    check_step_charts(at, pool_math.example_maps()["random"], 3, 2, 0)
    assert any("leaves 1" in m.value for m in at.markdown)


def test_choosing_the_turn_example_keeps_three():
    at = open_pool()
    at.selectbox(key="pool_example").set_value("turn").run()
    # the example brings its own setting: one 3x3 window over the 3x3 map
    assert at.number_input(key="pool_window").value == 3
    assert at.number_input(key="pool_stride").value == 1
    fmap = pool_math.turn_example()["fmap"]
    check_step_charts(at, fmap, 3, 1, 0)
    spec = chart(at, "Max pooling")
    assert decode(trace(spec, "output")["z"]).tolist() == [[3.0]]


def test_article_section_shows_the_turn_example_and_the_4x4_map():
    at = open_pool()
    turn_max = chart(at, "3×3 max pooling")
    assert decode(turn_max["data"][0]["z"]).tolist() == [[3.0]]
    assert turn_max["data"][0]["text"] == [["3"]]
    assert any("keeps exactly **3**" in m.value for m in at.markdown)
    fmap = chart(at, "Feature map")
    box = fmap["layout"]["shapes"][0]  # the kept value is marked where the engine found it
    assert ((box["y0"] + box["y1"]) / 2,
            (box["x0"] + box["x1"]) / 2) == pool_math.turn_example()["argmax"]
    marked = chart(at, "4×4 map (kept values marked)")["layout"]["shapes"]
    _, cache = F.pool2d_forward(pool_math.ARTICLE_4X4, 2, 2)
    rows, cols = F.pool2d_argmax(cache)
    centres = sorted(((s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) for s in marked)
    assert centres == sorted(zip(rows.ravel().tolist(), cols.ravel().tolist(), strict=True))


def test_edited_cell_changes_the_pooled_values():
    edit = {"edited_rows": {1: {"2": 10.0}}, "added_rows": [], "deleted_rows": []}
    at = open_pool(state={"pool_grid_article": edit})
    grid = pool_math.ARTICLE_4X4.copy()
    grid[1, 1] = 10
    check_step_charts(at, grid, 2, 2, 0)
    assert decode(trace(chart(at, "Max pooling"), "output")["z"])[0, 0] == 10


def test_empty_cell_keeps_the_last_valid_map():
    edit = {"edited_rows": {0: {"1": None}}, "added_rows": [], "deleted_rows": []}
    at = open_pool(state={"pool_grid_article": edit})
    assert len(at.warning) == 1 and "not numbers" in at.warning[0].value
    check_step_charts(at, pool_math.ARTICLE_4X4, 2, 2, 0)


@pytest.mark.parametrize(
    ("state", "needle"),
    [({"pool_window": 8}, "does not fit in a 4×4 map"),
     ({"pool_window": 2, "pool_padding": 2}, "more than half"),
     ({"pool_window": 5, "pool_padding": 0}, "does not fit")],
)
def test_invalid_geometry_gets_one_sentence_and_the_page_goes_on(state, needle):
    at = open_pool()
    for key, value in state.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert errors_of(at) == []
    assert len(at.warning) == 1 and needle in at.warning[0].value
    assert not any(s["layout"].get("title", {}).get("text") == "Max pooling" for s in specs(at))
    # the rest of the page still works
    assert metrics(at)["Parameters"] == "0"
    chart(at, "3×3 max pooling")


@pytest.mark.parametrize(("lang", "needle"), [("en", "(it was 0)"), ("zh", "刚才是 0")])
def test_stride_zero_from_a_link_is_explained_and_replaced(lang, needle):
    at = open_pool(lang, state={"pool_stride": 0, "pool_fm_window": 99})
    texts = [w.value for w in at.warning]
    assert len(texts) == 2 and needle in texts[0], texts
    assert at.number_input(key="pool_stride").value == 2
    assert at.number_input(key="pool_fm_window").value == 2
    assert len(at.get("plotly_chart")) >= 10


def lesson_gray(at) -> np.ndarray:
    """The picture the page works on, rebuilt the way the page builds it."""
    img = at.session_state["image"]["array"]
    work = images.resize_to_working(img, 256)
    gray = images.to_gray(work) if work.ndim == 3 else work
    return np.ascontiguousarray(images.resize_to_working(gray, 128), dtype=np.float32)


def test_feature_maps_shapes_ratio_and_parameters():
    at = open_pool()
    gray = lesson_gray(at)
    h, w = gray.shape
    m = metrics(at)
    assert m["Shape in (C × H × W)"] == f"5 × {h} × {w}"
    assert m["Shape out"] == f"5 × {h // 2} × {w // 2}"
    assert m["Parameters"] == "0"
    ratio = (h * w) / ((h // 2) * (w // 2))
    assert m["Compression"] == f"{style.fmt(ratio)}×"
    at.number_input(key="pool_fm_window").set_value(4)
    at.number_input(key="pool_fm_stride").set_value(4)
    at.multiselect(key="pool_fm_kernels").set_value(["sobel_x", "outline"]).run()
    m = metrics(at)
    assert m["Shape in (C × H × W)"] == f"2 × {h} × {w}"
    assert m["Shape out"] == f"2 × {h // 4} × {w // 4}"
    assert any("2 slices in, 2 maps out" in c.value for c in at.caption)


def test_no_kernel_is_a_sentence_not_an_error():
    at = open_pool()
    at.multiselect(key="pool_fm_kernels").set_value([]).run()
    assert errors_of(at) == []
    assert any("at least one kernel" in w.value for w in at.warning)
    assert any("needs at least one kernel" in i.value for i in at.info)
    chart(at, "Max pooling")  # the step-through above is untouched


def test_tolerance_numbers_are_the_measured_ones():
    at = open_pool()
    gray = lesson_gray(at)
    names = list(pool_math.KERNELS)
    for shift, direction in ((0, "right"), (1, "right"), (3, "down")):
        at.slider(key="pool_shift").set_value(shift)
        at.selectbox(key="pool_shift_dir").set_value(direction).run()
        tol = pool_math.tolerance(gray, names, 2, 2, direction)
        m = metrics(at)
        assert m["Feature maps changed"] == f"{style.fmt(100 * tol['feature'][shift])}%"
        assert m["After max pooling"] == f"{style.fmt(100 * tol['max'][shift])}%"
        assert m["After average pooling"] == f"{style.fmt(100 * tol['avg'][shift])}%"
        curve = chart(at, "How much the maps change when the picture moves")
        np.testing.assert_allclose(decode(curve["data"][1]["y"]), 100 * tol["max"])
    assert tol["max"][1] < tol["feature"][1]


def test_global_pooling_is_one_number_per_slice():
    at = open_pool()
    maps = pool_math.feature_stack(lesson_gray(at), list(pool_math.KERNELS))
    spec = chart(at, "Global pooling of your feature maps")
    np.testing.assert_allclose(decode(spec["data"][0]["y"]), maps.max(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(decode(spec["data"][1]["y"]), maps.mean(axis=(1, 2)), rtol=1e-5)
    assert any("global max pooling gives 8" in m.value for m in at.markdown)


@pytest.mark.parametrize("side", [3, 5, 9])
def test_a_tiny_picture_gets_sentences_not_errors(side):
    rng = np.random.default_rng(side)
    tiny = {"array": rng.random((side, side)).astype(np.float32), "label": "tiny.png",
            "orig_size": (side, side), "notes": [], "serial": 1}
    at = open_pool(state={"image": tiny, "pool_fm_window": 4, "pool_fm_stride": 4})
    problems = [w.value for w in at.warning] + [i.value for i in at.info]
    if side < 4:  # the window does not fit the picture: one sentence, the rest goes on
        assert any("does not fit" in p for p in problems), problems
    if side - pool_math.MAX_SHIFT < 4:  # nor the shifted crops: the tolerance part says so
        assert any("needs at least one kernel and a window that fits" in p for p in problems)
    else:
        assert "Feature maps changed" in metrics(at)
    assert not any("{" in p for p in problems)  # every placeholder filled
    chart(at, "Max pooling")


def test_chinese_page():
    at = open_pool("zh")
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)
    intro = at.markdown[0].value
    for term in ("池化（pooling）", "最大池化（max pooling）", "平均池化（average pooling）",
                 "下采样（down-sampling）", "特征图（feature map）"):
        assert term in intro, term
    spec = chart(at, "最大池化")
    assert spec["frames"][0]["layout"]["shapes"][-1]["label"]["text"].startswith("第 1/4 步")
    zh_params = i18n.t("common.parameters", "zh")
    assert metrics(at)[zh_params] == "0"
    at.number_input(key="pool_window").set_value(8).run()
    assert errors_of(at) == []
    assert "放不进" in at.warning[0].value


def test_every_catalogue_key_built_at_run_time_exists():
    keys = [f"pooling.example_{k}" for k in pool_math.example_maps()]
    keys += [f"pooling.kernel_{k}" for k in pool_math.KERNELS]
    keys += [f"pooling.dir_{d}" for d in pool_math.DIRECTIONS]
    keys += [f"pooling.err_{c}" for c in ("map", "window", "stride", "padding", "padding_half",
                                          "too_big", "range")]
    keys += [f"pooling.{m}_pooling" for m in ("max", "avg")]
    keys += [f"pooling.tol_{m}" for m in ("feature", "max", "avg")]
    assert [k for k in keys if not i18n.has(k)] == []
    # every geometry problem's sentence can be filled from the params check_geometry returns
    for bad in ((0, 4, 1, 1, 0), (4, 4, 0, 1, 0), (4, 4, 2, 0, 0), (4, 4, 2, 1, -1),
                (4, 4, 2, 1, 2), (4, 4, 9, 1, 0)):
        code, params = pool_math.check_geometry(*bad)
        for lang in i18n.LANGS:
            text = i18n.t(f"pooling.err_{code}", lang, **params)
            assert "{" not in text, text
