"""The trainer's sentences about its gradient chart are computed from the chart's numbers
(issue 16, items 1 and 11): "sigmoid's conv1 line sits far below ReLU's" was false after two
epochs of the default race, and conv lines that vanished (0 or not finite on a log axis) had no
note."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import models, train
from cnnviz.lessons import trainer as T

pos = st.floats(1e-6, 1e3, allow_nan=False)
point = st.one_of(pos, pos, pos, st.just(0.0), st.just(math.nan), st.just(math.inf))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(point, point), min_size=0, max_size=25))
def test_gradient_claim_agrees_with_the_points(pairs) -> None:
    x = [0.5 * (i + 1) for i in range(len(pairs))]
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    claim = T.gradient_claim(x, a, x, b)
    ok = [(xi, ai, bi) for xi, ai, bi in zip(x, a, b, strict=True)
          if T.drawable([ai])[0] and T.drawable([bi])[0] and ai != bi]
    if len(ok) < 2:
        assert claim is None
        return
    code, params = claim
    below = [ai < bi for _, ai, bi in ok]
    if code == "below":
        assert all(below) and params["ratio"] >= 1
    elif code == "above":
        assert not any(below) and params["ratio"] >= 1
    elif code in ("below_then_above", "above_then_below"):
        first = code == "below_then_above"
        k = below.index(not first)
        assert below[:k] == [first] * k and below[k:] == [not first] * (len(ok) - k)
        assert params["since"] == ok[k][0]
    else:
        assert code == "mixed"
        assert sum(b1 != b2 for b1, b2 in zip(below, below[1:], strict=False)) >= 2
        assert params["share"] == pytest.approx(100 * sum(below) / len(below))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["conv1", "conv2", "conv3", "fc1"]),
                       st.lists(point, min_size=1, max_size=12), min_size=1))
def test_every_vanishing_line_is_named_and_no_other(grad) -> None:
    n = max(len(v) for v in grad.values())
    x = [float(i + 1) for i in range(n)]
    gaps = {g["layer"]: g for g in T.gradient_gaps(x, grad)}
    for layer, short in grad.items():
        values = short + [math.nan] * (n - len(short))  # a shorter list lost its last values
        bad = [i for i, v in enumerate(values) if not (math.isfinite(v) and v > 0)]
        if not bad:
            assert layer not in gaps
            continue
        g = gaps[layer]
        assert g["since"] == x[bad[0]]
        assert g["all"] == (len(bad) == len(values))
        assert (g["kind"] == "overflow") == any(not math.isfinite(values[i]) for i in bad)


def test_a_learning_rate_too_big_silences_the_conv_layers_and_the_note_says_so() -> None:
    """The "learning rate too big" preset (SGD, 5.0): conv1 and conv2 get gradient 0."""
    ds = models.dataset("shapes")
    model = models.build(dict(models.DEFAULT_SPEC), 0)
    x, grad = [], {}
    for rec in train.fit(model, ds, epochs=1, seed=0, optimizer="sgd", lr=5.0):
        if rec.kind in ("step", "epoch") and rec.grad_norms:
            x.append(rec.epoch)
            for k, v in rec.grad_norms.items():
                grad.setdefault(k, []).append(v)
    gaps = {g["layer"]: g for g in T.gradient_gaps(x, grad)}
    assert {"conv1", "conv2"} <= set(gaps)
    assert gaps["conv1"]["kind"] == "zero"
    assert np.all(np.asarray(grad["conv1"])[-3:] == 0)
