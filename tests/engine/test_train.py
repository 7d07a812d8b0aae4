"""The training generator: learns, is reproducible, stops, pauses and reports divergence."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from cnnviz import datasets, nn, optim
from cnnviz.train import Progress, confusion_matrix, evaluate, fit, make_model


@pytest.fixture(scope="module")
def shapes() -> datasets.Dataset:
    return datasets.load("shapes", seed=0)


def run(model, ds, **kw) -> list[Progress]:
    return list(fit(model, ds, **kw))


def epoch_accs(records: list[Progress]) -> list[float]:
    return [r.test_acc for r in records if r.kind == "epoch"]


def all_finite(records: list[Progress]) -> bool:
    for r in records:
        for v in (r.loss, r.train_acc, r.test_acc, *r.grad_norms.values()):
            if v is not None and not math.isfinite(v):
                return False
    return True


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_net_learns_shapes(seed: int) -> None:
    ds = datasets.load("shapes", seed=seed)
    model = make_model("shapes", seed=seed)
    recs = run(
        model, ds, epochs=5, batch_size=32, optimizer="sgd", lr=0.05, momentum=0.9, seed=seed
    )
    assert max(epoch_accs(recs)) >= 0.95
    assert recs[-1].kind == "done" and recs[-1].progress == 1.0
    assert all_finite(recs)


def test_digits_one_pool_net_learns() -> None:
    ds = datasets.load("digits", seed=0)
    model = make_model("digits", seed=0)
    assert model.output_shape((1, 1, 8, 8)) == (1, 4)
    recs = run(model, ds, epochs=10, lr=0.05, momentum=0.9, seed=0)
    assert max(epoch_accs(recs)) >= 0.95


def test_records_shape_and_order(shapes: datasets.Dataset) -> None:
    recs = run(make_model(seed=0), shapes, epochs=2, batch_size=100, report_every=4, eval_every=10)
    kinds = [r.kind for r in recs]
    assert kinds.count("epoch") == 2 and kinds[-1] == "done"
    assert set(kinds) == {"step", "epoch", "done"}
    steps = [r.step for r in recs]
    assert steps == sorted(steps) and recs[-1].step == 2 * 20
    assert all(0 <= r.progress <= 1 for r in recs)
    epochs_ = [r for r in recs if r.kind == "epoch"]
    assert [e.epoch for e in epochs_] == [1.0, 2.0]
    assert set(recs[0].grad_norms) == {"conv1", "conv2", "fc1"}
    # with eval_every the test curve exists before the first epoch ends
    assert any(r.kind == "step" and r.test_acc is not None for r in recs)
    assert recs[0].as_dict()["kind"] == "step"


def test_same_seed_same_curve() -> None:
    small = datasets.load("shapes", seed=0, n_train=400, n_test=100)
    a = run(make_model(seed=3), small, epochs=2, seed=7)
    b = run(make_model(seed=3), small, epochs=2, seed=7)
    c = run(make_model(seed=3), small, epochs=2, seed=8)
    key = [(r.kind, r.step, r.loss, r.train_acc, r.test_acc) for r in a]
    assert key == [(r.kind, r.step, r.loss, r.train_acc, r.test_acc) for r in b]
    assert [r.loss for r in a] != [r.loss for r in c]


def test_stop_event(shapes: datasets.Dataset) -> None:
    stop = threading.Event()
    recs = []
    for rec in fit(make_model(seed=0), shapes, epochs=5, stop_event=stop, report_every=2):
        recs.append(rec)
        if len(recs) == 3:
            stop.set()
    assert recs[-1].kind == "stopped" and len(recs) == 4
    assert recs[-1].step == recs[-2].step  # no batch ran after the stop
    assert recs[-1].test_acc is not None


def test_stop_before_start(shapes: datasets.Dataset) -> None:
    stop = threading.Event()
    stop.set()
    recs = run(make_model(seed=0), shapes, epochs=1, stop_event=stop)
    assert [r.kind for r in recs] == ["stopped"] and recs[0].step == 0


def test_pause_event_waits(shapes: datasets.Dataset) -> None:
    pause = threading.Event()
    pause.set()
    threading.Timer(0.3, pause.clear).start()
    small = datasets.load("shapes", seed=0, n_train=64, n_test=32)
    t0 = time.perf_counter()
    recs = run(make_model(seed=0), small, epochs=1, pause_event=pause)
    assert time.perf_counter() - t0 >= 0.3
    assert recs[-1].kind == "done"


def test_stop_while_paused(shapes: datasets.Dataset) -> None:
    pause, stop = threading.Event(), threading.Event()
    pause.set()
    threading.Timer(0.1, stop.set).start()
    recs = run(make_model(seed=0), shapes, epochs=1, pause_event=pause, stop_event=stop)
    assert [r.kind for r in recs] == ["stopped"]


def test_divergence_reported_once_without_nan(shapes: datasets.Dataset) -> None:
    recs = run(make_model(seed=0), shapes, epochs=3, lr=1e6)
    assert recs[-1].kind == "diverged"
    assert [r.kind for r in recs].count("diverged") == 1
    assert all_finite(recs)


def test_max_loss_threshold(shapes: datasets.Dataset) -> None:
    recs = run(make_model(seed=0), shapes, epochs=1, max_loss=0.5)  # ~ln 4 at the start
    assert [r.kind for r in recs] == ["diverged"]


def test_sigmoid_slower_than_relu(shapes: datasets.Dataset) -> None:
    relu = run(make_model("shapes", "relu", seed=0), shapes, epochs=1, seed=0)
    sig = run(make_model("shapes", "sigmoid", seed=0), shapes, epochs=1, seed=0)
    assert epoch_accs(relu)[0] > epoch_accs(sig)[0] + 0.3
    # and its first layer gets far smaller gradients: the vanishing-gradient picture
    assert sig[0].grad_norms["conv1"] < relu[0].grad_norms["conv1"]


def test_adam_and_optimizer_object(shapes: datasets.Dataset) -> None:
    recs = run(make_model(seed=0), shapes, epochs=2, optimizer="adam", lr=3e-3)
    assert max(epoch_accs(recs)) >= 0.9
    model = make_model(seed=0)
    opt = optim.SGD(model, lr=0.05, momentum=0.9)
    assert max(epoch_accs(run(model, shapes, epochs=1, optimizer=opt))) >= 0.85


def test_bad_arguments(shapes: datasets.Dataset) -> None:
    with pytest.raises(ValueError):
        list(fit(make_model(seed=0), shapes, optimizer="rmsprop"))
    with pytest.raises(ValueError):
        list(fit(make_model(seed=0), shapes, epochs=0))
    with pytest.raises(ValueError):
        make_model("shapes", "swish")
    with pytest.raises(ValueError):
        make_model("mnist")


def test_evaluate_and_confusion(shapes: datasets.Dataset) -> None:
    model = make_model(seed=0)
    run(model, shapes, epochs=1)
    acc, preds, probs = evaluate(model, shapes.x_test, shapes.y_test, batch_size=64)
    assert preds.shape == (500,) and probs.shape == (500, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert acc == pytest.approx(np.mean(preds == shapes.y_test))
    cm = confusion_matrix(shapes.y_test, preds, 4)
    assert cm.shape == (4, 4) and cm.sum() == 500
    assert np.trace(cm) == round(acc * 500)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(shapes.y_test, minlength=4))


def test_confusion_matrix_small() -> None:
    cm = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError):
        confusion_matrix([0, 5], [0, 1], 3)


def test_evaluate_empty_and_nonfinite() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, seed=0))
    acc, preds, _ = evaluate(model, np.zeros((0, 1, 2, 2), np.float32), np.zeros(0, np.int64))
    assert acc == 0.0 and preds.size == 0
    model.layers[1].params["weight"][:] = np.inf
    acc, _, probs = evaluate(model, np.ones((2, 1, 2, 2), np.float32), np.zeros(2, np.int64))
    assert np.isfinite(probs).all()
