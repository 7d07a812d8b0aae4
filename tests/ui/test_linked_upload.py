"""A link made while "My own picture…" was chosen (issue 16, item 9): the new browser is told
that the link's owner used their own picture and is offered the upload, instead of silently
showing the cat."""

from __future__ import annotations

import pytest

from cnnviz import i18n
from tests.helpers import errors_of
from tests.ui.test_share import open_link
from ui import image_input


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_link_with_own_picture_says_so_and_offers_the_upload(lang) -> None:
    # a bound selectbox stores the option's label in the link
    label = i18n.t("images.upload_option", lang)
    at = open_link("pages/convolution.py", {"img_choice": label, "lang": lang})
    assert errors_of(at) == []
    assert at.session_state["img_choice"] == image_input.UPLOAD
    infos = [i.value for i in at.sidebar.info]
    start = i18n.t("images.linked_upload", lang).split("{")[0][:20]
    assert any(start in v for v in infos), infos
    assert at.sidebar.get("file_uploader")
    if lang == "en":  # (AppTest cannot rerun a page whose option labels it read in Chinese)
        at.run()  # still there on the next run, until a picture is uploaded
        assert any(start in i.value for i in at.sidebar.info)


def test_a_sample_link_has_no_such_note() -> None:
    at = open_link("pages/convolution.py", {"img_choice": "Coffee cup", "lang": "en"})
    start = i18n.t("images.linked_upload", "en")[:20]
    assert not any(start in i.value for i in at.sidebar.info)


@pytest.mark.parametrize(("old", "choice"), list(image_input.OLD_TITLES.items()))
def test_an_older_link_keeps_its_choice(old, choice) -> None:
    # links made while the picker was a select box named these two options with a final "…"
    lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in old) else "en"
    at = open_link("pages/convolution.py", {"img_choice": old, "lang": lang})
    assert errors_of(at) == []
    assert at.session_state["img_choice"] == choice
    assert [w.value for w in at.sidebar.warning] == []
    assert old not in at.query_params.get("img_choice", [])  # the old title is not kept
    if choice == image_input.UPLOAD:
        assert at.sidebar.get("file_uploader")
