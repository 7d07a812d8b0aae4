"""cnnviz — the entry point: page config, the sidebar shared by every lesson, and navigation.

Run with ``streamlit run app.py``. Page URLs are fixed (``/``, ``/preprocessing``, ``/convolution``,
``/activation``, ``/pooling``, ``/trainer``); titles are translated; ``?lang=zh|en`` picks the
language.
"""

from __future__ import annotations

import streamlit as st

from ui import image_input
from ui.lang import init_lang, language_toggle, t
from ui.nav import st_pages

st.set_page_config(page_title="cnnviz", page_icon=":material/grid_on:", layout="wide")
init_lang()

nav = st.navigation(st_pages())

with st.sidebar:
    language_toggle()
    st.divider()
    st.subheader(t("common.image_source"))
    image_input.sidebar()

nav.run()
