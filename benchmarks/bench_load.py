"""Classroom load benchmark: 1, 10 and 40 simulated students on every lesson page.

Starts ``streamlit run app.py`` on a free loopback port (a fresh server per row), warms it up
with one student (imports, the sample picture's caches: the teacher opened the app first), then
drives it with the team's websocket load client (../shared/tools/st_load.py): every student
loads the page, then moves one real widget to a random value after a think time, again and
again. Prints one markdown row per page and class size: rerun latency, errors, bytes and server
CPU per rerun, server memory.

    pip install websockets
    python benchmarks/bench_load.py                          # all pages, 1/10/40, 40 s each
    python benchmarks/bench_load.py --pages convolution --sessions 40 --duration 60
    python benchmarks/bench_load.py --server-arg=--runner.postScriptGC=true   # compare GC
    python benchmarks/bench_load.py --idle 0 10 40           # memory of idle students
    python benchmarks/bench_load.py --trainers 4 --sessions 40 --pages preprocessing ...
                                                             # 4 students train meanwhile
    python benchmarks/bench_load.py --abandon 4              # runs stop when tabs close
    python benchmarks/bench_load.py --fragments              # rerun fragments, as browsers do
    python benchmarks/bench_load.py --soak 6 --pages convolution   # classes come and go: leaks?
    python benchmarks/bench_load.py --burst 1 5              # 40 open a page within 1 s / 5 s
    python benchmarks/bench_load.py --fragments --pages convolution --sessions 2 40 --repeat 2 \
        --before /tmp/before      # an older checkout (git archive) and this one, alternating
    python benchmarks/bench_load.py --fragments --sessions 40 --replicas 0 2 --repeat 2
        # the same class on one plain server (0) and through deploy/serve.py --replicas 2,
        # rows interleaved in one run; per-replica CPU and memory

Float widgets get a new uniform random value on every rerun, so every rerun misses the
caches that a real slider (a few dozen positions) would hit: the figures are pessimistic.
``--trainers N`` adds N websocket students on /trainer who press Start and then tick the live
fragment every 0.5 s as a browser does (benchmarks/st_trainers.py), restarting when a run ends.

``--replicas N`` starts ``deploy/serve.py --replicas N`` (HAProxy in front, sticky cookie; the
load client keeps cookies like a browser) instead of one ``streamlit run``; 0 = the plain
single server. Each replica is warmed directly on its loopback port. CPU and memory are read
from the replica pids (and HAProxy's, reported apart).

Run by hand (not in CI). Loopback only; every run stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "deploy" / "serve.py"
#: The team's client sits beside the repository (../shared/tools); from a worktree one level
#: deeper, or wherever CNNVIZ_ST_LOAD says.
LOAD = Path(os.environ.get("CNNVIZ_ST_LOAD") or next(
    (p / "shared" / "tools" / "st_load.py" for p in (ROOT.parent, ROOT.parent.parent)
     if (p / "shared" / "tools" / "st_load.py").exists()),
    ROOT.parent / "shared" / "tools" / "st_load.py"))
TRAINERS = Path(__file__).resolve().parent / "st_trainers.py"
#: st_load with fragment reruns, as a browser sends them (--fragments)
FRAGMENTS = Path(__file__).resolve().parent / "st_load_fragments.py"

# url path -> the widget a student moves most on that page (key=min:max; a slider or a
# number_input, the kinds st_load can set). Floats: a new cache miss on every rerun.
WIDGETS = {
    "": "home_copies=1:6",  # the weight-sharing demo: copies of the pattern
    "preprocessing": "prep_corr=-0.95:0.95",  # the point cloud's correlation
    "convolution": "conv_img_bias_0=-1.0:1.0",  # bias of kernel 1 on the picture
    "activation": "act_bias=-1.0:1.0",  # bias before the activation: maps + histograms
    "pooling": "pool_shift=0:3",  # the shift in the translation-tolerance part
    "trainer": "tr_blocks=1:3",  # conv blocks: the shape table and parameter counts
    "backprop": "bp_lr=0.05:0.9",  # the update's learning rate: one SGD step, the loss curve
}
#: The link that opens the part holding each page's widget (parts below a lesson's first section
#: are drawn only when turned on): without it the widget is never found and nothing moves.
PARTS = {
    "": "home_share_open=true",
    "convolution": "conv_img_open=true",
    "activation": "act_map_open=true",
    "pooling": "pool_fm_open=true",
    "backprop": "bp_upd_open=true",
}


FRAGMENT_RERUNS = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra: list[str], env: dict | None = None,
                 cwd: Path = ROOT) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
         *extra],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def load_cmd(port: int, pid: int, page: str, sessions: int, duration: float, think: float,
             widget: str | None) -> list[str]:
    """The load client's command; ``pid`` 0 = no server pid (the caller samples the pids)."""
    cmd = [sys.executable, str(FRAGMENTS), "--url", f"http://127.0.0.1:{port}", "--sessions",
           str(sessions), "--duration", str(duration), "--page", page, "--think", str(think)]
    cmd += [] if FRAGMENT_RERUNS else ["--whole"]
    cmd += ["--query", PARTS[page]] if widget and page in PARTS else []
    cmd += ["--pid", str(pid)] if pid else []
    return cmd + (["--widget", widget] if widget else [])


def parse(out: str) -> dict[str, str]:
    """The numbers of one st_load report."""
    line = next((x for x in out.splitlines() if x.startswith("SUMMARY")), "")
    r = dict(re.findall(r"(\w+)=(\S+)", line))
    m = re.search(r"reruns completed\s+(\d+) .*?([\d.]+) MB received", out)
    if m:
        r["mb"] = m.group(2)
    m = re.search(r"RSS start=(\d+) peak=(\d+) end=(\d+) MiB; CPU ([\d.]+) s", out)
    if m:
        r["rss0"], r["rss_peak"], r["rss1"], r["cpu"] = m.groups()
    return r


def run_load(port: int, pid: int, page: str, sessions: int, duration: float, think: float,
             widget: str | None) -> dict[str, str]:
    cmd = load_cmd(port, pid, page, sessions, duration, think, widget)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 180).stdout
    return parse(out)


def per(total: str | None, n: str | None, scale: float = 1.0) -> str:
    try:
        return f"{float(total) * scale / max(int(n), 1):.0f}"
    except (TypeError, ValueError):
        return "?"


def warm_up(port: int, pid: int, page: str) -> None:
    """One student for a few seconds: imports, first compiles, the sample picture's caches."""
    run_load(port, pid, page, 1, 6.0, 0.3, WIDGETS.get(page))


def start_trainers(port: int, n: int, duration: float, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TRAINERS), "--url", f"http://127.0.0.1:{port}", "--students",
         str(n), "--duration", str(duration), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Target:
    """What the class connects to: one plain server, or deploy/serve.py's HAProxy + replicas."""

    proc: subprocess.Popen
    port: int
    replicas: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (pid, port)
    haproxy: int | None = None

    @property
    def pids(self) -> dict[str, int]:
        return {k: pid for k, (pid, _) in self.replicas.items()}


def start_target(replicas: int, extra: list[str]) -> Target:
    if not replicas:
        port = free_port()
        proc = start_server(port, extra)
        return Target(proc, port, {"server": (proc.pid, port)})
    if extra:
        sys.exit("--server-arg works with the plain server only (--replicas 0)")
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    proc = subprocess.Popen(
        [sys.executable, str(SERVE), "--replicas", str(replicas), "--port", str(port),
         "--address", "127.0.0.1", "--log-dir", str(logs)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = ""
    while "Ctrl-C" not in banner:
        line = proc.stdout.readline()
        if not line:
            sys.exit("deploy/serve.py did not start:\n" + banner)
        banner += line
    pids = dict(re.findall(r"\b(r\d+|haproxy)=(\d+)", banner))
    cfg = (logs / "haproxy.cfg").read_text()
    ports = dict(re.findall(r"server (r\d+) 127\.0\.0\.1:(\d+)", cfg))
    reps = {k: (int(pids[k]), int(ports[k])) for k in sorted(ports, key=lambda x: int(x[1:]))}
    return Target(proc, port, reps, int(pids["haproxy"]))


def stop_target(t: Target) -> None:
    t.proc.terminate()
    try:
        out = t.proc.communicate(timeout=60)[0] or ""
    except subprocess.TimeoutExpired:
        t.proc.kill()
        out = ""
    if t.haproxy and "none left" not in out:
        print(f"    warning: deploy/serve.py said: {out.strip()[-300:]}", flush=True)


class Sampler:
    """Peak RSS (every 0.5 s) and CPU seconds of each server process over a row."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.rss0 = {k: rss_mib(p) for k, p in pids.items()}
        self.peak = dict(self.rss0)
        self.cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for k, p in self.pids.items():
                with contextlib.suppress(OSError):
                    self.peak[k] = max(self.peak[k], rss_mib(p))

    def stop(self) -> dict[str, tuple[float, float, float, float]]:
        """name -> (CPU seconds, share of one core, RSS warm, RSS peak)."""
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self.t0
        out = {}
        for k, p in self.pids.items():
            cpu = cpu_seconds(p) - self.cpu0[k]
            out[k] = (cpu, cpu / wall, self.rss0[k], self.peak[k])
        return out


def busy_main(args) -> None:
    print("| page | server | students | reruns | errors | p50 ms | p95 ms | p99 ms | max ms "
          "| KB/rerun | server CPU ms/rerun | RSS warm → peak MiB | MiB/student "
          "| per process: CPU (cores), RSS warm → peak MiB | load avg before |"
          "\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for page in args.pages:
        for n in args.sessions:
            for _ in range(args.repeat):
                for replicas in args.replicas:
                    busy_row(args, page, n, replicas)


def busy_row(args, page: str, n: int, replicas: int) -> None:
    target = start_target(replicas, args.server_arg)
    trainers = None
    try:
        for _, (pid, port) in target.replicas.items():  # every replica, directly
            warm_up(port, pid, page)
        if args.trainers:
            warm_up(target.port, 0, "trainer")
            trainers = start_trainers(target.port, args.trainers, args.duration + 12)
            time.sleep(8)  # the runs are going (and queued) before the class starts
        procs = dict(target.pids)
        if target.haproxy:
            procs["haproxy"] = target.haproxy
        before = loadavg()
        sampler = Sampler(procs)
        r = run_load(target.port, 0, page, n, args.duration, args.think, WIDGETS.get(page))
        usage = sampler.stop()
    finally:
        if trainers is not None:  # it ends by itself shortly after the class
            try:
                out, _ = trainers.communicate(timeout=args.duration + 150)
            except subprocess.TimeoutExpired:
                trainers.kill()
                out, _ = trainers.communicate()
            print("    trainers: " + " | ".join(
                x for x in out.splitlines() if x.startswith("TRAINERS")), flush=True)
        stop_target(target)
    servers = {k: v for k, v in usage.items() if k != "haproxy"}
    cpu = sum(v[0] for v in servers.values())
    rss0 = sum(v[2] for v in servers.values())
    peak = sum(v[3] for v in servers.values())
    detail = ", ".join(f"{k} {v[1]:.2f} {v[2]:.0f} → {v[3]:.0f}" for k, v in usage.items())
    label = f"{replicas} replicas" if replicas else "plain"
    print(f"| /{page} | {label} | {r.get('sessions', '?')} | {r.get('reruns', '?')} | "
          f"{r.get('errors', '?')} | {r.get('p50', '?').rstrip('ms')} | "
          f"{r.get('p95', '?').rstrip('ms')} | {r.get('p99', '?').rstrip('ms')} | "
          f"{r.get('max', '?').rstrip('ms')} | {per(r.get('mb'), r.get('reruns'), 1000)} | "
          f"{per(cpu, r.get('reruns'), 1000)} | {rss0:.0f} → {peak:.0f} | "
          f"{(peak - rss0) / n:.0f} | {detail} | {before} |", flush=True)


def idle_main(args) -> None:
    """Server memory with N students who opened a page and then only look at it."""
    print("| page | idle students | RSS before MiB | RSS with them MiB | MiB/student |\n"
          "|---|---|---|---|---|", flush=True)
    for page in args.pages:
        for n in args.idle:
            port = free_port()
            proc = start_server(port, args.server_arg)
            try:
                warm_up(port, proc.pid, page)
                time.sleep(2)
                r = run_load(port, proc.pid, page, max(n, 1), 25.0, 1000.0, None) if n else {}
                rss0 = float(r.get("rss0", 0)) or None
                rss1 = float(r.get("rss_peak", 0)) or None
            finally:
                proc.terminate()
                proc.wait(10)
            if not n:
                continue
            print(f"| /{page} | {n} | {rss0:.0f} | {rss1:.0f} | {(rss1 - rss0) / n:.1f} |",
                  flush=True)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        kb = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
    return kb / 1024


def soak_main(args) -> None:
    """Classes come and go all day: N rounds of ``--sessions`` students work for ``--duration``
    seconds and close their tabs; after each round the server waits out the disconnected-session
    TTL (shortened to 10 s here) and ui/session_end's sweep. Server memory after each round must
    level off, not grow by a class's worth every round."""
    page = args.pages[0]
    n = max(args.sessions)
    port = free_port()
    ttl = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "10"}
    proc = start_server(port, args.server_arg, env=ttl)
    print(f"{args.soak} rounds of {n} students on /{page}, {args.duration:.0f} s each, then "
          "their tabs close; RSS 30 s later (TTL 10 s + sweeps)")
    print("| round | reruns | errors | p95 ms | RSS peak MiB | RSS after the class left MiB |\n"
          "|---|---|---|---|---|---|", flush=True)
    try:
        warm_up(port, proc.pid, page)
        time.sleep(30)
        print(f"| 0 (warm) | | | | | {rss_mib(proc.pid):.0f} |", flush=True)
        for k in range(1, args.soak + 1):
            r = run_load(port, proc.pid, page, n, args.duration, args.think, WIDGETS.get(page))
            time.sleep(30)
            print(f"| {k} | {r.get('reruns', '?')} | {r.get('errors', '?')} | "
                  f"{r.get('p95', '?').rstrip('ms')} | {r.get('rss_peak', '?')} | "
                  f"{rss_mib(proc.pid):.0f} |", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


def burst_main(args) -> None:
    """The whole class opens a page at once: ``--sessions`` students connect within R seconds
    (st_load's --ramp), on a server where the teacher opened every page once; first-load times
    (HTTP health check, websocket, first whole-page run)."""
    n = max(args.sessions)
    print(f"{n} students open the page within R seconds; first load p50 / max ms")
    print("| page | R s | p50 ms | max ms | errors |\n|---|---|---|---|---|", flush=True)
    for page in args.pages:
        for ramp in args.burst:
            port = free_port()
            proc = start_server(port, args.server_arg)
            try:
                for other in WIDGETS:
                    warm_up(port, proc.pid, other)
                time.sleep(3)
                cmd = load_cmd(port, proc.pid, page, n, 8.0, 1000.0, None) + ["--ramp", str(ramp)]
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
            finally:
                proc.terminate()
                proc.wait(10)
            m = re.search(r"first load\s+n=(\d+) p50=(\d+) max=(\d+) ms", out)
            errors = parse(out).get("errors", "?")
            p50, mx = (m.group(2), m.group(3)) if m else ("?", "?")
            print(f"| /{page} | {ramp:g} | {p50} | {mx} | {errors} |", flush=True)


def before_main(args) -> None:
    """The same class on an older checkout (``--before DIR``, e.g. ``git archive <rev> | tar -x
    -C DIR``) and on this one, one plain server each, rows alternating (before, after, before,
    ...) so both see the same machine; ``--repeat`` pairs per page and class size."""
    before = Path(args.before).resolve()
    if not (before / "app.py").exists():
        sys.exit(f"--before: no app.py in {before}")
    print(f"before = {before}, after = {ROOT}")
    print("| page | students | code | reruns | errors | p50 ms | p95 ms | server CPU ms/rerun "
          "| load avg before |\n|---|---|---|---|---|---|---|---|---|", flush=True)
    for page in args.pages:
        for n in args.sessions:
            for _ in range(args.repeat):
                for label, cwd in (("before", before), ("after", ROOT)):
                    la = loadavg()
                    port = free_port()
                    proc = start_server(port, args.server_arg, cwd=cwd)
                    try:
                        warm_up(port, proc.pid, page)
                        r = run_load(port, proc.pid, page, n, args.duration, args.think,
                                     WIDGETS.get(page))
                    finally:
                        proc.terminate()
                        proc.wait(10)
                    print(f"| /{page} | {n} | {label} | {r.get('reruns', '?')} | "
                          f"{r.get('errors', '?')} | {r.get('p50', '?').rstrip('ms')} | "
                          f"{r.get('p95', '?').rstrip('ms')} | "
                          f"{per(r.get('cpu'), r.get('reruns'), 1000)} | {la} |", flush=True)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def abandon_main(args) -> None:
    """N students train, then all close their tabs mid-run: the server's CPU must fall back to
    idle within the trainer's session grace (the runs stop by themselves)."""
    port = free_port()
    proc = start_server(port, args.server_arg)
    try:
        warm_up(port, proc.pid, "trainer")
        stay = 20.0
        trainers = start_trainers(port, args.abandon, stay, "--epochs", "50")  # long runs
        t0, last, rows = time.monotonic(), cpu_seconds(proc.pid), []
        while time.monotonic() - t0 < stay + 45:
            time.sleep(1.0)
            now = cpu_seconds(proc.pid)
            rows.append((time.monotonic() - t0, now - last))
            last = now
        out, _ = trainers.communicate(timeout=60)
    finally:
        proc.terminate()
        proc.wait(10)
    print(next((x for x in out.splitlines() if x.startswith("TRAINERS")), out.strip()))
    print(f"{args.abandon} students train for {stay:.0f} s, then close their tabs mid-run.")
    print("| seconds after the tabs closed | server CPU (cores) |\n|---|---|")
    for t, c in rows:
        if t >= stay - 3 and (t - stay) % 3 < 1.0:
            print(f"| {t - stay:+.0f} | {c:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="*", default=list(WIDGETS), help="url paths ('' = home)")
    ap.add_argument("--sessions", nargs="*", type=int, default=[1, 10, 40])
    ap.add_argument("--duration", type=float, default=40.0)
    ap.add_argument("--think", type=float, default=2.0)
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra streamlit flag, e.g. --server-arg=--runner.postScriptGC=true")
    ap.add_argument("--idle", nargs="*", type=int, help="measure memory of idle students")
    ap.add_argument("--trainers", type=int, default=0,
                    help="students training on /trainer at the same time")
    ap.add_argument("--fragments", action="store_true",
                    help="rerun only the widget's fragment, as a browser does (default: the "
                         "whole page, st_load's worst case)")
    ap.add_argument("--replicas", nargs="*", type=int, default=[0],
                    help="0 = one plain `streamlit run`; N = deploy/serve.py --replicas N "
                         "(HAProxy in front); several values: rows side by side in one run")
    ap.add_argument("--repeat", type=int, default=1, help="rows per setting (for ranges)")
    ap.add_argument("--abandon", type=int, default=0,
                    help="check: N students train, then close their tabs mid-run")
    ap.add_argument("--soak", type=int, default=0,
                    help="check: N rounds of a class that works, then closes its tabs")
    ap.add_argument("--before", metavar="DIR",
                    help="compare: rows alternate between the checkout in DIR and this one")
    ap.add_argument("--burst", nargs="*", type=float,
                    help="check: the class opens a page within each of these many seconds")
    args = ap.parse_args()
    global FRAGMENT_RERUNS
    FRAGMENT_RERUNS = args.fragments
    if not LOAD.exists():
        sys.exit(f"load client not found at {LOAD}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} load avg {loadavg()}, "
          f"{os.cpu_count()} cores, think {args.think} s, {args.duration:.0f} s per row, "
          f"server args {args.server_arg or '-'}, trainers {args.trainers}, "
          f"{'fragment' if args.fragments else 'full-page'} reruns, replicas {args.replicas}",
          flush=True)
    if args.abandon:
        abandon_main(args)
    elif args.soak:
        soak_main(args)
    elif args.burst:
        burst_main(args)
    elif args.before:
        before_main(args)
    elif args.idle is not None:
        idle_main(args)
    else:
        busy_main(args)


if __name__ == "__main__":
    main()
