"""The trainer's model builder: spec -> Sequential, shape checks, identical initial weights,
the PyTorch code generator and the .npz weights."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz import models, nn


def spec_with(**kw):
    spec = copy.deepcopy(models.DEFAULT_SPEC)
    spec.update(kw)
    return spec


def blocks(*rows):
    return [{"filters": f, "kernel": k, "padding": p, "pool": pool} for f, k, p, pool in rows]


# -- specs and checks ------------------------------------------------------------------------------
def test_normalize_fills_defaults_and_cleans_types():
    spec = models.normalize_spec({"blocks": [{"filters": 4.0, "kernel": "5"}]})
    assert spec["dataset"] == "shapes" and spec["activation"] == "relu" and spec["pool"] == "max"
    assert spec["blocks"] == [{"filters": 4, "kernel": 5, "padding": 0, "pool": True}]


@pytest.mark.parametrize("bad", [
    {"dataset": "cifar"}, {"activation": "gelu"}, {"pool": "median"},
    {"blocks": []}, {"blocks": blocks(*[(8, 3, 1, True)] * 4)},
    {"blocks": blocks((5, 3, 1, True))}, {"blocks": blocks((8, 2, 1, True))},
    {"blocks": blocks((8, 3, -1, True))}, {"blocks": blocks((8, 3, 4, True))},
    {"blocks": [{"kernel": 3}]}, {"blocks": "two"},
])  # fmt: skip
def test_normalize_refuses_unsupported_settings(bad):
    with pytest.raises(models.ArchitectureError) as info:
        models.normalize_spec(bad)
    assert info.value.code == "arch_setting"


def test_defaults_fit_both_data_sets():
    for name in ("shapes", "digits"):
        rows = models.layer_table(spec_with(dataset=name))
        assert rows[0]["shape"] == models.input_shape(name)
        assert rows[-1]["shape"] == (4,)


def test_kernel_too_big_is_named_before_start():
    # 16 -> conv7 -> 10 -> pool -> 5 -> conv7 (no padding) cannot fit: block 2's convolution.
    spec = spec_with(blocks=blocks((8, 7, 0, True), (8, 7, 0, True)))
    with pytest.raises(models.ArchitectureError) as info:
        models.check(spec)
    assert info.value.code == "arch_shrinks"
    assert info.value.params == {"block": 2, "layer": "conv", "size": 5, "kernel": 7, "padding": 0}
    with pytest.raises(models.ArchitectureError):
        models.layer_table(spec)
    with pytest.raises(models.ArchitectureError):
        models.build(spec)


def test_pooling_that_does_not_fit_is_named():
    # digits 8 -> conv3 -> 6 -> pool 3 -> conv3 -> 1 -> pool: no 2x2 window in a 1x1 map.
    spec = spec_with(dataset="digits", blocks=blocks((8, 3, 0, True), (8, 3, 0, True)))
    with pytest.raises(models.ArchitectureError) as info:
        models.check(spec)
    assert info.value.params["layer"] == "pool" and info.value.params["block"] == 2
    assert info.value.params["size"] == 1
    # the same net without that pooling ends at 1x1, which is allowed
    ok = spec_with(dataset="digits", blocks=blocks((8, 3, 0, True), (8, 3, 0, False)))
    assert models.layer_table(ok)[-2]["shape"] == (8,)


block_st = st.fixed_dictionaries({
    "filters": st.sampled_from(models.FILTERS[:3]), "kernel": st.sampled_from(models.KERNELS),
    "padding": st.integers(0, models.MAX_PADDING), "pool": st.booleans(),
})  # fmt: skip
spec_st = st.fixed_dictionaries({
    "dataset": st.sampled_from(["shapes", "digits"]),
    "blocks": st.lists(block_st, min_size=1, max_size=3),
    "activation": st.sampled_from(models.ACTIVATIONS), "pool": st.sampled_from(models.POOLS),
})  # fmt: skip


def _reference_forward(spec):
    """Run the layers directly on data, without models.check: the oracle for shapes."""
    x = np.zeros((2, *models.input_shape(spec["dataset"])), np.float32)
    shapes = []
    c = 1
    for b in spec["blocks"]:
        w = np.zeros((b["filters"], c, b["kernel"], b["kernel"]), np.float32)
        x, _ = F.conv2d_forward(x, w, None, 1, b["padding"])
        shapes += [x.shape[1:], x.shape[1:]]
        if b["pool"]:
            x, _ = F.pool2d_forward(x, 2, mode=spec["pool"])
            shapes.append(x.shape[1:])
        c = b["filters"]
    return shapes


@given(spec_st)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_table_matches_a_real_forward_pass(spec):
    try:
        expected = _reference_forward(spec)
    except F.ShapeError:
        with pytest.raises(models.ArchitectureError):
            models.check(spec)
        return
    rows = models.layer_table(spec)
    model = models.build(spec, seed=1)
    out = model.forward(np.random.default_rng(0).random((3, *rows[0]["shape"]), np.float32))
    assert out.shape == (3, 4)
    assert [r["shape"] for r in rows[1 : 1 + len(expected)]] == [tuple(s) for s in expected]
    assert rows[-2]["shape"] == (int(np.prod(expected[-1])),)
    assert sum(r["params"] for r in rows) == sum(a.size for _, a in model.named_parameters())


# -- weights ---------------------------------------------------------------------------------------
def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (models.build(models.DEFAULT_SPEC, s).state_dict() for s in (3, 3, 4))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_auto_init_follows_the_activation():
    relu = models.build(spec_with(activation="relu"), 0).state_dict()["0.weight"]
    sig = models.build(spec_with(activation="sigmoid"), 0).state_dict()["0.weight"]
    # same draws, He std sqrt(2/9) vs Xavier std sqrt(2/(9+72)): a fixed ratio of 3
    np.testing.assert_allclose(relu / sig, 3.0, rtol=1e-5)


def test_comparison_nets_share_exactly_the_same_initial_weights():
    nets = models.same_init_models(models.DEFAULT_SPEC, list(models.ACTIVATIONS), seed=7)
    states = [m.state_dict() for m in nets.values()]
    for s in states[1:]:
        assert all(np.array_equal(states[0][k], s[k]) for k in s)
    kinds = {act: type(m.layers[1]).__name__ for act, m in nets.items()}
    assert kinds == {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh",
                     "leaky_relu": "LeakyReLU"}
    x = models.dataset("shapes").x_test[:8]
    outs = [m.forward(x) for m in nets.values()]
    assert not np.allclose(outs[0], outs[1])  # same weights, different activation


def test_npz_round_trip_keeps_weights_spec_and_meta():
    spec = spec_with(pool="avg", activation="tanh", blocks=blocks((4, 5, 2, True)))
    model = models.build(spec, 5)
    data = models.save_npz(model, spec, {"train": {"lr": 0.1}})
    spec2, model2, meta = models.load_npz(data)
    assert spec2 == models.normalize_spec(spec) and meta == {"train": {"lr": 0.1}}
    x = np.random.default_rng(1).random((4, 1, 16, 16), np.float32)
    np.testing.assert_array_equal(model.forward(x), model2.forward(x))


def test_trace_softmax_and_drop_caches():
    model = models.build(models.DEFAULT_SPEC, 0)
    x = models.dataset("shapes").x_test[:1]
    outs = models.trace(model, x)
    assert [n for n, _ in outs] == model.names()
    assert outs[-1][1].shape == (1, 4) and model.activations == []
    p = models.softmax(outs[-1][1])
    np.testing.assert_allclose(p.sum(), 1.0)
    np.testing.assert_allclose(models.softmax(np.array([[np.nan, 1, 2, 3]])), 0.25)
    models.drop_caches(model)
    assert all(getattr(layer, "_cache", None) is None for layer in model.layers)


def test_shared_dataset_is_cached_and_read_only():
    ds = models.dataset("digits")
    assert models.dataset("digits") is ds
    with pytest.raises(ValueError):
        ds.x_train[0, 0, 0, 0] = 1.0


# -- PyTorch code ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    models.DEFAULT_SPEC,
    spec_with(activation="leaky_relu", pool="avg", blocks=blocks((4, 5, 2, True),
                                                                  (8, 3, 0, False))),
    spec_with(dataset="digits", activation="sigmoid",
              blocks=blocks((8, 3, 1, False), (16, 3, 1, True), (32, 1, 0, True))),
])  # fmt: skip
def test_pytorch_code_is_the_same_network(spec, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    model = models.build(spec, 3)
    (tmp_path / "cnnviz_weights.npz").write_bytes(models.save_npz(model, spec))
    code = models.pytorch_code(spec, {"optimizer": "adam", "lr": 0.005, "epochs": 3,
                                      "batch_size": 16})
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "cnnviz_model.py", "exec"), scope)  # loads the weights itself
    x = np.random.default_rng(2).random((5, *models.input_shape(spec["dataset"])), np.float32)
    with torch.no_grad():
        theirs = scope["model"](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, model.forward(x), rtol=1e-4, atol=1e-5)
    assert isinstance(scope["optimizer"], torch.optim.Adam)
    assert scope["probs"].shape == (1, 4)


def test_pytorch_code_mentions_optimizer_and_shapes():
    code = models.pytorch_code(models.DEFAULT_SPEC, {"optimizer": "momentum", "lr": 0.05})
    assert "torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)" in code
    assert "nn.Linear(256, 4)" in code and "-> 8 x 8 x 8" in code
    plain = models.pytorch_code(models.DEFAULT_SPEC, {"optimizer": "sgd", "lr": 0.2})
    assert "lr=0.2)" in plain and "momentum" not in plain.split("optimizer =")[1]


def test_every_layer_kind_is_in_the_table():
    spec = spec_with(activation="sigmoid", pool="avg")
    kinds = [r["kind"] for r in models.layer_table(spec)]
    assert kinds == ["input", "Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid",
                     "AvgPool2d", "Flatten", "Linear"]
    assert isinstance(models.build(spec)[2], nn.AvgPool2d)


def test_columns_memory_estimate_matches_the_engine():
    spec = spec_with(blocks=blocks((8, 3, 1, True), (16, 5, 2, False)))
    model = models.build(spec, 0)
    model.forward(np.zeros((4, 1, 16, 16), np.float32))
    # conv2 sees 8 channels of 8x8 with a 5x5 kernel: (8*25, 4*8*(8+4)) floats
    assert models.columns_bytes(spec, 4) == 4 * 8 * 25 * 4 * 8 * 12
    # ... which is what the engine really keeps for the backward pass (its cache's "cols")
    assert model.layers[3]._cache["cols"].nbytes == models.columns_bytes(spec, 4)


def test_huge_network_is_over_the_memory_budget_and_the_default_far_below():
    assert models.columns_bytes(models.DEFAULT_SPEC, 32) < models.MAX_COLUMNS_BYTES / 20
    big = spec_with(blocks=blocks(*[(32, 7, 3, False)] * 3))
    assert models.columns_bytes(big, 128) > models.MAX_COLUMNS_BYTES
