"""The preprocessing page in AppTest: its widgets, both languages, and degenerate data.

Charts are found by their widget key (the element id ends with it) and read back from their
Plotly spec; covariance matrices from the st.latex elements, in stage order.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnnviz import i18n
from tests.helpers import decode, errors_of, run_page

PAGE = "pages/preprocessing.py"
STAGES = ("original", "centered", "normalized", "pca", "whitened")
IDENTITY_2 = [["1.00", "0.00"], ["0.00", "1.00"]]
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(lang: str = "en", **state):
    """Open the preprocessing page in ``lang`` with ``state`` seeded; it must run clean."""
    at = run_page(PAGE, lang, state=state)
    assert errors_of(at) == []
    return at


def chart(at, key: str) -> dict:
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)]
    assert len(found) == 1, key
    return json.loads(found[0].proto.spec)


def story_notes(at) -> list[list[str]]:
    """The lines printed under each panel of the story figure (its covariance, then its mean),
    in stage order; none when the figure is not drawn."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-prep_story")]
    if not found:
        return []
    notes = [a for a in json.loads(found[0].proto.spec)["layout"]["annotations"]
             if a.get("yref", "").endswith(" domain")]
    return [a["text"].replace("\u00a0", " ").split("<br>") for a in notes]


def matrices(at) -> list[list[list[str]]]:
    """Every covariance matrix shown, as rows of printed entries: the story's (printed under
    its panels), then those of the st.latex elements in page order."""
    out = []
    for lines in story_notes(at):
        rows = [re.split(r"[⎛⎜⎝⎞⎟⎠()]", line)[1].split() for line in lines[:-1]]
        out.append(rows)
    for el in at.latex:
        body = re.search(r"\\begin\{pmatrix\}(.*)\\end\{pmatrix\}", el.value, re.S).group(1)
        out.append([[c.strip() for c in row.split("&")] for row in body.split(r"\\")])
    return out


def texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def finite_ranges(spec: dict) -> bool:
    """Every axis range given is two finite numbers, low < high (no NaN or empty axes)."""
    for name, axis in spec["layout"].items():
        if re.match(r"[xy]axis\d*$", name) and "range" in axis:
            lo, hi = axis["range"]
            if not (np.isfinite([lo, hi]).all() and lo < hi):
                return False
    return True


def story_points(at, key: str = "prep_story") -> dict[str, np.ndarray]:
    """Each stage's points: from the story figure (a panel per stage), or with ``key=None``
    from the per-stage figures a phone asks for."""
    pts = {}
    for i, name in enumerate(STAGES):
        trace = (chart(at, key)["data"][i] if key else chart(at, f"prep_plot_{name}")["data"][0])
        pts[name] = np.column_stack([decode(trace["x"]), decode(trace["y"])])
    return pts


def panel_axes(spec: dict, i: int) -> tuple[dict, dict]:
    """The x and y axis of panel ``i`` of the story figure."""
    sx = "" if i == 0 else str(i + 1)
    return spec["layout"][f"xaxis{sx}"], spec["layout"][f"yaxis{sx}"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_draws_every_stage_and_whitening_reads_identity(lang):
    at = run(lang)
    assert bool(CJK.search(at.title[0].value)) == (lang == "zh")
    covs = matrices(at)
    assert len(covs) == 5 and at.latex == []  # printed under the panels, in the one figure
    assert covs[4] == IDENTITY_2  # whitened
    notes = story_notes(at)
    assert all(n[0].startswith("Σ = ⎛") and n[1].startswith("    ⎝") for n in notes), notes
    assert notes[1][2] == i18n.t("preprocessing.mean_caption", lang, mx="0", my="0")  # centred
    assert covs[3][0][1] == covs[3][1][0] and float(covs[3][0][1]) == 0  # PCA: diagonal
    assert covs[0] == covs[1]  # centring does not change the covariance
    assert float(covs[0][0][1]) > 0.3  # the default cloud is correlated
    pts = story_points(at)
    assert all(len(p) == 500 for p in pts.values())
    np.testing.assert_allclose(pts["centered"].mean(axis=0), 0, atol=1e-5)
    spec = chart(at, "prep_story")
    assert finite_ranges(spec)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    for i, name in enumerate(STAGES):
        trace, (xaxis, yaxis) = spec["data"][i], panel_axes(spec, i)
        sx = "" if i == 0 else str(i + 1)
        assert (trace["xaxis"], trace["yaxis"]) == (f"x{sx}", f"y{sx}")  # its own panel
        assert yaxis["scaleanchor"] == f"x{sx}" and xaxis["anchor"] == f"y{sx}"  # equal axes
        assert i18n.t(f"preprocessing.stage_{name}", lang) in titles[i]
    assert not any(c.proto.id.endswith("-prep_plot_original") for c in at.get("plotly_chart"))
    assert at.warning == []
    # the other sections are there too
    for key in ("prep_descent", "prep_descent_normalized", "prep_descent_whitened",
                "prep_img_original", "prep_hists", "prep_patches",
                "prep_filter", "prep_zca_picture", "prep_spectrum"):
        chart(at, key)
    assert len(at.expander) == 4  # the page's terms (glossary) and three "why" texts


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_phone_asks_for_a_figure_per_stage_with_the_same_points_and_numbers(lang):
    at = run(lang)
    show = at.button(key="show_narrow_prep_story")  # only a narrow screen shows it (CSS)
    assert show.label == i18n.t("common.show_narrow", lang)
    wide_pts, wide_covs = story_points(at), matrices(at)
    show.click().run()
    assert errors_of(at) == []
    assert not any(b.key == "show_narrow_prep_story" for b in at.button)
    narrow_pts = story_points(at, None)
    for name in STAGES:
        np.testing.assert_array_equal(narrow_pts[name], wide_pts[name])
        spec = chart(at, f"prep_plot_{name}")
        assert spec["layout"]["title"]["text"] == i18n.t(f"preprocessing.stage_{name}", lang)
        assert spec["layout"]["yaxis"]["scaleanchor"] == "x" and finite_ranges(spec)
    assert matrices(at) == wide_covs * 2  # each stage's numbers under its own panel too


def test_moving_correlation_updates_every_panel():
    at = run("en")
    before, covs_before = story_points(at), matrices(at)
    at.slider(key="prep_corr").set_value(-0.5).run()
    assert errors_of(at) == []
    after, covs = story_points(at), matrices(at)
    for name in STAGES:
        assert not np.allclose(before[name], after[name]), name
    assert float(covs[0][0][1]) < 0 < float(covs_before[0][0][1])
    assert covs[4] == IDENTITY_2


def test_rotation_angle_mode_and_standardizing():
    at = run("en", prep_shape="angle", prep_norm="std")
    assert [s.key for s in at.slider if s.key == "prep_angle"] == ["prep_angle"]
    assert not any(s.key == "prep_corr" for s in at.slider)
    covs = matrices(at)
    assert covs[2][0][0] == covs[2][1][1] == "1.00"  # standardized: variance 1 per feature
    assert covs[4] == IDENTITY_2
    at.slider(key="prep_angle").set_value(-60).run()
    assert float(matrices(at)[0][0][1]) < 0


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"prep_spread_1": 0.0, "prep_spread_2": 0.0}, "All points are at the same place"),
        ({"prep_n": 2}, "lie on one straight line"),
        ({"prep_corr": 1.0}, "lie on one straight line"),
        ({"prep_corr": -1.0, "prep_n": 3}, "lie on one straight line"),
    ],
)
def test_degenerate_clouds_give_a_message_and_finite_plots(state, message):
    at = run("en", **state)
    assert any(message in w for w in texts(at, "warning")), texts(at, "warning")
    for key in ["prep_story", "prep_descent", "prep_descent_normalized",
                "prep_descent_whitened"]:
        assert finite_ranges(chart(at, key)), key
    assert "nan" not in " ".join(el.value for el in at.latex).lower()
    assert "nan" not in str(story_notes(at)).lower()


def test_constant_feature_is_explained_in_chinese():
    at = run("zh", prep_spread_2=0.0, prep_corr=0.0)
    assert any("直线" in w for w in texts(at, "warning"))
    assert any("y 的所有取值都相同" in i for i in texts(at, "info"))
    assert matrices(at)[4] == [["1.00", "0.00"], ["0.00", "0.00"]]


def flat_image(value=0.5, shape=(32, 32, 3)):
    return {"array": np.full(shape, value, np.float32), "label": "flat",
            "orig_size": shape[:2][::-1], "notes": [], "serial": 99}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_single_colour_picture_never_breaks_the_page(lang):
    at = run(lang, image=flat_image(), prep_source="image")
    warnings = " ".join(texts(at, "warning"))
    expected = ["same place", "same colour", "identical"] if lang == "en" else [
        "同一个位置", "颜色都相同", "一模一样"]
    for phrase in expected:
        assert phrase in warnings, warnings
    for c in at.get("plotly_chart"):
        assert finite_ranges(json.loads(c.proto.spec))
    zero_range = i18n.t("common.values_range", lang, lo="0", hi="0")
    assert zero_range in texts(at, "caption")  # the centred picture is all 0


def test_my_picture_gives_the_rgb_cloud_in_3d():
    at = run("en", prep_source="image")
    assert not any(s.key == "prep_corr" for s in at.slider)
    spec = chart(at, "prep_rgb3d")
    assert spec["data"][0]["type"] == "scatter3d"
    assert len(decode(spec["data"][0]["x"])) == 2000
    assert spec["data"][0]["marker"]["color"][0].startswith("rgb(")  # each pixel its colour
    assert len(matrices(at)[5]) == 3  # 3x3 covariance next to the 3-D view
    at.button_group(key="prep_stage3d").set_value("whitened").run()
    assert matrices(at)[5] == [["1.00", "0.00", "0.00"], ["0.00", "1.00", "0.00"],
                               ["0.00", "0.00", "1.00"]]
    at.selectbox(key="prep_pair").set_value("GB").run()
    assert chart(at, "prep_story")["layout"]["xaxis"]["title"]["text"] == "G (green)"
    assert errors_of(at) == []


def test_gray_picture_is_explained():
    gray = {"array": np.random.default_rng(0).random((40, 50)).astype(np.float32),
            "label": "g", "orig_size": (50, 40), "notes": [], "serial": 99}
    at = run("en", image=gray, prep_source="image")
    assert any("This picture is gray" in w for w in texts(at, "warning"))


def test_epsilon_changes_the_gain_and_the_whitened_values():
    at = run("en")

    def readout():
        return next(c for c in texts(at, "caption") if c.startswith("With ε ="))

    def whitened_range():
        return next(c for c in texts(at, "caption") if c.startswith("Whitened values"))

    before, range_before = readout(), whitened_range()
    gain = float(re.search(r"multiplied by ([\d.]+)", before).group(1))
    at.select_slider(key="prep_eps").set_value(1e-6).run()
    assert errors_of(at) == []
    after = readout()
    assert "ε = 1e−06" in after and after != before  # numbers.fmt: one minus sign
    assert float(re.search(r"multiplied by ([\d.]+)", after).group(1)) > 10 * gain
    assert whitened_range() != range_before


def test_digits_have_directions_without_variance():
    at = run("zh", prep_zca_source="digits")
    assert any("完全没有方差" in c for c in texts(at, "caption"))
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("prep_zca_picture")]


def test_picture_ranges_follow_the_normalization():
    at = run("en")
    caps = [c for c in texts(at, "caption") if c.startswith("values from")]
    assert caps[0].startswith("values from 0") and caps[2] == "values from −1 to 1"
    assert re.match(r"values from −0\.\d+ to 0\.\d+", caps[1])
    at.button_group(key="prep_img_norm").set_value("std").run()
    caps = [c for c in texts(at, "caption") if c.startswith("values from")]
    assert caps[2] != "values from −1 to 1"
