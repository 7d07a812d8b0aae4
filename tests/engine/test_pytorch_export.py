"""The PyTorch download is a small runnable script (issue 16, item 10): it loads the weights,
names the classes in output order, carries the exported run's own settings (not the sliders'),
classifies the saved test set or a given picture and prints accuracy and class names."""

from __future__ import annotations

import ast
import contextlib
import subprocess
import sys

import numpy as np
import pytest

from cnnviz import datasets, models

TRAIN = {"optimizer": "momentum", "lr": 0.02, "batch_size": 16, "epochs": 7, "seed": 5,
         "slow": False}
FINAL = {"test_acc": 0.8125, "loss": 0.4}


def _assigned(code: str) -> dict:
    """Module-level NAME = literal assignments of the script."""
    out = {}
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


@pytest.mark.parametrize("dataset", datasets.DATASETS)
def test_script_compiles_and_carries_the_runs_settings(dataset: str) -> None:
    spec = {**models.DEFAULT_SPEC, "dataset": dataset}
    code = models.pytorch_code(spec, TRAIN, FINAL)
    compile(code, "cnnviz_model.py", "exec")
    names = _assigned(code)
    en, zh = datasets.classes(dataset)
    assert names["CLASSES"] == list(en) and names["CLASSES_ZH"] == list(zh)
    assert names["SETTINGS"] == {"dataset": dataset, "activation": "relu",
                                 **{k: TRAIN[k] for k in models.EXPORTED_SETTINGS}}
    assert names["CNNVIZ_TEST_ACCURACY"] == FINAL["test_acc"]
    assert "if __name__ == '__main__':" in code and "print(" in code
    assert f"{TRAIN['epochs']} epochs of mini-batches of {TRAIN['batch_size']}" in code
    assert "lr=0.02, momentum=0.9" in code
    doc = ast.get_docstring(ast.parse(code))
    assert all(name in doc for name in en) and "python cnnviz_model.py" in doc


def test_weights_file_carries_the_test_set() -> None:
    ds = models.dataset("digits")
    model = models.build(dict(models.DEFAULT_SPEC, dataset="digits"), 0)
    data = models.save_npz(model, dict(models.DEFAULT_SPEC, dataset="digits"), {},
                           (ds.x_test, ds.y_test))
    import io

    with np.load(io.BytesIO(data)) as f:
        np.testing.assert_array_equal(f["_x_test"], ds.x_test)
        np.testing.assert_array_equal(f["_y_test"], ds.y_test)
    spec, again, _ = models.load_npz(data)  # the extra entries do not disturb loading
    np.testing.assert_allclose(again.forward(ds.x_test[:3]), model.forward(ds.x_test[:3]))


def test_script_runs_and_prints_cnnvizs_accuracy(tmp_path) -> None:
    pytest.importorskip("torch")
    spec = dict(models.DEFAULT_SPEC, dataset="digits")
    ds = models.dataset("digits")
    model = models.build(spec, 1)
    acc = float(np.mean(model.forward(ds.x_test).argmax(axis=1) == ds.y_test))
    (tmp_path / "cnnviz_weights.npz").write_bytes(
        models.save_npz(model, spec, {}, (ds.x_test, ds.y_test)))
    (tmp_path / "cnnviz_model.py").write_text(models.pytorch_code(spec, TRAIN, {"test_acc": acc}))
    out = subprocess.run([sys.executable, "cnnviz_model.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert f"accuracy {acc:.4f}" in out, out
    for k, name in enumerate(datasets.classes("digits")[0]):
        assert f"class {k} {name}" in out
    from PIL import Image

    Image.fromarray((ds.x_test[0, 0] * 255).astype(np.uint8)).resize((64, 64)).save(
        tmp_path / "mine.png")
    out = subprocess.run([sys.executable, "cnnviz_model.py", "mine.png"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "mine.png: " in out and "p = " in out
