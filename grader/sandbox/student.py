"""What each student process gets before exec: session, rlimits, no capabilities, uid."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from collections.abc import Callable
from pathlib import Path

from grader.catalog import Limits
from grader.sandbox.detect import (
    _PR_CAPBSET_DROP,
    _PR_SET_NO_NEW_PRIVS,
    NOBODY,
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


def _nproc_budget(processes: int, caps: Capabilities) -> int:
    """RLIMIT_NPROC counts every process of the uid, not only the grade's.

    Inside a user namespace the count starts afresh; outside, the student shares a uid with
    the user's other processes (or with other nobody processes), so they are added.
    """
    if caps.userns:
        return processes
    uid = NOBODY if caps.root else os.getuid()
    mine = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                mine += entry.stat().st_uid == uid
    return mine + processes


def preexec(
    limits: Limits, caps: Capabilities, *, new_session: bool = True, umask: int = 0o022
) -> Callable[[], None]:
    """What runs in each student process between fork and exec (async-signal-safe enough).

    Own session and process group, default signal dispositions, rlimits, umask 022, no
    capabilities (inside the user namespace it would otherwise be root there), and, as real
    root without namespaces, the nobody uid.
    """
    mb = 1024 * 1024
    rlimits = (
        (resource.RLIMIT_CPU, limits.cpu_s),
        (resource.RLIMIT_AS, limits.memory_mb * mb),
        (resource.RLIMIT_NPROC, _nproc_budget(limits.processes, caps)),
        (resource.RLIMIT_FSIZE, limits.file_mb * mb),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    )
    # A terminal's launcher is Python, which nobody may not be able to run (a pyenv under
    # /root): it drops to nobody itself, in the child, just before exec.
    drop_uid = caps.root and new_session
    # ... and it needs its capabilities for that: setuid() then clears them all (with
    # no_new_privs, nothing gives them back).
    keep_caps = caps.root and not new_session

    def _child() -> None:
        if new_session:  # a pty child already leads its own session (pexpect did it)
            os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.umask(umask)
        for which, value in rlimits:
            resource.setrlimit(which, (value, value))
        for cap in range(0 if keep_caps else _CAP_LAST + 1):  # needs CAP_SETPCAP: while root
            _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        if drop_uid:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)

    return _child


def hand_to_students(folder: Path, caps: Capabilities) -> None:
    """As real root, give the scratch folder to the nobody uid that student code runs as."""
    if not caps.root:
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, name), NOBODY, NOBODY)
    os.chown(folder, NOBODY, NOBODY)
