"""cnnviz.optim: three steps against torch.optim's update formulas, written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import nn, optim

P0 = np.array([[0.5, -1.0, 2.0]])
GRADS = [np.array([[0.1, -0.2, 0.3]]), np.array([[-0.4, 0.5, 0.1]]), np.array([[0.2, 0.2, -0.6]])]


def run(make_opt, dtype=np.float64, grads=GRADS):
    """Three steps on a 1x3 Linear weight with the given gradients; returns params per step."""
    layer = nn.Linear(3, 1, bias=False, dtype=dtype)
    layer.params["weight"][...] = P0
    opt = make_opt(layer)
    history = []
    for g in grads:
        opt.zero_grad()
        layer.grads["weight"] = g.astype(dtype)
        opt.step()
        history.append(layer.params["weight"].copy())
    return history


def test_plain_sgd():
    lr = 0.1
    p, expected = P0.copy(), []
    for g in GRADS:
        p = p - lr * g
        expected.append(p)
    for got, want in zip(run(lambda m: optim.SGD(m, lr)), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_weight_decay(nesterov):
    lr, mu, wd = 0.1, 0.9, 0.01
    p, buf, expected = P0.copy(), None, []
    for g in GRADS:
        d = g + wd * p
        buf = d.copy() if buf is None else mu * buf + d  # torch: first buffer = first gradient
        step = d + mu * buf if nesterov else buf
        p = p - lr * step
        expected.append(p)
    got = run(lambda m: optim.SGD(m, lr, momentum=mu, weight_decay=wd, nesterov=nesterov))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_sgd_momentum_first_step_is_plain_sgd():
    got = run(lambda m: optim.SGD(m, 0.1, momentum=0.9), grads=GRADS[:1])
    np.testing.assert_allclose(got[0], P0 - 0.1 * GRADS[0], rtol=1e-14)


@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_adam_bias_correction(wd):
    lr, (b1, b2), eps = 0.01, (0.8, 0.99), 1e-8
    p, m, v, expected = P0.copy(), 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        d = g + wd * p
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(p)
    got = run(lambda mdl: optim.Adam(mdl, lr, betas=(b1, b2), eps=eps, weight_decay=wd))
    for a, b in zip(got, expected, strict=True):
        # Textbook form; torch computes sqrt(v) / sqrt(1 - b2^t) + eps, the same up to rounding.
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # The first Adam step moves every weight by ~lr, whatever the gradient's size.
    first = run(lambda mdl: optim.Adam(mdl, lr), grads=[GRADS[0] * 1e-3])[0]
    np.testing.assert_allclose(np.abs(first - P0), lr, rtol=1e-3)


def test_adam_defaults_like_torch():
    layer = nn.Linear(2, 2)
    opt = optim.Adam(layer)
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    sgd = optim.SGD(layer, 0.1)
    assert (sgd.momentum, sgd.weight_decay, sgd.nesterov) == (0.0, 0.0, False)


def test_updates_are_in_place_in_the_param_dtype():
    layer = nn.Linear(3, 2, dtype=np.float32, seed=0)
    weight = layer.params["weight"]
    for opt in (optim.SGD(layer, 0.1, momentum=0.9), optim.Adam(layer)):
        layer.grads = {"weight": np.ones((2, 3)), "bias": np.ones(2)}  # float64 gradients
        before = weight.copy()
        opt.step()
        assert layer.params["weight"] is weight and weight.dtype == np.float32
        assert not np.array_equal(weight, before)


def test_parameters_without_gradient_are_skipped():
    layer = nn.Linear(3, 2, seed=0)
    before = {k: v.copy() for k, v in layer.params.items()}
    opt = optim.SGD(layer, 0.1, weight_decay=0.1)
    opt.zero_grad()
    opt.step()  # nothing to do: no gradient, as torch with grad None
    for key, value in layer.params.items():
        np.testing.assert_array_equal(value, before[key])


def test_optimizer_settings_are_checked():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(layer, -0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(layer, 0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(layer, betas=(1.0, 0.999))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            lambda m: optim.SGD(m, 0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
            lambda p, torch: torch.optim.SGD(
                p, 0.1, momentum=0.9, weight_decay=0.01, nesterov=True
            ),
        ),
        (
            lambda m: optim.SGD(m, 0.05, momentum=0.5, dampening=0.1),
            lambda p, torch: torch.optim.SGD(p, 0.05, momentum=0.5, dampening=0.1),
        ),
        (
            lambda m: optim.Adam(m, 0.01, betas=(0.8, 0.99), weight_decay=0.05),
            lambda p, torch: torch.optim.Adam(p, 0.01, betas=(0.8, 0.99), weight_decay=0.05),
        ),
    ],
)
def test_matches_real_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    got = run(ours)
    param = torch.nn.Parameter(torch.from_numpy(P0.copy()))
    opt = theirs([param], torch)
    for g, mine in zip(GRADS, got, strict=True):
        opt.zero_grad()
        param.grad = torch.from_numpy(g.copy())
        opt.step()
        np.testing.assert_allclose(mine, param.detach().numpy(), rtol=1e-12)
