"""The shared frame of a lesson page: title, a one-line "what you will see", the "why" expander."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from ui.lang import t
from ui.nav import ensure_frame


def header(ns: str) -> None:
    """Title and intro of the page whose catalogue namespace is ``ns`` (keys title, intro),
    and the glossary's terms this page uses, in both languages (folded)."""
    ensure_frame()
    st.title(t(f"{ns}.title"))
    st.markdown(t(f"{ns}.intro"))
    terms(ns)


def terms(ns: str) -> None:
    """The page's terms from the one glossary (cnnviz/locales/glossary.json): English and
    Chinese side by side, so a class reading either language uses the same words."""
    found = i18n.terms_in(ns)
    if not found:
        return
    with st.expander(t("common.terms", n=len(found)), icon=":material/translate:"):
        st.markdown(" · ".join(f"{g['en']} = {g['zh']}" for g in found))


def why(key: str) -> None:
    """The longer explanation, folded away so the first interaction comes first."""
    with st.expander(t("common.why")):
        st.markdown(t(key))
