"""ipcgrade: grades IPC exercises in C by looking inside the running processes.

The check-author API: everything a `checks.py` needs is importable from here, and a
`checks.py` imports nothing else of the grader.

- Fixtures (plain pytest arguments): `program` / `programs` (a `Program` each: `start`,
  `run`, `source`), `sandbox` (the check's `Sandbox`: `path`, `note`, `warn`, `start`),
  `build` (the `BuildResult`), `grade` (the `Grade`: the exercise, the submission's folder).
- A started program is a `Run`: `wait_for`, `finish`, `idle`, `busy_s`, `text`, `exit`,
  `succeeded`, `reported_failure`, `ended`, `signal`, `calls`.
- What a check raises: `Failed` (a message in the lecture's words, with hint, evidence,
  kind, about, location) and `Mismatch` (expected against actual).
- `@needs("strace")`: a check that cannot judge without a tool is skipped where it is
  missing, saying what to install.
- `inspection` (live processes: fds, pipes, signal masks, IPC objects, maps, sockets),
  `evidence` (tables for a failure), `source` (the student's C source), `trace` (strace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader import evidence, inspection, source, trace
from grader.build import not_built
from grader.outcomes import Failed, Mismatch
from grader.process import Run
from grader.reaping import Exit
from grader.requirements import needs
from grader.results import BuildResult, Evidence, Location, Ref
from grader.sandbox import SAFE_PATH, Program, Sandbox
from grader.waiting import Waited

if TYPE_CHECKING:
    from grader.plugin import GradeContext as Grade

__all__ = [
    "SAFE_PATH",
    "BuildResult",
    "Evidence",
    "Exit",
    "Failed",
    "Grade",
    "Location",
    "Mismatch",
    "Program",
    "Ref",
    "Run",
    "Sandbox",
    "Waited",
    "evidence",
    "inspection",
    "needs",
    "not_built",
    "source",
    "trace",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`Grade` (the `grade` fixture's type) is imported when first asked for: it lives
    with pytest's plugin, which `grade --version` need not load."""
    if name == "Grade":
        from grader.plugin import GradeContext

        return GradeContext
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
