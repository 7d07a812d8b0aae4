"""The backprop lesson (cnnviz/lessons/backprop.py): its numbers are the layers' own backward
outputs, agree with float64 centred differences, route and block where the rules say, and one
SGD step lowers the loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz.lessons import backprop as B

setups = st.builds(B.Setup, example=st.integers(0, 3), seed=st.integers(0, B.MAX_SEED),
                   kernels=st.integers(1, 2), pool=st.sampled_from(B.POOLS),
                   act=st.sampled_from(B.ACTIVATIONS))


def rel(a, b) -> float:
    """Largest difference relative to the largest entry: entries near zero are judged on the
    array's scale (a centred difference's rounding is ~1e-10 absolute)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))


def numeric_grad(f, w: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred differences of scalar f() with respect to every entry of w (changed in place)."""
    g = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        w0 = w[idx]
        w[idx] = w0 + eps
        plus = f()
        w[idx] = w0 - eps
        minus = f()
        w[idx] = w0
        g[idx] = (plus - minus) / (2 * eps)
    return g


def near_kink(tr: B.Trace, eps: float = 1e-4) -> bool:
    """A ReLU input or a max-pooling tie within eps: a centred difference may step over it."""
    if tr.act == "relu" and np.any(np.abs(tr.z) < eps):
        return True
    if tr.pool == "max":
        windows = tr.a.reshape(tr.a.shape[0], 2, 2, 2, 2).transpose(0, 1, 3, 2, 4)
        top2 = np.sort(windows.reshape(*windows.shape[:3], 4), axis=-1)[..., -2:]
        if np.any(top2[..., 1] - top2[..., 0] < eps):
            return True
    return False


def test_numbers_are_the_layers_backward_outputs():
    """Redo the chain with the functional ops by hand: every array of the trace matches."""
    s = B.Setup()
    model = B.build(s)
    w = model.layers[0].params["weight"].copy()
    b = model.layers[0].params["bias"].copy()
    fw, fb = model.layers[4].params["weight"].copy(), model.layers[4].params["bias"].copy()
    tr = B.trace(model, *B.example_input(s.example, s.seed))
    x = tr.x[None, None]
    z, cz = F.conv2d_forward(x, w, b)
    a, ca = F.activation_forward(z, "relu")
    p, cp = F.pool2d_forward(a, 2, mode="max")
    logits, cl = F.linear_forward(p.reshape(1, -1), fw, fb)
    loss, dlog = F.softmax_cross_entropy(logits, np.array([tr.label]))
    dflat, dfw, dfb = F.linear_backward(dlog, cl)
    dp = dflat.reshape(p.shape)
    da = F.pool2d_backward(dp, cp)
    dz = F.activation_backward(da, ca)
    dx, dw, db = F.conv2d_backward(dz, cz)
    pairs = [(tr.z, z[0]), (tr.a, a[0]), (tr.pooled, p[0]), (tr.logits, logits[0]),
             (tr.d_logits, dlog[0]), (tr.fc_dw, dfw), (tr.fc_db, dfb), (tr.d_flat, dflat[0]),
             (tr.d_pooled, dp[0]), (tr.d_a, da[0]), (tr.d_z, dz[0]), (tr.conv_dw, dw[:, 0]),
             (tr.conv_db, db), (tr.d_x, dx[0, 0])]
    for mine, engine in pairs:
        np.testing.assert_array_equal(mine, engine)
    assert tr.loss == loss
    np.testing.assert_allclose(tr.d_logits, tr.probs - tr.onehot, atol=1e-15)  # p - y
    np.testing.assert_allclose(tr.fc_dw, np.outer(tr.d_logits, tr.flat), rtol=1e-12)
    np.testing.assert_allclose(tr.d_flat, tr.fc_w.T @ tr.d_logits, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(setups)
def test_centred_differences_agree(s):
    model = B.build(s)
    x, label = B.example_input(s.example, s.seed)
    tr = B.trace(model, x, label)
    if near_kink(tr):
        return  # the function is not smooth within eps there; hypothesis finds smooth ones too
    conv_w = model.layers[0].params["weight"]
    fc_w = model.layers[4].params["weight"]
    def loss():
        return B.loss_of(model, x, label)
    assert rel(numeric_grad(loss, conv_w)[:, 0], tr.conv_dw) <= 1e-6
    assert rel(numeric_grad(loss, fc_w), tr.fc_dw) <= 1e-6
    xx = tr.x.copy()
    def loss_x():
        return B.loss_of(model, xx, label)
    assert rel(numeric_grad(loss_x, xx), tr.d_x) <= 1e-6


@settings(max_examples=40, deadline=None)
@given(setups)
def test_max_pooling_routes_only_to_the_winners_and_relu_only_where_positive(s):
    tr = B.current(s)
    if s.pool == "max":
        assert tr.winners.sum() == tr.pooled.size  # one winner per window (2x2, stride 2)
        assert np.all(tr.d_a[~tr.winners] == 0)
        for k, i, j in np.ndindex(tr.pooled.shape):
            window = np.s_[k, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            win = tr.winners[window]
            assert win.sum() == 1 and tr.a[window][win][0] == tr.pooled[k, i, j]
            assert tr.a[window].max() == tr.pooled[k, i, j]
            assert tr.d_a[window][win][0] == tr.d_pooled[k, i, j]
    else:
        assert not tr.winners.any()
        spread = np.repeat(np.repeat(tr.d_pooled, 2, axis=1), 2, axis=2) / 4
        np.testing.assert_allclose(tr.d_a, spread, rtol=1e-15)
    if s.act == "relu":
        assert np.all(tr.d_z[tr.z <= 0] == 0)
        np.testing.assert_array_equal(tr.local, (tr.z > 0).astype(float))
        np.testing.assert_array_equal(tr.d_z[tr.z > 0], tr.d_a[tr.z > 0])


@settings(max_examples=30, deadline=None)
@given(setups)
def test_slide_sums_to_dw_and_dx_is_the_full_convolution(s):
    tr = B.current(s)
    for k in range(s.kernels):
        stops = B.dw_slide(tr, k)
        assert len(stops) == 16
        np.testing.assert_allclose(sum(st.term for st in stops), tr.conv_dw[k], rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_allclose(stops[-1].running, tr.conv_dw[k], rtol=1e-12, atol=1e-15)
        # a slow obviously-correct reference: each weight = sum over cells of input * dY
        ref = np.array([[np.sum(tr.x[r:r + 4, c:c + 4] * tr.d_z[k]) for c in range(3)]
                        for r in range(3)])
        np.testing.assert_allclose(tr.conv_dw[k], ref, rtol=1e-12, atol=1e-15)
    full = sum(scipy.signal.convolve2d(tr.d_z[k], tr.kernel[k], mode="full")
               for k in range(s.kernels))
    np.testing.assert_allclose(tr.d_x, full, rtol=1e-12, atol=1e-15)
    # the same as sliding the flipped kernel (correlation) over dY padded by 2
    flip = B.flipped(tr.kernel)
    corr = sum(scipy.signal.correlate2d(np.pad(tr.d_z[k], 2), flip[k], mode="valid")
               for k in range(s.kernels))
    np.testing.assert_allclose(tr.d_x, corr, rtol=1e-12, atol=1e-15)


def test_slide_refuses_a_gradient_that_is_not_the_engines():
    tr = B.current(B.Setup())
    tr.conv_dw = tr.conv_dw + 1e-6
    with pytest.raises(AssertionError):
        B.dw_slide(tr, 0)


@pytest.mark.parametrize("example", range(4))
@pytest.mark.parametrize("pool", B.POOLS)
@pytest.mark.parametrize("kernels", (1, 2))
def test_loss_falls_over_three_steps_at_the_default_rate(example, pool, kernels):
    s = B.Setup(example, B.Setup().seed, kernels, pool)
    losses = B.losses(s, (B.DEFAULT_LR,) * 3)
    assert losses[0] > losses[1] > losses[2] > losses[3]


def test_loss_falls_for_almost_every_seed():
    # a ReLU unit that switches on during a step can bump the loss once; it stays rare
    falls = [np.all(np.diff(B.losses(B.Setup(ex, seed), (B.DEFAULT_LR,) * 3)) < 0)
             for ex in range(4) for seed in range(0, 200, 4)]
    assert np.mean(falls) >= 0.97


def test_sgd_step_is_w_minus_lr_times_dw():
    s = B.Setup()
    u = B.step(s, (), 0.3)
    np.testing.assert_allclose(u.kernel_after, u.kernel_before - 0.3 * u.before.conv_dw,
                               rtol=1e-14)
    np.testing.assert_allclose(u.after.fc_w, u.before.fc_w - 0.3 * u.before.fc_dw, rtol=1e-14)
    assert u.status == "down" and u.loss_after < u.loss_before
    # the history replays the same step
    np.testing.assert_array_equal(B.current(s, (0.3,)).kernel, u.kernel_after)
    assert B.step(s, (0.3,), 0.3).loss_before == u.loss_after


@pytest.mark.parametrize("lr, code", [(0, "lr_zero"), (-0.1, "lr_negative"), (1e6, "lr_huge"),
                                      (math.nan, "lr_nan"), (math.inf, "lr_nan"),
                                      ("abc", "lr_nan"), (None, "lr_nan")])
def test_bad_learning_rates_get_a_code(lr, code):
    assert B.check_lr(lr) == code
    with pytest.raises(B.LessonError) as err:
        B.step(B.Setup(), (), lr)
    assert err.value.code == code


def test_good_learning_rates_pass():
    assert B.check_lr(B.DEFAULT_LR) is None and B.check_lr(B.MAX_LR) is None


def test_a_diverging_step_is_reported_without_numbers(monkeypatch):
    s = B.Setup()
    model = B.build(s)
    x, label = B.example_input(s.example, s.seed)
    # an overflowing gradient: the step leaves infinite weights behind
    real = B.trace

    def huge(m, xx, yy):
        tr = real(m, xx, yy)
        m.layers[0].grads["weight"] = np.full_like(m.layers[0].params["weight"], 1e308)
        return tr

    monkeypatch.setattr(B, "trace", huge)
    u = B.sgd_step(model, x, label, 10.0)
    assert u.status == "diverged" and u.after is None and math.isnan(u.loss_after)


def test_sigmoid_shrinks_the_gradient_by_at_most_a_quarter():
    for seed in range(10):
        both = B.compare_activations(B.Setup(seed=seed))
        sig, relu = both["sigmoid"], both["relu"]
        np.testing.assert_array_equal(sig.kernel, relu.kernel)  # the same weights
        assert np.all(sig.local <= B.SIGMOID_MAX_SLOPE) and np.all(sig.local > 0)
        assert np.all(np.abs(sig.d_z) <= B.SIGMOID_MAX_SLOPE * np.abs(sig.d_a) + 1e-18)
        assert B.shrink(sig)["ratio"] <= B.SIGMOID_MAX_SLOPE
        assert set(np.unique(relu.local)) <= {0.0, 1.0}


@settings(max_examples=20, deadline=None)
@given(setups, st.integers(0, 17), st.sampled_from([1e-3, 1e-4, 1e-5, 1e-6]))
def test_grad_check_on_screen(s, index, eps):
    name = B.weight_options(s.kernels)[index % (9 * s.kernels)]
    k, r, c = B.parse_weight(name)
    tr = B.current(s)
    g = B.grad_check(s, (), k, r, c, eps)
    assert g["backprop"] == tr.conv_dw[k, r, c]
    assert g["numeric"] == (g["loss_plus"] - g["loss_minus"]) / (2 * eps)
    if not near_kink(tr, 2 * eps):
        assert g["rel_error"] <= 1e-4 or abs(g["numeric"] - g["backprop"]) <= 1e-8


def test_grad_check_refuses_bad_input():
    s = B.Setup(kernels=1)
    for eps in (0, -1e-3, 1.0, math.nan):
        with pytest.raises(B.LessonError):
            B.grad_check(s, (), 0, 0, 0, eps)
    with pytest.raises(B.LessonError):
        B.grad_check(s, (), 1, 0, 0)  # only one kernel
    with pytest.raises(B.LessonError):
        B.parse_weight("a-b")


def test_setup_validation_and_determinism():
    with pytest.raises(B.LessonError):
        B.Setup(kernels=3)
    with pytest.raises(B.LessonError):
        B.Setup(example=4)
    a, b = B.current(B.Setup()), B.current(B.Setup())
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.kernel, b.kernel)
    assert a.x.shape == (6, 6) and a.kernel.shape == (2, 3, 3) and a.fc_w.shape == (4, 8)
    assert B.current(B.Setup(seed=6)).kernel.tolist() != a.kernel.tolist()
