"""Processes: who is running, in which state, and whose child each one is."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

# Our own names, so a psutil release that renames a constant cannot change a grade.
_STATES: dict[str, str] = {
    psutil.STATUS_RUNNING: "running",
    psutil.STATUS_SLEEPING: "sleeping",
    psutil.STATUS_DISK_SLEEP: "disk-sleep",
    psutil.STATUS_STOPPED: "stopped",
    psutil.STATUS_TRACING_STOP: "tracing-stop",
    psutil.STATUS_ZOMBIE: "zombie",
    psutil.STATUS_DEAD: "dead",
    psutil.STATUS_IDLE: "idle",
}


class ProcessGone(Exception):
    """The process vanished, or cannot be read, while we were looking at it."""

    def __init__(self, pid: int, reason: str = "has exited") -> None:
        super().__init__(f"process {pid} {reason}")
        self.pid = pid
        self.reason = reason


@dataclass(frozen=True)
class ProcessInfo:
    """One process as it was when we looked."""

    pid: int
    ppid: int
    name: str  # the command name, e.g. "grep"
    exe: str  # "" when unknown: a zombie, a kernel thread, no permission
    argv: tuple[str, ...]
    state: str  # "running", "sleeping", "stopped", "zombie", ...
    pgid: int
    sid: int
    uid: int
    cpu_s: float  # user + system
    started: float  # seconds since the epoch

    @property
    def is_zombie(self) -> bool:
        return self.state == "zombie"

    @property
    def is_stopped(self) -> bool:
        return self.state in ("stopped", "tracing-stop")

    @property
    def label(self) -> str:
        """How a message names this process: "grep (pid 7)"."""
        return f"{self.name} (pid {self.pid})"


def process(pid: int) -> ProcessInfo:
    """Look at one process.

    Raises:
        ProcessGone: it does not exist, or it cannot be read.
    """
    try:
        return _info(psutil.Process(pid))
    except psutil.NoSuchProcess as e:
        raise ProcessGone(pid) from e
    except psutil.AccessDenied as e:
        raise ProcessGone(pid, "cannot be read (permission denied)") from e


def still_running(proc: ProcessInfo) -> bool:
    """Is the process seen as `proc` still running: the same process (its pid not given
    to another since), and not a zombie?"""
    try:
        now = process(proc.pid)
    except ProcessGone:
        return False
    return now.started == proc.started and not now.is_zombie


def runnable_s(pid: int) -> float:
    """Seconds the process has spent running or ready to run (waiting for a CPU).

    From /proc/PID/schedstat: unlike CPU time, it does not shrink when the machine is
    busy, so a process that spins counts the whole of a window even on a loaded machine,
    and one that sleeps nothing. Without schedstat, its CPU time.

    Raises:
        ProcessGone: it does not exist.
    """
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            on_cpu, waiting = (int(v) for v in f.read().split()[:2])
    except FileNotFoundError as e:
        if not os.path.exists(f"/proc/{pid}"):
            raise ProcessGone(pid) from e
        return process(pid).cpu_s
    except ProcessLookupError as e:
        raise ProcessGone(pid) from e
    except (OSError, ValueError):
        return process(pid).cpu_s
    return (on_cpu + waiting) / 1e9


def tree(root_pid: int) -> tuple[ProcessInfo, ...]:
    """The root process first, then every descendant.

    Descendants that exit while we walk are left out.

    Raises:
        ProcessGone: the root itself is gone.
    """
    try:
        root = psutil.Process(root_pid)
        first = _info(root)
        descendants = root.children(recursive=True)
    except psutil.NoSuchProcess as e:
        raise ProcessGone(root_pid) from e
    except psutil.AccessDenied as e:
        raise ProcessGone(root_pid, "cannot be read (permission denied)") from e
    return (first, *_infos(descendants))


def all_processes() -> tuple[ProcessInfo, ...]:
    """Every process visible in /proc, skipping those that exit while we look."""
    return _infos(psutil.process_iter())


def _infos(procs: Iterable[psutil.Process]) -> tuple[ProcessInfo, ...]:
    found: list[ProcessInfo] = []
    for p in procs:
        try:
            found.append(_info(p))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return tuple(found)


def _info(p: psutil.Process) -> ProcessInfo:
    """Raises psutil.NoSuchProcess or psutil.AccessDenied; the callers translate them."""
    pid = int(p.pid)
    with p.oneshot():
        status = str(p.status())
        times = p.cpu_times()
        info = ProcessInfo(
            pid=pid,
            ppid=int(p.ppid()),
            name=str(p.name()),
            exe=_exe(p),
            argv=_argv(p),
            state=_STATES.get(status, status),
            pgid=_pgid(pid),
            sid=_sid(pid),
            uid=int(p.uids().real),
            cpu_s=float(times.user + times.system),
            started=float(p.create_time()),
        )
    return info


def _exe(p: psutil.Process) -> str:
    # A zombie has no executable any more: ZombieProcess, a subclass of NoSuchProcess.
    try:
        return str(p.exe())
    except (psutil.ZombieProcess, psutil.AccessDenied):
        return ""


def _argv(p: psutil.Process) -> tuple[str, ...]:
    try:
        return tuple(str(a) for a in p.cmdline())
    except (psutil.ZombieProcess, psutil.AccessDenied):
        return ()


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError as e:
        raise psutil.NoSuchProcess(pid) from e


def _sid(pid: int) -> int:
    try:
        return os.getsid(pid)
    except ProcessLookupError as e:
        raise psutil.NoSuchProcess(pid) from e
    except PermissionError:
        return -1  # some systems refuse getsid across sessions; Linux does not


def in_session(sid: int) -> tuple[ProcessInfo, ...]:
    """Every process of session `sid`: a started program and all it forked, orphans included.

    Each student program leads a session of its own, so this finds its processes even
    after their parent has exited and they were adopted by another.
    """
    return tuple(p for p in all_processes() if p.sid == sid)
