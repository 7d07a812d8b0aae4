"""Parts of a lesson drawn only when a student opens them, so a page opens with its first view.

A page that mounts every figure at once keeps a school laptop busy for seconds: Plotly draws
each chart in the browser's one thread. :func:`shown` is a switch bound to the URL
(``?<key>=true``): the part's content runs (and is sent) only while it is on, and a copied link
keeps it on. A part turns on by itself when the session's link, or a teacher preset, carries a
setting of it (its widget keys start with one of ``prefixes`` or are one of ``keys``), so those
settings are used and visible rather than reported as unusable. A switch rather than an
expander: an open part looks exactly as the page did before, and its own "why" expanders need no
nesting.

Pages call it inside the section's fragment, so opening a part reruns that section only::

    if lazy.shown("conv_rgb_open", ("conv_rgb_",)):
        ...  # the controls and figures
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st

from ui.lang import t
from ui.page import why

#: Widget keys a teacher preset set in this session, waiting for their part to open
#: (ui.share adds to it; a part takes the keys that belong to it).
WANTED = "_lazy_wanted"
_LINK = "_share_start"  # ui.share.START: the query parameters of the session's first link


def _wanted(prefixes: tuple[str, ...], keys: tuple[str, ...] = ()) -> bool:
    state = st.session_state

    def mine(key: str) -> bool:
        return key.startswith(prefixes) or key in keys

    hit = False
    for key in list(state.get(WANTED, ())):
        if mine(key):
            state[WANTED].discard(key)
            hit = True
    asked = state.setdefault("_lazy_asked", set())
    names = {*prefixes, *(f"={k}" for k in keys)}
    if not asked.issuperset(names):  # the session's link is read once per part
        asked.update(names)
        hit = hit or any(mine(k) for k in state.get(_LINK, {}))
    return hit


def want(keys: Iterable[str]) -> None:
    """Settings were just given values (a preset): open the parts they belong to."""
    st.session_state.setdefault(WANTED, set()).update(keys)


def shown(key: str, prefixes: tuple[str, ...] = (), label: str | None = None,
          keys: tuple[str, ...] = ()) -> bool:
    """The part's switch; True when its content should be drawn (see the module doc).
    ``keys``: widget keys matched exactly (where a prefix would catch another part's key, as
    the calculator's ``home_c`` would catch ``home_copies``)."""
    if (prefixes or keys) and _wanted(prefixes, keys):
        st.session_state[key] = True
    return bool(st.toggle(label or t("common.open_part"), False, key=key, bind="query-params",
                          help=t("common.open_part_help")))


def section(title: str, intro: str, key: str, part: Callable[[], None],
            prefixes: tuple[str, ...] = (), why_key: str | None = None,
            keys: tuple[str, ...] = ()) -> None:
    """A lesson section whose body is a part drawn on demand: its header and intro always,
    ``part()`` while the switch ``key`` is on (see :func:`shown`), then the folded "why"
    (``why_key``, a catalogue key) whether the part is open or not."""
    st.header(title)
    st.markdown(intro)
    if shown(key, prefixes, keys=keys):
        part()
    if why_key:
        why(why_key)
