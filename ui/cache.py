"""Figures built once per distinct input for the whole class, and a cache key that reads every
byte of an array.

A lesson page rebuilds every chart on every rerun, although a rerun usually changes one of them.
:func:`figure` keeps each chart's finished dict in ``st.cache_data`` (a copy per caller, shared
by all sessions only through identical inputs, bounded by ``max_entries``) and hands it to
``st.plotly_chart`` without a second Plotly validation or ``to_dict`` walk: a cache hit costs
~0.5 ms instead of 5-30 ms.

:data:`HASH_FUNCS` makes ``st.cache_data`` key NumPy arrays by a digest of all their bytes.
Streamlit's own hasher samples 100 000 elements of arrays with >= 500 000 (a 1024-pixel photo),
so two students' pictures that agree on those samples would share a cached result, one seeing
the other's picture; a full digest of a 1024x1024x3 float32 array costs ~5 ms.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

#: Cached figure dicts (a large map's is ~0.1-0.3 MB: the cache stays under ~40 MB).
MAX_FIGURES = 192


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


@st.cache_data(max_entries=MAX_FIGURES, show_spinner=False, hash_funcs=HASH_FUNCS)
def _spec(module: str, name: str, args: tuple, kwargs: dict) -> dict:
    builder = getattr(importlib.import_module(module), name)
    return builder(*args, **kwargs).to_dict()


def figure(builder: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """``builder(*args, **kwargs)``, built once per distinct input and language for everyone.

    ``builder`` must be a module-level builder of ``cnnviz`` (a pure function of its arguments,
    e.g. :func:`cnnviz.viz.figures.map_figure`; a page's own functions live in ``__main__``
    and cannot be looked up again); pass translated labels as arguments so each language gets
    its own entry.
    """
    module, name = builder.__module__, builder.__qualname__
    if not module.startswith("cnnviz.") or "<" in name or "." in name:
        raise ValueError(f"figure() needs a module-level cnnviz builder, got {module}.{name}")
    return Prebuilt(_spec(module, name, args, kwargs))
