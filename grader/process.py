"""Student programs as running processes: feed, signal, and wait for events."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from grader import pids, stops, trace, waiting
from grader.launch import Launch, spawn
from grader.output import CappedOutput
from grader.reaping import Exit, Reaper
from grader.waiting import Waited

if TYPE_CHECKING:
    from pathlib import Path

    from grader.inspection import blocking


class Run:
    """A started student program: its pid, its output so far, and how it ended."""

    def __init__(self, launch: Launch) -> None:
        self.launch = launch
        self.argv = launch.argv
        self.name = launch.program
        self.limits = launch.limits
        self.bystander = launch.bystander
        self.trace_path: Path | None = launch.trace_path  # strace as its parent writes here
        self.tracer: trace.Tracer | None = None  # strace attached from outside
        self.output_cap = launch.output_cap
        self.started = time.monotonic()
        self.timed_out = False
        self.stopped_for = ""  # why the sandbox stopped it ("used more than 2 s of CPU", ...)
        self.interrupted = False  # the grader signalled or killed it before it ended
        self.out_of_memory = ""  # it ended badly with its memory near its limit: what it met
        # another program of the check is alive and may signal or message this one
        self.company: Callable[[], bool] = lambda: False
        self.hang: blocking.Hang | None = None  # the last hang seen while waiting on it
        self.gave_up = ""  # why finish() killed it: its hang, or its deadline
        self._cond = threading.Condition()
        self._exit: Exit | None = None
        self.ended_at: float | None = None  # time.monotonic() when it was reaped
        self._spawned = spawn(launch)
        self.pid = self._spawned.pid
        self.leader = self._spawned.leader  # with a terminal: the launcher leading the session
        self._identity = pids.start_times({self.pid, self.leader} - {0})  # against reuse
        cap = launch.output_cap
        self._out = CappedOutput(self._spawned.out_fd, cap, self._notify, self._overflow)
        self._err = CappedOutput(self._spawned.err_fd, cap, self._notify, self._overflow)
        if not launch.hold_output:
            self._out.start()
        self._err.start()
        self._watch = Reaper(self._spawned, launch, self.started, self._stopped, self._ended)

    # -- the process's end ----------------------------------------------------------

    def _overflow(self) -> None:
        self._stop(stops.too_much_output(self.output_cap))

    def _stop(self, why: str) -> None:
        if not self.stopped_for:
            self.stopped_for = why
        self.kill_group()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _stopped(self, why: str, at_wall_clock: bool) -> None:
        self.timed_out = self.timed_out or at_wall_clock
        self._stop(why)

    def _ended(self, ended: Exit, usage: Any) -> None:
        if not self.stopped_for:
            self.stopped_for = stops.limit_met(ended, usage, self.limits, self.trace_path)
        self.out_of_memory = stops.out_of_memory(ended, usage, self.limits)
        with self._cond:
            self.ended_at = time.monotonic()
            self._exit = ended
            self._cond.notify_all()

    # -- what a check uses ----------------------------------------------------------

    @property
    def exit(self) -> Exit | None:
        return self._exit

    @property
    def alive(self) -> bool:
        return self._exit is None

    @property
    def ended_by_itself(self) -> bool:
        """It has ended, and not because the grader signalled, stopped or killed it."""
        return self._exit is not None and not self.interrupted and not self.stopped_for

    def ended(self) -> str:
        """How it ended, for a message: "exited with status 1", "killed by SIGBUS", "did not
        end: prog (pid 5) waits in read() on …" (a hang), "did not end: it ran for 5 s"."""
        if self.gave_up:
            return f"did not end: {self.gave_up}"
        return self._exit.describe() if self._exit is not None else "did not end"

    @property
    def succeeded(self) -> bool:
        """It ended with exit status 0."""
        return self._exit is not None and self._exit.code == 0

    def reported_failure(self) -> str | None:
        """None if it reported an error the way a command should (a message on stderr and
        a non-zero exit status); else why not, for a message: "it did not end", "it was
        killed by SIGSEGV", "its exit status was 0 (success)", "it printed no error message
        on standard error"."""
        if self._exit is None:
            return "it did not end"
        if self._exit.signal is not None:
            return f"it was {self._exit.describe()}"
        if self._exit.code == 0:
            return "its exit status was 0 (success)"
        if not self.stderr.strip():
            return "it printed no error message on standard error"
        return None

    def idle(self, seconds: float) -> bool:
        """Let it run for `seconds` (less if it ends meanwhile): a measured pause, for a
        check that watches what a program does over time. True if it still runs."""
        self.wait_for(exit=True, within_s=seconds)
        return self._exit is None

    def busy(
        self, window_s: float, pid: int | None = None, past_s: float | None = None
    ) -> tuple[float, float] | None:
        """How long the program (or `pid`, one of its processes) was running or ready to run
        over the next `window_s` seconds, and how long it was watched: close to the window
        for a process that spins, close to 0 for one asleep in a blocking call. Counted from
        /proc/PID/schedstat, so a busy machine does not shrink it as it shrinks CPU time.
        The window ends early if the program ends, or once that time is past `past_s` (it
        spins: the verdict is certain). None if the process was gone when measured."""
        from grader.inspection.tree import ProcessGone, runnable_s

        watched = self.pid if pid is None else pid
        try:
            before, start = runnable_s(watched), time.monotonic()

            def spun() -> bool:
                return past_s is not None and runnable_s(watched) - before > past_s

            self.wait_for(predicate=spun if past_s is not None else None, exit=True,
                          within_s=window_s)  # fmt: skip
            return runnable_s(watched) - before, time.monotonic() - start
        except ProcessGone:
            return None

    def busy_s(self, window_s: float, pid: int | None = None) -> float | None:
        """The time running or ready to run of `busy()`, over the whole window."""
        got = self.busy(window_s, pid)
        return None if got is None else got[0]

    @property
    def stdout(self) -> bytes:
        return bytes(self._out.data)

    @property
    def stderr(self) -> bytes:
        return bytes(self._err.data)

    @property
    def output_overflowed(self) -> bool:
        return self._out.overflowed or self._err.overflowed

    @property
    def output_seen(self) -> tuple[int, int]:
        """Bytes read so far from stdout and stderr, the part past the cap included."""
        return self._out.total, self._err.total

    def text(self, stream: Literal["stdout", "stderr"] = "stdout") -> str:
        return (self._out if stream == "stdout" else self._err).text()

    def calls(self) -> tuple[trace.Call, ...]:
        """The system calls recorded by strace (started with `trace=`), in order; () when
        it ran untraced (no strace here)."""
        if self.tracer is not None:  # all of it once the program has ended
            return tuple(self.tracer.calls(2.0 if self._exit is not None else 0.0))
        return trace.read(self.trace_path) if self.trace_path is not None else ()

    def release_output(self) -> None:
        """Start reading stdout (held since start with `hold_output=True`)."""
        self._out.start()

    def send(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if self._spawned.terminal is not None:
            os.write(self._spawned.terminal, raw)
        elif self._spawned.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._spawned.stdin.write(raw)
                self._spawned.stdin.flush()

    def close_stdin(self) -> None:
        if self._spawned.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._spawned.stdin.close()

    def signal(self, sig: int) -> None:
        self.interrupted = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def kill_group(self) -> None:
        """SIGKILL the program's process group (its own session made it the leader).

        Never a stranger's: once reaped, a pid may be given to a new process, so a pid whose
        start time is not the one seen at spawn is left alone. A group outlives its leader
        (and keeps its number from reuse) while it has members.
        """
        if self._exit is None:
            self.interrupted = True
        for pid, started in self._identity.items():
            now = pids.start_time(pid)
            if None not in (now, started) and now != started:
                continue  # the number was reused: not ours
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            if now is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def wait_for(
        self,
        *,
        within_s: float,
        exit: bool = False,
        output: str | re.Pattern[str] | None = None,
        stream: Literal["stdout", "stderr"] = "stdout",
        eof: bool = False,
        state: str | None = None,
        predicate: Callable[[], object] | None = None,
        stuck: bool = False,
    ) -> Waited:
        """Wait, at most `within_s` seconds, for one event.

        Args:
            exit: the process ended.
            output: this text (or regex) appeared on `stream`.
            eof: every holder of stdout closed it (all output read).
            state: the process is in this state ("stopped", "sleeping", "zombie", ...).
            predicate: any condition on the live processes (an fd appearing, a state),
                polled every few milliseconds.
            stuck: give up at once, with the Waited's `hang` set (and `self.hang`), when
                every process of the program is asleep waiting on another of them and none
                has moved for a settle time (see inspection.blocking): for a wait on an
                event that a hang never brings (the end, output). Never for a wait used as
                a window of time. `finish()` always asks it.
        """
        if isinstance(output, str):
            output = re.compile(re.escape(output))
        if state is not None:
            predicate = waiting.in_state(self.pid, state, predicate)

        def happened() -> bool:
            if exit and self._exit is not None:
                return True
            if eof and self._out.eof:
                return True
            if output is not None and output.search(self.text(stream)):
                return True
            return predicate is not None and waiting.holds(predicate)

        return waiting.until(self, self._cond, happened, within_s, stuck=stuck,
                             polled=predicate is not None)  # fmt: skip

    def finish(self, within_s: float) -> None:
        """Wait for the end and for all output; kill the group if it does not come (at once
        if it hangs), saying why in `gave_up`."""
        waited = self.wait_for(exit=True, within_s=within_s, stuck=True)
        if not waited:
            self.gave_up = waited.hang.text if waited.hang else f"it ran for {within_s:g} s"
            self.kill_group()
        self._watch.join(within_s)
        self._out.start()
        self._out.join(min(within_s, 2.0))
        self._err.join(min(within_s, 2.0))

    def close(self) -> None:
        self.kill_group()
        if self.tracer is not None:
            self.tracer.close()
        self._watch.join(5)
        for stream in (self._out, self._err):
            stream.start()  # a held stdout is read to its end, so that its writer ends
            stream.join(1)
        self._spawned.close()
