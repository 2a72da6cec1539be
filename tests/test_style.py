"""House rules a linter does not know: every deliberate sleep says why.

Waits are on events with deadlines; a `time.sleep(` is allowed only with a `# sleep: why`
marker on its line (a comment ruff does not read, unlike `# noqa: ...`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("grader", "exercises", "tests", "bench")
_SLEEP = re.compile(r"\btime\.sleep\(|^\s*from time import .*\bsleep\b")
_MARKER = re.compile(r"#\s*sleep: \S")


def _python_files() -> list[Path]:
    return sorted(
        p
        for folder in FOLDERS
        for p in (REPO / folder).rglob("*.py")
        if "_bundled" not in p.parts
        and "submissions" not in p.parts
        # the benchmark's own venv (bench/.venv-check50): installed code, not ours
        and not any(part.startswith(".venv") for part in p.parts)
    )


def unmarked_sleeps(text: str) -> list[int]:
    """The numbers of the lines that sleep without a `# sleep: why` marker."""
    return [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if _SLEEP.search(line) and not _MARKER.search(line)
    ]


_CALL = "time." + "sleep("  # split: this file's own lines are checked too
_IMPORT = "from time import monotonic, " + "sleep"


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        (f"{_CALL}POLL_S)  # sleep: the fallback of a blocking wait", False),
        (f"    {_CALL}0.5)", True),
        (f"{_CALL}0.5)  # noqa: sleep - an old marker ruff warns about", True),
        (f"{_CALL}0.5)  # sleep:", True),  # a marker without its why
        (_IMPORT, True),
        ("deadline = time.monotonic() + 5", False),
    ],
)
def test_the_rule_itself(line: str, flagged: bool) -> None:
    assert bool(unmarked_sleeps(line)) is flagged


def test_every_sleep_says_why() -> None:
    files = _python_files()
    assert REPO / "tests" / "conftest.py" in files  # the walk reaches the files
    unmarked = [
        f"{p.relative_to(REPO)}:{n}"
        for p in files
        for n in unmarked_sleeps(p.read_text(encoding="utf-8"))
    ]
    assert unmarked == [], "a sleep without '# sleep: why' (or wait on an event instead)"


CHECKS = sorted((REPO / "exercises").glob("*/checks.py"))
_RAISES = ("Failed", "Mismatch")


def kindless_failures(text: str) -> list[int]:
    """The lines of `Failed(...)`/`Mismatch(...)` calls without a non-empty `kind=`: a
    failure's kind is what a class overview groups students by, so none may go without."""
    missing = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _RAISES:
            continue
        kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
        empty = isinstance(kind, ast.Constant) and not kind.value
        if kind is None or empty:
            missing.append(node.lineno)
    return missing


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('raise Failed("x", kind="output-differs")', False),
        ('raise Failed("x", kind=kind)', False),  # computed from what was found
        ('raise grader.Mismatch("a", "b", "x", kind="output-differs")', False),
        ('raise Failed("x")', True),
        ('raise Failed("x", kind="")', True),
        ('raise Mismatch("a", "b", hint="h")', True),
        ("return Failed(message, hint=fix)", True),  # built to be raised elsewhere
        ('raise ValueError("x")', False),
    ],
)
def test_the_kind_rule_itself(code: str, flagged: bool) -> None:
    assert bool(kindless_failures(code)) is flagged


def test_every_failure_of_a_check_has_a_kind() -> None:
    assert len(CHECKS) >= 8  # the walk reaches every exercise
    missing = [
        f"{p.relative_to(REPO)}:{n}"
        for p in CHECKS
        for n in kindless_failures(p.read_text(encoding="utf-8"))
    ]
    assert missing == [], "a Failed or Mismatch without kind= (a slug naming the mistake)"
