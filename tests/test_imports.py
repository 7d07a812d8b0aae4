"""Imports run one way, downward: app.py -> pages/ -> ui/ -> cnnviz.viz -> lesson maths -> engine.

Checked by parsing every import (including ones inside functions) with ``ast``; the checker is
itself tested on a small synthetic tree with planted violations.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

UI_LIBS = ("streamlit", "plotly")
#: (layer, modules that layer must not import). A module matches its name and its children.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "engine": ("cnnviz.lessons", "cnnviz.classroom", "cnnviz.viz", "ui", "pages", *UI_LIBS),
    "lessons": ("cnnviz.classroom", "cnnviz.viz", "ui", "pages", *UI_LIBS),
    "classroom": ("cnnviz.lessons", "cnnviz.viz", "ui", "pages", *UI_LIBS),
    "viz": ("cnnviz.classroom", "ui", "pages", "streamlit"),
    "ui": ("pages", "app"),
    "pages": ("app",),
    "app": (),
}


def layer_of(rel: Path) -> str | None:
    """The layer a source file belongs to, from its path relative to the repository root."""
    parts = rel.parts
    if parts == ("app.py",):
        return "app"
    if parts[0] in ("pages", "ui"):
        return parts[0]
    if parts[0] == "cnnviz":
        sub = parts[1] if len(parts) > 2 else None
        return {"lessons": "lessons", "classroom": "classroom", "viz": "viz"}.get(sub, "engine")
    return None


def module_name(rel: Path) -> str:
    name = ".".join(rel.with_suffix("").parts)
    return name.removesuffix(".__init__")


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports are resolved
    against ``module``; ``from a import b`` yields both ``a`` and ``a.b`` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path) -> list[str]:
    """Every upward import under ``root`` (app.py, pages/, ui/, cnnviz/), as readable lines."""
    out = []
    files = [root / "app.py"] if (root / "app.py").exists() else []
    for folder in ("pages", "ui", "cnnviz"):
        files += sorted((root / folder).rglob("*.py")) if (root / folder).exists() else []
    for path in files:
        rel = path.relative_to(root)
        layer = layer_of(rel)
        seen = set()
        for line, name in imported_modules(path, module_name(rel)):
            bad = [b for b in FORBIDDEN[layer] if name == b or name.startswith(b + ".")]
            if bad and line not in seen:  # one report per import statement
                seen.add(line)
                out.append(f"{rel}:{line} ({layer}) imports {name}")
    return out


def test_no_import_runs_upward():
    assert violations(ROOT) == []


def test_the_checker_sees_the_whole_tree():
    """A checker that read no file would pass trivially."""
    rel = Path("cnnviz/lessons/conv.py")
    names = [n for _, n in imported_modules(ROOT / rel, module_name(rel))]
    assert "cnnviz.numbers" in names
    assert layer_of(Path("cnnviz/functional.py")) == "engine"
    assert layer_of(Path("cnnviz/classroom/train_jobs.py")) == "classroom"
    assert layer_of(Path("ui/trainer/live.py")) == "ui"


PLANTED = {
    "app.py": "import streamlit as st\nfrom ui import lang\n",
    "pages/a.py": "from ui import lang\nfrom cnnviz import functional\n",
    "ui/__init__.py": "",
    "ui/lang.py": "import streamlit\nfrom cnnviz.viz import style\n",
    "ui/bad.py": "def f():\n    from pages import a  # upward, hidden in a function\n",
    "cnnviz/__init__.py": "",
    "cnnviz/functional.py": "import numpy as np\n",
    "cnnviz/nn.py": "from cnnviz.lessons.conv import ARTICLE\n",
    "cnnviz/numbers.py": "import plotly.graph_objects as go\n",
    "cnnviz/lessons/__init__.py": "",
    "cnnviz/lessons/conv.py": "from cnnviz import functional\nfrom ..viz import style\n",
    "cnnviz/classroom/__init__.py": "",
    "cnnviz/classroom/jobs.py": "import streamlit as st\n",
    "cnnviz/viz/__init__.py": "",
    "cnnviz/viz/style.py": "import plotly\nfrom cnnviz.lessons import conv\nfrom ui import lang\n",
}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    for rel, text in PLANTED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_finds_each_planted_violation(planted: Path):
    found = violations(planted)
    assert found == [
        "ui/bad.py:2 (ui) imports pages",
        "cnnviz/classroom/jobs.py:1 (classroom) imports streamlit",
        "cnnviz/lessons/conv.py:2 (lessons) imports cnnviz.viz",
        "cnnviz/nn.py:1 (engine) imports cnnviz.lessons.conv",
        "cnnviz/numbers.py:1 (engine) imports plotly.graph_objects",
        "cnnviz/viz/style.py:3 (viz) imports ui",
    ]


def test_the_checker_passes_once_the_planted_violations_are_removed(planted: Path):
    for rel in ("ui/bad.py", "cnnviz/classroom/jobs.py", "cnnviz/nn.py", "cnnviz/numbers.py"):
        (planted / rel).unlink()
    (planted / "cnnviz/lessons/conv.py").write_text("from cnnviz import functional\n")
    (planted / "cnnviz/viz/style.py").write_text("import plotly\nfrom cnnviz.lessons import c\n")
    assert violations(planted) == []
