"""The pooling lesson's maths: examples, step sequence, slices, tolerance, global pooling."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz.lessons import pooling as pool_math
from cnnviz.viz import pooling as pool_figs


def test_turn_example_keeps_its_single_three():
    ex = pool_math.turn_example()
    fmap = ex["fmap"]
    assert fmap.shape == (3, 3)
    # one strong response (a full match of the 3-tap 横折 kernel), everything else weaker
    assert fmap.max() == 3 and np.sum(fmap == 3) == 1
    assert ex["max"] == 3 and ex["argmax"] == tuple(np.argwhere(fmap == 3)[0])
    # average pooling dilutes it with the eight irrelevant responses
    assert ex["avg"] == pytest.approx(fmap.mean()) and ex["avg"] < 3


def test_article_4x4_with_2x2_windows():
    seq = pool_math.step_sequence(pool_math.ARTICLE_4X4, 2, 2, 0)
    np.testing.assert_array_equal(seq["max"], [[6, 8], [3, 4]])
    np.testing.assert_allclose(seq["avg"], [[3.25, 5.25], [2, 2]])
    assert seq["out_shape"] == (2, 2)
    assert seq["origins"].tolist() == [[0, 0], [0, 2], [2, 0], [2, 2]]


def test_example_maps_are_valid_grids():
    for name, grid in pool_math.example_maps().items():
        assert grid.ndim == 2 and np.all(np.isfinite(grid)), name
        assert pool_math.check_geometry(*grid.shape, 2, 2, 0) is None, name


@pytest.mark.parametrize(
    ("h", "w", "f", "s", "p", "code"),
    [(4, 4, 5, 1, 0, "too_big"), (4, 4, 2, 0, 0, "stride"), (4, 4, 0, 1, 0, "window"),
     (4, 4, 2, 1, -1, "padding"), (4, 4, 2, 1, 2, "padding_half"), (0, 4, 1, 1, 0, "map"),
     (3, 6, 4, 1, 0, "too_big")],
)
def test_check_geometry_names_the_problem(h, w, f, s, p, code):
    problem = pool_math.check_geometry(h, w, f, s, p)
    assert problem is not None and problem[0] == code
    assert problem[1]["window"] == f and problem[1]["padded_h"] == h + 2 * p


def test_check_geometry_agrees_with_the_engine():
    # every setting the check lets through works in the engine, every one it stops fails there
    x = np.zeros((5, 7))
    for f in range(0, 9):
        for s in range(0, 3):
            for p in range(-1, 4):
                ok = pool_math.check_geometry(5, 7, f, s, p) is None
                try:
                    F.pool2d_forward(x, f, s, p)
                    worked = True
                except (ValueError, TypeError):
                    worked = False
                assert ok == worked, (f, s, p)


grids = st.integers(2, 7).flatmap(
    lambda h: st.integers(2, 7).flatmap(
        lambda w: st.lists(st.integers(-9, 9), min_size=h * w, max_size=h * w).map(
            lambda v: np.array(v, dtype=np.float64).reshape(h, w))))


@settings(max_examples=40, deadline=None)
@given(grids, st.integers(1, 4), st.integers(1, 3), st.integers(0, 2))
def test_step_sequence_matches_the_engine_window_by_window(grid, f, s, p):
    if pool_math.check_geometry(*grid.shape, f, s, p) is not None:
        return
    seq = pool_math.step_sequence(grid, f, s, p)
    ho, wo = seq["out_shape"]
    assert seq["origins"].shape == (ho * wo, 2)
    for k, (r0, c0) in enumerate(seq["origins"]):
        i, j = divmod(k, wo)
        mx = F.pool2d_explain(grid, f, i, j, s, p, mode="max")
        av = F.pool2d_explain(grid, f, i, j, s, p, mode="avg")
        assert (r0, c0) == (mx["rows"][0], mx["cols"][0])
        assert seq["max"][i, j] == mx["value"] == seq["terms_max"][k].max()
        assert seq["avg"][i, j] == pytest.approx(av["value"])
        assert seq["terms_avg"][k].sum() / f**2 == pytest.approx(seq["avg"][i, j])
        # the chosen element is the engine's (first maximum), inside the map, not the padding
        r, c = seq["argmax_rows"][i, j], seq["argmax_cols"][i, j]
        assert (r, c) == mx["argmax_unpadded"]
        assert 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]
        assert grid[r, c] == seq["max"][i, j]


def test_step_spec_marks_the_engines_choice_and_is_valid_plotly():
    grid = np.array([[1, 9, 2], [9, 3, 9], [4, 9, 5]], dtype=np.float64)  # ties: first wins
    seq = pool_math.step_sequence(grid, 2, 1, 1)
    labels = {k: k for k in ("title", "input", "output", "play", "pause", "value",
                             "padding")} | {"step": "{k}/{n} ({i}, {j})"}
    spec = pool_figs.step_spec(seq, "max", labels)
    go.Figure(spec)  # every frame's shapes and annotations pass Plotly's validation
    _, cache = F.pool2d_forward(grid, 2, 1, 1)
    rows, cols = F.pool2d_argmax(cache)
    ho, wo = seq["out_shape"]
    assert len(spec["frames"]) == ho * wo
    for k, frame in enumerate(spec["frames"]):
        i, j = divmod(k, wo)
        chosen = [s for s in frame["layout"]["shapes"] if s.get("name") == "chosen"]
        assert len(chosen) == 1
        r = (chosen[0]["y0"] + chosen[0]["y1"]) / 2 - 1
        c = (chosen[0]["x0"] + chosen[0]["x1"]) / 2 - 1
        assert (r, c) == (rows[i, j], cols[i, j])
        names = [s.get("name") for s in frame["layout"]["shapes"]]
        assert names == ["todo", "todo", "window", "output", "chosen", "formula"]
        formula = frame["layout"]["shapes"][-1]["label"]["text"]
        assert formula.startswith(f"{k + 1}/{ho * wo} ({i}, {j})")
        assert formula.endswith(f"= {seq['max'][i, j]:g}")
    avg = pool_figs.step_spec(seq, "avg", labels)
    assert not any(s.get("name") == "chosen" for f in avg["frames"] for s in f["layout"]["shapes"])


def test_formula_writes_the_window_out():
    assert pool_figs.formula([1, 1, 5, 6], "avg", 3.25) == "(1 + 1 + 5 + 6)/4 = 13/4 = 3.25"
    assert pool_figs.formula([1, 1, 5, 6], "max", 6) == "max(1, 1, 5, 6) = 6"
    assert pool_figs.formula([-np.inf, 2, -np.inf, 3], "max", 3) == "max(−∞, 2, −∞, 3) = 3"
    long = pool_figs.formula(np.arange(25), "avg", 12)
    assert "…" in long and long.endswith("300/25 = 12")


def test_feature_stack_is_one_slice_per_kernel_and_non_negative():
    rng = np.random.default_rng(0)
    img = rng.random((20, 30)).astype(np.float32)
    maps = pool_math.feature_stack(img, list(pool_math.KERNELS))
    assert maps.shape == (len(pool_math.KERNELS), 20, 30) and maps.min() >= 0
    raw = pool_math.feature_stack(img, ["sobel_x"], relu=False)
    assert raw.min() < 0  # without ReLU the edges keep their sign
    np.testing.assert_allclose(maps[0], np.maximum(raw[0], 0), atol=1e-6)
    with pytest.raises(ValueError):
        pool_math.feature_stack(img, [])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(6, 20), st.integers(6, 20))
def test_pool_stack_pools_each_slice_on_its_own(f, s, h, w):
    rng = np.random.default_rng(h * 31 + w)
    maps = rng.random((3, h, w))
    for mode in ("max", "avg"):
        out = pool_math.pool_stack(maps, f, s, mode=mode)
        assert out.shape == (3, F.output_size(h, f, s), F.output_size(w, f, s))
        for c in range(3):
            np.testing.assert_allclose(out[c], F.pool2d_forward(maps[c], f, s, mode=mode)[0])


def test_compression_ratio():
    c = pool_math.compression((5, 128, 128), (5, 64, 64))
    assert (c["in"], c["out"]) == (81920, 20480)
    assert c["ratio"] == 4 and c["kept"] == 0.25
    assert pool_math.compression((1, 9, 9), (1, 3, 3))["ratio"] == 9
    with pytest.raises(ValueError):
        pool_math.compression((0, 4), (1,))


def test_global_pool_is_one_number_per_channel():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(4, 9, 13))
    g = pool_math.global_pool(maps)
    np.testing.assert_allclose(g["max"], maps.max(axis=(1, 2)))
    np.testing.assert_allclose(g["avg"], maps.mean(axis=(1, 2)))
    article = pool_math.global_pool(pool_math.ARTICLE_4X4[None])
    assert article["max"].tolist() == [8] and article["avg"].tolist() == [3.125]


def test_shifted_pair_moves_real_content():
    img = np.arange(100.0).reshape(10, 10)
    for d, (dr, dc) in pool_math.DIRECTIONS.items():
        for s in range(pool_math.MAX_SHIFT + 1):
            base, moved = pool_math.shifted_pair(img, s, d)
            assert base.shape == moved.shape
            # the moved crop shows the base content s pixels further right / down
            hh, ww = base.shape
            np.testing.assert_array_equal(moved[s * dr :, s * dc :], base[: hh - s * dr,
                                                                           : ww - s * dc])
    with pytest.raises(ValueError):
        pool_math.shifted_pair(img, pool_math.MAX_SHIFT + 1)


def test_relative_change():
    a = np.array([1.0, 2.0, 3.0])
    assert pool_math.relative_change(a, a) == 0
    assert pool_math.relative_change(a, a * 2) == pytest.approx(1.0)
    assert pool_math.relative_change(np.zeros(3), np.zeros(3)) == 0
    assert pool_math.relative_change(np.zeros(3), a) == float("inf")


def test_pooling_tolerates_small_shifts_of_a_real_pattern():
    # a few 横折 strokes: a 1-pixel shift changes the edge maps a lot, the pooled maps less
    from cnnviz.lessons import overview

    scene, _ = overview.pattern_scene(40, overview.TURN_PATTERN, 5, seed=3)
    tol = pool_math.tolerance(scene, list(pool_math.KERNELS), 3, 3)
    assert tol["shifts"].tolist() == [0, 1, 2, 3]
    for key in ("feature", "max", "avg"):
        assert tol[key][0] == 0
    assert tol["max"][1] < tol["feature"][1]
    assert tol["avg"][1] < tol["feature"][1]


@pytest.mark.parametrize(("value", "ok"), [(1, True), (8, True), (0, False), (9, False),
                                           (2.0, True), (2.5, False), ("3", True), ("x", False),
                                           (None, False), (float("nan"), False)])
def test_in_range(value, ok):
    assert pool_math.in_range(value, 1, 8) is ok


def test_window_rows_write_every_window_out():
    seq = pool_math.step_sequence(pool_math.ARTICLE_4X4, 2, 2, 0)
    rows = pool_figs.window_rows(seq, "cell", "max", "avg")
    assert [r["cell"] for r in rows] == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
    assert rows[1]["max"] == "max(2, 4, 7, 8) = 8"
    assert rows[1]["avg"] == "(2 + 4 + 7 + 8)/4 = 21/4 = 5.25"
