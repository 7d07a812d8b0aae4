"""Release what a closed tab left on the server: its picture, models, runs, uploads and media.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds (120 by
default), so a student whose Wi-Fi blinks gets everything back. After that, Streamlit 1.67
forgets the session without shutting it down (streamlit#12506): its ``st.session_state`` stays
in memory until the object graph happens to be collected, and its uploaded files and
``st.image`` media stay until the server stops. With a class opening and closing tabs all
lesson long, that is a leak of everyone's pictures.

:func:`track` (called on every script run by ``app.py``) remembers each session by id. A
daemon thread looks every :data:`SWEEP_SECONDS` seconds: a session that has not been connected
for longer than the TTL (plus one sweep, so never one Streamlit could still resume) has its
state emptied, its uploaded files removed and its media released.

Shared by all sessions, by necessity: session ids, times and *weak* references to each
session's state; never user data. Uses Streamlit's runtime objects (``Runtime.instance()``,
its uploaded-file and media managers, the script context's session state) the way Streamlit's
own ``AppSession.shutdown`` does; each step is guarded so a future Streamlit that changes them
only loses the clean-up, never a page.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("cnnviz")

SWEEP_SECONDS = 5.0


@dataclass
class _Seen:
    state: weakref.ref  # the session's SafeSessionState
    gone_since: float | None = None  # monotonic time the sweep first found it disconnected


_LOCK = threading.Lock()
_SESSIONS: dict[str, _Seen] = {}
_SWEEPER: list[threading.Thread] = []


def track() -> None:
    """Remember the current session (cheap: a dict lookup per run) and start the sweeper."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return  # AppTest or bare mode: no sessions to release
        with _LOCK:
            seen = _SESSIONS.get(ctx.session_id)
            if seen is None or seen.state() is not ctx.session_state:
                _SESSIONS[ctx.session_id] = _Seen(weakref.ref(ctx.session_state))
            else:
                seen.gone_since = None
            if not _SWEEPER:
                thread = threading.Thread(target=_sweep_forever, name="cnnviz-session-end",
                                          daemon=True)
                _SWEEPER.append(thread)
                thread.start()
    except Exception:  # noqa: BLE001 - bookkeeping must never break a page
        log.exception("session tracking failed")


def _sweep_forever() -> None:
    from streamlit import config
    from streamlit.runtime import Runtime

    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            if not Runtime.exists():
                continue
            ttl = float(config.get_option("server.disconnectedSessionTTL"))
            sweep(Runtime.instance(), ttl, time.monotonic())
        except Exception:  # noqa: BLE001 - keep sweeping
            log.exception("session clean-up failed")


def sweep(runtime: Any, ttl: float, now: float) -> list[str]:
    """Release every tracked session that has been disconnected for more than ``ttl`` plus one
    sweep interval; returns their ids. ``runtime`` needs ``is_active_session``,
    ``uploaded_file_mgr`` and ``media_file_mgr`` (Streamlit's Runtime, or a test double)."""
    ended = []
    with _LOCK:
        for sid, seen in list(_SESSIONS.items()):
            if runtime.is_active_session(sid):
                seen.gone_since = None
            elif seen.gone_since is None:
                seen.gone_since = now
            elif now - seen.gone_since > ttl + SWEEP_SECONDS:
                ended.append((sid, seen.state))
                del _SESSIONS[sid]
    for sid, ref in ended:
        release(runtime, sid, ref())
    return [sid for sid, _ in ended]


def release(runtime: Any, session_id: str, state: Any | None) -> None:
    """Empty a finished session's state and drop its uploaded files and media."""
    if state is not None:
        try:
            with state._lock:  # SafeSessionState: its own lock, as Streamlit uses it
                state._state.clear()
        except Exception:  # noqa: BLE001
            log.exception("could not clear a finished session's state")
    try:
        runtime.uploaded_file_mgr.remove_session_files(session_id)
    except Exception:  # noqa: BLE001
        log.exception("could not remove a finished session's uploads")
    try:
        runtime.media_file_mgr.clear_session_refs(session_id)
        runtime.media_file_mgr.remove_orphaned_files()
    except Exception:  # noqa: BLE001
        log.exception("could not release a finished session's media")


def tracked() -> int:
    """How many sessions are remembered (for tests and the benchmark)."""
    with _LOCK:
        return len(_SESSIONS)
