"""The container files for school IT, checked without Docker (it may be absent or have no
daemon): compose runs N app replicas and a balancer that renders the one HAProxy template;
the image is slim Debian Python, runs as a user, and checks /_stcore/health."""

from __future__ import annotations

import re
import shlex

import yaml

from deploy import serve

COMPOSE = serve.ROOT / "deploy" / "compose.yaml"
DOCKERFILE = serve.ROOT / "Dockerfile"


def test_compose_scales_the_app_and_puts_haproxy_in_front():
    doc = yaml.safe_load(COMPOSE.read_text())
    app, lb = doc["services"]["app"], doc["services"]["balancer"]
    # --scale app=N needs no fixed host port or container name on the app
    assert "ports" not in app and "container_name" not in app
    assert app["expose"] == ["8501"]
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in app["environment"]
    assert "CNNVIZ_MAX_TRAINERS" in app["environment"]
    assert lb["ports"] and lb["ports"][0].endswith(":8501")
    script = lb["command"][-1]
    words = shlex.split(script.split(">")[0])
    assert words[:3] == ["python", "deploy/serve.py", "--print-config"]
    assert words[words.index("--compose") + 1] == "app:8501"
    assert "exec haproxy -f /tmp/haproxy.cfg -db" in script
    assert app["image"] == lb["image"]  # the balancer uses the template inside the app image


def test_dockerfile_is_slim_non_root_and_health_checked():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/_stcore/health", text, re.M)
    assert "pip install -r requirements.txt" in text
    assert "haproxy" in text  # the balancer service runs from the same image
    for folder in ("cnnviz", "ui", "pages", "assets", "deploy", ".streamlit"):
        assert re.search(rf"^COPY {re.escape(folder)} ", text, re.M), folder


def test_dockerignore_keeps_the_image_to_the_app():
    ignored = (serve.ROOT / ".dockerignore").read_text().split()
    assert {".git", "tests", "benchmarks"} <= set(ignored)
