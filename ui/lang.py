"""The current user's language: ``?lang=`` in the URL, else the sidebar toggle, else the browser.

Resolution order on a session's first run: ``?lang=zh|en`` -> the browser locale
(``st.context.locale``) -> English. Afterwards the sidebar toggle decides, and the choice is
written back to ``?lang=`` so a copied link opens in the same language.
"""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n

_STATE = "lang"
_WIDGET = "lang_toggle"
_SEEN_QP = "_lang_qp_seen"


def _from_browser() -> str:
    try:
        locale = st.context.locale
    except Exception:  # older Streamlit / AppTest without a browser
        locale = None
    return i18n.normalize_lang(locale) or i18n.DEFAULT_LANG


def init_lang() -> str:
    """Decide this run's language (call once, early, from app.py) and return it."""
    qp = i18n.normalize_lang(st.query_params.get("lang"))
    if _STATE not in st.session_state:
        st.session_state[_STATE] = qp or _from_browser()
        st.session_state[_SEEN_QP] = qp
    elif qp and qp != st.session_state.get(_SEEN_QP):
        # The URL's ?lang= changed within the session (a link was followed): obey it.
        st.session_state[_STATE] = qp
        st.session_state[_SEEN_QP] = qp
    st.session_state[_WIDGET] = st.session_state[_STATE]
    return st.session_state[_STATE]


def current() -> str:
    """The language of this run ("en" or "zh")."""
    return st.session_state.get(_STATE) or i18n.DEFAULT_LANG


def t(key: str, /, **kwargs: object) -> str:
    """Translate ``key`` into the current user's language."""
    return i18n.t(key, current(), **kwargs)


def _on_toggle() -> None:
    choice = st.session_state.get(_WIDGET)
    if choice in i18n.LANGS:
        st.session_state[_STATE] = choice
        st.session_state[_SEEN_QP] = choice
        st.query_params["lang"] = choice
        _resend_widget_values()


def _resend_widget_values() -> None:
    """Re-assign simple widget values so Streamlit redraws them in the new language.

    A selectbox whose value is unchanged keeps showing its old label even though its
    ``format_func`` now returns another language (streamlit#13788); setting the value again
    makes Streamlit send it anew. Values that cannot be set this way (buttons, uploads) are
    skipped.
    """
    for key in list(st.session_state.keys()):
        if not isinstance(key, str) or key.startswith("_") or key in (_WIDGET, _STATE):
            continue
        value = st.session_state[key]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                st.session_state[key] = value
            except Exception:  # noqa: BLE001 - a widget type that refuses assignment
                continue


def language_toggle() -> None:
    """The sidebar switch between English and 中文 (labels in both languages on purpose)."""
    st.segmented_control(
        "Language · 语言",
        options=list(i18n.LANGS),
        format_func={"en": "English", "zh": "中文"}.get,
        key=_WIDGET,
        on_change=_on_toggle,
        required=True,
        help=t("common.language_help"),
    )
    # Keep the URL in step so a copied link restores the language.
    if st.query_params.get("lang") != current():
        st.query_params["lang"] = current()
