"""Process-wide settings for a classroom server, applied by app.py (the server's entry point)."""

from __future__ import annotations

import gc
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


_settled: set[str] = set()  # pages whose first run in this process has frozen the heap


def freeze_heap(page: str) -> None:
    """After the first run of each page in this process, take everything alive then (imported
    modules, Plotly's validators, the class-wide caches) out of the cyclic garbage collector's
    scans, with ``gc.freeze()``.

    Without it, every so often a full collection walks the whole heap while a student's script
    runs: 75-105 ms each, seen about once per two page opens (``gc.callbacks``), a pause in
    the middle of the page being sent. Frozen, a full collection walks only what sessions made
    since: ~1 ms. Frozen objects are still freed by reference counting when nothing refers to
    them; the collection just before each freeze leaves no garbage cycle behind, but a cycle
    among frozen objects that becomes garbage later is never collected. That includes the
    session whose run froze the heap (at most one per page and process): once it ends, its
    state is emptied all the same (its picture, models and uploads: ``ui/session_end``), but
    Streamlit's own objects for it may stay. Once per page: the page's first run imports its
    modules.
    """
    if page in _settled:
        return
    _settled.add(page)
    gc.collect()
    gc.freeze()
