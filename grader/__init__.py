"""ipcgrade: grades IPC exercises in C by looking inside the running processes.

The check-author API: everything a `checks.py` needs is importable from here.
"""

from __future__ import annotations

from grader import evidence, inspection, source, trace
from grader.outcomes import Failed, Mismatch
from grader.process import Exit, Program, Run, Waited
from grader.results import Evidence, Location, Ref

__all__ = [
    "Evidence",
    "Exit",
    "Failed",
    "Location",
    "Mismatch",
    "Program",
    "Ref",
    "Run",
    "Waited",
    "evidence",
    "inspection",
    "source",
    "trace",
]
__version__ = "0.1.0"
