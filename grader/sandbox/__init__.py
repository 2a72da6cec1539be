"""Limits, namespaces and guaranteed cleanup around student code: the inside.

This facade is what runs inside a grade: the check's `Sandbox` and its `Program`s (student
processes under rlimits, in a session of their own, with no capabilities, all killed at the
end), `enter()` (the worker's view of the file system: size-capped tmpfs on /tmp and
/dev/shm, the scratch folder at /tmp/grade, the user's files out of view, the rest
read-only) and `preexec()`. Where user namespaces are missing, the same calls give a reduced
isolation and say so (`detect()`).

The host side, which starts the grade's worker in fresh namespaces under a wall-clock
watchdog (`grader.sandbox.host`), its uid slots and cgroups (`slots`, `cgroup`), is imported
by name, by the session only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grader.sandbox.detect import NO_USERNS_ENV, NOBODY, SAFE_PATH, TMPFS_MB, Capabilities, detect
from grader.sandbox.inside import (
    INSIDE_SCRATCH,
    IPC_LIMITS,
    become_subreaper,
    enter,
    protect_worker,
)
from grader.sandbox.student import hand_to_students, preexec, student_env

if TYPE_CHECKING:
    from grader.sandbox.box import Program, Sandbox, remove_ipc_objects

__all__ = [
    "INSIDE_SCRATCH",
    "IPC_LIMITS",
    "NOBODY",
    "NO_USERNS_ENV",
    "SAFE_PATH",
    "TMPFS_MB",
    "Capabilities",
    "Program",
    "Sandbox",
    "become_subreaper",
    "detect",
    "enter",
    "hand_to_students",
    "preexec",
    "protect_worker",
    "remove_ipc_objects",
    "student_env",
]


# The checks' names, imported on first use: the host (grader.session) needs the sandbox's
# host side only, not the processes, waits and inspection a check's Sandbox brings
_LAZY = ("Program", "Sandbox", "remove_ipc_objects")


def __getattr__(name: str) -> Any:
    """A name of box.py (PEP 562), imported when first asked for, then kept."""
    if name not in _LAZY:
        raise AttributeError(f"module 'grader.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module("grader.sandbox.box"), name)
    globals()[name] = value
    return value
