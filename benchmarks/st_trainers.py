"""Students who train on /trainer, played over Streamlit's websocket (no browser on the server's
cores): each opens the page, presses "Train" and then, like a browser, reruns the live
fragment every time the server asks for it (``auto_rerun``, every 0.5 s) until the run ends;
then presses "Train" again, until the duration is over, and leaves (closes its connection, as a
closed tab does, possibly in the middle of a run). Loopback only; stops by itself.

    python benchmarks/st_trainers.py --url http://127.0.0.1:8501 --students 4 --duration 60

Prints ``TRAINERS`` with the number of runs started, fragment ticks and their latency, and what
the queued students were told ("Waiting for a free trainer: B of T busy, W waiting"). Used by
bench_load.py ``--trainers N`` while its students load other pages. Protocol as in
../shared/tools/st_load.py (xsrf cookie, ``rerun_script`` BackMsgs, ``script_finished``), plus a
button press (``trigger_value``) and fragment reruns (``ClientState.fragment_id``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import ipaddress
import re
import sys
import time
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

START_KEY = "tr_start_single"
#: The queued student's message (trainer.queued, English): busy, total, waiting.
QUEUED = re.compile(r"Waiting for a free trainer: (\d+) of (\d+) trainers are busy and (\d+)")
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN


def loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    if ipaddress.ip_address(host).is_loopback:
        return host
    sys.exit(f"refusing {host!r}: loopback only")


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))] * 1000 if s else float("nan")


class Trainer:
    def __init__(self, idx: int, a: argparse.Namespace, deadline: float, stats: dict) -> None:
        self.idx, self.a, self.deadline, self.stats = idx, a, deadline, stats
        self.page_hash, self.button = "", None
        self.ids: dict[str, str] = {}  # widget key -> element id (epochs slider, slow toggle)
        self.fragments: dict[str, float] = {}  # fragment id -> auto-rerun interval (s)

    def cookie(self) -> str | None:
        conn = http.client.HTTPConnection(self.a.host, self.a.port, timeout=10)
        try:
            conn.request("GET", "/_stcore/health")
            resp = conn.getresponse()
            resp.read()
            for k, v in resp.getheaders():
                if k.lower() == "set-cookie" and v.startswith("_streamlit_xsrf="):
                    return v.split(";", 1)[0].split("=", 1)[1]
        finally:
            conn.close()
        return None

    def msg(self, *, first: bool = False, press: bool = False, fragment: str = "") -> bytes:
        m = BackMsg()
        cs = m.rerun_script
        cs.page_script_hash = "" if first else self.page_hash
        cs.page_name = "trainer" if first else ""
        cs.context_info.timezone, cs.context_info.locale = "UTC", "en-US"
        if press and self.button:
            cs.widget_states.widgets.add(id=self.button, trigger_value=True)
        if self.a.epochs and "tr_epochs" in self.ids:
            cs.widget_states.widgets.add(id=self.ids["tr_epochs"]).double_array_value.data.append(
                self.a.epochs)
        if self.a.slow and "tr_slow" in self.ids:
            cs.widget_states.widgets.add(id=self.ids["tr_slow"], bool_value=True)
        if fragment:
            cs.fragment_id, cs.is_auto_rerun = fragment, True
        return m.SerializeToString()

    async def until_done(self, ws) -> None:
        """Read until a run ends that is not followed by another (st.rerun)."""
        while True:
            fm = ForwardMsg.FromString(await ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
                if not fm.metadata.run.fragment_ids:  # a full run: the browser drops timers
                    self.fragments.clear()
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "auto_rerun":
                self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for f in fm.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(f, None)
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                kind_el = el.WhichOneof("type")
                if kind_el == "button" and el.button.id.endswith("-" + START_KEY):
                    self.button = el.button.id
                for key, wtype in (("tr_epochs", "slider"), ("tr_slow", "checkbox")):
                    if kind_el == wtype and getattr(el, wtype).id.endswith("-" + key):
                        self.ids[key] = getattr(el, wtype).id
                if el.WhichOneof("type") == "exception":
                    self.stats["errors"] += 1
                if el.WhichOneof("type") == "alert":
                    m = QUEUED.search(el.alert.body)
                    if m:
                        busy, total, waiting = map(int, m.groups())
                        self.stats["queued_seen"].add(self.idx)
                        self.stats["max_busy"] = max(self.stats["max_busy"], busy)
                        self.stats["total"] = total
                        self.stats["max_waiting"] = max(self.stats["max_waiting"], waiting)
            elif kind == "script_finished" and fm.script_finished != EARLY:
                return

    async def main(self) -> None:
        await asyncio.sleep(0.5 * self.idx)
        cookie = await asyncio.to_thread(self.cookie)
        async with connect(self.a.ws_url, subprotocols=["streamlit", cookie or "x"],
                           origin=self.a.origin, proxy=None, max_size=None,
                           additional_headers={"Cookie": f"_streamlit_xsrf={cookie}"}) as ws:
            await ws.send(self.msg(first=True))
            await self.until_done(ws)
            if self.a.epochs or self.a.slow:  # set them (a full rerun), then press Train
                await ws.send(self.msg())
                await self.until_done(ws)
            while time.monotonic() < self.deadline:
                if not self.fragments:  # no run going: press Train
                    await ws.send(self.msg(press=True))
                    await asyncio.wait_for(self.until_done(ws), 60)
                    self.stats["starts"] += 1
                    if not self.fragments:
                        await asyncio.sleep(1.0)
                    continue
                fid, interval = next(iter(self.fragments.items()))
                await asyncio.sleep(interval)
                t0 = time.perf_counter()
                await ws.send(self.msg(fragment=fid))
                await asyncio.wait_for(self.until_done(ws), 60)
                self.stats["ticks"].append(time.perf_counter() - t0)


async def amain(a: argparse.Namespace) -> None:
    stats = {"starts": 0, "ticks": [], "errors": 0, "queued_seen": set(), "max_busy": 0,
             "total": 0, "max_waiting": 0}
    deadline = time.monotonic() + a.duration
    tasks = [asyncio.create_task(Trainer(i, a, deadline, stats).main())
             for i in range(a.students)]
    done, pending = await asyncio.wait(tasks, timeout=a.duration + 90)
    for t in pending:
        t.cancel()
    failures = [t.exception() for t in done if t.exception() is not None]
    ticks = stats["ticks"]
    print(f"TRAINERS students={a.students} starts={stats['starts']} ticks={len(ticks)} "
          f"tick_p50={pct(ticks, 50):.0f}ms tick_p95={pct(ticks, 95):.0f}ms "
          f"queued_students={len(stats['queued_seen'])} max_busy={stats['max_busy']}"
          f"/{stats['total']} max_waiting={stats['max_waiting']} "
          f"errors={stats['errors'] + len(failures) + len(pending)}"
          + (f" ({failures[0]!r})" if failures else ""), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8501")
    p.add_argument("--students", type=int, default=4)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--epochs", type=int, default=0, help="set the epochs slider (1-50)")
    p.add_argument("--slow", action="store_true", help="switch slow motion on")
    a = p.parse_args(argv)
    u = urlparse(a.url)
    a.host, a.port = loopback(u.hostname or ""), u.port or 80
    if not 1 <= a.students <= 64 or not 0 < a.duration <= 3600:
        p.error("need 1 <= --students <= 64 and 0 < --duration <= 3600")
    a.origin = f"http://{a.host}:{a.port}"
    a.ws_url = f"ws://{a.host}:{a.port}/_stcore/stream"
    return a


if __name__ == "__main__":
    asyncio.run(amain(parse_args()))
