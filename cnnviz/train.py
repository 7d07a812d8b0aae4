"""Training loop as a generator of progress records, for a live chart (no UI code here).

>>> from cnnviz import datasets, train
>>> ds = datasets.load("shapes", seed=0)
>>> model = train.make_model("shapes", seed=0)
>>> for rec in train.fit(model, ds, epochs=1):       # doctest: +SKIP
...     print(rec.kind, rec.step, rec.loss, rec.test_acc)

The caller (a worker thread in the app) owns progress bars and charts; ``fit`` only computes.
It stops cleanly when ``stop_event`` is set, waits while ``pause_event`` is set, and reports a
run whose loss explodes as one ``"diverged"`` record instead of NaNs. The same seeds give the
same curve: shuffling uses ``np.random.default_rng(seed)`` and nothing else is random.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cnnviz import functional as F
from cnnviz import nn, optim

__all__ = ["Progress", "confusion_matrix", "evaluate", "fit", "make_model"]

_ACTIVATIONS = {
    "relu": (nn.ReLU, "he"),
    "leaky_relu": (nn.LeakyReLU, "he"),
    "sigmoid": (nn.Sigmoid, "xavier"),
    "tanh": (nn.Tanh, "xavier"),
}


def make_model(
    dataset_name: str = "shapes",
    activation: str = "relu",
    *,
    seed: int = 0,
    dtype: Any = np.float32,
) -> nn.Sequential:
    """The reference net for a data set (ARCHITECTURE.md), 4 classes out.

    ``"shapes"`` (16x16): conv3x3(8) act maxpool2 conv3x3(16) act maxpool2 -> 16x4x4 -> fc(4).
    ``"digits"`` (8x8): conv3x3(8) act conv3x3(16) act maxpool2 -> 16x4x4 -> fc(4); one pool
    only, since 8x8 pooled twice leaves 2x2, too coarse for digits.

    Parameters
    ----------
    dataset_name : {"shapes", "digits"}
    activation : {"relu", "leaky_relu", "sigmoid", "tanh"}
        ReLU-like layers get He initialisation, sigmoid/tanh Xavier (each its textbook one).
    seed : int
        Initial weights; the same seed gives the same weights for every activation.
    dtype : numpy dtype
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(_ACTIVATIONS)}")
    act, init = _ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    kw = {"dtype": dtype, "init": init}
    conv1 = nn.Conv2d(1, 8, 3, padding=1, seed=rng, **kw)
    conv2 = nn.Conv2d(8, 16, 3, padding=1, seed=rng, **kw)
    fc = nn.Linear(256, 4, seed=rng, dtype=dtype)
    if dataset_name == "shapes":
        layers = [conv1, act(), nn.MaxPool2d(2), conv2, act(), nn.MaxPool2d(2)]
    elif dataset_name == "digits":
        layers = [conv1, act(), conv2, act(), nn.MaxPool2d(2)]
    else:
        raise ValueError(f"unknown data set {dataset_name!r}; choose 'shapes' or 'digits'")
    return nn.Sequential(*layers, nn.Flatten(), fc)


@dataclass
class Progress:
    """One progress record yielded by :func:`fit`.

    Attributes
    ----------
    kind : str
        ``"step"`` (every ``report_every`` batches), ``"epoch"`` (end of an epoch, test accuracy
        on the whole test set), ``"done"`` (last record of a finished run), ``"stopped"``
        (``stop_event`` was set) or ``"diverged"`` (loss NaN/inf or above ``max_loss``; the
        run ends).
    step : int
        Optimizer steps done.
    epoch : float
        Epochs done, fractional (``step / steps_per_epoch``).
    progress : float
        ``0..1`` share of the planned steps.
    loss : float or None
        Mean training loss over the batches since the previous record (None if not finite).
    train_acc : float or None
        Running accuracy over the current epoch's batches so far.
    test_acc : float or None
        Latest measured test accuracy (None until the first measurement).
    grad_norms : dict
        ``{"conv1": ..., "conv2": ..., "fc1": ...}`` gradient L2 norms at the last batch.
    elapsed : float
        Seconds since the start (pauses included).
    """

    kind: str
    step: int
    epoch: float
    progress: float
    loss: float | None
    train_acc: float | None
    test_acc: float | None
    grad_norms: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON or a DataFrame row)."""
        return asdict(self)


def _make_optimizer(model, optimizer, lr, momentum, weight_decay) -> optim.Optimizer:
    if not isinstance(optimizer, str):
        return optimizer
    if optimizer == "sgd":
        return optim.SGD(
            model, lr=0.05 if lr is None else lr, momentum=momentum, weight_decay=weight_decay
        )
    if optimizer == "adam":
        return optim.Adam(model, lr=1e-3 if lr is None else lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'sgd', 'adam' or an optimizer object, got {optimizer!r}")


def _finite_norms(model) -> dict[str, float]:
    return {k: float(v) for k, v in model.grad_norms() if math.isfinite(v)}


def fit(
    model: nn.Sequential,
    dataset: Any,
    *,
    epochs: int = 5,
    batch_size: int = 32,
    optimizer: str | optim.Optimizer = "sgd",
    lr: float | None = None,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    seed: int = 0,
    stop_event: threading.Event | None = None,
    pause_event: threading.Event | None = None,
    report_every: int = 5,
    eval_every: int | None = None,
    eval_size: int = 256,
    max_loss: float | None = None,
) -> Iterator[Progress]:
    """Train ``model`` on ``dataset`` with mini-batches, yielding :class:`Progress` records.

    Parameters
    ----------
    model : nn.Sequential
        Updated in place. Input ``(N, 1, H, W)``, output logits ``(N, n_classes)``.
    dataset : datasets.Dataset
        Anything with ``x_train, y_train, x_test, y_test``.
    epochs, batch_size : int
        The last batch of an epoch may be smaller.
    optimizer : {"sgd", "adam"} or optim.Optimizer
        A string builds ``optim.SGD(model, lr, momentum, weight_decay)`` (lr default 0.05) or
        ``optim.Adam(model, lr, weight_decay=...)`` (lr default 1e-3); an object is used as is.
    lr, momentum, weight_decay : float
    seed : int
        Seeds the shuffling (the model's own seed fixes its initial weights).
    stop_event : threading.Event, optional
        Checked before every batch: when set, one ``"stopped"`` record ends the run.
    pause_event : threading.Event, optional
        While set, training waits (polling every 50 ms; ``stop_event`` still works).
    report_every : int
        A ``"step"`` record every this many batches (and at each epoch's end an ``"epoch"``).
    eval_every : int, optional
        Also measure test accuracy every this many steps, on the first ``eval_size`` test
        images (a fixed subset, so the curve is comparable); default only at epoch ends.
    max_loss : float, optional
        Divergence threshold on a batch loss; default ``max(10 * first loss, 10)``.

    Yields
    ------
    Progress
    """
    x_tr, y_tr = np.asarray(dataset.x_train), np.asarray(dataset.y_train)
    x_te, y_te = np.asarray(dataset.x_test), np.asarray(dataset.y_test)
    if epochs < 1 or batch_size < 1 or report_every < 1:
        raise ValueError("epochs, batch_size and report_every must be >= 1")
    opt = _make_optimizer(model, optimizer, lr, momentum, weight_decay)
    skip_dx = "need_input_grad" in inspect.signature(model.backward).parameters
    rng = np.random.default_rng(seed)
    n = len(x_tr)
    per_epoch = math.ceil(n / batch_size)
    total = per_epoch * epochs
    t0 = time.perf_counter()
    step, test_acc, threshold = 0, None, max_loss
    win_loss, win_batches = 0.0, 0  # loss window since the last record
    norms: dict[str, float] = {}

    def record(kind: str, loss: float | None, train_acc: float | None) -> Progress:
        return Progress(
            kind, step, step / per_epoch, step / total, loss, train_acc, test_acc,
            dict(norms), time.perf_counter() - t0,
        )  # fmt: skip

    for _epoch in range(epochs):
        order = rng.permutation(n)
        correct = seen = 0
        for start in range(0, n, batch_size):
            if pause_event is not None:
                while pause_event.is_set() and not (stop_event and stop_event.is_set()):
                    time.sleep(0.05)
            if stop_event is not None and stop_event.is_set():
                test_acc = evaluate(model, x_te, y_te)[0]
                yield record("stopped", _mean(win_loss, win_batches), _ratio(correct, seen))
                return
            idx = order[start : start + batch_size]
            xb, yb = x_tr[idx], y_tr[idx]
            # Never yield inside errstate: a generator closed from another thread would then
            # leave the with-block in the wrong context ("Token was created in a different
            # Context"), so the divergence check happens after it.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                opt.zero_grad()
                logits = model.forward(xb)
                loss, dlogits = F.softmax_cross_entropy(logits, yb)
                if threshold is None and math.isfinite(loss):
                    threshold = max(10.0 * loss, 10.0)
                diverged = not math.isfinite(loss) or loss > (threshold or math.inf)
                if not diverged:
                    if skip_dx:
                        model.backward(dlogits, need_input_grad=False)
                    else:
                        model.backward(dlogits)
                    opt.step()
            if diverged:
                yield record("diverged", loss if math.isfinite(loss) else None, None)
                return
            step += 1
            correct += int((logits.argmax(axis=1) == yb).sum())
            seen += len(yb)
            win_loss, win_batches = win_loss + loss, win_batches + 1
            if eval_every and step % eval_every == 0:
                test_acc = evaluate(model, x_te[:eval_size], y_te[:eval_size])[0]
            if step % report_every == 0 or start + batch_size >= n:
                norms = _finite_norms(model)
            if step % report_every == 0 and start + batch_size < n:
                yield record("step", _mean(win_loss, win_batches), _ratio(correct, seen))
                win_loss, win_batches = 0.0, 0
        test_acc = evaluate(model, x_te, y_te)[0]
        yield record("epoch", _mean(win_loss, win_batches), _ratio(correct, seen))
        win_loss, win_batches = 0.0, 0
    yield record("done", None, None)


def _mean(total: float, count: int) -> float | None:
    return total / count if count and math.isfinite(total) else None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def evaluate(
    model: nn.Sequential, x: np.ndarray, y: np.ndarray, batch_size: int = 256
) -> tuple[float, np.ndarray, np.ndarray]:
    """Accuracy, predicted classes and class probabilities, in batches.

    Parameters
    ----------
    model : nn.Sequential
    x : np.ndarray
        ``(N, C, H, W)``.
    y : np.ndarray
        ``(N,)`` int labels.
    batch_size : int

    Returns
    -------
    acc : float
        Share of correct predictions (0.0 for an empty set).
    predictions : np.ndarray
        ``(N,)`` int64.
    probs : np.ndarray
        ``(N, K)`` softmax probabilities (rows sum to 1; uniform where logits are not finite).
    """
    x, y = np.asarray(x), np.asarray(y)
    chunks = []
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(x), batch_size):
            chunks.append(_softmax(model.forward(x[start : start + batch_size])))
    if not chunks:
        return 0.0, np.zeros(0, np.int64), np.zeros((0, 0))
    probs = np.concatenate(chunks)
    preds = probs.argmax(axis=1).astype(np.int64)
    return float(np.mean(preds == y)), preds, probs


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    bad = ~np.isfinite(z).all(axis=1)
    z = np.where(bad[:, None], 0.0, z)  # a diverged model: uniform instead of NaN
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as ``j``; ``(K, K)`` int64."""
    t, p = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    return np.bincount(t * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)
