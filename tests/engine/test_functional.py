"""cnnviz.functional: fast paths against the naive loop references, and the article's numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import _naive as naive
from cnnviz import functional as F
from cnnviz import image_ops
from cnnviz.functional import ShapeError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ARTICLE_IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
    dtype=np.float64,
)
ARTICLE_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
ARTICLE_OUT = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=np.float64)


def rel_err(a: np.ndarray, b: np.ndarray, scale: float = 0.0) -> float:
    """max |a - b| / max(|a| + |b|), the tolerance measure used against the loop references.

    ``scale`` raises the denominator: an FFT's rounding error follows the size of the summed
    terms, not of the result, which can be exactly 0 (e.g. an output on padding only).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(float(np.abs(a).max(initial=0) + np.abs(b).max(initial=0)), scale, 1e-300)
    return float(np.abs(a - b).max(initial=0)) / scale


# ------------------------------------------------------------------ strategies


@st.composite
def conv_case(draw, batch=True):
    """Random small conv geometry that fits: shapes, stride 1-3, padding 0-2, dilation 1-2."""
    n = draw(st.integers(1, 2)) if batch else 1
    c, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 8))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((k, c, kh, kw))
    b = rng.standard_normal(k) if draw(st.booleans()) else None
    return x, wt, b, (sh, sw), (ph, pw), (dh, dw), rng


@st.composite
def pool_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 8))
    w = draw(st.integers(max(1, kw - 2 * pw), 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # small integers: plenty of ties, which must go to the first max
        x = rng.integers(0, 3, (n, c, h, w)).astype(np.float64)
    else:
        x = rng.standard_normal((n, c, h, w))
    mode = draw(st.sampled_from(["max", "avg"]))
    return x, (kh, kw), stride, (ph, pw), mode, rng


# ------------------------------------------------------------------ the article's numbers


@pytest.mark.parametrize("method", F.CONV_IMAGE_METHODS)
def test_article_example_every_path(method):
    out = F.conv2d_image(ARTICLE_IMAGE, ARTICLE_KERNEL, method=method)
    assert out.shape == (1, 3, 3)
    np.testing.assert_allclose(out[0], ARTICLE_OUT, atol=1e-12)


def test_article_example_batched_and_explained():
    out, _ = F.conv2d_forward(ARTICLE_IMAGE[None, None], ARTICLE_KERNEL[None, None], None)
    np.testing.assert_allclose(out[0, 0], ARTICLE_OUT, atol=1e-12)
    info = F.conv2d_explain(ARTICLE_IMAGE, ARTICLE_KERNEL, None, 0, 0)
    assert info["value"] == 4.0
    expected_products = ARTICLE_IMAGE[:3, :3] * ARTICLE_KERNEL
    np.testing.assert_array_equal(info["products"][0], expected_products)
    assert info["products"].shape == (1, 3, 3) and info["products"].sum() == 4.0
    np.testing.assert_array_equal(info["rows"], [0, 1, 2])
    np.testing.assert_array_equal(info["channel_sums"], [4.0])
    assert info["bias"] == 0.0


@pytest.mark.parametrize(
    ("size", "kernel", "padding", "expected"),
    [(4, 2, 0, 3), (4, 3, 1, 4), (5, 5, 2, 5), (5, 3, 0, 3), (7, 3, 0, 5)],
)
def test_article_output_sizes(size, kernel, padding, expected):
    assert F.output_size(size, kernel, padding=padding) == expected
    out = F.conv2d_image(np.ones((size, size)), np.ones((kernel, kernel)), padding=padding)
    assert out.shape == (1, expected, expected)


def test_output_size_stride_and_dilation():
    assert F.output_size(7, 3, stride=2) == 3
    assert F.output_size(7, 3, stride=3) == 2  # (7 - 3) / 3 is not whole: floor
    assert F.output_size(7, 3, dilation=2) == 3  # a dilated 3-tap kernel spans 5 pixels
    assert F.output_size(1, 1) == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((5, 3, 0, 0), "stride"),
        ((5, 3, -1, 0), "stride"),
        ((5, 3, 1, -1), "padding"),
        ((5, 0, 1, 0), "kernel"),
        ((5, 3, 1, 0, 0), "dilation"),
        ((0, 1, 1, 0), "size"),
        ((4, 5, 1, 0), "too_big"),
        ((3, 3, 1, 0, 2), "too_big"),
        ((5, 3, 1.5, 0), "stride"),
    ],
)
def test_output_size_errors_carry_codes(args, code):
    with pytest.raises(ShapeError) as info:
        F.output_size(*args)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
    assert str(info.value)[0].isupper() and str(info.value).endswith(".")


def test_shape_error_params_fill_the_error_catalogue():
    with pytest.raises(ShapeError) as info:
        F.output_size(4, 5, 1, 0)
    p = info.value.params
    assert (p["size"], p["kernel_size"], p["effective"], p["padded"]) == (4, 5, 5, 4)
    with pytest.raises(ShapeError) as info:
        F.output_size(4, 2, 0)
    assert info.value.params["stride"] == 0


def test_forward_ops_raise_shape_errors():
    with pytest.raises(ShapeError) as info:
        F.conv2d_forward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5)))
    assert info.value.code == "too_big"
    with pytest.raises(ShapeError) as info:
        F.conv2d_forward(np.zeros((1, 2, 3, 3)), np.zeros((1, 3, 1, 1)))
    assert info.value.code == "channels"
    with pytest.raises(ShapeError) as info:
        F.conv2d_image(np.zeros((3, 3)), np.zeros((3, 3)), stride=0)
    assert info.value.code == "stride"
    with pytest.raises(ShapeError) as info:
        F.pool2d_forward(np.zeros((1, 1, 4, 4)), 2, padding=2)
    assert info.value.code == "pool_padding"
    with pytest.raises(ShapeError) as info:
        F.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)))
    assert info.value.code == "features"


def test_output_size_info_exactness():
    info = F.output_size_info(5, 3, stride=2)
    assert info["value"] == 2 and info["exact"] and info["numerator"] == 2
    info = F.output_size_info(6, 3, stride=2)
    assert info["value"] == 2 and not info["exact"] and info["remainder"] == 1
    assert info["span"] == 3 and info["padded_size"] == 6


@given(
    size=st.integers(1, 30),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
@FAST
def test_output_size_counts_window_positions(size, k, s, p, d):
    span = d * (k - 1) + 1
    starts = [r for r in range(0, size + 2 * p, s) if r + span <= size + 2 * p]
    if not starts:
        with pytest.raises(ShapeError):
            F.output_size(size, k, s, p, d)
    else:
        assert F.output_size(size, k, s, p, d) == len(starts)


# ------------------------------------------------------------------ conv vs naive


@given(conv_case())
@FAST
def test_conv2d_forward_backward_match_naive(case):
    x, w, b, s, p, d, rng = case
    out, cache = F.conv2d_forward(x, w, b, s, p, d)
    ref = naive.conv2d_forward_naive(x, w, b, s, p, d)
    assert out.shape == ref.shape
    assert rel_err(out, ref) <= 1e-7
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    rdx, rdw, rdb = naive.conv2d_backward_naive(dout, x, w, b, s, p, d)
    assert dx.shape == x.shape and dw.shape == w.shape
    assert rel_err(dx, rdx) <= 1e-7 and rel_err(dw, rdw) <= 1e-7
    if b is None:
        assert db is None
    else:
        assert rel_err(db, rdb) <= 1e-7
    dx2, dw2, _ = F.conv2d_backward(dout, cache, need_dx=False)
    assert dx2 is None and np.array_equal(dw2, dw)


@pytest.mark.parametrize("method", F.CONV_IMAGE_METHODS)
@given(case=conv_case(batch=False))
@FAST
def test_conv2d_image_every_path_matches_naive(method, case):
    x, w, b, s, p, d, _ = case
    out = F.conv2d_image(x[0], w, b, s, p, d, method=method)
    ref = naive.conv2d_forward_naive(x, w, b, s, p, d)[0]
    assert out.shape == ref.shape
    terms = np.abs(x).max() * np.abs(w).sum() + (0.0 if b is None else np.abs(b).max())
    assert rel_err(out, ref, scale=terms) <= 1e-7


@pytest.mark.parametrize("method", ["shift", "fft", "direct", "gemm"])
def test_conv2d_image_methods_agree_on_a_larger_image(method):
    rng = np.random.default_rng(5)
    img, ker = rng.standard_normal((3, 40, 50)), rng.standard_normal((2, 3, 7, 5))
    ref, _ = F.conv2d_forward(img[None], ker, np.array([0.5, -1.0]), (2, 1), (3, 1), (1, 2))
    out = F.conv2d_image(img, ker, [0.5, -1.0], (2, 1), (3, 1), (1, 2), method=method)
    assert rel_err(out, ref[0]) <= 1e-7


def test_conv2d_image_auto_uses_fft_for_large_kernels_on_large_images():
    assert image_ops._pick_method(512, 512, np.zeros((1, 1, 9, 9)), (1, 1)) == "fft"
    assert image_ops._pick_method(512, 512, np.zeros((1, 3, 7, 7)), (1, 1)) == "fft"
    assert image_ops._pick_method(512, 512, np.zeros((1, 1, 7, 7)), (1, 1)) == "shift"
    assert image_ops._pick_method(512, 512, np.zeros((1, 3, 3, 3)), (1, 1)) == "shift"
    assert image_ops._pick_method(16, 16, np.zeros((1, 3, 9, 9)), (1, 1)) == "shift"


@pytest.mark.parametrize("band", [1, 7, 40])
def test_shift_and_add_bands_cover_every_row(monkeypatch, band):
    # Large images are summed in bands of output rows; force several bands on small ones.
    monkeypatch.setattr(image_ops, "_BAND", band)
    rng = np.random.default_rng(band)
    for stride, padding, dilation in [(1, 0, 1), (2, 1, 1), ((3, 1), (2, 0), (1, 2))]:
        img, ker = rng.standard_normal((2, 13, 9)), rng.standard_normal((1, 2, 3, 2))
        ref = naive.conv2d_forward_naive(img[None], ker, None, stride, padding, dilation)[0]
        out = F.conv2d_image(img, ker, None, stride, padding, dilation, method="shift")
        assert rel_err(out, ref) <= 1e-7


def test_conv2d_image_kernel_shapes():
    rng = np.random.default_rng(0)
    img = rng.standard_normal((3, 6, 7))
    k2 = rng.standard_normal((3, 3))
    # A 2-D kernel is applied to every channel and the channels are summed.
    expected = sum(F.conv2d_image(img[c], k2)[0] for c in range(3))
    np.testing.assert_allclose(F.conv2d_image(img, k2)[0], expected, rtol=1e-12)
    k3 = rng.standard_normal((3, 2, 2))
    np.testing.assert_allclose(F.conv2d_image(img, k3), F.conv2d_image(img, k3[None]), rtol=1e-12)
    assert F.conv2d_image(img[0], k2).shape == (1, 4, 5)
    with pytest.raises(ShapeError) as info:
        F.conv2d_image(img, rng.standard_normal((2, 3, 3)))
    assert info.value.code == "channels"
    with pytest.raises(ValueError, match="Unknown method"):
        F.conv2d_image(img, k2, method="magic")


@pytest.mark.parametrize("method", F.CONV_IMAGE_METHODS)
def test_true_convolution_flips_the_kernel(method):
    rng = np.random.default_rng(1)
    img, ker = rng.standard_normal((9, 8)), rng.standard_normal((3, 4))
    expected = scipy.signal.convolve2d(img, ker, mode="valid")
    np.testing.assert_allclose(F.convolve_image(img, ker, method=method)[0], expected, atol=1e-10)
    np.testing.assert_allclose(
        F.conv2d_image(img, ker, flip=True, method=method)[0], expected, atol=1e-10
    )
    correlation = scipy.signal.correlate2d(img, ker, mode="valid")
    np.testing.assert_allclose(F.conv2d_image(img, ker, method=method)[0], correlation, atol=1e-10)
    assert not np.allclose(expected, correlation)  # the asymmetric kernel tells them apart


@given(case=conv_case(batch=False), data=st.data())
@FAST
def test_conv2d_explain_matches_conv2d_image(case, data):
    x, w, b, s, p, d, _ = case
    img, ker = x[0], w[0]
    bias = None if b is None else float(b[0])
    out = F.conv2d_image(img, ker, bias, s, p, d)[0]
    i = data.draw(st.integers(0, out.shape[0] - 1))
    j = data.draw(st.integers(0, out.shape[1] - 1))
    info = F.conv2d_explain(img, ker, bias, i, j, s, p, d)
    assert info["value"] == pytest.approx(out[i, j], rel=1e-9, abs=1e-12)
    c, kh, kw = ker.shape
    assert info["window"].shape == info["products"].shape == (c, kh, kw)
    assert info["channel_sums"].shape == (c,)
    np.testing.assert_array_equal(info["rows"], i * s[0] + np.arange(kh) * d[0])
    np.testing.assert_array_equal(info["cols_unpadded"], info["cols"] - p[1])
    # Window values: the image where the tap is inside, zero where it is on padding.
    for u, r in enumerate(info["rows_unpadded"]):
        for v, q in enumerate(info["cols_unpadded"]):
            inside = 0 <= r < img.shape[1] and 0 <= q < img.shape[2]
            assert info["in_padding"][u, v] == (not inside)
            expect = img[:, r, q] if inside else np.zeros(c)
            np.testing.assert_array_equal(info["window"][:, u, v], expect)


def test_conv2d_explain_flip_and_bounds():
    img = np.arange(25.0).reshape(5, 5)
    ker = np.arange(9.0).reshape(3, 3)
    info = F.conv2d_explain(img, ker, 1.5, 1, 2, flip=True)
    assert info["value"] == pytest.approx(F.convolve_image(img, ker, 1.5)[0, 1, 2])
    np.testing.assert_array_equal(info["kernel"][0], ker[::-1, ::-1])
    with pytest.raises(IndexError):
        F.conv2d_explain(img, ker, None, 3, 0)


# ------------------------------------------------------------------ dtypes


def test_ops_keep_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out, cache = F.conv2d_forward(x, w, np.zeros(4, np.float32), 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.conv2d_backward(out, cache))
    for method in F.CONV_IMAGE_METHODS:
        assert F.conv2d_image(x[0], w, method=method).dtype == np.float32
    for mode in ("max", "avg"):
        pooled, pc = F.pool2d_forward(out, 2, mode=mode)
        assert pooled.dtype == np.float32 and F.pool2d_backward(pooled, pc).dtype == np.float32
    for name in F.ACTIVATIONS:
        a, ac = F.activation_forward(x, name)
        assert a.dtype == np.float32 and F.activation_backward(a, ac).dtype == np.float32
        assert F.activation_grad(x, name).dtype == np.float32
    lin, lc = F.linear_forward(x.reshape(2, -1), rng.standard_normal((5, 192)))
    assert lin.dtype == np.float32
    assert F.softmax_cross_entropy(lin, np.array([0, 1]))[1].dtype == np.float32
    # Integer images are promoted to float64.
    assert F.conv2d_image(np.ones((4, 4), dtype=np.uint8), np.ones((2, 2))).dtype == np.float64


# ------------------------------------------------------------------ pooling


@given(pool_case())
@FAST
def test_pool_forward_backward_match_naive(case):
    x, k, stride, pad, mode, rng = case
    out, cache = F.pool2d_forward(x, k, stride, pad, mode)
    ref, ref_arg = naive.pool2d_forward_naive(x, k, stride, pad, mode)
    assert out.shape == ref.shape and rel_err(out, ref) <= 1e-7
    dout = rng.standard_normal(out.shape)
    dx = F.pool2d_backward(dout, cache)
    assert rel_err(dx, naive.pool2d_backward_naive(dout, x, k, stride, pad, mode)) <= 1e-7
    if mode == "max":
        kw = k[1]
        np.testing.assert_array_equal(cache["argmax"], ref_arg[..., 0] * kw + ref_arg[..., 1])
        rows, cols = F.pool2d_argmax(cache)
        n_idx, c_idx = np.indices(out.shape[:2])
        np.testing.assert_array_equal(
            x[n_idx[..., None, None], c_idx[..., None, None], rows, cols], out
        )


def test_pool_on_conv_output_layout():
    # conv2d_forward returns an NCHW view of channel-major memory; pooling must not care.
    rng = np.random.default_rng(3)
    out, _ = F.conv2d_forward(rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((4, 2, 3, 3)))
    assert not out.flags.c_contiguous
    dense = np.ascontiguousarray(out)
    for mode in ("max", "avg"):
        a, ca = F.pool2d_forward(out, 2, 1, mode=mode)
        b, cb = F.pool2d_forward(dense, 2, 1, mode=mode)
        np.testing.assert_array_equal(a, b)
        g = rng.standard_normal(a.shape)
        np.testing.assert_array_equal(F.pool2d_backward(g, ca), F.pool2d_backward(g, cb))


def test_max_pool_keeps_the_single_strong_feature():
    fmap = np.zeros((1, 1, 3, 3))
    fmap[0, 0, 1, 2] = 3.0
    out, cache = F.pool2d_forward(fmap, 3)
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 3.0
    assert cache["argmax"][0, 0, 0, 0] == 1 * 3 + 2
    info = F.pool2d_explain(fmap[0, 0], 3, 0, 0)
    assert info["value"] == 3.0 and info["argmax"] == (1, 2)


def test_pool_defaults_and_padding_semantics():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = F.pool2d_forward(x, 2)  # stride defaults to the kernel size
    np.testing.assert_array_equal(out[0, 0], [[5, 7], [13, 15]])
    avg, _ = F.pool2d_forward(np.ones((1, 1, 2, 2)), 2, stride=1, padding=1, mode="avg")
    # count_include_pad: a corner window holds one 1 and three padded zeros -> 1/4.
    np.testing.assert_allclose(avg[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    mx, _ = F.pool2d_forward(-np.ones((1, 1, 2, 2)), 2, stride=1, padding=1)
    np.testing.assert_array_equal(mx, -1.0)  # padding is -inf: it never wins
    with pytest.raises(ValueError, match="mode"):
        F.pool2d_forward(x, 2, mode="median")


def test_pool_ties_go_to_the_first_maximum():
    x = np.array([[[[1.0, 2.0], [2.0, 2.0]]]])
    out, cache = F.pool2d_forward(x, 2)
    assert cache["argmax"][0, 0, 0, 0] == 1
    dx = F.pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1], [0, 0]])
    assert F.pool2d_explain(x[0, 0], 2, 0, 0)["argmax"] == (0, 1)


@given(pool_case(), st.data())
@FAST
def test_pool_explain_matches_forward(case, data):
    x, k, stride, pad, mode, _ = case
    out, _ = F.pool2d_forward(x[0, 0], k, stride, pad, mode)
    i = data.draw(st.integers(0, out.shape[0] - 1))
    j = data.draw(st.integers(0, out.shape[1] - 1))
    info = F.pool2d_explain(x[0, 0], k, i, j, stride, pad, mode)
    assert info["value"] == pytest.approx(out[i, j])
    assert info["window"].shape == k
    if mode == "max":
        r, c = info["argmax"]
        assert info["window"][r, c] == out[i, j] and not info["in_padding"][r, c]
        assert x[0, 0][info["argmax_unpadded"]] == out[i, j]
    else:
        assert info["count"] == k[0] * k[1]
        assert info["sum"] == pytest.approx(out[i, j] * info["count"])


# ------------------------------------------------------------------ activations, loss, linear


def test_activation_names_and_errors():
    assert set(F.ACTIVATIONS) >= {
        "relu",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "elu",
        "softplus",
        "gelu",
    }
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        F.activation_forward(np.zeros(3), "swish")
    with pytest.raises(ValueError):
        F.activation_grad(np.zeros(3), "swish")


def test_activation_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    expect = {
        "relu": np.maximum(x, 0),
        "leaky_relu": np.where(x > 0, x, 0.1 * x),
        "sigmoid": 1 / (1 + np.exp(-x)),
        "tanh": np.tanh(x),
        "elu": np.where(x > 0, x, np.exp(x) - 1),
        "softplus": np.log1p(np.exp(x)),
        "gelu": x * scipy.stats.norm.cdf(x),
    }
    for name, values in expect.items():
        out, _ = F.activation_forward(x, name, negative_slope=0.1)
        np.testing.assert_allclose(out, values, rtol=1e-12, atol=1e-15, err_msg=name)


def test_sigmoid_derivative_peaks_at_a_quarter():
    x = np.linspace(-6, 6, 1201)
    d = F.activation_grad(x, "sigmoid")
    assert d.max() == 0.25 and x[np.argmax(d)] == 0.0
    assert F.activation_grad(np.array([0.0]), "sigmoid")[0] == 0.25


@pytest.mark.parametrize("name", F.ACTIVATIONS)
def test_activations_are_quiet_and_finite_at_extremes(name):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, cache = F.activation_forward(x, name)
        dx = F.activation_backward(np.ones_like(x), cache)
        grad = F.activation_grad(x, name)
        x32 = x.astype(np.float32)
        out32, _ = F.activation_forward(x32, name)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx)) and np.all(np.isfinite(out32))
    np.testing.assert_allclose(dx, grad, rtol=1e-12)


def test_activation_backward_matches_activation_grad():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(50) * 3
    dout = rng.standard_normal(50)
    for name in F.ACTIVATIONS:
        _, cache = F.activation_forward(x, name, 0.2)
        np.testing.assert_allclose(
            F.activation_backward(dout, cache), dout * F.activation_grad(x, name, 0.2), rtol=1e-10
        )
    # At exactly 0: ReLU' = 0 and LeakyReLU' = slope, as PyTorch.
    assert F.activation_grad(np.array([0.0]), "relu")[0] == 0.0
    assert F.activation_grad(np.array([0.0]), "leaky_relu", 0.2)[0] == pytest.approx(0.2)


def test_softmax_cross_entropy_is_stable_and_correct():
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, d = F.softmax_cross_entropy(logits, np.array([0, 0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    assert loss == pytest.approx((0.0 + 2000.0 + np.log(2.0)) / 3)
    np.testing.assert_allclose(d[1], [-1 / 3, 1 / 3])
    np.testing.assert_allclose(d.sum(axis=1), 0, atol=1e-15)
    p = F.softmax(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[2], [0.5, 0.5])
    with pytest.raises(ValueError, match="Labels"):
        F.softmax_cross_entropy(logits, np.array([0, 2, 1]))


def test_linear_forward_values():
    x = np.array([[1.0, 2.0, 3.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    out, cache = F.linear_forward(x, w, np.array([10.0, 0.0]))
    np.testing.assert_allclose(out, [[8.0, 3.0]])
    dx, dw, db = F.linear_backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_allclose(dx, [[2.0, 1.0, 0.0]])
    np.testing.assert_allclose(dw, [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    np.testing.assert_allclose(db, [1.0, 2.0])
    assert F.linear_backward(np.ones((1, 2)), F.linear_forward(x, w)[1])[2] is None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 5), st.integers(0, 3),
       st.integers(-1, 3))
def test_pool2d_output_shape_predicts_pool2d_forward(h, w, k, s, p):
    """The data-free check a lesson runs first says exactly what pool2d_forward will do."""
    x = np.zeros((1, 1, h, w))
    try:
        expected = F.pool2d_forward(x, k, s, p)[0].shape[-2:]
    except ShapeError as exc:
        with pytest.raises(ShapeError) as caught:
            F.pool2d_output_shape((h, w), k, s, p)
        assert caught.value.code == exc.code
    else:
        assert F.pool2d_output_shape((h, w), k, s, p) == expected
        assert F.pool2d_output_shape((3, 2, h, w), k, s, p) == expected
