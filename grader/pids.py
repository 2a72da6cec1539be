"""Pids without races: read a process's identity, wait for ends with a deadline, and signal a
pid only while it is still the process meant.

A leaf: it imports nothing of the grader. A pid is a number the kernel gives again once its
process is reaped, so everything here either pins the process (a pidfd) or compares its start
time with the one seen before.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable, Iterable

POLL_S = 0.005  # the fallback's tick, where there are no pidfds (Linux before 5.3)


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: [0] is the state, [17] the
    number of threads, [19] the start time in clock ticks (proc(5), fields 3 on). None when
    the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None once it is gone: with its
    pid, what tells one process from a later one given the same number."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def start_times(pids: Iterable[int]) -> dict[int, int | None]:
    """Each pid's start time (None for one gone)."""
    return {pid: start_time(pid) for pid in pids}


def unchanged(seen: dict[int, int | None]) -> frozenset[int]:
    """The pids of `seen` whose process is still the one seen then (the same start time): a
    pid given to another process since is not among them."""
    now = start_times(seen)
    return frozenset(pid for pid, when in seen.items() if when is not None and now[pid] == when)


def wait_exit(pid: int, timeout: float | None) -> None:
    """Block until child `pid` exits or `timeout` passes, without reaping it."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (kernel < 5.3): poll without reaping
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            try:
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    return
            except ChildProcessError:
                return
            time.sleep(POLL_S)  # sleep: the fallback of a blocking wait
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def wait_any_end(pids: Iterable[int], timeout_s: float) -> None:
    """Block until one of `pids` has ended (its pidfd turns readable), at most `timeout_s`.
    A pid that cannot be pinned (reaped already, or no pidfds) is not waited on."""
    ending = select.poll()
    fds: list[int] = []
    try:
        for pid in pids:
            with contextlib.suppress(OSError):
                fds.append(os.pidfd_open(pid))
                ending.register(fds[-1], select.POLLIN)
        ending.poll(max(0.0, timeout_s) * 1000)
    finally:
        for fd in fds:
            os.close(fd)


def signal_if(pid: int, sig: int, ours: Callable[[int], bool]) -> bool:
    """Send `sig` to `pid` if `ours(pid)` still holds once the process is pinned.

    A pid read a moment ago (from a cgroup's list, from /proc) may have been given to a new
    process since: the pid is pinned with a pidfd first, then checked, and the signal goes
    through the pidfd, which never reaches another process. Without pidfds (Linux before
    5.3), checked then signalled. True if sent.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # no pidfds: the old way
        try:
            if ours(pid):
                os.kill(pid, sig)
                return True
        except OSError:
            pass
        return False
    try:
        if ours(pid):
            signal.pidfd_send_signal(fd, sig)
            return True
    except OSError:
        pass
    finally:
        os.close(fd)
    return False
