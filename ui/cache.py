"""The one cache helper of the app: results kept per distinct input, bounded, and per session
where the input is personal.

- :func:`shared` — ``fn(*args, **kwargs)`` of a pure module-level ``cnnviz`` function (lesson
  maths), computed once per distinct input for the whole class (``st.cache_data``: every caller
  gets its own copy, so nothing one user changes reaches another).
- :func:`figure` — the same for a figure builder of ``cnnviz.viz``; the finished dict is handed
  to ``st.plotly_chart`` as :class:`Prebuilt`, without a second Plotly validation and without a
  copy (every chart goes through ``ui.display.chart``, which never changes it: the projector
  view draws a changed copy). A hit costs a digest of the arguments.
- :func:`session` — a small LRU in ``st.session_state`` for results tied to one user (their
  picture, their trained models): keyed by something cheap the caller builds, gone with the
  session.

Keys read every byte of an array (:func:`array_digest`). Streamlit's own hasher samples 100 000
elements of arrays with >= 500 000 (a 1024-pixel photo), so two students' pictures that agreed on
those samples would share an entry, one seeing the other's picture; a full digest of a
1024x1024x3 float32 array costs ~5 ms. The arguments are digested by :func:`key_of` in one pass
and handed to ``st.cache_data`` as that digest (the arguments themselves ride along unhashed):
Streamlit's hasher walks every element of nested lists, dicts and dataclasses in Python with
an ``inspect`` check per element, which cost more than the figures' own drawing on a rerun.
Entries whose inputs hold a large array (pictures) go to a smaller bucket, so a class's uploads
cannot crowd the memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import pickle
import struct
import threading
import weakref
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


#: Digests of frozen arrays (read-only, owning their bytes), by id while the array lives.
_FROZEN_DIGESTS: dict[int, tuple[weakref.ref, bytes]] = {}


def _digest(a: np.ndarray) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    if a.dtype.hasobject:
        h.update(pickle.dumps(a.tolist(), protocol=pickle.HIGHEST_PROTOCOL))
    else:
        h.update(np.ascontiguousarray(a).data)
    return h.digest()


def array_digest(a: np.ndarray) -> bytes:
    """A digest of an array's dtype, shape and every element (for ``st.cache_data`` keys).

    A frozen array (see :func:`freeze`: read-only and owning its bytes, so nothing can change
    them) is read once; its digest is kept while it lives, which spares re-reading a
    student's picture on every rerun.
    """
    if a.flags.writeable or a.base is not None or a.dtype.hasobject:
        return _digest(a)
    hit = _FROZEN_DIGESTS.get(id(a))
    if hit is not None and hit[0]() is a:
        return hit[1]
    d, key = _digest(a), id(a)
    _FROZEN_DIGESTS[key] = (weakref.ref(a, lambda _r, i=key: _FROZEN_DIGESTS.pop(i, None)), d)
    return d


def freeze(value: T) -> T:
    """``value`` with its arrays (itself, or the items of a tuple, list or dict) read-only where
    they own their bytes, so :func:`array_digest` reads them once. Never unfreeze them."""
    if isinstance(value, np.ndarray):
        if value.base is None:
            value.flags.writeable = False
    elif isinstance(value, tuple | list):
        for v in value:
            freeze(v)
    elif isinstance(value, dict):
        for v in value.values():
            freeze(v)
    return value


#: ``st.cache_data(hash_funcs=HASH_FUNCS)``: arrays are keyed by all their bytes.
HASH_FUNCS: dict[Any, Callable[[Any], Any]] = {np.ndarray: array_digest}


def _feed(h: Any, v: Any) -> None:
    """Feed ``v`` into ``h`` with a type tag and a length before each part, so different values
    (``("ab",)`` and ``("a", "b")``, ``1`` and ``1.0`` and ``True``) never feed the same bytes."""
    if v is None or isinstance(v, bool):
        h.update(b"N" if v is None else (b"T" if v else b"F"))
    elif isinstance(v, int):
        b = str(v).encode()
        h.update(b"i%d:" % len(b) + b)
    elif isinstance(v, float):
        h.update(b"f" + struct.pack("<d", v))
    elif isinstance(v, str):
        b = v.encode("utf-8", "surrogatepass")
        h.update(b"s%d:" % len(b) + b)
    elif isinstance(v, bytes):
        h.update(b"b%d:" % len(v) + v)
    elif isinstance(v, np.ndarray):
        h.update(b"a" + array_digest(v))
    elif isinstance(v, np.generic):
        h.update(b"g" + array_digest(np.asarray(v)))
    elif isinstance(v, list | tuple):
        h.update(b"%s%d:" % (b"l" if isinstance(v, list) else b"t", len(v)))
        for x in v:
            _feed(h, x)
    elif isinstance(v, dict):
        h.update(b"d%d:" % len(v))
        for k, x in v.items():
            _feed(h, k)
            _feed(h, x)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        _feed(h, f"{type(v).__module__}.{type(v).__qualname__}")
        _feed(h, [getattr(v, f.name) for f in dataclasses.fields(v)])
    else:  # anything else: by its pickle (fails loudly rather than keying on an id)
        b = pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)
        h.update(b"p%d:" % len(b) + b)


def key_of(*values: Any) -> bytes:
    """A digest of ``values`` that reads every element (every byte of every array), for the
    cache keys: equal inputs give equal keys, any changed number, string or shape another key."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, values)
    return h.digest()


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


# ``key`` (key_of the call) is the whole cache key; ``_args``/``_kwargs`` are not hashed by
# Streamlit (leading underscore) and only used on a miss.
@st.cache_data(max_entries=MAX_SMALL, show_spinner=False)
def _small(key: bytes, module: str, name: str, _args: tuple, _kwargs: dict) -> Any:
    return _call(module, name, _args, _kwargs)


@st.cache_data(max_entries=MAX_PICTURE, show_spinner=False)
def _picture(key: bytes, module: str, name: str, _args: tuple, _kwargs: dict) -> Any:
    return _call(module, name, _args, _kwargs)


class _Figures:
    """The finished figure dicts, by :func:`key_of` of the builder's call, least recently used
    first out: one dict per entry, handed out as it is (read-only by contract, see
    :func:`figure`). Not ``st.cache_data``: that unpickles a copy of the ~0.1 MB dict on every
    hit and inspects the function's signature on every call, ~0.5 ms a chart a rerun."""

    def __init__(self, size: int) -> None:
        self.size, self.lock, self.store = size, threading.Lock(), OrderedDict()

    def get(self, key: bytes, build: Callable[[], dict]) -> dict:
        with self.lock:
            if key in self.store:
                self.store.move_to_end(key)
                return self.store[key]
        spec = build()  # outside the lock: another session's build need not wait for this one
        with self.lock:
            self.store[key] = spec
            while len(self.store) > self.size:
                self.store.popitem(last=False)
        return spec

    def clear(self) -> None:
        with self.lock:
            self.store.clear()


_FIGURES = _Figures(MAX_FIGURES)


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
    return bucket(key_of(module, name, args, kwargs), module, name, args, kwargs)


def figure(builder: Callable[..., Any], *args: Any, **kwargs: Any) -> go.Figure:
    """``builder(*args, **kwargs)`` (a Figure or its dict), built once per distinct input and
    language for everyone, ready for ``st.plotly_chart``.

    ``builder`` must be a module-level builder of ``cnnviz`` (e.g.
    :func:`cnnviz.viz.figures.map_figure`); pass translated labels as arguments so each language
    gets its own entry. The figure's dict is shared by every session drawing the same figure:
    read it, never change it (build another figure instead).
    """
    module, name = _address(builder, "cnnviz.")
    key = key_of(module, name, args, kwargs)
    return Prebuilt(_FIGURES.get(key, lambda: _spec(module, name, args, kwargs)))


def session(slot: str, key: Hashable, build: Callable[[], T], size: int = 4) -> T:
    """This user's last ``size`` results of ``build`` in ``slot`` (an LRU in session state).

    For what is personal (their picture, their trained models): nothing is hashed, the caller
    passes a cheap ``key`` holding everything the result depends on (e.g. the picture's serial
    number, the run number, the language). Arrays in the result are frozen (:func:`freeze`):
    copy one before changing it in place.
    """
    store = st.session_state.setdefault(SESSION_KEY, {}).setdefault(slot, OrderedDict())
    if key in store:
        store.move_to_end(key)
        return store[key]
    value = freeze(build())
    store[key] = value
    while len(store) > size:
        store.popitem(last=False)
    return value
