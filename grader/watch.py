"""The student loop: a submission's folder watched, and what changed between two grades.

`grade EXERCISE --watch` grades, then waits here for a change to a file the grade reads
(the exercise's files, a Makefile, C sources and headers), and grades again. Changes made
while a grade runs are kept by the watcher (watchfiles) and trigger one rerun after it:
every change waiting is taken at once, so reruns never queue. Editors' temporary files,
version-control folders and the built programs trigger nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from grader.build_cache import editor_temporary
from grader.catalog import Exercise
from grader.report import SubmissionReport
from grader.results import CheckResult, Outcome

if TYPE_CHECKING:
    from collections.abc import Generator

    import watchfiles

MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"}
_SOURCES = (".c", ".h")
STEP_MS = 50  # a change is taken once no other came for this long
DEBOUNCE_MS = 1600  # and at most this long after the first


@dataclass(frozen=True)
class Changes:
    """What changed between two grades of one submission, check by check."""

    now_passes: tuple[CheckResult, ...] = ()  # passed now, not in the last run
    now_fails: tuple[CheckResult, ...] = ()  # passed in the last run, not now

    def __bool__(self) -> bool:
        return bool(self.now_passes or self.now_fails)


def changes(before: SubmissionReport | None, after: SubmissionReport) -> Changes:
    """The checks whose outcome crossed between passed and not passed from `before` to
    `after`, matched by id; nothing for a first run. A check new in `after` that passes
    counts as now passing; one that failed and still fails (another message) is no change."""
    if before is None:
        return Changes()
    was = {c.id: c.outcome for c in before.checks}
    passed = Outcome.PASSED
    passes = tuple(c for c in after.checks if c.outcome is passed and was.get(c.id) is not passed)
    fails = tuple(c for c in after.checks if c.outcome is not passed and was.get(c.id) is passed)
    return Changes(passes, fails)


def triggers(exercise: Exercise, folder: Path) -> Callable[[Path], bool]:
    """Whether a change to a path under `folder` calls for a new grade: a file the grade
    reads (the exercise's files, a Makefile, a .c or .h file), not an editor's temporary
    file, not in a version-control folder, not a built program."""

    def relevant(path: Path) -> bool:
        try:
            rel = path.relative_to(folder)
        except ValueError:
            return False
        if not rel.parts or any(p in _SKIP_DIRS for p in rel.parts[:-1]):
            return False
        name = rel.name
        if editor_temporary(name):
            return False
        top = len(rel.parts) == 1
        return (top and (name in exercise.files or name in MAKEFILES)) or name.endswith(_SOURCES)

    return relevant


class Watcher:
    """A folder watched for relevant changes, from the moment it is entered.

    `wait()` blocks until a relevant change and returns every path changed since the last
    call (those made during a grade included); control-C raises KeyboardInterrupt.
    """

    def __init__(
        self,
        folder: Path,
        relevant: Callable[[Path], bool],
        *,
        step_ms: int = STEP_MS,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        self.folder = folder
        self.relevant = relevant
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self._batches: Generator[set[tuple[watchfiles.Change, str]], None, None] | None = None

    def __enter__(self) -> Watcher:
        import watchfiles  # here: `grade --list` and the batch never load it

        def wanted(change: watchfiles.Change, path: str) -> bool:
            return self.relevant(Path(path))

        # yield_on_timeout: the first (empty) batch says the watcher is up, so that a
        # change made during the first grade is seen; later timeouts are skipped
        self._batches = watchfiles.watch(
            self.folder, watch_filter=wanted, debounce=self.debounce_ms, step=self.step_ms,
            rust_timeout=self.step_ms, yield_on_timeout=True, raise_interrupt=True,
        )  # fmt: skip
        batches = self._batches
        next(batches)  # a change already there is seen by the first grade anyway
        return self

    def wait(self, within_s: float | None = None) -> frozenset[Path] | None:
        """The paths changed since the last call, once one is relevant; None when
        `within_s` passes first (for tests: the loop waits without one)."""
        assert self._batches is not None, "enter the Watcher first"
        deadline = None if within_s is None else time.monotonic() + within_s
        for batch in self._batches:
            if batch:
                return frozenset(Path(p) for _, p in batch)
            if deadline is not None and time.monotonic() >= deadline:
                return None
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._batches is not None:
            self._batches.close()  # stops watchfiles' thread
            self._batches = None
