"""Shared test helpers: AppTest runners for the Streamlit pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"

# AppTest reads .streamlit/config.toml, which hides error details from students; in tests we
# want the real exception text when something fails.
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")


def _app_test_like_the_server() -> None:
    """Make AppTest route every run through app.py, as the real server does.

    AppTest resets Streamlit's "uses a pages/ directory" flag before every run, so with our
    folder named ``pages/`` each rerun after ``switch_page`` ran the page file alone (Streamlit's
    old directory mode: no app.py, no sidebar). A real server leaves that mode for good on its
    first ``st.navigation`` call; this keeps AppTest in step with it.
    """
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class ServerLikePagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test.PagesManager = ServerLikePagesManager


_app_test_like_the_server()


def registered_pages() -> list[tuple[str, str]]:
    """(file, url path) of every page app.py registers (only files that exist)."""
    from ui.nav import PAGES

    return [(f, url) for f, _, url, _ in PAGES if (ROOT / f).exists()]


def lazy_parts() -> list[str]:
    """Keys of every part a page draws on demand (``lazy.shown("key", ...)`` in pages/, ui/)."""
    keys = []
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py")]):
        keys += re.findall(r'lazy\.shown\(\s*"([a-z_0-9]+)"', path.read_text(encoding="utf-8"))
    return list(dict.fromkeys(keys))


def run_page(page: str | None = None, lang: str = "en", *, timeout: float = 90, state=None,
             opened: bool = True):
    """Run app.py (and switch to ``page``, e.g. "pages/convolution.py") in AppTest.

    ``state`` seeds ``st.session_state`` before the first run (widget keys, data_editor edits).
    ``opened``: every part drawn on demand starts open, as if the student had opened it (the
    closed first view has its own tests); False: the page as a new session first sees it.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key in lazy_parts() if opened else ():
        at.session_state[key] = True
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page is not None and page != "pages/home.py":
        at.switch_page(page).run()
    return at


def errors_of(at) -> list[str]:
    """Exception texts shown on the page (empty when the run was clean)."""
    return [str(e.value) + "\n" + "\n".join(e.stack_trace or []) for e in at.exception]


@pytest.fixture
def app_run():
    return run_page
