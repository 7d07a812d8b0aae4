"""cnnviz — the entry point: page config, the sidebar shared by every lesson, and navigation.

Run with ``streamlit run app.py``. Page URLs are fixed (``/``, ``/preprocessing``, ``/convolution``,
``/activation``, ``/pooling``, ``/trainer``); titles are translated; ``?lang=zh|en`` picks the
language.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import image_input
from ui.lang import init_lang, language_toggle, t

ROOT = Path(__file__).resolve().parent

# (file, catalogue key of the title, url path, icon). Only files that exist are registered, so
# each lesson appears as soon as its page is written.
PAGES = [
    ("pages/home.py", "nav.home", "", ":material/home:"),
    ("pages/preprocessing.py", "nav.preprocessing", "preprocessing", ":material/scatter_plot:"),
    ("pages/convolution.py", "nav.convolution", "convolution", ":material/grid_on:"),
    ("pages/activation.py", "nav.activation", "activation", ":material/show_chart:"),
    ("pages/pooling.py", "nav.pooling", "pooling", ":material/photo_size_select_small:"),
    ("pages/trainer.py", "nav.trainer", "trainer", ":material/model_training:"),
]

st.set_page_config(page_title="cnnviz", page_icon=":material/grid_on:", layout="wide")
init_lang()

nav = st.navigation(
    [
        st.Page(str(ROOT / file), title=t(key), icon=icon, url_path=url or None, default=not url)
        for file, key, url, icon in PAGES
        if (ROOT / file).exists()
    ]
)

with st.sidebar:
    language_toggle()
    st.divider()
    st.subheader(t("common.image_source"))
    image_input.sidebar()

nav.run()
