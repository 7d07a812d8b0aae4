"""ui/session_end.py: a closed tab's state, uploads and media are released once Streamlit can no
longer resume its session, and never earlier."""

from __future__ import annotations

import threading
import weakref

import pytest

from ui import session_end


class FakeState:
    """The parts of Streamlit's SafeSessionState that release() uses."""

    def __init__(self):
        self._lock = threading.RLock()
        self._state = {"image": "a picture", "_tr_runs": ["a model"]}


class FakeManager:
    def __init__(self):
        self.calls = []

    def remove_session_files(self, sid):
        self.calls.append(("uploads", sid))

    def clear_session_refs(self, sid):
        self.calls.append(("media", sid))

    def remove_orphaned_files(self):
        self.calls.append(("orphans", None))


class FakeRuntime:
    def __init__(self):
        self.active: set[str] = set()
        self.uploaded_file_mgr = FakeManager()
        self.media_file_mgr = FakeManager()


@pytest.fixture
def sessions(monkeypatch):
    monkeypatch.setattr(session_end, "_SESSIONS", {})
    rt = FakeRuntime()
    rt.is_active_session = lambda sid: sid in rt.active
    states = {sid: FakeState() for sid in ("a", "b")}
    for sid, st in states.items():
        session_end._SESSIONS[sid] = session_end._Seen(weakref.ref(st))
        rt.active.add(sid)
    return rt, states


def test_a_connected_session_is_never_released(sessions):
    rt, states = sessions
    for now in range(0, 1000, 5):
        assert session_end.sweep(rt, ttl=120, now=float(now)) == []
    assert states["a"]._state and session_end.tracked() == 2


def test_a_closed_tab_is_released_only_after_the_ttl(sessions):
    rt, states = sessions
    rt.active.discard("a")  # A closed the tab
    assert session_end.sweep(rt, ttl=120, now=1000.0) == []  # first seen gone
    assert session_end.sweep(rt, ttl=120, now=1000.0 + 120) == []  # Streamlit may still resume it
    assert session_end.sweep(rt, ttl=120, now=1000.0 + 126) == ["a"]
    assert states["a"]._state == {} and states["b"]._state  # only A's state is emptied
    assert ("uploads", "a") in rt.uploaded_file_mgr.calls
    assert ("media", "a") in rt.media_file_mgr.calls
    assert not any(sid == "b" for _, sid in rt.uploaded_file_mgr.calls + rt.media_file_mgr.calls)
    assert session_end.tracked() == 1


def test_a_student_who_reconnects_in_time_keeps_everything(sessions):
    rt, states = sessions
    rt.active.discard("a")
    session_end.sweep(rt, ttl=120, now=0.0)
    rt.active.add("a")  # the Wi-Fi came back
    session_end.sweep(rt, ttl=120, now=60.0)
    rt.active.discard("a")
    assert session_end.sweep(rt, ttl=120, now=130.0) == []  # the clock restarted at 130
    assert session_end.sweep(rt, ttl=120, now=250.0) == []
    assert session_end.sweep(rt, ttl=120, now=256.0) == ["a"]


def test_a_failing_manager_does_not_stop_the_rest(sessions):
    rt, states = sessions

    def broken(sid):
        raise RuntimeError("moved in a future Streamlit")

    rt.uploaded_file_mgr.remove_session_files = broken
    rt.active.clear()
    session_end.sweep(rt, ttl=1, now=0.0)
    assert sorted(session_end.sweep(rt, ttl=1, now=10.0)) == ["a", "b"]
    assert states["a"]._state == {} and ("media", "a") in rt.media_file_mgr.calls


def test_track_outside_a_server_does_nothing(monkeypatch):
    monkeypatch.setattr(session_end, "_SESSIONS", {})
    session_end.track()  # no script run context here (as in AppTest without a runtime)
    assert session_end.tracked() == 0
