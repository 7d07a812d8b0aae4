"""Classroom links: every page's settings in the URL, a share box with a QR code, teacher presets,
hidden controls, and one short notice when a link carried settings that could not be used.

How it fits together:

- Widgets keep their own values in the URL (``bind="query-params"`` on the page's widget calls).
  Grids typed into a data editor use :func:`incoming_grid` / :func:`grid_base` and
  :func:`grid_to_link` (our encoding, :mod:`cnnviz.classroom.links`).
- ``app.py`` calls :func:`begin` before the page runs (remember the link the session started
  with, apply ``?preset=``, inject the CSS of ``?only=`` / ``?hide=``), :func:`sidebar` for the
  share box and the preset pills, and :func:`finish` after the page ran (the notice).

Cost per rerun: a few dictionary look-ups; the QR code is drawn only when the box is opened
and cached per link. Session keys start with ``_share`` (plus the widgets ``share_open``,
``share_preset``).
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import streamlit as st

from cnnviz.classroom import links, presets
from ui import display, lazy
from ui.lang import current, t

START = "_share_start"  # the query parameters of the session's first run: key -> list[str]
CHECKED = "_share_checked"  # the notice was decided (once per session)
BAD = "_share_bad"  # keys from the link that could not be used (filled by grid hooks too)
RESYNC = "_share_resync"  # preset values to assign once more, so the URL shows them
GRIDS = "_share_grids"  # grid param -> text waiting to be read by its page
BASES = "_share_bases"  # grid param -> {slot: array} kept for the session (data editor bases)
LANG_SEEN = "_share_lang"

#: Element types hidden by ``?only=`` unless named (the page's settings, never its buttons).
CONTROL_TESTIDS = ("stSlider", "stNumberInput", "stSelectbox", "stMultiSelect", "stRadio",
                   "stCheckbox", "stButtonGroup", "stTextInput", "stDataFrame")
MAIN = "[data-testid=stMain]"


# ---- the link the session started with -----------------------------------------------------

def _query() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp}


def begin(page: str) -> None:
    """Before the page runs: remember the first link, apply ``?preset=``, hide controls."""
    state = st.session_state
    if START not in state:
        state[START] = _query()
        state[BAD] = []
        preset_id = st.query_params.get("preset")
        if preset_id is not None:
            preset = presets.find(page, preset_id)
            if preset is None:
                state[BAD].append(f"preset={preset_id}")
            else:
                _apply(preset, from_link=True)  # ?preset= stays until the values are in the URL
            if preset is None:
                _drop_param("preset")
    elif RESYNC in state:
        # A preset from the link: its values were set before its widgets existed, which keeps
        # them out of the URL. Assigned again on the next run (a run the browser asked for, so
        # Streamlit writes them into the URL), unless the student changed them already.
        for key, value in state.pop(RESYNC).items():
            now = state.get(key)
            if (list(now) if isinstance(now, tuple) else now) == value:
                state[key] = value
        _drop_param("preset")
    _resend_lists_after_language_switch()
    _hide_controls()


def linked_once(key: str) -> bool:
    """True the first time it is asked about ``key`` when the session's first link set it
    (for widgets whose on_change must also run for a value that came from the link)."""
    asked = st.session_state.setdefault("_share_asked", set())
    if key in asked:
        return False
    asked.add(key)
    return key in st.session_state.get(START, {})


def reapply_preset() -> None:
    """For a page that fills session state with its own starting values on its first run:
    call it right after, so a preset from the link still wins."""
    for key, value in st.session_state.get(RESYNC, {}).items():
        st.session_state[key] = value


def _resend_lists_after_language_switch() -> None:
    """Lists of options (pills, multiselect) are stored in the URL by their labels: after a
    language switch assign them again so the URL gets the new language's labels (the language
    toggle re-sends single values itself)."""
    lang, seen = current(), st.session_state.get(LANG_SEEN)
    st.session_state[LANG_SEEN] = lang
    if seen is None or seen == lang:
        return
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        if (isinstance(key, str) and not key.startswith("_") and isinstance(value, list)
                and value and all(isinstance(v, str) for v in value)):
            try:
                st.session_state[key] = list(value)
            except Exception:  # noqa: BLE001 - a widget that refuses assignment keeps its URL
                continue


def _drop_param(key: str) -> None:
    """Remove an unbound parameter from the URL (bound ones belong to their widget)."""
    try:
        if key in st.query_params:
            del st.query_params[key]
    except Exception:  # noqa: BLE001 - a widget's parameter: Streamlit manages it
        pass


def _url_form(key: str) -> str | list[str] | None:
    """The widget ``key``'s current value in the form Streamlit writes into the URL, or None
    when no widget of that key ran in this session."""
    try:
        from streamlit.runtime.state.query_params import _coerce_value_for_query_url
        from streamlit.runtime.state.session_state_proxy import get_session_state

        state = get_session_state()._state
        wid = state._key_id_mapper.get_id_from_key(key)
        meta = state._new_widget_state.widget_metadata.get(wid) if wid else None
        if meta is None:
            return None
        return _coerce_value_for_query_url(meta.serializer(state[wid]), meta.value_type)
    except Exception:  # noqa: BLE001 - another Streamlit version: compare plain values
        if key not in st.session_state:
            return None
        value = st.session_state[key]
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value]
        return str(value).lower() if isinstance(value, bool) else str(value)


def unusable(start: dict[str, list[str]], page: str) -> list[str]:
    """Keys of the first link whose value the page did not take (invalid, out of range, not a
    setting of this page). Grids are judged by their hooks; ``lang`` by ui.lang."""
    grids = presets.GRID_PARAMS.get(page, ())
    bad = []
    for key, values in start.items():
        if key in ("lang", "view", "preset", "embed", "embed_options") or key in grids:
            continue  # ui.lang / ui.display / begin / Streamlit itself / the grid hooks
        if key in ("only", "hide"):
            bad += links.parse_keys(values)[1]
            continue
        shown = _url_form(key)
        if shown is None or not links.same_value(values, shown):
            bad.append(key)
    return bad


def finish(page: str, box: Any = None) -> None:
    """After the page ran: on the session's first run, one notice for unusable settings; the
    share box's content when it is open."""
    state = st.session_state
    if not state.get(CHECKED) and START in state:
        state[CHECKED] = True
        _notice(page)
    if box is not None and state.get("share_open"):
        with box:  # filled after the page ran, so the link has every value the page set
            _box(page)


def _notice(page: str) -> None:
    state = st.session_state
    bad = list(dict.fromkeys(state.get(BAD, []) + unusable(state[START], page)))
    for key in bad:
        if "=" not in key and key not in ("only", "hide"):
            _drop_param(key)
    if bad:
        st.toast(t("share.link_reset", names=", ".join(bad)), icon="⚠️", duration="long")


# ---- grids in the link ---------------------------------------------------------------------

def incoming_grid(name: str, decode: Callable[[str], np.ndarray]) -> np.ndarray | None:
    """A grid for parameter ``name`` arriving now (from the session's first link, once, or from
    a preset), decoded; None when there is none. A bad one is reported in the notice."""
    state = st.session_state
    pending = state.setdefault(GRIDS, {})
    if f"{name}:link" not in pending:  # the session's link is read once per parameter
        pending[f"{name}:link"] = True
        text = state.get(START, {}).get(name)
        if text:
            pending.setdefault(name, text[-1])
    text = pending.pop(name, None)
    if text is None:
        return None
    try:
        return decode(text)
    except links.CodecError:
        state.setdefault(BAD, []).append(name)
        _drop_param(name)
        if state.get(CHECKED):  # after the first run's notice: say it now
            st.toast(t("share.link_reset", names=name), icon="⚠️", duration="long")
        return None


def grid_base(name: str, slot: str, default: np.ndarray, **limits: Any) -> np.ndarray:
    """The values a data editor should start from: a grid from the link (kept for the rest of
    the session under ``slot``, e.g. the example it was made on), else ``default``."""
    store = st.session_state.setdefault(BASES, {}).setdefault(name, {})
    arr = incoming_grid(name, lambda text: links.decode_grid(text, **limits))
    if arr is not None:
        store[slot] = arr
    return store.get(slot, default)


def grid_to_link(name: str, values: Any, default: Any) -> np.ndarray:
    """Keep ``?name=`` in step with a grid (absent when it equals ``default``); returns the
    grid as an array."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape == np.shape(default) and np.allclose(arr, default, equal_nan=True):
        _drop_param(name)
    elif np.all(np.isfinite(arr)):
        text = links.encode_stack(arr) if arr.ndim == 3 else links.encode_grid(arr)
        if st.query_params.get(name) != text:
            st.query_params[name] = text
    return arr


# ---- presets and hidden controls -----------------------------------------------------------

def _apply(preset: dict[str, Any], *, from_link: bool = False) -> None:
    """Set the preset's widget values (and grids, and hidden controls)."""
    state = st.session_state
    widgets = {}
    for key, value in preset["params"].items():
        if key.startswith(("conv_grid", "conv_kernel", "conv_img_k", "pool_grid")):
            state.setdefault(GRIDS, {})[key] = value
            continue
        widgets[key] = list(value) if isinstance(value, tuple) else value
    for key, value in widgets.items():
        state[key] = value
    lazy.want(preset["params"])  # parts of the page drawn on demand open for these settings
    if from_link:
        state[RESYNC] = widgets
    if preset.get("only"):
        st.query_params["only"] = ",".join(preset["only"])
    else:
        _drop_param("only")
    _drop_param("hide")
    if preset.get("view"):
        display.set_view(preset["view"] == display.PROJECTOR)


def _on_preset(page: str, preset_id: str) -> None:
    preset = presets.find(page, preset_id)
    if preset is not None:
        _apply(preset)


def _hidden_keys() -> tuple[list[str], list[str]]:
    only = links.parse_keys(st.query_params.get_all("only"))[0]
    hide = links.parse_keys(st.query_params.get_all("hide"))[0]
    return only, hide


def hiding_css(only: list[str], hide: list[str]) -> str:
    """CSS that hides the main area's controls not named in ``only`` and those in ``hide``
    (keys are checked by links.KEY_RE first). Hidden widgets still run, so their values
    (from the link) still apply."""
    rules = []
    grids = {g for gs in presets.GRID_PARAMS.values() for g in gs}
    if only:
        kinds = ", ".join(f":has([data-testid={k}])" for k in CONTROL_TESTIDS)
        # a grid's editor key carries a suffix (conv_kernel_v3, pool_grid_turn): match a prefix
        keep = "".join(f":not([class*='st-key-{k}_'])" if k in grids else f":not(.st-key-{k})"
                       for k in only)
        rules.append(f"{MAIN} [data-testid=stElementContainer]:is({kinds}){keep}")
    if hide:
        rules += [f"{MAIN} [class*='st-key-{k}_']" if k in grids else f"{MAIN} .st-key-{k}"
                  for k in hide]
    return ("<style>" + ",\n".join(rules) + "{display: none !important;}</style>") if rules else ""


def _hide_controls() -> None:
    css = hiding_css(*_hidden_keys())
    if css:
        st.html(css)


def _show_all() -> None:
    _drop_param("only")
    _drop_param("hide")


# ---- the share box ------------------------------------------------------------------------

def _base() -> str:
    """This page's address without parameters (``http://host:port/`` for the start page)."""
    base = st.context.url or ""
    return base + "/" if base and not urlsplit(base).path else base


def current_link() -> str:
    """This page's full link with its settings and language."""
    base = _base()
    params = _query()
    params.pop("preset", None)
    params["lang"] = [current()]
    return links.build_url(base, params)


@st.cache_data(max_entries=64, show_spinner=False)
def qr_png(url: str) -> bytes:
    """A QR code of ``url`` as PNG bytes (segno, offline), big enough for a projector."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


@cache
def _network_ip() -> str | None:
    """This machine's address on the local network (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def network_link(url: str) -> str | None:
    """``url`` with a loopback host replaced by this machine's network address (same port)."""
    parts = urlsplit(url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return None
    ip = _network_ip()
    if ip is None:
        return None
    netloc = ip + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _box(page: str) -> None:
    url = current_link()
    st.markdown(f"**{t('share.link_label')}**")
    st.code(url, language=None, wrap_lines=True)
    other = network_link(url)
    if other:  # students cannot reach localhost: the code and the QR use the network address
        st.caption(t("share.localhost_note"))
        st.code(other, language=None, wrap_lines=True)
    else:
        st.caption(t("share.network_note"))
    st.image(qr_png(other or url), caption=t("share.qr_caption"), width=240)
    page_presets = presets.for_page(page)
    if page_presets:
        st.markdown(f"**{t('share.preset_links')}**")
        base = _base()
        lang = current()
        st.markdown("\n".join(
            f"- [{t(presets.title_key(page, p['id']))}]"
            f"({links.build_url(base, {'preset': p['id'], 'lang': lang})})"
            for p in page_presets))
    st.caption(t("share.hide_hint"))


def sidebar(page: str) -> Any:
    """The share popover (returned: :func:`finish` fills it while open), the presets, and
    "show all controls"."""
    box = st.popover(t("share.button"), icon=":material/share:", key="share_open",
                     on_change="rerun", width="stretch", help=t("share.button_help"))
    page_presets = presets.for_page(page)
    if page_presets:
        st.caption(t("share.presets"))
        for p in page_presets:
            st.button(t(presets.title_key(page, p["id"])), key=f"share_preset_{p['id']}",
                      on_click=_on_preset, args=(page, p["id"]), icon=":material/school:",
                      width="stretch", wrap=True, help=t("share.presets_help"))
    only, hide = _hidden_keys()
    if only or hide:
        st.caption(t("share.hidden_note"))
        st.button(t("share.show_all"), key="share_show_all", on_click=_show_all,
                  icon=":material/visibility:", help=t("share.show_all_help"))
    return box
