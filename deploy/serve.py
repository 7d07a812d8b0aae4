"""Serve a class from every core: N `streamlit run app.py` replicas behind HAProxy.

    python deploy/serve.py --replicas 2 --port 8501     # students open http://<this machine>:8501
    python deploy/serve.py --replicas auto --port 8501  # one replica per core
    python deploy/serve.py --print-config --replicas 2  # the HAProxy config it would use

One Streamlit process serves about one core's worth of reruns (a rerun holds Python's
interpreter lock), and it keeps each student's session, uploads and media in its own memory.
So each replica is a separate process on a free loopback port, and HAProxy (Debian's
`haproxy` package) in front pins every browser to one replica with a cookie it inserts,
sends new students to the replica with the fewest connections, and health-checks
`/_stcore/health`. The HAProxy config is deploy/haproxy.cfg.tmpl, the same file
deploy/compose.yaml renders. Training is bounded for the machine as a whole: the limit
(`CNNVIZ_MAX_TRAINERS`, by default the number of cores, at most 4) is shared out between
replicas, each at least 1.

Ctrl-C or SIGTERM stops HAProxy and every replica (each in its own process group) and checks
that none is left. `streamlit run app.py` stays the one-command way for a single teacher.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg.tmpl"
#: Debian installs haproxy in /usr/sbin, which a normal user's PATH often lacks.
HAPROXY_PLACES = ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
MAX_REPLICAS = 64
HEALTH = "/_stcore/health"


class ServeError(Exception):
    """A plain sentence for the teacher; serve.py prints it and exits with status 2."""


@dataclass(frozen=True)
class Replica:
    name: str
    host: str
    port: int


# --- pure parts (unit-tested) -------------------------------------------------------------


def parse_replicas(text: str, cpus: int | None = None) -> int:
    """``auto`` = the number of cores; otherwise a whole number from 1 to MAX_REPLICAS."""
    if text.strip().lower() == "auto":
        return max(1, min(cpus or os.cpu_count() or 1, MAX_REPLICAS))
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--replicas takes a whole number or 'auto', not {text!r}") from None
    if not 1 <= n <= MAX_REPLICAS:
        raise argparse.ArgumentTypeError(f"--replicas must be between 1 and {MAX_REPLICAS}")
    return n


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port takes a number, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("--port must be between 1 and 65535")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=parse_replicas, default=parse_replicas("auto"),
                    help="Streamlit processes, or 'auto' (one per core; default)")
    ap.add_argument("--port", type=parse_port, default=8501,
                    help="the port students open (default 8501)")
    ap.add_argument("--address", default="0.0.0.0",
                    help="address HAProxy listens on (default 0.0.0.0: the whole network; "
                         "127.0.0.1: this machine only)")
    ap.add_argument("--print-config", action="store_true",
                    help="print the rendered HAProxy config and exit")
    ap.add_argument("--compose", metavar="SERVICE:PORT",
                    help="with --print-config: servers found through Docker's DNS "
                         "(deploy/compose.yaml), e.g. app:8501")
    ap.add_argument("--cookie-key", default=os.environ.get("CNNVIZ_COOKIE_SECRET"),
                    help="with --print-config: HAProxy's dynamic-cookie-key (default "
                         "$CNNVIZ_COOKIE_SECRET, else random); keep it across restarts so "
                         "students stay on their replica")
    ap.add_argument("--log-dir", type=Path,
                    help="where replica and HAProxy logs go (default: a new temp folder)")
    return ap.parse_args(argv)


def machine_trainer_limit(env: dict[str, str] | None = None, cpus: int | None = None) -> int:
    """The machine's training bound, read exactly as the app reads ``CNNVIZ_MAX_TRAINERS``
    (cnnviz/classroom/train_jobs.py: a number clamped to 1..64, default the cores, at most 4)."""
    env = os.environ if env is None else env
    cpus = cpus or os.cpu_count() or 2
    default = min(4, cpus)
    try:
        value = float(env.get("CNNVIZ_MAX_TRAINERS", default))
    except ValueError:
        value = default
    if value != value or value in (float("inf"), float("-inf")):
        value = default
    return int(min(max(value, 1), 64))


def share_trainers(total: int, replicas: int) -> list[int]:
    """Split the machine's bound between replicas: as even as possible, each at least 1 (a
    replica with 0 would keep its students waiting for ever), so the sum is ``total`` unless
    there are more replicas than that."""
    base, extra = divmod(total, replicas)
    return [max(1, base + (i < extra)) for i in range(replicas)]


def render_config(*, bind: str, replicas: list[Replica] | None = None,
                  compose: tuple[str, int] | None = None, max_servers: int = MAX_REPLICAS,
                  cookie_key: str | None = None, template: str | None = None) -> str:
    """The HAProxy config: the template with either fixed loopback servers (serve.py) or a
    server template that Docker's DNS fills (compose: every ``--scale`` replica of a service)."""
    if (replicas is None) == (compose is None):
        raise ValueError("give either replicas or compose")
    text = TEMPLATE.read_text() if template is None else template
    if replicas is not None:
        servers = "\n".join(f"    server {r.name} {r.host}:{r.port} cookie {r.name} check"
                            for r in replicas)
        resolvers = ""
    else:
        service, port = compose
        servers = (f"    server-template app {max_servers} {service}:{port} check "
                   "resolvers docker init-addr none")
        # Docker's embedded DNS answers the service name with every --scale replica.
        resolvers = ("\nresolvers docker\n    nameserver dns 127.0.0.11:53\n"
                     "    accepted_payload_size 8192\n    hold valid 5s\n")
    return string.Template(text).substitute(
        bind=bind, servers=servers, resolvers=resolvers,
        cookie_key=_config_token(cookie_key) if cookie_key else secrets.token_hex(16))


def _config_token(secret: str) -> str:
    """Any secret as one safe HAProxy config word (a digest: spaces or # would break it)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def bind_spec(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def port_taken(address: str, port: int) -> bool:
    """True when something already listens on (address, port)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def network_address() -> str:
    """This machine's address on the local network (what students type), or its name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return socket.gethostname()


def address_to_open(address: str, port: int) -> str:
    if address in ("0.0.0.0", "::", ""):
        return f"http://{network_address()}:{port}"
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


def find_haproxy() -> str | None:
    found = shutil.which("haproxy")
    if found:
        return found
    return next((p for p in HAPROXY_PLACES if os.access(p, os.X_OK)), None)


def replica_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
            "--server.address=127.0.0.1", f"--server.port={port}",
            "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]


# --- processes ------------------------------------------------------------------------------


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def _exists(probe: Callable[[int, int], None], ident: int) -> bool:
    """Signal 0 through ``probe`` (os.kill or os.killpg): does the process (group) exist?"""
    try:
        probe(ident, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def alive(pid: int) -> bool:
    if not _exists(os.kill, pid):
        return False
    # A child that exited but was not reaped yet is a zombie: gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    return _exists(os.killpg, pgid)


class Launcher:
    """Starts and stops the replicas and HAProxy; every child leads its own process group."""

    def __init__(self, replicas: int, port: int, address: str, log_dir: Path | None = None):
        self.n, self.port, self.address = replicas, port, address
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.replicas: list[Replica] = []

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - lives with the child
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()  # the child holds its own copy
        self.procs[name] = proc
        return proc

    def start(self) -> str:
        haproxy = find_haproxy()
        if haproxy is None:
            raise ServeError("HAProxy is not installed; install it with "
                             "`sudo apt-get install haproxy` (or run one server with "
                             "`streamlit run app.py`).")
        if port_taken(self.address, self.port):
            raise ServeError(f"Port {self.port} on {self.address} is already in use; stop what "
                             f"uses it or choose another with --port.")
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="cnnviz-serve-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        limit = machine_trainer_limit()
        shares = share_trainers(limit, self.n)
        if sum(shares) > limit:
            print(f"note: {self.n} replicas train at most {sum(shares)} runs at once "
                  f"(one each), more than CNNVIZ_MAX_TRAINERS={limit}.", flush=True)
        # Same cookie secret everywhere, so nothing signed by one replica is refused by another.
        cookie_secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
        base_env = dict(os.environ)  # the replicas' command-line flags win over STREAMLIT_*
        for i in range(self.n):
            name = f"r{i + 1}"
            port = free_port()
            env = {**base_env, "CNNVIZ_MAX_TRAINERS": str(shares[i]),
                   "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}
            self._spawn(name, replica_command(port), env)
            self.replicas.append(Replica(name, "127.0.0.1", port))
        self._wait(lambda: all(healthy(f"http://{r.host}:{r.port}") for r in self.replicas),
                   90, "a replica did not start")
        cfg = self.log_dir / "haproxy.cfg"
        cfg.write_text(render_config(bind=bind_spec(self.address, self.port),
                                     replicas=self.replicas))
        self._spawn("haproxy", [haproxy, "-f", str(cfg), "-db"], dict(os.environ))
        local = "127.0.0.1" if self.address in ("0.0.0.0", "") else self.address
        if local == "::":
            local = "::1"
        host = f"[{local}]" if ":" in local else local
        self._wait(lambda: healthy(f"http://{host}:{self.port}"), 30,
                   "HAProxy did not start")
        return address_to_open(self.address, self.port)

    def _wait(self, ok, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            dead = self.exited()
            if dead:
                raise ServeError(f"{what}: {dead} stopped; see {self.log_dir / (dead + '.log')}")
            if ok():
                return
            time.sleep(0.3)
        raise ServeError(f"{what} within {seconds:.0f} s; logs in {self.log_dir}")

    def exited(self) -> str | None:
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items()}

    def stop(self, grace: float = 10.0) -> list[int]:
        """SIGTERM every process group (HAProxy first: no new requests), then SIGKILL what is
        left after ``grace`` seconds. Returns the pids still alive afterwards (should be none)."""
        order = sorted(self.procs.items(), key=lambda kv: kv[0] != "haproxy")
        for _, p in order:
            _signal_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, p in order:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, deadline - time.monotonic()))
        for _, p in order:
            if group_alive(p.pid):
                _signal_group(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
        time.sleep(0.1)
        return [p.pid for _, p in order if alive(p.pid) or group_alive(p.pid)]


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_config:
        if args.compose:
            service, _, port = args.compose.rpartition(":")
            print(render_config(bind=bind_spec(args.address, args.port),
                                compose=(service or "app", parse_port(port)),
                                cookie_key=args.cookie_key))
        else:
            reps = [Replica(f"r{i + 1}", "127.0.0.1", 8600 + i) for i in range(args.replicas)]
            print(render_config(bind=bind_spec(args.address, args.port), replicas=reps))
        return 0

    stop_requested = []

    def on_signal(signum, _frame):
        stop_requested.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    launcher = Launcher(args.replicas, args.port, args.address, args.log_dir)
    status = 0
    try:
        url = launcher.start()
        pids = " ".join(f"{k}={v}" for k, v in launcher.pids().items())
        print(f"cnnviz: {args.replicas} replicas behind HAProxy. Students open {url}\n"
              f"(pids {pids}; logs in {launcher.log_dir}). Ctrl-C stops everything.",
              flush=True)
        while not stop_requested:
            dead = launcher.exited()
            if dead:
                print(f"cnnviz: {dead} stopped unexpectedly; stopping the rest "
                      f"(log: {launcher.log_dir / (dead + '.log')}).", file=sys.stderr)
                status = 1
                break
            time.sleep(0.5)
    except ServeError as e:
        print(f"cnnviz: {e}", file=sys.stderr)
        status = 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        left = launcher.stop()
        if left:
            print(f"cnnviz: processes still running: {left}", file=sys.stderr)
            status = status or 1
        elif launcher.procs:
            print(f"cnnviz: stopped {len(launcher.procs)} processes; none left.", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


if __name__ == "__main__":
    sys.exit(main())
