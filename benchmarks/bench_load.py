"""Classroom load benchmark: 1, 10 and 40 simulated students on every lesson page.

Starts ``streamlit run app.py`` on a free loopback port, then drives it with the team's
websocket load client (../shared/tools/st_load.py), which varies one keyed widget per rerun
after a think time. Prints p50/p95 rerun latency, errors and server memory per page.

    pip install websockets
    python benchmarks/bench_load.py                      # all pages, 1/10/40 sessions, 30 s each
    python benchmarks/bench_load.py --pages convolution --sessions 40 --duration 60

Run by hand (not in CI). Loopback only; every run stops by itself.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT.parent / "shared" / "tools" / "st_load.py"

# url path -> the widget a student moves most on that page (key=min:max).
WIDGETS = {
    "": "home_copies=1:6",
    "preprocessing": "prep_corr=-0.95:0.95",
    "convolution": "conv_img_bias=-1:1",
    "activation": "act_alpha=0.01:0.3",
    "pooling": "pool_shift=0:3",
    "trainer": "tr_epochs=1:10",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def run_load(port: int, pid: int, page: str, sessions: int, duration: float,
             think: float) -> dict[str, str]:
    cmd = [sys.executable, str(LOAD), "--url", f"http://127.0.0.1:{port}", "--sessions",
           str(sessions), "--duration", str(duration), "--page", page, "--think", str(think),
           "--pid", str(pid)]
    if WIDGETS.get(page):
        cmd += ["--widget", WIDGETS[page]]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120).stdout
    line = next((x for x in out.splitlines() if x.startswith("SUMMARY")), "")
    return dict(re.findall(r"(\w+)=(\S+)", line))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="*", default=list(WIDGETS), help="url paths ('' = home)")
    ap.add_argument("--sessions", nargs="*", type=int, default=[1, 10, 40])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--think", type=float, default=2.0)
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra streamlit flag, e.g. --server-arg=--runner.postScriptGC=true")
    args = ap.parse_args()
    if not LOAD.exists():
        sys.exit(f"load client not found at {LOAD}")
    print("| page | sessions | reruns | errors | p50 | p95 | p99 | server RSS peak |"
          "\n|---|---|---|---|---|---|---|---|", flush=True)
    for page in args.pages:
        for n in args.sessions:
            port = free_port()
            proc = start_server(port, args.server_arg)
            try:
                r = run_load(port, proc.pid, page, n, args.duration, args.think)
            finally:
                proc.terminate()
                proc.wait(10)
            print(f"| /{page} | {r.get('sessions', '?')} | {r.get('reruns', '?')} | "
                  f"{r.get('errors', '?')} | {r.get('p50', '?')} | {r.get('p95', '?')} | "
                  f"{r.get('p99', '?')} | {r.get('rss_peak', '?')} |", flush=True)


if __name__ == "__main__":
    main()
