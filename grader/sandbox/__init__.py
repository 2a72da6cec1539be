"""Limits, namespaces and guaranteed cleanup around student code.

Two sides. On the host, `run_worker()` starts the grade's worker (the pytest run) inside
fresh user, PID, IPC, network and mount namespaces made by util-linux's `unshare`, with a
scrubbed environment and a wall-clock watchdog that lives outside and kills the whole
namespace. Inside, `enter()` lays out the worker's view of the file system (size-capped
tmpfs on /tmp and /dev/shm, the scratch folder at /tmp/grade, the user's files out of view,
the rest read-only), and `preexec()` runs in each student process before exec: its own
session, rlimits, no capabilities. Where user namespaces are missing, the same calls give a
reduced isolation and say so.
"""

from __future__ import annotations

from grader.sandbox import cgroup, inside, slots
from grader.sandbox.cgroup import GradeGroup
from grader.sandbox.check import Sandbox, remove_ipc_objects
from grader.sandbox.detect import (
    NO_USERNS_ENV,
    NOBODY,
    SAFE_PATH,
    TMPFS_MB,
    Capabilities,
    _libc,
    detect,
)
from grader.sandbox.host import (
    WorkerExit,
    out_of_reach,
    read_private,
    run_worker,
    worker_argv,
    worker_env,
)
from grader.sandbox.inside import (
    INSIDE_SCRATCH,
    IPC_LIMITS,
    become_subreaper,
    enter,
    protect_worker,
)
from grader.sandbox.student import hand_to_students, preexec, student_env

__all__ = [
    "INSIDE_SCRATCH",
    "IPC_LIMITS",
    "NOBODY",
    "NO_USERNS_ENV",
    "SAFE_PATH",
    "TMPFS_MB",
    "Capabilities",
    "GradeGroup",
    "Sandbox",
    "WorkerExit",
    "_libc",
    "become_subreaper",
    "cgroup",
    "detect",
    "enter",
    "hand_to_students",
    "inside",
    "out_of_reach",
    "preexec",
    "protect_worker",
    "read_private",
    "remove_ipc_objects",
    "run_worker",
    "slots",
    "student_env",
    "worker_argv",
    "worker_env",
]
