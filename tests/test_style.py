"""House rules a linter does not know: every deliberate sleep says why.

Waits are on events with deadlines; a `time.sleep(` is allowed only with a `# sleep: why`
marker on its line (a comment ruff does not read, unlike `# noqa: ...`).
"""

from __future__ import annotations

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
        if "_bundled" not in p.parts and "submissions" not in p.parts
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
