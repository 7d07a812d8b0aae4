"""The trainer page's sentences about the gradient chart follow the runs shown (issue 16, items
1 and 11), checked in AppTest with finished runs placed in the session's history."""

from __future__ import annotations

import copy

import pytest

from cnnviz import models
from tests.helpers import errors_of, run_page

PAGE = "pages/trainer.py"
X = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def run_entry(n: int, act: str, grad: dict, group: int | None = 1, lr: float = 0.05) -> dict:
    curves = {"x": X, "loss": [1.2, 0.9, 0.6, 0.4, 0.3, 0.2], "train_acc": [0.5] * 6,
              "test_x": X, "test_acc": [0.5] * 6, "grad_x": X, "grad": grad}
    return {"n": n, "group": group, "kind": "compare" if group else "single",
            "spec": {**copy.deepcopy(models.DEFAULT_SPEC), "activation": act},
            "train": {"optimizer": "momentum", "lr": lr, "batch_size": 32, "epochs": 6,
                      "seed": 0},
            "status": "done",
            "final": {"loss": 0.2, "train_acc": 0.5, "test_acc": 0.5, "time95": None,
                      "epoch95": None, "seconds": 3.0, "epoch": 6.0, "steps": 60},
            "curves": curves, "state": None}


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning")
             for e in getattr(at, kind)]
    for exp in at.expander:
        parts += [m.value for m in exp.markdown]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_race_shape_is_described_as_it_is(lang) -> None:
    """Sigmoid below ReLU for two epochs, then above (the default 10-epoch race's shape)."""
    relu = {"conv1": [0.5, 0.3, 0.02, 0.01, 0.01, 0.005], "fc1": [1.0] * 6}
    sig = {"conv1": [0.05, 0.06, 0.05, 0.04, 0.04, 0.03], "fc1": [1.0] * 6}
    at = run_page(PAGE, lang, state={"_tr_runs": [run_entry(1, "relu", relu),
                                                  run_entry(2, "sigmoid", sig)],
                                     "_tr_run_n": 2})
    assert errors_of(at) == []
    text = page_text(at)
    assert "sits far below" not in text and "远低于" not in text
    if lang == "en":
        assert "from epoch 3 on" in text
    else:
        assert "从第 3 轮起高于它" in text


def test_sigmoid_always_below_says_so() -> None:
    relu = {"conv1": [0.5, 0.4, 0.3, 0.3, 0.2, 0.2]}
    sig = {"conv1": [0.01] * 6}
    at = run_page(PAGE, "en", state={"_tr_runs": [run_entry(1, "relu", relu),
                                                  run_entry(2, "sigmoid", sig)],
                                     "_tr_run_n": 2})
    assert "stayed below ReLU's the whole time" in page_text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_vanished_line_is_explained(lang) -> None:
    """The "learning rate too big" preset: conv1 / conv2 gradients become exactly 0."""
    grad = {"conv1": [0.3, 0.0, 0.0, 0.0, 0.0, 0.0], "conv2": [0.2, 0.1, 0.0, 0.0, 0.0, 0.0],
            "fc1": [0.3, 0.2, 0.1, 0.9, 0.5, 0.4]}
    at = run_page(PAGE, lang, state={"_tr_runs": [run_entry(1, "relu", grad, None, 5.0)],
                                     "_tr_run_n": 1})
    assert errors_of(at) == []
    text = page_text(at)
    if lang == "en":
        assert "conv1, conv2 line stops at epoch 2" in text and "logarithmic" in text
    else:
        assert "conv1, conv2 的曲线在第 2 轮中断" in text
