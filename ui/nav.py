"""The lesson registry: one place that lists every page, its fixed URL and its title key."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.lang import t

ROOT = Path(__file__).resolve().parent.parent

# (file, catalogue key of the title, url path, icon). Only files that exist are registered, so
# each lesson appears as soon as its page is written. URLs never change; titles are translated.
PAGES = [
    ("pages/home.py", "nav.home", "", ":material/home:"),
    ("pages/lesson.py", "nav.lesson", "lesson", ":material/school:"),
    ("pages/preprocessing.py", "nav.preprocessing", "preprocessing", ":material/scatter_plot:"),
    ("pages/convolution.py", "nav.convolution", "convolution", ":material/grid_on:"),
    ("pages/activation.py", "nav.activation", "activation", ":material/show_chart:"),
    ("pages/pooling.py", "nav.pooling", "pooling", ":material/photo_size_select_small:"),
    ("pages/trainer.py", "nav.trainer", "trainer", ":material/model_training:"),
    ("pages/backprop.py", "nav.backprop", "backprop", ":material/undo:"),
]


def st_pages() -> list:
    """``st.Page`` objects for every lesson that exists, in the user's language.

    app.py calls this on every run before ``nav.run()``; it also records that this session's
    runs go through app.py (see :func:`running_without_frame`).
    """
    st.session_state[_FRAME_SEEN] = True
    return [
        st.Page(str(ROOT / file), title=t(key), icon=icon, url_path=url or None, default=not url)
        for file, key, url, icon in PAGES
        if (ROOT / file).exists()
    ]


_FRAME_SEEN = "_nav_frame_seen"


def running_without_frame() -> bool:
    """True when Streamlit ran a page file directly, without app.py.

    Because the lessons live in a folder called ``pages/``, a server whose very first request is
    e.g. ``/activation`` starts in Streamlit's old directory-based multipage mode: it runs that
    file alone (no sidebar, no language) until some run calls ``st.navigation``. Such a session
    has never run app.py, so it has no frame marker.
    """
    return not st.session_state.get(_FRAME_SEEN, False)


def ensure_frame() -> None:
    """Leave the old mode for good and rerun through app.py (called by every page header)."""
    if running_without_frame():
        st.navigation(st_pages(), position="hidden")  # switches the server to st.navigation
        st.rerun()
