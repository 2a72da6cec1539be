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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader import evidence, inspection, source, trace
    from grader.build import not_built
    from grader.outcomes import Failed, Mismatch
    from grader.plugin import GradeContext as Grade
    from grader.process import Run
    from grader.reaping import Exit
    from grader.requirements import needs
    from grader.results import BuildResult, Evidence, Location, Ref
    from grader.sandbox import SAFE_PATH, Program, Sandbox
    from grader.waiting import Waited

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

# Each name of the facade: the module it lives in, and its name there (None: the module
# itself). Imported on first use, so that `grade --version` and `grade --list`, which
# import `grader.cli` and with it this package, load no psutil, pytest or sandbox.
_WHERE: dict[str, tuple[str, str | None]] = {
    "SAFE_PATH": ("grader.sandbox", "SAFE_PATH"),
    "BuildResult": ("grader.results", "BuildResult"),
    "Evidence": ("grader.results", "Evidence"),
    "Exit": ("grader.reaping", "Exit"),
    "Failed": ("grader.outcomes", "Failed"),
    "Grade": ("grader.plugin", "GradeContext"),
    "Location": ("grader.results", "Location"),
    "Mismatch": ("grader.outcomes", "Mismatch"),
    "Program": ("grader.sandbox", "Program"),
    "Ref": ("grader.results", "Ref"),
    "Run": ("grader.process", "Run"),
    "Sandbox": ("grader.sandbox", "Sandbox"),
    "Waited": ("grader.waiting", "Waited"),
    "evidence": ("grader.evidence", None),
    "inspection": ("grader.inspection", None),
    "needs": ("grader.requirements", "needs"),
    "not_built": ("grader.build", "not_built"),
    "source": ("grader.source", None),
    "trace": ("grader.trace", None),
}


def __getattr__(name: str) -> Any:
    """A name of `__all__`, imported when first asked for (PEP 562), then kept."""
    try:
        module, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'grader' has no attribute {name!r}") from None
    found = importlib.import_module(module)
    value = found if attr is None else getattr(found, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
