"""As root, each grade running at the same time gets a uid of its own for student code.

A slot is a lock file held for the whole grade; slot N's student uid is SLOT_UID_BASE + N
(as isolate does for its boxes), skipped if the machine has a user with that uid. Parallel
grades then cannot signal, trace or read one another's processes and files, nor share a
process count, even without namespaces; and whatever a grade's uid left on the machine
(processes, System V objects, files in /tmp, /var/tmp and /dev/shm) is its alone, so it
can all be swept away.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

from grader.pids import signal_if

# Outside the ranges systemd hands out (regular users up to 60000, homed, DynamicUser 61184-
# 65519, containers 524288-1879048191) and below 2^31 (no signedness surprises).
SLOT_UID_BASE = 1_900_000_000
SLOTS = 64
_LOCKS = Path("/run/ipcgrade")
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")  # writable by anyone on most machines


def _free_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False


def _from(start: int) -> list[int]:
    return [(start + i) % SLOTS for i in range(SLOTS)]


@contextlib.contextmanager
def student_uid() -> Iterator[int]:
    """Hold a free slot for the grade and give its uid (as root only)."""
    _LOCKS.mkdir(mode=0o700, exist_ok=True)
    held = None
    for n in range(SLOTS):
        f = open(_LOCKS / f"slot-{n}.lock", "a")  # noqa: SIM115 - held for the grade
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        if _free_uid(SLOT_UID_BASE + n):  # looked up for the slot taken only
            held = (n, f)
            break
        f.close()
    if held is None:  # every slot busy: wait for one
        n = next(n for n in _from(os.getpid() % SLOTS) if _free_uid(SLOT_UID_BASE + n))
        f = open(_LOCKS / f"slot-{n}.lock", "a")  # noqa: SIM115
        fcntl.flock(f, fcntl.LOCK_EX)
        held = (n, f)
    n, f = held
    uid = SLOT_UID_BASE + n
    try:
        sweep(uid)  # what a grade that crashed may have left
        yield uid
    finally:
        sweep(uid)
        f.close()


def sweep(uid: int) -> None:
    """Kill every process of `uid`, remove its System V objects and its shared files."""
    kill_processes(uid)
    remove_sysv_objects(uid)
    remove_shared_files(uid)


def processes_of(uid: int) -> list[int]:
    """The pids of `uid`'s processes (zombies included), from the owners of /proc's entries."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
    return found


def _owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def kill_processes(uid: int) -> None:
    for _ in range(3):  # a process forking while we kill: again
        found = processes_of(uid)
        if not found:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in found:
                signal_if(pid, sig, lambda p: _owner(p) == uid)


def remove_sysv_objects(uid: int | None, keep: frozenset[str] = frozenset()) -> None:
    """Remove the System V objects owned by `uid` (None: every one), but those in `keep`
    ("shm:123")."""
    import sysv_ipc

    from grader.inspection import ipc

    kinds = (
        ("msg", ipc.queues(), sysv_ipc.remove_message_queue),
        ("shm", ipc.segments(), sysv_ipc.remove_shared_memory),
        ("sem", ipc.semaphore_sets(), sysv_ipc.remove_semaphore),
    )
    for kind, found, remove in kinds:
        for obj in found:
            if uid in (None, obj.uid) and f"{kind}:{obj.id}" not in keep:
                with contextlib.suppress(sysv_ipc.Error, OSError):
                    remove(obj.id)


def remove_shared_files(
    uid: int, folders: tuple[str, ...] = SHARED_FOLDERS, keep: tuple[str, ...] = ()
) -> None:
    """Remove what `uid` made at the top of the machine's world-writable folders, but the
    paths in `keep`."""
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.path in keep or entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
