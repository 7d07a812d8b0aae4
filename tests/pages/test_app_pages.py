"""AppTest smoke test: every registered page runs in both languages without an exception."""

from __future__ import annotations

import re

import pytest

from tests.helpers import errors_of, registered_pages, run_page

PAGES = [f for f, _ in registered_pages()]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_clean(page, lang):
    at = run_page(page, lang)
    assert errors_of(at) == []
    assert at.title, "every page starts with a title"
    title = at.title[0].value
    has_cjk = bool(re.search(r"[\u4e00-\u9fff]", title))
    assert has_cjk == (lang == "zh"), title


def test_language_from_query_param():
    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert at.session_state["lang"] == "zh"
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)


def test_sidebar_toggle_switches_language():
    at = run_page(None, "en")
    assert not re.search(r"[\u4e00-\u9fff]", at.title[0].value)
    at.button_group(key="lang_toggle").set_value("zh").run()
    assert at.session_state["lang"] == "zh"
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)
    assert errors_of(at) == []


def test_home_calculator_counts():
    at = run_page(None, "en")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fully connected layer"] == "307,300"
    assert metrics["Convolutional layer"] == "456"
    at.number_input(key="home_units").set_value(10).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fully connected layer"] == "30,730"


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/home.py"][:2])
def test_reruns_after_switching_page_keep_the_app_frame(page):
    at = run_page(page, "zh")
    at.run()  # a second run on the same page, as after any widget change
    assert errors_of(at) == []
    assert at.sidebar.button_group(key="lang_toggle").value == "zh"
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)
