"""Turn any failure inside a page section into one translated sentence, never a traceback.

Use ``with guard():`` around a section's compute-and-draw: an engine ``ShapeError`` /
``ImageError`` (they carry a ``code`` and ``params``) becomes its catalogue sentence; anything
else becomes the generic message while the traceback goes to the server log for the teacher.
The rest of the page keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnviz import i18n
from ui.lang import current, t

log = logging.getLogger("cnnviz")


def message_for(exc: BaseException) -> str:
    """The user's-language sentence for an exception raised by the engine."""
    code = getattr(exc, "code", None)
    params = getattr(exc, "params", None) or {}
    if code:
        for ns in ("errors", "images"):
            key = f"{ns}.{code}"
            if i18n.has(key):
                return i18n.t(key, current(), **params)
    return t("errors.generic")


def show(exc: BaseException, *, level: str = "warning") -> None:
    """Show ``exc`` as one plain sentence (warning by default)."""
    (st.error if level == "error" else st.warning)(message_for(exc), icon="⚠️")


@contextmanager
def guard(*, level: str = "warning") -> Iterator[None]:
    """Run a page section; on failure show a sentence instead of a traceback and carry on."""
    # Streamlit's rerun/stop signals derive from BaseException, so they pass through untouched.
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the point is that nothing reaches the student
        if getattr(exc, "code", None) is None:
            log.exception("cnnviz page section failed")
        show(exc, level=level)
