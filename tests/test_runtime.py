"""The classroom server runs BLAS on one thread (oversubscribing 2 cores slowed training ~20x)."""

import importlib

import pytest


def test_importing_ui_limits_blas_to_one_thread(monkeypatch):
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
