"""deploy/serve.py without starting servers: argument handling, the HAProxy config it renders
(checked by haproxy itself when installed), sharing the training bound, and its refusals."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy import serve
from deploy.serve import Replica

HAPROXY = serve.find_haproxy()


def reps(n: int) -> list[Replica]:
    return [Replica(f"r{i + 1}", "127.0.0.1", 9000 + i) for i in range(n)]


# --- arguments ------------------------------------------------------------------------------


def test_replicas_auto_is_the_number_of_cores():
    assert serve.parse_replicas("auto", cpus=2) == 2
    assert serve.parse_replicas("AUTO", cpus=12) == 12
    assert serve.parse_replicas("3") == 3
    assert serve.parse_args([]).replicas == (os.cpu_count() or 1)


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", "", str(serve.MAX_REPLICAS + 1)])
def test_bad_replica_counts_are_refused_with_a_sentence(bad, capsys):
    with pytest.raises(SystemExit) as e:
        serve.parse_args(["--replicas", bad])
    assert e.value.code != 0
    assert "--replicas" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "65536", "http"])
def test_bad_ports_are_refused(bad, capsys):
    with pytest.raises(SystemExit):
        serve.parse_args(["--port", bad])
    assert "--port" in capsys.readouterr().err


def test_defaults_serve_the_network_on_8501():
    a = serve.parse_args(["--replicas", "2"])
    assert (a.replicas, a.port, a.address) == (2, 8501, "0.0.0.0")


# --- the HAProxy config -----------------------------------------------------------------------


def test_rendered_config_is_sticky_leastconn_health_checked_and_lesson_long():
    cfg = serve.render_config(bind="0.0.0.0:8501", replicas=reps(3), cookie_key="k")
    assert re.search(r"^\s*bind 0\.0\.0\.0:8501$", cfg, re.M)
    assert re.search(r"^\s*balance leastconn$", cfg, re.M)
    cookie = re.search(r"^\s*cookie (\S+) (.*)$", cfg, re.M)
    assert cookie and {"insert", "indirect", "nocache", "httponly"} <= set(cookie.group(2).split())
    assert re.search(r"^\s*option httpchk GET /_stcore/health$", cfg, re.M)
    assert re.search(r"^\s*http-check expect string ok$", cfg, re.M)
    tunnel = re.search(r"^\s*timeout tunnel (\d+)h$", cfg, re.M)
    assert tunnel and int(tunnel.group(1)) >= 1  # a websocket lives for the whole lesson
    servers = re.findall(r"^\s*server (\S+) 127\.0\.0\.1:(\d+) cookie (\S+) check$", cfg, re.M)
    assert servers == [("r1", "9000", "r1"), ("r2", "9001", "r2"), ("r3", "9002", "r3")]
    assert "$" not in cfg.replace("$word", "")  # every placeholder filled


def test_compose_config_finds_every_scaled_replica_through_docker_dns():
    cfg = serve.render_config(bind="*:8501", compose=("app", 8501), max_servers=20)
    assert re.search(r"^\s*server-template app 20 app:8501 check resolvers docker", cfg, re.M)
    assert re.search(r"^resolvers docker\n\s+nameserver dns 127\.0\.0\.11:53", cfg, re.M)
    # dynamic cookies: each DNS-found server gets its own cookie value
    assert re.search(r"^\s*cookie \S+ .*\bdynamic\b", cfg, re.M)
    assert re.search(r"^\s*dynamic-cookie-key \S+$", cfg, re.M)


def test_render_needs_exactly_one_kind_of_server_list():
    with pytest.raises(ValueError):
        serve.render_config(bind="*:1")
    with pytest.raises(ValueError):
        serve.render_config(bind="*:1", replicas=reps(1), compose=("app", 1))


def test_ipv6_bind_is_bracketed():
    assert serve.bind_spec("::", 8501) == "[::]:8501"
    assert serve.bind_spec("127.0.0.1", 80) == "127.0.0.1:80"


@pytest.mark.skipif(HAPROXY is None and not os.environ.get("CI"),
                    reason="haproxy not installed (apt-get install haproxy)")
@pytest.mark.parametrize("kind", ["replicas", "compose"])
def test_haproxy_accepts_both_renderings(kind, tmp_path):
    kw = {"replicas": reps(2)} if kind == "replicas" else {"compose": ("app", 8501)}
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(serve.render_config(bind="127.0.0.1:1", **kw))
    r = subprocess.run([HAPROXY or "haproxy", "-c", "-f", str(cfg)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_print_config_uses_the_template_file(capsys):
    assert serve.main(["--print-config", "--replicas", "2", "--port", "9999"]) == 0
    out = capsys.readouterr().out
    template = serve.TEMPLATE.read_text()
    # every line of the template without a placeholder appears unchanged
    fixed = [x for x in template.splitlines() if "$" not in x and x.strip()]
    assert fixed and all(x in out.splitlines() for x in fixed)
    assert "bind 0.0.0.0:9999" in out


# --- the training bound -----------------------------------------------------------------------


@given(total=st.integers(1, 64), n=st.integers(1, 64))
def test_trainer_shares_keep_the_machine_limit(total, n):
    shares = serve.share_trainers(total, n)
    assert len(shares) == n and min(shares) >= 1
    assert max(shares) - min(shares) <= 1
    assert sum(shares) == max(total, n)  # more replicas than runs: one each, said on start


def _app_limit(env_value: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_MAX_TRAINERS"}
    if env_value is not None:
        env["CNNVIZ_MAX_TRAINERS"] = env_value
    code = ("try:\n from cnnviz.classroom.train_jobs import MAX_TRAINERS\n"
            "except ImportError:\n from ui.train_job import MAX_TRAINERS\n"
            "print(MAX_TRAINERS)")
    out = subprocess.run([sys.executable, "-c", code], cwd=serve.ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return int(out)


@pytest.mark.parametrize("value", [None, "3", "0", "500", "abc", "2.7"])
def test_machine_limit_is_read_as_the_app_reads_it(value):
    env = {} if value is None else {"CNNVIZ_MAX_TRAINERS": value}
    assert serve.machine_trainer_limit(env) == _app_limit(value)


# --- refusals (nothing is started) ------------------------------------------------------------


def test_missing_haproxy_is_one_sentence_with_the_install_command(monkeypatch, capsys):
    monkeypatch.setattr(serve, "find_haproxy", lambda: None)
    spawned = []
    monkeypatch.setattr(serve.subprocess, "Popen", lambda *a, **k: spawned.append(a))
    status = serve.main(["--replicas", "2", "--port", str(serve.free_port()),
                         "--address", "127.0.0.1"])
    err = capsys.readouterr().err
    assert status != 0 and not spawned
    assert "apt-get install haproxy" in err and "Traceback" not in err


def test_a_taken_port_is_refused_before_anything_starts(monkeypatch, capsys):
    monkeypatch.setattr(serve, "find_haproxy", lambda: "/bin/true")
    spawned = []
    monkeypatch.setattr(serve.subprocess, "Popen", lambda *a, **k: spawned.append(a))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert serve.port_taken("127.0.0.1", port)
        status = serve.main(["--replicas", "2", "--port", str(port), "--address", "127.0.0.1"])
    err = capsys.readouterr().err
    assert status != 0 and not spawned
    assert f"Port {port}" in err and "already in use" in err
    assert not serve.port_taken("127.0.0.1", port)


def test_the_address_to_open_is_the_network_one_when_bound_everywhere(monkeypatch):
    monkeypatch.setattr(serve, "network_address", lambda: "192.168.1.20")
    assert serve.address_to_open("0.0.0.0", 8501) == "http://192.168.1.20:8501"
    assert serve.address_to_open("127.0.0.1", 80) == "http://127.0.0.1:80"


def test_haproxy_is_found_in_sbin_even_off_path(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    found = serve.find_haproxy()
    expected = next((p for p in serve.HAPROXY_PLACES if os.access(p, os.X_OK)), None)
    assert found == expected
    if shutil.which("haproxy", path="/usr/sbin"):
        assert found == "/usr/sbin/haproxy"
