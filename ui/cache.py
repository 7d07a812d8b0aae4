"""The one cache helper of the app: results kept per distinct input, bounded, and per session
where the input is personal.

- :func:`shared` — ``fn(*args, **kwargs)`` of a pure module-level ``cnnviz`` function (lesson
  maths), computed once per distinct input for the whole class (``st.cache_data``: every caller
  gets its own copy, so nothing one user changes reaches another).
- :func:`figure` — the same for a figure builder of ``cnnviz.viz``; the finished dict is handed
  to ``st.plotly_chart`` as :class:`Prebuilt`, without a second Plotly validation (a hit costs
  ~0.5 ms instead of 5-30 ms).
- :func:`session` — a small LRU in ``st.session_state`` for results tied to one user (their
  picture, their trained models): keyed by something cheap the caller builds, gone with the
  session.

Keys read every byte of an array (:func:`array_digest`). Streamlit's own hasher samples 100 000
elements of arrays with >= 500 000 (a 1024-pixel photo), so two students' pictures that agreed on
those samples would share an entry, one seeing the other's picture; a full digest of a
1024x1024x3 float32 array costs ~5 ms. Entries whose inputs hold a large array (pictures) go to a
smaller bucket, so a class's uploads cannot crowd the memory.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import plotly.graph_objects as go
import streamlit as st

T = TypeVar("T")

#: Entries per bucket: plain inputs (numbers, small grids) / inputs holding a picture-sized array.
MAX_SMALL, MAX_PICTURE = 512, 48
#: Cached figure dicts (a large map's is ~0.1-0.3 MB: the cache stays under ~40 MB).
MAX_FIGURES = 192
#: Arrays with more elements than this make an entry a "picture" one.
PICTURE_SIZE = 4096
SESSION_KEY = "_cache"


def array_digest(a: np.ndarray) -> bytes:
    """A digest of an array's dtype, shape and every element (for ``st.cache_data`` keys)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    if a.dtype.hasobject:
        h.update(pickle.dumps(a.tolist(), protocol=pickle.HIGHEST_PROTOCOL))
    else:
        h.update(np.ascontiguousarray(a).data)
    return h.digest()


#: ``st.cache_data(hash_funcs=HASH_FUNCS)``: arrays are keyed by all their bytes.
HASH_FUNCS: dict[Any, Callable[[Any], Any]] = {np.ndarray: array_digest}


class Prebuilt(go.Figure):
    """A finished figure dict, for ``st.plotly_chart`` only: it takes a Figure's ``to_dict()``
    as it is, so drawing costs no validation and no deep copy of Plotly's template.

    Deliberately not initialised as a Plotly figure (that alone costs ~0.3 ms): it cannot be
    edited (``update_layout`` etc. fail); build a changed figure instead.
    """

    def __init__(self, spec: dict) -> None:  # no super().__init__(): see above
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"Prebuilt({len(self._spec.get('data', []))} traces)"


def _address(fn: Callable[..., Any], package: str) -> tuple[str, str]:
    module, name = fn.__module__, fn.__qualname__
    if not module.startswith(package) or "<" in name or "." in name:
        raise ValueError(f"needs a module-level {package} function, got {module}.{name}")
    return module, name


def _call(module: str, name: str, args: tuple, kwargs: dict) -> Any:
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


@st.cache_data(max_entries=MAX_SMALL, show_spinner=False, hash_funcs=HASH_FUNCS)
def _small(module: str, name: str, args: tuple, kwargs: dict) -> Any:
    return _call(module, name, args, kwargs)


@st.cache_data(max_entries=MAX_PICTURE, show_spinner=False, hash_funcs=HASH_FUNCS)
def _picture(module: str, name: str, args: tuple, kwargs: dict) -> Any:
    return _call(module, name, args, kwargs)


@st.cache_data(max_entries=MAX_FIGURES, show_spinner=False, hash_funcs=HASH_FUNCS)
def _spec(module: str, name: str, args: tuple, kwargs: dict) -> dict:
    out = _call(module, name, args, kwargs)
    return out if isinstance(out, dict) else out.to_dict()


def _holds_picture(values: Any) -> bool:
    if isinstance(values, np.ndarray):
        return values.size > PICTURE_SIZE
    if isinstance(values, list | tuple):
        return any(_holds_picture(v) for v in values)
    if isinstance(values, dict):
        return any(_holds_picture(v) for v in values.values())
    return False


def shared(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, computed once per distinct input for everyone.

    ``fn`` must be a module-level function of ``cnnviz`` (pure: same input, same result; a
    page's own functions live in ``__main__`` and cannot be looked up again).
    """
    module, name = _address(fn, "cnnviz.")
    bucket = _picture if _holds_picture((args, kwargs)) else _small
    return bucket(module, name, args, kwargs)


def figure(builder: Callable[..., Any], *args: Any, **kwargs: Any) -> go.Figure:
    """``builder(*args, **kwargs)`` (a Figure or its dict), built once per distinct input and
    language for everyone, ready for ``st.plotly_chart``.

    ``builder`` must be a module-level builder of ``cnnviz`` (e.g.
    :func:`cnnviz.viz.figures.map_figure`); pass translated labels as arguments so each language
    gets its own entry.
    """
    return Prebuilt(_spec(*_address(builder, "cnnviz."), args, kwargs))


def session(slot: str, key: Hashable, build: Callable[[], T], size: int = 4) -> T:
    """This user's last ``size`` results of ``build`` in ``slot`` (an LRU in session state).

    For what is personal (their picture, their trained models): nothing is hashed, the caller
    passes a cheap ``key`` holding everything the result depends on (e.g. the picture's serial
    number, the run number, the language).
    """
    store = st.session_state.setdefault(SESSION_KEY, {}).setdefault(slot, OrderedDict())
    if key in store:
        store.move_to_end(key)
        return store[key]
    value = build()
    store[key] = value
    while len(store) > size:
        store.popitem(last=False)
    return value
