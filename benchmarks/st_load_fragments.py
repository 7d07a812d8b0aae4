"""The team's load client (../shared/tools/st_load.py) as a browser uses the lessons: it reruns
only the fragment a widget lives in (st_load's ``--fragments``; ``--whole``: the whole page,
st_load's worst case), and it can open the page from a link (``--query``, e.g.
``conv_img_open=true``: the part that holds the widget, since parts below a lesson's first
section are drawn only when a student turns them on).

    python benchmarks/st_load_fragments.py --url http://127.0.0.1:8501 --sessions 40 \\
        --page convolution --query conv_img_open=true --widget conv_img_bias_0=-1.0:1.0

Same options and report as st_load.py (it reuses its code). Without ``--query`` a widget in a
closed part is never found, and st_load counts one ``widget_not_found`` per student.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve()
PATH = Path(os.environ.get("CNNVIZ_ST_LOAD") or next(
    (p / "shared" / "tools" / "st_load.py" for p in _HERE.parents[2:4]
     if (p / "shared" / "tools" / "st_load.py").exists()),
    _HERE.parents[2] / "shared" / "tools" / "st_load.py"))
_spec = importlib.util.spec_from_file_location("st_load", PATH)
st_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(st_load)


def split_args(argv: list[str]) -> tuple[list[str], str]:
    """st_load's arguments (with ``--fragments`` unless ``--whole``) and the link's query."""
    rest, query, whole = [], "", False
    it = iter(argv)
    for arg in it:
        if arg == "--query":
            query = next(it, "")
        elif arg.startswith("--query="):
            query = arg.split("=", 1)[1]
        elif arg == "--whole":
            whole = True
        else:
            rest.append(arg)
    if not whole and "--fragments" not in rest:
        rest.append("--fragments")
    return rest, query.lstrip("?")


ARGS, QUERY = split_args(sys.argv[1:])


class LinkSession(st_load.Session):
    """st_load's session whose first load carries the link's query string, as a browser
    sends it (``ClientState.query_string``; Streamlit's ``st.query_params`` read it)."""

    def rerun_msg(self, first):
        payload, value = super().rerun_msg(first)
        if not (first and QUERY):
            return payload, value
        msg = st_load.BackMsg.FromString(payload)
        msg.rerun_script.query_string = QUERY
        msg.rerun_script.context_info.url += "?" + QUERY
        return msg.SerializeToString(), value


st_load.Session = LinkSession

if __name__ == "__main__":
    asyncio.run(st_load.amain(st_load.parse_args(ARGS)))
