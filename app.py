"""cnnviz — the entry point: page config, the sidebar shared by every lesson, and navigation.

Run with ``streamlit run app.py``. Page URLs are fixed (``/``, ``/preprocessing``, ``/convolution``,
``/activation``, ``/pooling``, ``/trainer``, ``/backprop``); titles are translated;
``?lang=zh|en`` picks the language.
Every page's settings live in the URL too (ui/share.py): a copied link restores the page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnnviz.classroom.presets import page_id
from ui import display, image_input, session_end, share
from ui.lang import init_lang, language_toggle, t
from ui.nav import st_pages
from ui.runtime import freeze_heap, limit_blas_threads

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
limit_blas_threads()  # one BLAS thread per call: many students share 2 cores (ui/runtime.py)

# The projector view opens with the sidebar folded away (the toggle inside it stays reachable).
_folded = st.query_params.get(display.VIEW_PARAM) == display.PROJECTOR
# The tab's icon is a file of ours: a Material icon here is fetched from fonts.gstatic.com,
# which a classroom without internet cannot reach.
st.set_page_config(page_title="cnnviz", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="collapsed" if _folded else "auto")
init_lang()
display.init_view()
session_end.track()  # a closed tab's picture and models are released after the TTL

nav = st.navigation(st_pages())
page = page_id(nav.url_path)
share.begin(page)  # the session's first link, ?preset=, ?only= / ?hide=
display.inject()  # after begin: a preset may turn the projector view on

with st.sidebar:
    language_toggle()
    display.view_toggle()
    share_box = share.sidebar(page)
    st.divider()
    st.subheader(t("common.image_source"))
    image_input.sidebar()

nav.run()
share.finish(page, share_box)  # a notice if the link had unusable settings; the link
freeze_heap(page)  # after a page's first run here: full collections stay short
