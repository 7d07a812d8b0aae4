"""The classroom server runs BLAS on one thread (oversubscribing 2 cores slowed training ~20x),
and freezes its heap after each page's first run (short full garbage collections).

app.py applies both explicitly; importing ``ui`` (tests, benchmarks, tools) changes nothing.
"""

import ast
import gc
import importlib
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_limit_blas_threads_sets_one_thread(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy as np

    np.ones((64, 64)) @ np.ones((64, 64))  # make sure the BLAS library is loaded
    monkeypatch.delenv("CNNVIZ_BLAS_THREADS", raising=False)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        import ui.runtime

        importlib.reload(ui.runtime).limit_blas_threads()
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert blas, "no BLAS library found"
        assert all(p["num_threads"] == 1 for p in blas)


def test_app_applies_the_limit_before_any_page_runs():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    names = [getattr(c.value.func, "id", getattr(c.value.func, "attr", "")) for c in calls]
    assert "limit_blas_threads" in names
    assert names.index("limit_blas_threads") < len(names) - 1  # before nav.run()


def test_importing_ui_leaves_blas_threads_alone():
    pytest.importorskip("threadpoolctl")
    code = (
        "import numpy as np, threadpoolctl\n"
        "np.ones((8, 8)) @ np.ones((8, 8))\n"
        "threadpoolctl.threadpool_limits(limits=2, user_api='blas')\n"
        "def least():\n"
        "    info = threadpoolctl.threadpool_info()\n"
        "    return min(p['num_threads'] for p in info if p['user_api'] == 'blas')\n"
        "before = least()\n"
        "import ui, ui.lang, ui.cache, ui.share, ui.trainer.live\n"
        "print(before, least())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "CNNVIZ_BLAS_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.split()
    if before == "1":
        pytest.skip("a one-core BLAS cannot show the difference")
    assert after == before


def app_calls() -> list[str]:
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    return [getattr(c.value.func, "id", getattr(c.value.func, "attr", "")) for c in calls]


def test_app_freezes_the_heap_after_the_page_ran():
    names = app_calls()
    assert names.index("freeze_heap") > names.index("run")  # nav.run(): the page's imports


def test_freeze_heap_freezes_once_per_page_and_leaves_full_collections_the_new_objects():
    import ui.runtime

    runtime = importlib.reload(ui.runtime)
    try:
        kept = [[i] for i in range(50_000)]  # a heap of long-lived objects (lists: tracked)
        runtime.freeze_heap("pooling")
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        tracked = {id(o) for o in gc.get_objects(generation=2)}
        assert not any(id(o) in tracked for o in kept[::997]), "a full collection skips them"
        more = [[j] for j in range(1000)]
        runtime.freeze_heap("pooling")  # the page again: nothing more is frozen
        assert gc.get_freeze_count() == frozen
        runtime.freeze_heap("trainer")  # another page's first run: what is alive now too
        assert gc.get_freeze_count() >= frozen + len(more)
        del kept, more
    finally:
        gc.unfreeze()
