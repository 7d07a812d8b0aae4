"""Fixtures for the page tests (AppTest)."""

from __future__ import annotations

import pytest


class FakeCanvas:
    """Stands in for the drawing component (``st_canvas``) in AppTest, which cannot draw:
    ``image`` is the RGBA array the browser would send on the next run; ``calls`` records the
    arguments the page gave the component."""

    image = None
    calls: list[dict] = []

    def __call__(self, **kwargs):
        FakeCanvas.calls.append(kwargs)
        return type("Result", (), {"image_data": FakeCanvas.image, "json_data": None})()


@pytest.fixture
def fake_canvas(monkeypatch):
    FakeCanvas.image, FakeCanvas.calls = None, []
    monkeypatch.setattr("ui.drawing._component", lambda: FakeCanvas())
    monkeypatch.setattr("ui.nav.running_without_frame", lambda: False)
    return FakeCanvas
