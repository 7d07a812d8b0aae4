"""The convolution lesson's maths: the article's example, the sliding sequence against a naive
loop written here, the size formula's advice, kernel presets and cell validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz import numbers
from cnnviz.lessons import conv as conv_math


def naive_corr(x: np.ndarray, k: np.ndarray, stride: int, padding: int, dilation: int):
    """Cross-correlation by four plain loops, the way the article describes it."""
    xp = np.pad(x, padding)
    kh, kw = k.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    ho = (xp.shape[0] - span_h) // stride + 1
    wo = (xp.shape[1] - span_w) // stride + 1
    out = np.zeros((ho, wo))
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                for v in range(kw):
                    out[i, j] += xp[i * stride + u * dilation, j * stride + v * dilation] * k[u, v]
    return out


# --------------------------------------------------------------------------------------------
# The article's examples
# --------------------------------------------------------------------------------------------


def test_article_example_first_stop_and_map():
    sl = conv_math.slide(conv_math.ARTICLE_IMAGE, conv_math.ARTICLE_KERNEL)
    assert len(sl.stops) == 9
    assert sl.stops[0].value == 4
    np.testing.assert_array_equal(sl.out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(sl.out, conv_math.ARTICLE_MAP)
    text = " ".join(conv_math.arithmetic(sl.stops[0].window[0], sl.kernel[0]))
    assert text == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"


def test_symbolic_example_names_the_weights():
    ex = conv_math.example("symbolic")
    sl = conv_math.slide(ex["image"], ex["kernel"])
    text = " ".join(conv_math.arithmetic(sl.stops[0].window[0], sl.kernel[0], ex["names"]))
    assert text.startswith("w1×0 + w2×1 + w3×4 + w4×5 = ")
    w = ex["kernel"].ravel()
    assert text.endswith(f"= {numbers.fmt(w[0] * 0 + w[1] * 1 + w[2] * 4 + w[3] * 5)}")
    assert sl.out.shape == (3, 3)


@pytest.mark.parametrize(("name", "size"), [("article", 3), ("symbolic", 3), ("same4", 4),
                                            ("same5", 5), ("stride2", 3)])
def test_examples_output_sizes(name, size):
    ex = conv_math.example(name)
    sl = conv_math.slide(ex["image"], ex["kernel"], 0, ex["stride"], ex["padding"], ex["dilation"])
    assert sl.out.shape == (size, size)
    # padding keeps the input size in the two "same" examples (the article's two cases)
    if name.startswith("same"):
        assert sl.out.shape == ex["image"].shape


def test_example_returns_copies():
    ex = conv_math.example("article")
    ex["image"][0, 0] = 99
    assert conv_math.ARTICLE_IMAGE[0, 0] == 1


# --------------------------------------------------------------------------------------------
# The sliding sequence
# --------------------------------------------------------------------------------------------

geometry = st.tuples(
    st.integers(2, 8), st.integers(2, 8),  # input h, w
    st.integers(1, 4),                      # kernel
    st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),  # stride, padding, dilation
)


@settings(max_examples=40, deadline=None)
@given(geometry, st.integers(0, 10_000), st.booleans())
def test_slide_matches_naive_loops(geo, seed, flip):
    h, w, k, s, p, d = geo
    if d * (k - 1) + 1 > min(h, w) + 2 * p:
        return  # does not fit: covered by the size tests
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (h, w)).astype(np.float64)
    ker = rng.integers(-2, 3, (k, k)).astype(np.float64)
    sl = conv_math.slide(x, ker, 0.5, s, p, d, flip=flip)
    expected = naive_corr(x, ker[::-1, ::-1] if flip else ker, s, p, d) + 0.5
    np.testing.assert_allclose(sl.out, expected)
    # one stop per output cell, row by row, each stop's value is its output cell
    assert [(st_.i, st_.j) for st_ in sl.stops] == [
        (i, j) for i in range(sl.out.shape[0]) for j in range(sl.out.shape[1])]
    for st_ in sl.stops:
        assert st_.value == pytest.approx(sl.out[st_.i, st_.j])
        # stride is the jump size, dilation the spacing of the taps
        assert st_.rows[0] == st_.i * s and st_.cols[0] == st_.j * s
        assert np.all(np.diff(st_.rows) == d)
        np.testing.assert_allclose(st_.window[0], sl.padded[0][np.ix_(st_.rows, st_.cols)])


def test_padding_is_a_border_of_zeros():
    sl = conv_math.slide(np.ones((3, 4)), np.ones((3, 3)), padding=2)
    assert sl.padded.shape == (1, 7, 8)
    assert sl.padded[0, :2].sum() == 0 and sl.padded[0, :, -2:].sum() == 0
    assert sl.padded[0, 2:5, 2:6].sum() == 12


def test_slide_rejects_what_does_not_fit():
    with pytest.raises(F.ShapeError) as err:
        conv_math.slide(np.ones((3, 3)), np.ones((5, 5)))
    assert err.value.code == "too_big"


def test_arithmetic_negatives_bias_and_long_kernels():
    lines = conv_math.arithmetic(np.array([[2.0, -1.0]]), np.array([[-0.5, 3.0]]), bias=-1.5)
    assert " ".join(lines) == "2×(−0.5) + (−1)×3 + (−1.5) = −5.5"
    lines = conv_math.arithmetic(np.ones((5, 5)), np.full((5, 5), 2.0))
    assert len(lines) == 5 and lines[1].startswith("+ ") and lines[-1].endswith("= 50")


def test_rgb_example_three_partial_sums_plus_bias():
    ex = conv_math.rgb_example(seed=3, kernels=2)
    assert ex["image"].shape == (3, 5, 5) and ex["kernels"].shape == (2, 3, 3, 3)
    again = conv_math.rgb_example(seed=3, kernels=2)
    np.testing.assert_array_equal(ex["kernels"], again["kernels"])
    sl = conv_math.slide(ex["image"], ex["kernels"][1], ex["bias"][1], stride=2, padding=1)
    maps = F.conv2d_image(ex["image"], ex["kernels"], ex["bias"], 2, 1)
    np.testing.assert_allclose(sl.out, maps[1])
    for stp in sl.stops:
        manual = [naive_corr(ex["image"][c], ex["kernels"][1, c], 2, 1, 1)[stp.i, stp.j]
                  for c in range(3)]
        np.testing.assert_allclose(stp.channel_sums, manual)
        assert stp.value == pytest.approx(sum(manual) + ex["bias"][1])
    lines, sums = conv_math.channel_lines(sl.stops[0], sl.kernel, ("R", "G", "B"))
    assert [ln[:2] for ln in lines] == ["R:", "G:", "B:"]
    assert sums.count("+") == 2


# --------------------------------------------------------------------------------------------
# The output-size formula
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "f", "s", "p", "out"), [
    (4, 3, 1, 1, 4),   # the article: 4x4 + padding 1 with 3x3 stays 4x4
    (5, 5, 1, 2, 5),   # the article: 5x5 kernel with padding 2 keeps the size
    (5, 3, 1, 0, 3),   # the article's 5x5 example
    (4, 2, 1, 0, 3),   # the article's 4x4 grid with a 2x2 kernel
    (7, 3, 2, 0, 3),
])
def test_axis_report_article_cases(w, f, s, p, out):
    rep = conv_math.axis_report(w, f, s, p)
    assert rep["status"] == "ok" and rep["value"] == out
    assert rep["value"] == F.output_size(w, f, s, p)
    assert f"\\dfrac{{{w} + 2 \\times {p} - {f}}}{{{s}}}" in conv_math.formula_latex(rep)
    assert conv_math.formula_latex(rep).endswith(f"= {out}")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 9), st.integers(2, 5), st.integers(0, 4),
       st.integers(1, 3))
def test_not_exact_advice_really_fits(w, f, s, p, d):
    rep = conv_math.axis_report(w, f, s, p, d)
    if rep["status"] != "not_exact":
        return
    assert rep["value"] == F.output_size(w, f, s, p, d)
    assert 0 < rep["skipped"] < s
    assert conv_math.axis_report(w, f, rep["fix_stride"], p, d)["status"] == "ok"
    if rep["fix_padding"] is not None:
        assert rep["fix_padding"] > p
        assert conv_math.axis_report(w, f, s, rep["fix_padding"], d)["status"] == "ok"
    else:  # padding adds cells in pairs: it cannot fix an odd remainder with an even stride
        assert s % 2 == 0 and rep["numerator"] % 2 == 1
    assert "\\lfloor" in conv_math.formula_latex(rep)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.integers(0, 2), st.integers(1, 3))
def test_too_big_advice_really_fits(w, f, p, d):
    rep = conv_math.axis_report(w, f, 1, p, d)
    if rep["status"] != "too_big":
        assert rep["value"] is not None
        return
    assert rep["value"] is None
    assert conv_math.axis_report(w, f, 1, rep["fix_padding"], d)["value"] is not None
    assert conv_math.axis_report(w, f, 1, rep["fix_padding"] - 1, d)["status"] == "too_big" or \
        rep["fix_padding"] - 1 < p
    assert conv_math.axis_report(w, rep["max_kernel"], 1, p, d)["value"] is not None
    assert conv_math.axis_report(w, rep["max_kernel"] + 1, 1, p, d)["status"] == "too_big"


def test_stride_zero_is_explained_not_raised():
    rep = conv_math.axis_report(4, 3, 0, 1)
    assert rep["status"] == "stride" and rep["value"] is None
    assert "{0}" in conv_math.formula_latex(rep)


# --------------------------------------------------------------------------------------------
# Kernels for pictures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("name", conv_math.KERNEL_PRESETS)
def test_presets_shapes_and_sums(name, size):
    k = conv_math.kernel_preset(name, size)
    assert k.shape[0] == k.shape[1] >= size
    assert np.isfinite(k).all()
    if name in ("box", "gaussian", "identity"):
        assert k.sum() == pytest.approx(1.0)
        assert (k >= 0).all()
    if name in ("sobel_x", "sobel_y", "laplacian", "outline"):
        assert k.sum() == pytest.approx(0.0)
    if name in ("sharpen", "emboss"):
        assert k.sum() == pytest.approx(1.0)


def test_identity_leaves_the_picture_alone():
    x = np.random.default_rng(0).random((9, 11))
    for n in (1, 3, 5, 7):
        out = F.conv2d_image(x, conv_math.kernel_preset("identity", n), padding=n // 2)[0]
        np.testing.assert_allclose(out, x, atol=1e-12)


def test_sobel_finds_edges_with_a_sign():
    step = np.zeros((6, 6))
    step[:, 3:] = 1.0  # dark left, bright right: a vertical edge
    gx = F.conv2d_image(step, conv_math.kernel_preset("sobel_x"))[0]
    gy = F.conv2d_image(step, conv_math.kernel_preset("sobel_y"))[0]
    assert gx.max() > 0 and gx.min() == 0 and np.all(gy == 0)
    # flipping (true convolution) turns the edge's sign around
    np.testing.assert_allclose(F.convolve_image(step, conv_math.kernel_preset("sobel_x"))[0], -gx)


def test_flip_symmetry():
    assert conv_math.is_flip_symmetric(conv_math.kernel_preset("gaussian", 5))
    assert conv_math.is_flip_symmetric(conv_math.kernel_preset("outline"))
    assert not conv_math.is_flip_symmetric(conv_math.kernel_preset("sobel_x"))
    assert not conv_math.is_flip_symmetric(conv_math.kernel_preset("emboss"))
    assert conv_math.is_flip_symmetric(np.stack([conv_math.kernel_preset("box")] * 3))


def test_random_preset_is_seeded_and_presets_validate():
    np.testing.assert_array_equal(conv_math.kernel_preset("random", 3, 5),
                                  conv_math.kernel_preset("random", 3, 5))
    assert not np.array_equal(conv_math.kernel_preset("random", 3, 5),
                              conv_math.kernel_preset("random", 3, 6))
    with pytest.raises(ValueError):
        conv_math.kernel_preset("nope")
    with pytest.raises(ValueError):
        conv_math.kernel_preset("box", 9)


@pytest.mark.parametrize(("cells", "reason"), [
    ([[1, np.nan]], "blank"), ([[1, None]], "blank"), ([["a", 1]], "blank"),
    ([[1, 1e9]], "absurd"), ([[-np.inf, 0]], "absurd"), ([[1001, 0]], "absurd"),
    (np.zeros((0, 0)), "empty"),
])
def test_check_matrix_refuses_bad_cells(cells, reason):
    arr, why = conv_math.check_matrix(cells)
    assert arr is None and why == reason


def test_check_matrix_accepts_numbers():
    arr, why = conv_math.check_matrix([[1, -2.5], [1000, 0]])
    assert why is None and arr.dtype == np.float64 and arr[1, 0] == 1000


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 3), st.integers(0, 3))
def test_resize_keeps_the_centre(h, w, grow_r, grow_c):
    x = np.arange(h * w, dtype=np.float64).reshape(h, w) + 1
    big = conv_math.resize_matrix(x, h + 2 * grow_r, w + 2 * grow_c)
    assert big.sum() == x.sum()
    np.testing.assert_array_equal(conv_math.resize_matrix(big, h, w), x)
