"""deploy/serve.py for real (no browser): two replicas behind HAProxy on free loopback ports.
Health through HAProxy, the sticky cookie set and honoured, both replicas used, and SIGTERM
leaves no process behind. Skipped without haproxy, except in CI (.ci/run installs it)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from deploy import serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(serve.find_haproxy() is None and not os.environ.get("CI"),
                       reason="haproxy not installed (apt-get install haproxy)"),
]


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    """One request on a fresh connection (a fresh client unless ``cookie`` is given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        headers = {}
        for k, v in r.getheaders():
            headers.setdefault(k.lower(), []).append(v)
        return r.status, headers, r.read()
    finally:
        conn.close()


def replica_cookie(headers: dict) -> str | None:
    for v in headers.get("set-cookie", []):
        m = re.match(r"(CNNVIZ_REPLICA=[^;]+)", v)
        if m:
            return m.group(1)
    return None


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    port = serve.free_port()
    logs = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        [sys.executable, "deploy/serve.py", "--replicas", "2", "--port", str(port),
         "--address", "127.0.0.1", "--log-dir", str(logs)],
        cwd=serve.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "Students open" not in banner:
        line = proc.stdout.readline()
        if not line:
            break
        banner += line
    banner += proc.stdout.readline()  # the pids line
    pids = {k: int(v) for k, v in re.findall(r"\b(r\d|haproxy)=(\d+)", banner)}
    yield proc, port, pids, banner, logs
    if proc.poll() is None:  # a failed test: still stop everything
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_it_prints_the_address_and_every_pid(launched):
    proc, port, pids, banner, _ = launched
    assert proc.poll() is None, banner
    assert f"Students open http://127.0.0.1:{port}" in banner
    assert set(pids) == {"r1", "r2", "haproxy"}


def test_health_through_haproxy_and_the_sticky_cookie(launched):
    _, port, _, banner, _ = launched
    status, headers, body = get(port, "/_stcore/health")
    assert (status, body.strip()) == (200, b"ok"), banner
    cookie = replica_cookie(headers)
    assert cookie, headers
    attrs = " ".join(headers["set-cookie"]).lower()
    assert "httponly" in attrs
    served = headers["x-cnnviz-replica"][0]
    # the same cookie goes to the same replica, every time, and is not set again (indirect)
    for _ in range(8):
        _, h, _ = get(port, "/_stcore/health", cookie=cookie)
        assert h["x-cnnviz-replica"] == [served]
        assert replica_cookie(h) is None


def test_fresh_clients_use_both_replicas(launched):
    _, port, _, _, _ = launched
    seen = {get(port, "/")[1]["x-cnnviz-replica"][0] for _ in range(8)}
    assert seen == {"r1", "r2"}


def test_each_cookie_names_its_own_replica(launched):
    _, port, _, _, _ = launched
    by_replica = {}
    for _ in range(8):
        _, h, _ = get(port, "/_stcore/health")
        by_replica[h["x-cnnviz-replica"][0]] = replica_cookie(h)
    assert len(set(by_replica.values())) == 2
    for name, cookie in by_replica.items():
        assert get(port, "/", cookie=cookie)[1]["x-cnnviz-replica"] == [name]


def test_replicas_share_the_training_bound(launched):
    _, _, pids, _, _ = launched
    shares = []
    for name in ("r1", "r2"):
        with open(f"/proc/{pids[name]}/environ", "rb") as f:
            env = dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)
        shares.append(int(env[b"CNNVIZ_MAX_TRAINERS"]))
    assert shares == serve.share_trainers(serve.machine_trainer_limit(), 2)


def test_sigterm_stops_every_process(launched):
    proc, port, pids, _, _ = launched
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "none left" in out
    for name, pid in pids.items():
        assert not serve.alive(pid), f"{name} (pid {pid}) still runs"
        assert not serve.group_alive(pid), f"{name}'s process group still has members"
    assert not serve.port_taken("127.0.0.1", port), "the port is still held"
