"""What each student process gets before exec: session, rlimits, no capabilities, uid."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Callable
from pathlib import Path

from grader.catalog import Limits
from grader.sandbox import cgroup
from grader.sandbox.detect import (
    _PR_CAPBSET_DROP,
    _PR_SET_NO_NEW_PRIVS,
    SAFE_PATH,
    Capabilities,
    _libc,
)


def student_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(home)}
    env.update(extra or {})
    return env


def _cap_last() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


_CAP_LAST = _cap_last()


def preexec(
    limits: Limits,
    caps: Capabilities,
    *,
    nproc: int,
    new_session: bool = True,
    umask: int = 0o022,
    seccomp: bool = True,
) -> Callable[[], None]:
    """What runs in each student process between fork and exec (async-signal-safe enough).

    Own session and process group, default signal dispositions, rlimits, umask 022, no
    capabilities (inside the user namespace it would otherwise be root there), as root the
    grade's own uid, and the seccomp filter.

    Args:
        nproc: RLIMIT_NPROC, which counts every process of the uid, not only this one's.
        seccomp: False under strace, which must ptrace: the filter then allows ptrace.
    """
    mb = 1024 * 1024
    # (soft, hard). CPU: SIGXCPU at the soft limit names the cause beyond doubt; SIGKILL at
    # the hard one, a second later, ends a program that ignores it. (The kernel counts CPU
    # time for the limit by ticks, wait4 by the scheduler's clock: on a busy machine a
    # program killed at the limit may show less, so its SIGKILL alone would not say why.)
    rlimits = (
        (resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1)),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
        (resource.RLIMIT_FSIZE, (limits.file_mb * mb,) * 2),
        (resource.RLIMIT_NOFILE, (limits.open_files,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    )
    address_space = (limits.memory_mb * mb,) * 2
    # A terminal's launcher is Python, which nobody may not be able to run (a pyenv under
    # /root): it drops to nobody itself, in the child, just before exec.
    uid = caps.student_uid
    drop_uid = uid is not None and new_session
    # ... and it needs its capabilities for that: setuid() then clears them all (with
    # no_new_privs, nothing gives them back).
    keep_caps = uid is not None and not new_session
    install = _filter(allow_ptrace=not seccomp) if not caps.seccomp_why_not else None

    join = caps.cgroup_fds

    def _child() -> None:
        if join:  # the grade's students' cgroup: its memory limit, the kernel's first victims
            cgroup.join(join)
        if new_session:  # a pty child already leads its own session (pexpect did it)
            os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.umask(umask)
        try:  # the first the kernel kills when the grade's memory runs out
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            os.write(fd, b"1000")
            os.close(fd)
        except OSError:
            pass
        for which, pair in rlimits:
            resource.setrlimit(which, pair)
        for cap in range(0 if keep_caps else _CAP_LAST + 1):  # needs CAP_SETPCAP: while root
            _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        if drop_uid and uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if install is not None:
            install()
        # the address space last: this child is still a copy of the worker, whose own
        # address space (malloc's arenas of every thread it ran) may be past the limit, and
        # any Python call that maps memory after it would fail before the exec
        resource.setrlimit(resource.RLIMIT_AS, address_space)

    return _child


def _filter(*, allow_ptrace: bool) -> Callable[[], None] | None:
    from grader.sandbox import seccomp

    prog = seccomp.program(allow_ptrace=allow_ptrace)
    return seccomp.installer(prog) if prog is not None else None


def hand_to_students(folder: Path, caps: Capabilities) -> None:
    """As real root, give the scratch folder to the uid that student code runs as."""
    uid = caps.student_uid
    if uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, name), uid, uid)
    os.chown(folder, uid, uid)
