"""Opening a lesson: from a link to a settled page, in Chromium, beside Streamlit's own floor.

Starts ``streamlit run app.py`` and ``streamlit run benchmarks/floor_app.py`` (a title and one
Plotly chart) on free loopback ports, served the same way as the browser tests do, and drives
Debian's /usr/bin/chromium (never a downloaded browser) through Playwright. Both servers are
warmed first (every page opened once: imports and the class-wide figure caches are warm, as
when the teacher opened the lesson before the class). Then, round after round (languages
en, zh, en, ...), for the floor and for every page of the navigation (ui/nav.py), a fresh
browser context (a new Streamlit session, an empty HTTP cache) opens ``/<page>?lang=..`` and
times until the page is *settled*:

- the script is idle (``data-test-script-state=notRunning``) and the websocket connected,
- the title is drawn and (app pages) the sidebar has its widgets,
- every Plotly chart has drawn its SVG,
- and nothing of that changed for ``--quiet`` ms (elements, charts, DOM nodes); the time
  reported is when the final state first appeared (the quiet period is not counted).

Per page it reports the median (and range) of open-to-settled, the ratio to the floor of the
same run, the bytes the websocket received, the script runs of the new session (counted from
the ForwardMsgs: full runs finished, runs cut short for a rerun, fragment runs) and the
browser's own work (CDP ``Performance.getMetrics``: ScriptDuration, LayoutDuration,
RecalcStyleDuration, TaskDuration). The 1-minute load average is read before every
measurement and printed per row as its range. Run by hand, never in CI:

    python benchmarks/bench_open.py                   # every page, 3 rounds (en, zh, en)
    python benchmarks/bench_open.py --rounds 6 --pages convolution trainer
    python benchmarks/bench_open.py --json /tmp/open.json   # the raw samples too
    python benchmarks/bench_open.py --display phone         # or projector: the room's displays
    git archive <commit> | tar -x -C /tmp/before          # an older version beside this one:
    python benchmarks/bench_open.py --before /tmp/before  # its pages measured in the same run
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CNNVIZ_CHROMIUM", "/usr/bin/chromium")
# the flags of tests/browser/conftest.py
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
#: --display: the browser window and the link's extra parameters (the room's displays, as
#: tests/browser/test_displays.py opens them; the projector view is the app's ``?view=projector``,
#: which starts with the sidebar folded).
DISPLAYS = {
    "desktop": ({"viewport": VIEWPORT}, ""),
    "projector": ({"viewport": {"width": 1024, "height": 768}}, "&view=projector"),
    "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
              ""),
}
#: The floor page (benchmarks/floor_app.py) as the home page is served, and as a lesson is: at a
#: path, where the browser first looks for the server under that path (a 404, then a retry).
FLOORS = {"floor (one chart) at /": "", "floor (one chart) at /chart": "chart"}
METRICS = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")

#: Sampled in the page every 50 ms from the first byte on: a signature of what is drawn and
#: when it last changed (performance.now() counts from the start of the navigation).
WATCH_JS = """
(() => {
  const Q = window.__open = {key: null, since: 0, state: null};
  const sample = () => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app) return;
    const idle = app.getAttribute('data-test-script-state') === 'notRunning'
      && app.getAttribute('data-test-connection-state') === 'CONNECTED';
    const charts = document.querySelectorAll('[data-testid=stPlotlyChart]');
    let drawn = 0;
    charts.forEach(c => { if (c.querySelector('.main-svg')) drawn++; });
    const side = document.querySelector('[data-testid=stSidebarUserContent]');
    const sideN = side ? side.querySelectorAll('[data-testid=stElementContainer]').length : 0;
    const n = document.querySelectorAll('[data-testid=stElementContainer]').length;
    const nodes = document.getElementsByTagName('*').length;
    const title = !!document.querySelector('[data-testid=stMain] h1');
    const key = [idle, title, charts.length, drawn, sideN, n, nodes].join('/');
    const now = performance.now();
    if (key !== Q.key) {
      Q.key = key; Q.since = now;
      Q.state = {idle, title, charts: charts.length, drawn, sidebar: sideN};
    }
  };
  setInterval(sample, 50);
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: str, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """``streamlit run <script>`` in ``cwd`` as tests/browser/conftest.py does; (process, URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
         "--browser.gatherUsageStats=false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit run {script} did not start")


def nav_paths() -> list[str]:
    """Every page of the navigation, in its order (pages appear there as they are written)."""
    from ui.nav import PAGES

    return [url for file, _key, url, _icon in PAGES if (ROOT / file).exists()]


class Stream:
    """What the session received, read from its ForwardMsgs as they arrive: its script runs,
    and how many Plotly charts its page shows at the end (the browser mounts a chart only once
    Plotly's code has arrived, so the page alone cannot tell a chart still to come from none).
    """

    def __init__(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self._names = {ForwardMsg.FINISHED_SUCCESSFULLY: "full",
                       ForwardMsg.FINISHED_EARLY_FOR_RERUN: "cut",
                       ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment"}
        self.bytes = 0
        self.runs = {"started": 0, "full": 0, "cut": 0, "fragment": 0}
        self._shown: dict[tuple, str] = {}  # delta path -> element type, last complete run
        self._run: dict[tuple, str] = {}

    def add(self, raw: bytes | str) -> None:
        raw = raw if isinstance(raw, bytes) else raw.encode()
        self.bytes += len(raw)
        msg = self._msg.FromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.runs["started"] += 1
            self._run = {}
        elif kind == "delta":
            d = msg.delta
            what = d.WhichOneof("type")
            if what == "new_element":
                what = d.new_element.WhichOneof("type")
            self._run[tuple(msg.metadata.delta_path)] = what
        elif kind == "script_finished" and msg.script_finished in self._names:
            name = self._names[msg.script_finished]
            self.runs[name] += 1
            if name == "full":
                self._shown = dict(self._run)
            elif name == "fragment":
                self._shown.update(self._run)

    @property
    def idle(self) -> bool:
        r = self.runs
        return r["started"] > 0 and r["started"] == r["full"] + r["cut"] + r["fragment"]

    @property
    def charts(self) -> int:
        return sum(v == "plotly_chart" for v in self._shown.values())


def measure(browser, url: str, sidebar: bool, quiet: float, timeout: float = 300.0,
            display: str = "desktop") -> dict:
    """Open ``url`` in a fresh context; seconds to settled, bytes, runs and browser metrics."""
    ctx = browser.new_context(locale="en-US", **DISPLAYS[display][0])
    ctx.add_init_script(WATCH_JS)
    page = ctx.new_page()
    stream = Stream()
    page.on("websocket", lambda ws: ws.on("framereceived", stream.add))
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url, wait_until="commit")
    end = time.monotonic() + timeout
    while True:
        page.wait_for_timeout(50)
        q = page.evaluate("() => ({...window.__open, now: performance.now()})")
        s = q.get("state") or {}
        ready = (s.get("idle") and s.get("title") and stream.idle
                 and s["charts"] == s["drawn"] == stream.charts and (s["sidebar"] or not sidebar))
        if ready and q["now"] - q["since"] >= quiet * 1000:
            break
        if time.monotonic() > end:
            ctx.close()
            raise TimeoutError(f"{url} did not settle in {timeout} s: {q} {stream.runs}")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    out = {
        "settled": q["since"] / 1000, "ws_bytes": stream.bytes, "runs": dict(stream.runs),
        "charts": stream.charts, **{m: metrics.get(m, 0.0) for m in METRICS},
    }
    ctx.close()
    return out


def load1() -> float:
    return os.getloadavg()[0]


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def row(name: str, samples: list[dict], floor: float) -> str:
    s = [x["settled"] for x in samples]
    loads = [x["load"] for x in samples]
    run_txt = "/".join(str(sorted({x["runs"][k] for x in samples})).strip("[]").replace(", ", "|")
                       for k in ("full", "cut", "fragment"))
    m = {k: med([x[k] for x in samples]) * 1000 for k in METRICS}
    kb = med([x["ws_bytes"] for x in samples]) / 1024
    return (f"| {name} | {min(loads):.2f}-{max(loads):.2f} | {med(s):.2f} "
            f"({min(s):.2f}-{max(s):.2f}) | {med(s) - floor:+.2f} | {med(s) / floor:.1f}x | "
            f"{samples[0]['charts']} | {kb:.0f} | {run_txt} | "
            f"{m['ScriptDuration']:.0f} | {m['LayoutDuration']:.0f} | "
            f"{m['RecalcStyleDuration']:.0f} | {m['TaskDuration']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", nargs="*", help="url paths (home is ''), default: the navigation")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; languages alternate en, zh")
    ap.add_argument("--quiet", type=float, default=0.6, help="seconds the page must stay the same")
    ap.add_argument("--json", type=Path, help="write every sample here")
    ap.add_argument("--display", choices=list(DISPLAYS), default="desktop",
                    help="the window: desktop 1400x1000; projector 1024x768, the app's pages "
                    "with ?view=projector; phone 390x844 with touch (the floor in the same one)")
    ap.add_argument("--before", type=Path, help="another checkout of the app (e.g. `git archive "
                    "<commit> | tar -x -C DIR`): its pages are measured too, interleaved")
    args = ap.parse_args()
    paths = nav_paths() if args.pages is None else ["" if p in ("/", "home") else p.strip("/")
                                                     for p in args.pages]
    langs = [("en", "zh")[i % 2] for i in range(args.rounds)]
    disp, extra = args.display, DISPLAYS[args.display][1]

    from playwright.sync_api import sync_playwright

    app, app_url = start("app.py")
    floor, floor_url = start("benchmarks/floor_app.py")
    servers = [app, floor]
    apps = [("", app_url)]
    if args.before:
        old, old_url = start("app.py", args.before.resolve())
        servers.append(old)
        apps.append((" (before)", old_url))
    names = [p + tag for p in paths for tag, _ in apps]
    samples: dict[str, list[dict]] = {**{n: [] for n in FLOORS}, **{n: [] for n in names}}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=LAUNCH_ARGS)
            for lang in ("en", "zh"):  # warm: imports, caches, both languages' figures
                for fpath in FLOORS.values():
                    measure(browser, f"{floor_url}/{fpath}?lang={lang}", False, args.quiet,
                            display=disp)
                for p in paths:
                    for _tag, url in apps:
                        measure(browser, f"{url}/{p}?lang={lang}{extra}", True, args.quiet,
                                display=disp)
            for r, lang in enumerate(langs):
                todo = [(name, f"{floor_url}/{fpath}?lang={lang}", False)
                        for name, fpath in FLOORS.items()]
                todo += [(p + tag, f"{url}/{p}?lang={lang}{extra}", True) for p in paths
                         for tag, url in apps]
                for name, url, sidebar in todo:
                    load = load1()
                    x = measure(browser, url, sidebar, args.quiet, display=disp)
                    x.update(load=load, lang=lang, round=r)
                    samples[name].append(x)
                    print(f"  round {r + 1} {lang} /{name}: "
                          f"{x['settled']:.2f} s, {x['ws_bytes'] / 1024:.0f} KB, runs {x['runs']}, "
                          f"load {load:.2f}", file=sys.stderr, flush=True)
            browser.close()
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)

    floors = {n: med([x["settled"] for x in samples[n]]) for n in FLOORS}
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"{args.rounds} rounds ({', '.join(langs)}), quiet {args.quiet:.1f} s, "
          f"headless {CHROMIUM}, {disp} {DISPLAYS[disp][0]['viewport']}{extra and ' ' + extra}, "
          f"fresh context per open, servers warmed\n")
    print("| page | load 1 min | open to settled, s (range) | - floor | / floor | charts "
          "| ws KB | runs full/cut/fragment | script ms | layout ms | style ms | task ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    root, at_path = floors.values()
    for n in FLOORS:
        print(row(n, samples[n], root))
    for n in names:  # home beside the floor at /, a lesson beside the floor at a path
        print(row("/" + n, samples[n], root if n.split(" ")[0] == "" else at_path))
    if args.json:
        args.json.write_text(json.dumps(samples, indent=1))


if __name__ == "__main__":
    main()
