"""Widgets more than one page uses: the matrix editor and the language-bound ``format_func``.

Each returns plain values (arrays, strings); checking what a student typed is the lessons' and
the engine's job, the page only turns a reason code into a sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import i18n
from cnnviz.lessons import conv as conv_math
from ui.lang import current


def labeller(prefix: str, suffix: str = "") -> Callable[[Any], str]:
    """A ``format_func`` naming option ``k`` by the catalogue entry ``prefix + k + suffix``.

    Bound to this run's language: Streamlit and AppTest may call it later, outside the script
    run, where the session's language cannot be read.
    """
    lang = current()
    return lambda k: i18n.t(f"{prefix}{k}{suffix}", lang)


def matrix_editor(key: str, base: np.ndarray, *, help: str,
                  limit: float = conv_math.ABSURD) -> tuple[np.ndarray | None, str | None]:
    """An editable grid of numbers, columns named 1..n.

    Returns ``(array, None)``, or ``(None, reason)`` when a cell is unusable: ``blank`` (empty or
    not a number) or ``absurd`` (infinite, or larger in size than ``limit``), as
    :func:`cnnviz.lessons.conv.check_matrix` decides.
    """
    base = np.asarray(base, dtype=np.float64)
    # plain text column names: pandas' default Arrow-backed names cost ~0.5 ms an editor in
    # Streamlit's column checks, and there are four editors in a colour picture's fragment
    cols = pd.Index([str(j + 1) for j in range(base.shape[1])], dtype=object)
    cfg = {c: st.column_config.NumberColumn(c, help=help, format="%.4g") for c in cols}
    edited = st.data_editor(pd.DataFrame(base, columns=cols), key=key, hide_index=True,
                            column_config=cfg, num_rows="fixed", width="content")
    frame = pd.DataFrame(edited)
    if all(pd.api.types.is_numeric_dtype(d) for d in frame.dtypes):  # the usual case: cheap
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    else:  # text typed into a cell becomes NaN ("not a number")
        values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return conv_math.check_matrix(values, limit)
