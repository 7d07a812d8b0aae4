"""README's two commands stay true: CI runs exactly the README's test command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks(text: str) -> list[str]:
    blocks, inside, cur = [], False, []
    for line in text.splitlines():
        if line.strip().startswith("```bash"):
            inside, cur = True, []
        elif line.strip().startswith("```") and inside:
            inside = False
            blocks.append("\n".join(x.strip() for x in cur).strip())
        elif inside:
            cur.append(line)
    return blocks


def test_readme_has_exactly_two_quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = _bash_blocks(quick)
    assert len(blocks) == 2
    assert blocks[0].endswith("streamlit run app.py")
    assert "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    test_cmd = _bash_blocks(quick)[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci.splitlines()
