"""The team's load client (../shared/tools/st_load.py) with one change: like a browser, it
reruns only the fragment a widget lives in (``ClientState.fragment_id``), instead of the whole
page. The lessons put each section in an ``st.fragment``, so this is what a class actually
causes; st_load's full reruns are the worst case (a widget outside every fragment).

    python benchmarks/st_load_fragments.py --url http://127.0.0.1:8501 --sessions 40 \\
        --page preprocessing --widget prep_corr=-0.95:0.95 --pid <server pid>

Same options and report as st_load.py (it reuses its code); a widget outside any fragment is
rerun with the whole page, as a browser does.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

_HERE = Path(__file__).resolve()
PATH = Path(os.environ.get("CNNVIZ_ST_LOAD") or next(
    (p / "shared" / "tools" / "st_load.py" for p in _HERE.parents[2:4]
     if (p / "shared" / "tools" / "st_load.py").exists()),
    _HERE.parents[2] / "shared" / "tools" / "st_load.py"))
_spec = importlib.util.spec_from_file_location("st_load", PATH)
st_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(st_load)

DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR)


class FragmentSession(st_load.Session):
    """st_load's session, remembering which fragment (if any) holds the varied widget."""

    fragment = ""

    def rerun_msg(self, first):
        payload, value = super().rerun_msg(first)
        if first or not self.fragment:
            return payload, value
        msg = st_load.BackMsg.FromString(payload)
        msg.rerun_script.fragment_id = self.fragment
        return msg.SerializeToString(), value

    async def run_once(self, ws):
        """As st_load's, plus the widget's fragment id; a fragment run has its own run id."""
        run_id, errors = None, []
        while True:
            raw = await ws.recv()
            self.st.bytes += len(raw)
            fm = ForwardMsg.FromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                run_id = fm.metadata.run.script_run_id
                self.sid = fm.new_session.initialize.session_id or self.sid
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_not_found":
                errors.append("page_not_found")
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                et = el.WhichOneof("type")
                if et == "exception":
                    errors.append("exception")
                elif self.a.wkey and et in ("slider", "number_input"):
                    wid = getattr(el, et).id
                    if wid.endswith("-" + self.a.wkey):
                        self.widget_id, self.widget_kind = wid, et
                        self.fragment = fm.delta.fragment_id
            elif kind == "script_finished":
                rid = fm.metadata.run.script_run_id
                if run_id is None or (rid and rid != run_id):
                    continue  # tail of an older run
                if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    errors.append("finished_early")
                return errors


st_load.Session = FragmentSession

if __name__ == "__main__":
    asyncio.run(st_load.amain(st_load.parse_args(sys.argv[1:])))
