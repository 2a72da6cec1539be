"""Which isolation layers this machine offers, detected once per process."""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader.results import Isolation

NO_USERNS_ENV = "IPCGRADE_NO_USERNS"  # "1": grade as if user namespaces were unavailable
INSIDE_SCRATCH = Path("/tmp/grade")
NOBODY = 65534
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
TMPFS_MB = 64

_UNSHARE = (
    "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount",
    "--propagation", "private", "--mount-proc", "--ipc", "--net",
)  # fmt: skip
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38


@dataclass(frozen=True)
class Capabilities:
    """What this machine offers the sandbox (detected once per process), and what one
    grade was given of it (its uid, its control group)."""

    userns: bool
    why_not: str = ""  # why user namespaces are not used
    root: bool = False
    cgroup_why_not: str = "not looked for"  # "" when each grade gets a control group
    seccomp_why_not: str = "not looked for"  # "" when student programs get a filter
    # -- per grade ------------------------------------------------------------------
    student_uid: int | None = None  # the uid student programs run as (None: the user's)
    grade_memory_mb: int = 0  # the grade's control group: memory of all its processes
    grade_tasks: int = 0  # ... and how many processes and threads
    oom_file: str = ""  # ... and where the kernel counts what it killed for memory
    cgroup_fds: tuple[int, ...] = ()  # ... and the students' cgroup.procs, open to join it

    def isolation(self) -> Isolation:
        layers: list[str] = []
        missing: list[str] = []
        if self.userns:
            layers += [
                "user namespace",
                "PID namespace",
                "IPC namespace",
                "network namespace (loopback only: no network, ports of its own)",
                f"mount namespace: a root of its own (/usr, /etc and the grader's folders, "
                f"read-only), private {TMPFS_MB} MiB tmpfs on /tmp and /dev/shm",
                "no capabilities for student programs",
            ]
        else:
            missing.append(
                f"no user namespaces ({self.why_not}): student programs share this machine's "
                "processes, System V IPC objects, network and files"
            )
        if self.student_uid is not None:
            layers.append(f"student programs run as uid {self.student_uid}, this grade's own")
        elif not self.userns and not self.root:
            missing.append(
                "student programs run as this user: they can read and write this user's "
                "files, and read the environment of this user's other processes (a token in "
                "the shell that started the grader); the grader's own is out of their reach"
            )
        if self.grade_memory_mb:
            layers.append(
                f"control group: {self.grade_memory_mb} MiB of memory for the whole grade "
                f"(shared memory and tmpfs included), at most {self.grade_tasks} tasks"
            )
        else:
            missing.append(
                f"no control group ({self.cgroup_why_not}): memory is limited per process "
                "(address space), not for the grade"
            )
        if not self.seccomp_why_not:
            # root (of the grade's namespace) attaches strace from outside; elsewhere strace
            # runs as the program's parent, as the student, and must ptrace
            ptrace = "no ptrace" if self.userns or self.root else "no ptrace (but under strace)"
            layers.append(
                f"seccomp filter: {ptrace}, keyrings, io_uring, new namespaces, mounts, bpf, "
                "perf events, userfaultfd, TIOCSTI injection"
            )
        else:
            missing.append(f"no seccomp filter ({self.seccomp_why_not})")
        layers += [
            "own session and process group per program",
            "rlimits: CPU, address space, processes, file size, open files, no core dumps",
            "wall-clock watchdog outside the sandbox",
            "output read with a byte cap",
            "scrubbed environment",
            "scratch folder holding only a copy of the submission",
            "stdin never the terminal",
        ]
        return Isolation(
            level="full" if self.userns else "reduced", layers=tuple(layers), missing=tuple(missing)
        )


@functools.cache
def detect() -> Capabilities:
    """Find out, cheaply (one `unshare` run, about 25 ms), which layers work here."""
    from grader.sandbox import cgroup, seccomp

    root = os.geteuid() == 0
    userns, why_not = _userns()
    return Capabilities(
        userns,
        why_not,
        root,
        cgroup_why_not=cgroup.find()[1],
        seccomp_why_not=seccomp.unavailable(),
        # outside a grade (which holds a uid of its own), root's students are nobody
        student_uid=NOBODY if root else None,
    )


def _userns() -> tuple[bool, str]:
    if os.environ.get(NO_USERNS_ENV, "") not in ("", "0"):
        return False, f"{NO_USERNS_ENV} is set"
    unshare = shutil.which("unshare")
    if unshare is None:
        return False, "util-linux's unshare is not installed"
    try:
        probe = subprocess.run(
            [unshare, *_UNSHARE, "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"unshare failed: {e}"
    if probe.returncode != 0:
        msg = probe.stderr.decode(errors="replace").strip().splitlines()
        return False, msg[-1] if msg else f"unshare exited {probe.returncode}"
    return True, ""
