"""Process-wide settings for a classroom server, applied by app.py (the server's entry point)."""

from __future__ import annotations

import os

_applied: int | None = None  # the limit set in this process, if any


def limit_blas_threads() -> None:
    """One BLAS thread per call.

    On a shared 2-core server many students' reruns and trainings run at once; a multi-threaded
    BLAS then oversubscribes the cores (measured: a 3-epoch training took 4.9-9 s with default
    threads while other work ran, 0.25 s with one thread). NumPy is already imported by
    Streamlit before app.py runs, so environment variables come too late: threadpoolctl changes
    the loaded library's setting directly. ``CNNVIZ_BLAS_THREADS`` overrides the number.
    """
    global _applied
    limits = int(os.environ.get("CNNVIZ_BLAS_THREADS", "1"))
    if _applied == limits:  # app.py runs on every rerun; the setting is process-wide and sticks
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - an optional speed-up, never a crash
        return
    threadpool_limits(limits=limits, user_api="blas")
    _applied = limits
