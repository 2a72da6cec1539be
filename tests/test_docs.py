"""The README (and the doctor, and .ci/run) say what the tree really holds and does."""

from __future__ import annotations

import re
from pathlib import Path

from grader import catalog

REPO = Path(__file__).resolve().parent.parent
SAYING_STRACE = [REPO / "README.md", REPO / ".ci" / "run", REPO / "grader" / "doctor.py"]


def _traced_exercises() -> list[int]:
    """The exercises whose checks record system calls (pass `trace=` to a run)."""
    return [
        int(ex.id.removeprefix("exercise"))
        for ex in catalog.all_exercises()
        if re.search(r"\btrace=(?!\(\))", ex.checks.read_text(encoding="utf-8"))
    ]


def test_what_is_said_of_strace_names_the_exercises_that_trace() -> None:
    traced = _traced_exercises()
    assert traced == list(range(traced[0], traced[-1] + 1)), traced  # a range can say it
    truth = f"exercises {traced[0]} to {traced[-1]}"
    claims = []
    for path in SAYING_STRACE:
        text = " ".join(path.read_text(encoding="utf-8").split())
        for m in re.finditer(r"exercises \d+ to \d+", text):
            around = text[max(0, m.start() - 200) : m.end() + 200]
            if "strace" in around or "system call" in around:
                claims.append((path.name, m.group()))
    assert {name for name, _ in claims} == {p.name for p in SAYING_STRACE}, claims
    assert [c for c in claims if c[1] != truth] == [], f"the checks trace in {truth}"


def test_the_layout_describes_reports_as_what_it_holds() -> None:
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    layout = readme.split("## Layout", 1)[1]
    said = layout.split("`reports/`", 1)[1].split("`tests/`", 1)[0]
    held = sorted(str(p.relative_to(REPO / "reports")) for p in (REPO / "reports").rglob("*")
                  if p.is_file())  # fmt: skip
    for path in held:
        assert path in said, f"the README's layout does not name reports/{path}"
    if not (REPO / "reports" / "templates").is_dir():
        assert "template" not in said, "the layout promises templates reports/ does not hold"
