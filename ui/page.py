"""The shared frame of a lesson page: title, a one-line "what you will see", the "why" expander."""

from __future__ import annotations

import streamlit as st

from ui.lang import t
from ui.nav import ensure_frame


def header(ns: str) -> None:
    """Title and intro of the page whose catalogue namespace is ``ns`` (keys title, intro)."""
    ensure_frame()
    st.title(t(f"{ns}.title"))
    st.markdown(t(f"{ns}.intro"))


def why(key: str) -> None:
    """The longer explanation, folded away so the first interaction comes first."""
    with st.expander(t("common.why")):
        st.markdown(t(key))
