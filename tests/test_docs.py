"""The README (and .ci/run, and each exercise.toml) say what the tree really holds and does."""

from __future__ import annotations

import re
from pathlib import Path

from grader import catalog

REPO = Path(__file__).resolve().parent.parent
SAYING_STRACE = [REPO / "README.md", REPO / ".ci" / "run"]


def _traced_exercises() -> list[int]:
    """The exercises whose checks use strace: record system calls (`trace=` to a run) or
    make an exec fail (`failing_execs=`)."""
    return [
        int(ex.id.removeprefix("exercise"))
        for ex in catalog.all_exercises()
        if re.search(r"\b(trace|failing_execs)=(?!\(\))", ex.checks.read_text(encoding="utf-8"))
    ]


def test_the_exercises_that_trace_say_they_require_strace() -> None:
    """`grade --doctor` and the skips learn who needs strace from `requires` alone."""
    declared = [int(ex.id.removeprefix("exercise")) for ex in catalog.all_exercises()
                if "strace" in ex.requires]  # fmt: skip
    assert declared == _traced_exercises(), 'requires = ["strace"] in each exercise.toml'


def _listed(numbers: list[int]) -> str:
    """How the docs name them: "exercises 4 to 6", or "exercises 1, 4, 5, 6 and 8"."""
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"exercises {numbers[0]} to {numbers[-1]}"
    return "exercises " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def test_what_is_said_of_strace_names_the_exercises_that_trace() -> None:
    truth = _listed(_traced_exercises())
    claims = []
    for path in SAYING_STRACE:
        text = " ".join(path.read_text(encoding="utf-8").split())
        for m in re.finditer(r"exercises \d+(?: to \d+|(?:, \d+)* and \d+)", text):
            around = text[max(0, m.start() - 200) : m.end() + 200]
            if "strace" in around or "system call" in around:
                claims.append((path.name, m.group()))
    assert {name for name, _ in claims} == {p.name for p in SAYING_STRACE}, claims
    assert [c for c in claims if c[1] != truth] == [], f"the checks use strace in {truth}"


def test_a_list_of_exercises_is_named_as_people_write_it() -> None:
    assert _listed([4, 5, 6]) == "exercises 4 to 6"
    assert _listed([1, 4, 5, 6, 8]) == "exercises 1, 4, 5, 6 and 8"
    assert _listed([4, 5]) == "exercises 4 and 5"


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
