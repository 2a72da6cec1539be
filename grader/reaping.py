"""The end of a started program: reaped as soon as it exits, its process group killed at its
wall-clock limit or when its guard says why, and how it ended (`Exit`)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader import pids, stops
from grader.launch import Launch, Spawned

POLL_S = 0.005  # a terminal's launcher has no blocking wait we own: looked at this often
GUARD_S = 0.1  # how often a running program's guard (its process count) is asked


@dataclass(frozen=True)
class Exit:
    """How a process ended: an exit status or a signal."""

    code: int | None
    signal: int | None = None

    @property
    def signal_name(self) -> str:
        if self.signal is None:
            return ""
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {self.signal_name}"
        return f"exited with status {self.code}"

    @classmethod
    def from_returncode(cls, rc: int) -> Exit:
        return cls(None, -rc) if rc < 0 else cls(rc)


class Reaper:
    """A thread that waits for one program's end and reaps it.

    At the wall-clock limit, or when the guard answers why, it calls `stop(why)` (which
    kills the process group) and goes on waiting for the end; then `ended(exit, rusage)`.
    """

    def __init__(
        self,
        spawned: Spawned,
        launch: Launch,
        started: float,
        stop: Callable[[str, bool], None],
        ended: Callable[[Exit, Any], None],
    ) -> None:
        self._spawned = spawned
        self._launch = launch
        self._deadline = started + launch.wall_s
        self._stop = stop  # (why, at the wall-clock limit)
        self._ended = ended
        self._rusage: Any = None
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _reap(self, timeout: float | None) -> Exit | None:
        pid = self._spawned.pid
        if self._spawned.terminal is None:
            pids.wait_exit(pid, timeout)  # wakes at the exit, not at a polling tick
            try:
                got, status, usage = os.wait4(pid, 0 if timeout is None else os.WNOHANG)
            except ChildProcessError:
                return Exit(None, None)
            if got == 0:
                return None
            self._rusage = usage
            code = os.waitstatus_to_exitcode(status)
            self._spawned.set_returncode(code)
            return Exit.from_returncode(code)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                got, status = os.waitpid(self._spawned.leader, os.WNOHANG)
            except ChildProcessError:
                return Exit(None, None)
            if got:
                if os.WIFSIGNALED(status):
                    return Exit(None, os.WTERMSIG(status))
                return Exit(os.WEXITSTATUS(status))
            if deadline is not None and time.monotonic() > deadline:
                return None
            time.sleep(POLL_S)  # sleep: a pty child has no blocking wait we own

    def _watch(self) -> None:
        guard = self._launch.guard
        ended = None
        while ended is None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self._stop(stops.wall_clock(self._launch.wall_s), True)
                break
            ended = self._reap(min(left, GUARD_S) if guard is not None else left)
            why = guard() if ended is None and guard is not None else ""
            if why:
                self._stop(why, False)
                break
        if ended is None:
            ended = self._reap(None)
        assert ended is not None
        self._ended(ended, self._rusage)
