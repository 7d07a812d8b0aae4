"""cnnviz.nn: layer bookkeeping, Sequential's inspection helpers, and parity with PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnviz import functional as F
from cnnviz import nn, optim
from cnnviz.functional import ShapeError


def reference_net(seed: int = 0, dtype=np.float32) -> nn.Sequential:
    """The network in ARCHITECTURE.md."""
    kw = {"dtype": dtype}
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, seed=seed, **kw), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, seed=seed + 1, **kw), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 4, seed=seed + 2, **kw),
    )  # fmt: skip


TORCH_REPR = """Sequential(
  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (1): ReLU()
  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (3): Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (4): ReLU()
  (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (6): Flatten(start_dim=1, end_dim=-1)
  (7): Linear(in_features=256, out_features=4, bias=True)
)"""


def test_repr_looks_like_pytorch():
    assert repr(reference_net()) == TORCH_REPR
    assert repr(nn.Conv2d(3, 4, 5, stride=2, dilation=2, bias=False)) == (
        "Conv2d(3, 4, kernel_size=(5, 5), stride=(2, 2), dilation=(2, 2), bias=False)"
    )
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"


def test_output_shapes_and_parameter_counts():
    model = reference_net()
    rows = model.output_shapes((1, 16, 16))
    assert rows == [
        ("conv1", (8, 16, 16), 80),
        ("relu1", (8, 16, 16), 0),
        ("maxpool1", (8, 8, 8), 0),
        ("conv2", (16, 8, 8), 1168),
        ("relu2", (16, 8, 8), 0),
        ("maxpool2", (16, 4, 4), 0),
        ("flatten1", (256,), 0),
        ("fc1", (4,), 1028),
    ]
    assert model.num_parameters() == 80 + 1168 + 1028
    # Matches what really comes out, layer by layer.
    x = np.zeros((2, 1, 16, 16), np.float32)
    model.forward(x, keep=True)
    assert [a.shape for a in model.activations] == [(2, *shape) for _, shape, _ in rows]
    assert model.output_shapes((2, 1, 16, 16))[-1] == ("fc1", (2, 4), 1028)


def test_output_shapes_raise_shape_errors():
    with pytest.raises(ShapeError) as info:
        reference_net().output_shapes((1, 2, 2))  # second pool meets a 1x1 map
    assert info.value.code == "too_big"
    with pytest.raises(ShapeError) as info:
        reference_net().output_shapes((1, 8, 8))  # maps end 2x2: 64 features, not 256
    assert info.value.code == "features"
    assert info.value.params == {"expected": 256, "got": 64}
    with pytest.raises(ShapeError) as info:
        reference_net().output_shapes((3, 16, 16))
    assert info.value.code == "channels"


def test_forward_keeps_activations_only_when_asked():
    model = reference_net()
    x = np.random.default_rng(0).standard_normal((3, 1, 16, 16)).astype(np.float32)
    out = model.forward(x, keep=True)
    assert len(model.activations) == len(model.layers)
    assert model.activations[-1] is out
    np.testing.assert_array_equal(model.activations[1], np.maximum(model.activations[0], 0))
    model.forward(x)
    assert model.activations == []


def test_init_seed_dtype_and_scale():
    a = nn.Conv2d(3, 64, 5, seed=1)
    b = nn.Conv2d(3, 64, 5, seed=1)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    assert a.params["weight"].dtype == np.float32 and a.params["weight"].shape == (64, 3, 5, 5)
    np.testing.assert_array_equal(a.params["bias"], 0)
    # He: std sqrt(2 / fan_in); Xavier: sqrt(2 / (fan_in + fan_out)).
    assert a.params["weight"].std() == pytest.approx(math.sqrt(2 / 75), rel=0.05)
    big = nn.Linear(400, 300, init="xavier", seed=2, dtype=np.float64)
    assert big.params["weight"].std() == pytest.approx(math.sqrt(2 / 700), rel=0.03)
    assert big.params["weight"].dtype == np.float64 and big.params["weight"].shape == (300, 400)
    rng = np.random.default_rng(3)
    c, d = nn.Linear(4, 4, seed=rng), nn.Linear(4, 4, seed=rng)  # one Generator feeds both
    assert not np.array_equal(c.params["weight"], d.params["weight"])
    assert "bias" not in nn.Linear(4, 4, bias=False).params
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 2, init="orthogonal")


def test_layers_match_functional_ops():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 7))
    conv = nn.Conv2d(3, 2, 3, stride=2, padding=1, dilation=1, seed=0, dtype=np.float64)
    ref, _ = F.conv2d_forward(x, conv.params["weight"], conv.params["bias"], 2, 1)
    np.testing.assert_array_equal(conv(x), ref)
    pool = nn.AvgPool2d(3, stride=2, padding=1)
    np.testing.assert_array_equal(pool(x), F.pool2d_forward(x, 3, 2, 1, "avg")[0])
    assert pool.cache["mode"] == "avg"
    np.testing.assert_array_equal(nn.LeakyReLU(0.3)(x), np.where(x > 0, x, 0.3 * x))
    flat = nn.Flatten()
    np.testing.assert_array_equal(flat(x), x.reshape(2, -1))
    np.testing.assert_array_equal(flat.backward(flat(x)), x)
    for layer in (nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.ELU(), nn.MaxPool2d(2), nn.Flatten()):
        assert layer.params == {} and layer.grads == {} and layer.num_parameters() == 0


def test_backward_fills_grads_and_zero_grad_clears_them():
    model = reference_net(dtype=np.float64)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 1, 16, 16))
    y = np.array([0, 1, 2, 3])
    assert all(math.isnan(v) for _, v in model.grad_norms())
    _, d = F.softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(d)
    assert dx.shape == x.shape
    norms = dict(model.grad_norms())
    assert list(norms) == ["conv1", "conv2", "fc1"]
    conv1 = model.layers[0]
    expected = math.sqrt(sum(float((g**2).sum()) for g in conv1.grads.values()))
    assert norms["conv1"] == pytest.approx(expected)
    # Skipping the input gradient changes nothing else.
    grads = {k: model.layers[int(k[0])].grads[k[2:]].copy() for k, _ in model.named_parameters()}
    assert model.backward(d, need_input_grad=False) is None
    for key, g in grads.items():
        np.testing.assert_array_equal(model.layers[int(key[0])].grads[key[2:]], g)
    assert model.layers[0].need_input_grad  # restored for the next caller
    model.zero_grad()
    assert all(layer.grads == {} for layer in model.layers)


def test_state_dict_round_trip_through_npz(tmp_path):
    model = reference_net(seed=0)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"]
    path = tmp_path / "weights.npz"
    np.savez(path, **state)
    other = reference_net(seed=42)
    weight_array = other.layers[0].params["weight"]
    with np.load(path) as saved:
        other.load_state_dict(saved)
    assert other.layers[0].params["weight"] is weight_array  # loaded in place
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    # state_dict hands out copies: changing them does not touch the model.
    state["0.weight"][...] = 7
    assert not np.any(model.layers[0].params["weight"] == 7)


def test_load_state_dict_rejects_mismatches_without_half_loading():
    model = reference_net(seed=0)
    before = model.state_dict()
    bad = reference_net(seed=1).state_dict()
    bad["7.weight"] = np.zeros((4, 255), np.float32)
    with pytest.raises(ValueError, match="7.weight"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    missing = dict(before)
    del missing["3.bias"]
    with pytest.raises(KeyError, match="3.bias"):
        model.load_state_dict(missing)


def test_a_tiny_problem_is_learned():
    """Bright-left vs bright-right 8x8 images: a few SGD steps must separate them."""
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 0.2, (32, 1, 8, 8)).astype(np.float32)
    y = np.arange(32) % 2
    x[y == 0, :, :, :4] += 0.8
    x[y == 1, :, :, 4:] += 0.8
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 2, seed=1),
    )  # fmt: skip
    opt = optim.SGD(model, lr=0.1, momentum=0.9)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss, d = F.softmax_cross_entropy(model.forward(x), y)
        model.backward(d, need_input_grad=False)
        opt.step()
        losses.append(loss)
    assert losses[-1] < 0.2 * losses[0]
    assert (model.forward(x).argmax(axis=1) == y).all()


def test_matches_torch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    model = reference_net(seed=3, dtype=np.float64)
    tnn = torch.nn
    tmodel = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(256, 4),
    ).double()  # fmt: skip
    assert repr(tmodel) == repr(model)
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 1, 16, 16))
    y = rng.integers(0, 4, 5)
    loss, d = F.softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(d)
    tx = torch.from_numpy(x).requires_grad_(True)
    tloss = tnn.functional.cross_entropy(tmodel(tx), torch.from_numpy(y))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    tparams = dict(tmodel.named_parameters())
    for key, _ in model.named_parameters():
        grad = model.layers[int(key[0])].grads[key[2:]]
        np.testing.assert_allclose(grad, tparams[key].grad.numpy(), rtol=1e-9, atol=1e-12)
