"""The activation lesson's maths: derivatives from the engine's backward pass agree with
numerical ones, saturation zones, rectified maps, and gradients that vanish with sigmoid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz.lessons import activation as act_math

FEW = settings(max_examples=30, deadline=None)
KINKED = {"relu", "leaky_relu", "elu"}  # not differentiable (or second derivative jumps) at 0


def numerical_derivative(x: np.ndarray, name: str, alpha: float, h: float = 1e-6) -> np.ndarray:
    f = lambda v: F.activation_forward(v, name, negative_slope=alpha)[0]  # noqa: E731
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("name", act_math.NAMES)
def test_derivative_matches_centred_difference(name):
    x = np.linspace(-8, 8, 1601)
    x = x[np.abs(x) > 1e-3] if name in KINKED else x  # a centred difference straddling the kink
    f, df = act_math.forward_and_derivative(x, name, alpha=0.2)
    np.testing.assert_allclose(f, F.activation_forward(x, name, negative_slope=0.2)[0])
    np.testing.assert_allclose(df, numerical_derivative(x, name, 0.2), atol=1e-6, rtol=1e-5)


@FEW
@given(st.sampled_from(act_math.NAMES), st.floats(-30, 30), st.floats(0.0, 0.5))
def test_backward_derivative_equals_engine_grad(name, x, alpha):
    # Two engine paths (backward with dout=1, and activation_grad) must tell the same story.
    xs = np.array([x, -x, x / 3])
    _, df = act_math.forward_and_derivative(xs, name, alpha)
    np.testing.assert_allclose(df, F.activation_grad(xs, name, alpha), rtol=1e-12, atol=1e-15)


def test_curve_grid_contains_the_kink_and_rejects_bad_ranges():
    x = act_math.curve_grid(-1.3, 2.9)
    assert 0.0 in x and x[0] == -1.3 and x[-1] == 2.9 and np.all(np.diff(x) > 0)
    assert 0.0 not in act_math.curve_grid(0.5, 3.0)
    for lo, hi in [(1, 1), (2, -2), (-np.inf, 1), (0, np.nan), (-60, 60)]:
        with pytest.raises(act_math.LessonError) as err:
            act_math.curve_grid(lo, hi)
        assert err.value.code == "range"


def test_curves_use_the_leaky_slope():
    c = act_math.curves(["leaky_relu", "relu"], -4, 4, alpha=0.3)
    neg = c["leaky_relu"].x < 0
    np.testing.assert_allclose(c["leaky_relu"].df[neg], 0.3)
    np.testing.assert_allclose(c["leaky_relu"].f[neg], 0.3 * c["leaky_relu"].x[neg])
    assert np.all(c["relu"].df[neg] == 0)


def test_sigmoid_saturation_zones_are_where_the_slope_drops_below_eps():
    eps = 0.05
    # s(1 - s) = eps  <=>  s = (1 - sqrt(1 - 4 eps)) / 2  ->  x = log(s / (1 - s))
    s = (1 - math.sqrt(1 - 4 * eps)) / 2
    edge = -math.log(s / (1 - s))
    c = act_math.curves(["sigmoid"], -6, 6)["sigmoid"]
    zones = act_math.saturation_zones(c.x, c.df, eps)
    assert len(zones) == 2
    (a0, a1), (b0, b1) = zones
    step = c.x[1] - c.x[0]
    assert a0 == -6 and b1 == 6
    assert abs(a1 + edge) < step and abs(b0 - edge) < step


def test_relu_zone_is_the_whole_left_half_and_tanh_has_two():
    c = act_math.curves(["relu", "tanh"], -5, 5)
    assert act_math.saturation_zones(c["relu"].x, c["relu"].df, 0.01) == [(-5.0, 0.0)]
    assert len(act_math.saturation_zones(c["tanh"].x, c["tanh"].df, 0.05)) == 2
    assert act_math.saturation_zones(c["tanh"].x, c["tanh"].df, 1e-12) == []


@FEW
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=60), st.floats(0.01, 0.9))
def test_zones_cover_exactly_the_flat_points(values, eps):
    x = np.arange(len(values), dtype=float)
    df = np.array(values)
    covered = np.zeros(len(x), dtype=bool)
    for a, b in act_math.saturation_zones(x, df, eps):
        covered |= (x >= a) & (x <= b)
    np.testing.assert_array_equal(covered, np.abs(df) < eps)


def test_sigmoid_is_steepest_at_zero_with_slope_one_quarter():
    x, f, df = act_math.steepest_point("sigmoid")
    assert x == 0 and f == pytest.approx(0.5) and df == pytest.approx(0.25, abs=1e-15)
    assert act_math.steepest_point("tanh")[2] == pytest.approx(1.0)


@pytest.mark.parametrize("name", act_math.NAMES)
def test_summary_table_bounds_hold(name):
    alpha = 0.05
    x = np.linspace(-40, 40, 400_001)
    f, df = act_math.forward_and_derivative(x, name, alpha)
    props = act_math.PROPERTIES[name]
    f_lo, f_hi = props["f_bounds"]
    d_lo, d_hi = (alpha if b == "alpha" else b for b in props["df_bounds"])
    tol = 2e-3 if name == "gelu" else 1e-12  # GELU's bounds are quoted to 3 digits
    assert f.min() >= f_lo - tol and f.max() <= f_hi + tol
    assert df.min() >= d_lo - tol and df.max() <= d_hi + tol
    # ... and they are tight: the functions come close to every finite bound.
    if np.isfinite(f_lo):
        assert f.min() < f_lo + 2e-3
    if np.isfinite(f_hi):
        assert f.max() > f_hi - 2e-3
    assert df.min() < d_lo + 2e-3 and df.max() > d_hi - 2e-3


def test_histogram_keeps_exact_zeros_apart():
    v = np.array([0.0, 0.0, 0.0, 1e-9, 0.5, 1.0, -2.0])
    h = act_math.histogram(v, bins=4)
    assert h.zeros == 3 and h.total == 7 and h.counts.sum() == 4
    assert h.edges[0] == -2.0 and h.edges[-1] == 1.0
    only_zeros = act_math.histogram(np.zeros((3, 3)))
    assert only_zeros.zeros == 9 and only_zeros.counts.sum() == 0


@FEW
@given(st.lists(st.sampled_from([0.0, -1.5, 2.0, 3.25, np.nan]), min_size=1, max_size=40))
def test_histogram_counts_every_finite_value_once(values):
    v = np.array(values)
    h = act_math.histogram(v, bins=7)
    finite = v[np.isfinite(v)]
    assert h.total == finite.size
    assert h.zeros + h.counts.sum() == finite.size
    assert h.zeros == np.sum(finite == 0)


def gray_picture(h=40, w=50, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    return np.clip(0.5 + 0.3 * np.sin(xx / 4) * np.cos(yy / 5) + 0.1 * rng.standard_normal((h, w)),
                   0, 1).astype(np.float32)


@pytest.mark.parametrize("kernel", list(act_math.KERNELS))
def test_conv_map_is_the_valid_cross_correlation_plus_bias(kernel):
    g = gray_picture()
    out = act_math.conv_map(g, kernel, bias=-0.25)
    ref = scipy.signal.correlate2d(g.astype(np.float64),
                                   act_math.KERNELS[kernel].astype(np.float64),
                                   mode="valid") - 0.25
    assert out.shape == (38, 48)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_conv_map_rejects_what_it_cannot_use():
    with pytest.raises(act_math.LessonError) as err:
        act_math.conv_map(gray_picture(), "nope")
    assert err.value.code == "unknown"
    for bad in (np.zeros((8, 8, 3)), np.zeros((2, 9))):
        with pytest.raises(act_math.LessonError) as err:
            act_math.conv_map(bad, "outline")
        assert err.value.code == "image"


def test_relu_rectified_map_counts_dead_units():
    g = gray_picture()
    r = act_math.rectify(g, "sobel_x", "relu")
    before, after = r["before"], r["after"]
    np.testing.assert_array_equal(after, np.maximum(before, 0))
    assert r["zero_after"] == pytest.approx(np.mean(before <= 0))
    assert r["no_grad"] == pytest.approx(np.mean(before <= 0))  # ReLU'(0) is taken as 0
    assert r["relu_zero"] == r["zero_after"]
    assert r["negative"] == pytest.approx(np.mean(before < 0))
    assert 0.2 < r["negative"] < 0.8  # an edge detector: both signs are common
    assert r["hist_after"].zeros == np.sum(after == 0)
    assert r["limit"] > 0


def test_leaky_and_sigmoid_maps_keep_gradients_flowing():
    g = gray_picture()
    leaky = act_math.rectify(g, "outline", "leaky_relu", alpha=0.1)
    assert leaky["no_grad"] == 0 and leaky["zero_after"] == pytest.approx(
        np.mean(leaky["before"] == 0))
    assert leaky["relu_zero"] > 0.2
    sig = act_math.rectify(g, "outline", "sigmoid")
    assert sig["zero_after"] == 0 and sig["after"].min() > 0 and sig["after"].max() < 1


def test_negative_bias_kills_more_units_and_blur_kills_none():
    g = gray_picture()
    shares = [act_math.rectify(g, "sobel_y", "relu", bias=b)["zero_after"] for b in (0.5, 0.0,
                                                                                     -0.5)]
    assert shares[0] < shares[1] < shares[2]
    assert act_math.rectify(g, "blur", "relu")["zero_after"] == 0  # a blur of [0, 1] pixels is >= 0


def test_colour_limit_ignores_a_few_outliers():
    m = np.zeros((100, 100))
    m[:50] = 0.5
    m[0, 0] = 100.0
    assert act_math.colour_limit(m) == pytest.approx(0.5)
    assert act_math.colour_limit(np.zeros((3, 3))) == 1.0
    # a map that is almost all zeros still gets its few non-zero values in colour
    sparse = np.zeros(1000)
    sparse[7] = -2.0
    assert act_math.colour_limit(np.zeros(5), sparse) == pytest.approx(2.0)


@FEW
@given(st.sampled_from(act_math.NAMES), st.integers(1, 40), st.floats(-5, 5), st.floats(0.0, 0.5))
def test_chain_product_is_a_power_without_spread(name, depth, z, alpha):
    zs, prods = act_math.chain_products([name], depth, z=z, spread=0.0, alpha=alpha)
    _, d = act_math.forward_and_derivative(np.array([z]), name, alpha)
    np.testing.assert_allclose(zs, z)
    np.testing.assert_allclose(prods[name], d[0] ** np.arange(1, depth + 1), rtol=1e-9,
                               atol=1e-300)


@FEW
@given(st.integers(1, 50), st.floats(-6, 6), st.floats(0, 3), st.integers(0, 10_000))
def test_sigmoid_chain_never_beats_a_quarter_per_unit(depth, z, spread, seed):
    _, prods = act_math.chain_products(["sigmoid"], depth, z, spread, seed)
    assert np.all(prods["sigmoid"] <= act_math.quarter_bound(depth) * (1 + 1e-12))
    assert np.all(np.diff(prods["sigmoid"]) <= 0)


def test_relu_chain_passes_everything_or_nothing():
    _, on = act_math.chain_products(["relu"], 30, z=0.7)
    _, off = act_math.chain_products(["relu"], 30, z=-0.7)
    assert np.all(on["relu"] == 1) and np.all(off["relu"] == 0)
    with pytest.raises(act_math.LessonError):
        act_math.chain_products(["relu"], 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_net_sigmoid_gradients_vanish_relu_gradients_do_not(seed):
    names, norms = act_math.deep_grad_norms(["sigmoid", "relu", "tanh"], layers=8, seed=seed)
    assert names == [f"fc{i}" for i in range(1, 10)]
    # lost more than 1000x on the way back
    assert act_math.orders_of_magnitude(norms["sigmoid"]) < -3
    assert abs(act_math.orders_of_magnitude(norms["relu"])) < 1  # within a factor of 10
    assert norms["sigmoid"][0] < 1e-3 * norms["relu"][0]
    # sigmoid's norm shrinks layer after layer, going back towards the input
    assert np.all(np.diff(np.log10(norms["sigmoid"])) > 0)


def test_deep_net_norms_are_true_loss_gradients():
    # Wiring check: the reported norm of fc1 is the norm of d(loss)/d(fc1 weights and bias).
    seed, layers = 3, 3
    data = np.random.default_rng(seed + 7919)
    x, y = data.standard_normal((64, 32)), data.integers(0, 4, 64)
    _, norms = act_math.deep_grad_norms(["tanh"], layers=layers, seed=seed)
    model = act_math.deep_net("tanh", layers, seed=seed)
    fc1 = model.layers[0]
    grads = []
    for key in ("weight", "bias"):
        p = fc1.params[key]
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up = F.softmax_cross_entropy(model.forward(x), y)[0]
            p[idx] = old - 1e-6
            down = F.softmax_cross_entropy(model.forward(x), y)[0]
            p[idx] = old
            g[idx] = (up - down) / 2e-6
        grads.append(g)
    numeric = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    assert norms["tanh"][0] == pytest.approx(numeric, rel=1e-5)


def test_deep_net_is_seeded_and_validates():
    a = act_math.deep_grad_norms(["gelu"], layers=4, seed=5)[1]["gelu"]
    b = act_math.deep_grad_norms(["gelu"], layers=4, seed=5)[1]["gelu"]
    c = act_math.deep_grad_norms(["gelu"], layers=4, seed=6)[1]["gelu"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    for bad in (0, 33):
        with pytest.raises(act_math.LessonError):
            act_math.deep_grad_norms(["relu"], layers=bad)
    with pytest.raises(act_math.LessonError):
        act_math.deep_net("relu", 3, init="uniform")
    with pytest.raises(act_math.LessonError):
        act_math.deep_net("swish", 3)


def test_matched_init_uses_xavier_for_s_curves():
    he = act_math.deep_net("sigmoid", 2, seed=0, init="he").layers[0].params["weight"]
    matched = act_math.deep_net("sigmoid", 2, seed=0).layers[0].params["weight"]
    xavier = act_math.deep_net("sigmoid", 2, seed=0, init="xavier").layers[0].params["weight"]
    np.testing.assert_array_equal(matched, xavier)
    assert he.std() > xavier.std()
    np.testing.assert_array_equal(act_math.deep_net("relu", 2, seed=0).layers[0].params["weight"],
                                  act_math.deep_net("relu", 2, seed=0, init="he").layers[0]
                                  .params["weight"])


def test_orders_of_magnitude():
    assert act_math.orders_of_magnitude(np.array([1e-5, 1e-2, 1.0])) == pytest.approx(-5)
    assert act_math.orders_of_magnitude(np.array([2.0, 1.0])) == pytest.approx(math.log10(2))
    assert math.isnan(act_math.orders_of_magnitude(np.array([0.0, 1.0])))
    assert math.isnan(act_math.orders_of_magnitude(np.array([1.0])))
