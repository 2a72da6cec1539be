"""Student programs as running processes: start, feed, signal, and wait for events."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from grader import foreground
from grader import source as source_mod
from grader.catalog import Limits
from grader.inspection import blocking
from grader.inspection.tree import ProcessGone, stat_fields

if TYPE_CHECKING:
    from grader.sandbox import Sandbox

_F_SETPIPE_SZ = 1031

POLL_S = 0.005  # how often process state is looked at while waiting on it
GUARD_S = 0.1  # how often a running program's guard (its process count) is asked
STILL_POLL_S = 0.05  # how often a waited-for program is looked at for a hang


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


@dataclass(frozen=True)
class Waited:
    """The answer of `Run.wait_for`: did the event happen before the deadline?"""

    ok: bool
    waited_s: float
    exited: bool
    hang: blocking.Hang | None = None  # it cannot happen: every process waits on another

    def __bool__(self) -> bool:
        return self.ok


def _cpu_used(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime) if usage is not None else 0.0


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


class _Stream:
    """One output stream read in a thread, keeping at most `cap` bytes."""

    def __init__(
        self, fd: int, cap: int, on_data: Callable[[], None], on_overflow: Callable[[], None]
    ) -> None:
        self.fd = fd
        self.cap = cap
        self._on_overflow = on_overflow
        self.data = bytearray()
        self.total = 0
        self.eof = False
        self._on_data = on_data
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, daemon=True)
            self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError as e:  # EIO: the pty's other side is gone
                if e.errno not in (errno.EIO, errno.EBADF):
                    raise
                chunk = b""
            if not chunk:
                break
            self.total += len(chunk)
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if self.total > self.cap:
                self._on_overflow()  # and go on reading, so that the writer is not stuck
            self._on_data()
        self.eof = True
        self._on_data()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def overflowed(self) -> bool:
        return self.total > self.cap


class Run:
    """A started student program: its pid, its output so far, and how it ended."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        preexec_fn: Callable[[], None],
        stdin: int | str = "null",
        pty: bool = False,
        hold_output: bool = False,
        output_cap: int = 1 << 20,
        wall_s: float = 10.0,
        pass_fds: Sequence[int] = (),
        executable: str | None = None,
        name: str = "",
        run_as: int | None = None,
        limits: Limits | None = None,
        guard: Callable[[], str] | None = None,
        preexec_fds: Sequence[int] = (),
        bystander: bool = False,
    ) -> None:
        """Start `argv`.

        Args:
            limits: its rlimits (set by `preexec_fn`), to name what it ran out of.
            guard: asked every GUARD_S while the program runs; a non-empty answer (why)
                kills its process group, and becomes `stopped_for`.
            preexec_fds: descriptors `preexec_fn` writes to (a terminal's child closes
                every other before it runs; they close at exec all the same).
            bystander: a process the check runs as scenery (a decoy named firefox): it
                never signals nor messages another, so it cannot end another's wait.
        """
        self.argv = tuple(argv)
        self.name = name or Path(self.argv[0]).name
        self.started = time.monotonic()
        self.timed_out = False
        self.stopped_for = ""  # why the sandbox stopped it ("used more than 2 s of CPU", ...)
        self.interrupted = False  # the grader signalled or killed it before it ended
        self.limits = limits
        self.out_of_memory = ""  # it ended badly with its memory near its limit: what it met
        self._guard = guard
        self.bystander = bystander
        # another program of the check is alive and may signal or message this one
        self.company: Callable[[], bool] = lambda: False
        self.hang: blocking.Hang | None = None  # the last hang seen while waiting on it
        self.gave_up = ""  # why finish() killed it: its hang, or its deadline
        self._identity: dict[int, int | None] = {}  # pid -> its start time, against reuse
        self._rusage: Any = None
        self._cond = threading.Condition()
        self._exit: Exit | None = None
        self._stdin: IO[bytes] | None = None
        self._pty_fd: int | None = None
        self.leader = 0  # with a terminal: the launcher that leads the session
        self.trace_path: Path | None = None  # set when started under strace, as its parent
        self.tracer: Any = None  # a trace.Tracer, when strace attached from outside
        self.output_cap = output_cap
        self._out: _Stream
        self._err: _Stream
        if pty:
            self._spawn_pty(cwd, env, preexec_fn, executable, run_as, tuple(preexec_fds))
            assert self._pty_fd is not None
            self._out = _Stream(self._pty_fd, output_cap, self._notify, self._overflow)
            self._err = _Stream(-1, output_cap, self._notify, self._overflow)
            self._err.eof = True
        else:
            stdin_arg: Any
            if stdin == "pipe":
                stdin_arg = subprocess.PIPE
            elif stdin == "null":
                stdin_arg = subprocess.DEVNULL
            else:
                stdin_arg = stdin
            self._popen = subprocess.Popen(
                self.argv,
                executable=executable,
                cwd=cwd,
                env=env,
                stdin=stdin_arg,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=preexec_fn,
                close_fds=True,
                pass_fds=tuple(pass_fds),
            )
            self.pid = self._popen.pid
            self._stdin = self._popen.stdin
            assert self._popen.stdout is not None
            assert self._popen.stderr is not None
            out_fd, err_fd = self._popen.stdout.fileno(), self._popen.stderr.fileno()
            if hold_output:  # smallest pipe: a writer blocks as soon as we stop reading
                with contextlib.suppress(OSError):
                    fcntl.fcntl(out_fd, _F_SETPIPE_SZ, 4096)
            self._out = _Stream(out_fd, output_cap, self._notify, self._overflow)
            self._err = _Stream(err_fd, output_cap, self._notify, self._overflow)
        for pid in {self.pid, self.leader} - {0}:
            self._identity[pid] = _start_time(pid)
        if not hold_output:
            self._out.start()
        self._err.start()
        self._watch = threading.Thread(target=self._watchdog, args=(wall_s,), daemon=True)
        self._watch.start()

    # -- spawning -------------------------------------------------------------------

    def _spawn_pty(
        self,
        cwd: Path,
        env: dict[str, str],
        preexec_fn: Callable[[], None],
        executable: str | None,
        run_as: int | None,
        preexec_fds: tuple[int, ...],
    ) -> None:
        import sys

        import pexpect
        import ptyprocess  # type: ignore[import-untyped]

        class _Spawn(pexpect.spawn):  # type: ignore[misc]
            def _spawnpty(self, args: list[str], **kwargs: Any) -> Any:
                return ptyprocess.PtyProcess.spawn(args, pass_fds=preexec_fds, **kwargs)

        program = executable or self.argv[0]
        self._child = _Spawn(
            sys.executable,
            [
                "-I",
                "-S",
                "-c",
                foreground.LAUNCHER,
                "-" if run_as is None else str(run_as),
                program,
                *self.argv,
            ],
            cwd=str(cwd),
            env=env,
            preexec_fn=preexec_fn,
            dimensions=(24, 80),
            echo=False,
        )
        self.leader = int(self._child.pid)
        self.pid = self.leader
        self._pty_fd = int(self._child.child_fd)
        self.pid = foreground.child_of(self.leader, self.argv[0])

    # -- the process's end ----------------------------------------------------------

    def _overflow(self) -> None:
        self._stop(f"wrote more than {self.output_cap // 1024} KiB of output")

    def _stop(self, why: str) -> None:
        if not self.stopped_for:
            self.stopped_for = why
        self.kill_group()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _reap(self, timeout: float | None) -> Exit | None:
        if self._pty_fd is None:
            wait_exit(self.pid, timeout)  # wakes at the exit, not at a polling tick
            try:
                pid, status, usage = os.wait4(self.pid, 0 if timeout is None else os.WNOHANG)
            except ChildProcessError:
                return Exit(None, None)
            if pid == 0:
                return None
            self._rusage = usage
            self._popen.returncode = os.waitstatus_to_exitcode(status)
            return Exit.from_returncode(self._popen.returncode)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                pid, status = os.waitpid(self.leader, os.WNOHANG)
            except ChildProcessError:
                return Exit(None, None)
            if pid:
                if os.WIFSIGNALED(status):
                    return Exit(None, os.WTERMSIG(status))
                return Exit(os.WEXITSTATUS(status))
            if deadline is not None and time.monotonic() > deadline:
                return None
            time.sleep(POLL_S)  # sleep: a pty child has no blocking wait we own

    def _watchdog(self, wall_s: float) -> None:
        """Reap the process; at the wall-clock limit, or when its guard says so, kill its
        whole process group."""
        deadline = self.started + wall_s
        ended = None
        while ended is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                self._stop(f"ran longer than {wall_s:g} s of wall-clock time")
                break
            ended = self._reap(min(left, GUARD_S) if self._guard is not None else left)
            why = self._guard() if ended is None and self._guard is not None else ""
            if why:
                self._stop(why)
                break
        if ended is None:
            ended = self._reap(None)
        assert ended is not None
        if not self.stopped_for:
            self.stopped_for = self._limit_met(ended)
        # resident memory (KiB) near the address-space limit, then a failure: malloc() or
        # mmap() most likely failed for want of memory. Memory reserved but never touched is
        # not seen; ru_maxrss counts the children it waited for too; a SIGKILL is never
        # RLIMIT_AS's (but the grader's, a cgroup's OOM kill or its own)
        if (
            ended.code != 0
            and ended.signal != signal.SIGKILL
            and self._rusage is not None
            and self.limits is not None
            and self._rusage.ru_maxrss >= 0.8 * self.limits.memory_mb * 1024
        ):
            self.out_of_memory = (
                f"or a child it waited for used up its memory ({self.limits.memory_mb} MiB "
                "of address space each): from then on malloc() returns NULL and mmap() fails"
            )
        with self._cond:
            self._exit = ended
            self._cond.notify_all()

    def _limit_met(self, ended: Exit) -> str:
        """The rlimit whose signal killed it, in plain words, or ""."""
        if self.limits is None:
            return ""
        cpu = self.limits.cpu_s
        at_hard_limit = ended.signal == signal.SIGKILL and _cpu_used(self._rusage) >= cpu - 0.05
        if ended.signal == signal.SIGXCPU or at_hard_limit:
            return f"used more than {cpu:g} s of CPU"
        if ended.signal == signal.SIGXFSZ:
            if self.trace_path is not None and _size(self.trace_path) >= self.limits.file_mb << 20:
                # strace, the program's parent, writes its trace under the same limit
                return (f"made more system calls than its trace holds ({self.limits.file_mb} "
                        "MiB of strace output)")  # fmt: skip
            return f"wrote a file larger than its limit, {self.limits.file_mb} MiB (SIGXFSZ)"
        return ""

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

    def busy_s(self, window_s: float, pid: int | None = None) -> float | None:
        """How long the program (or `pid`, one of its processes) was running or ready to run
        over the next `window_s` seconds: close to the window for a process that spins,
        close to 0 for one asleep in a blocking call. Counted from /proc/PID/schedstat, so a
        busy machine does not shrink it as it shrinks CPU time. The window ends early if the
        program ends. None if the process was gone when measured."""
        from grader.inspection.tree import runnable_s

        watched = self.pid if pid is None else pid
        try:
            before = runnable_s(watched)
            self.idle(window_s)
            return runnable_s(watched) - before
        except ProcessGone:
            return None

    @property
    def stdout(self) -> bytes:
        return bytes(self._out.data)

    @property
    def stderr(self) -> bytes:
        return bytes(self._err.data)

    @property
    def output_overflowed(self) -> bool:
        return self._out.overflowed or self._err.overflowed

    def text(self, stream: str = "stdout") -> str:
        data = self.stdout if stream == "stdout" else self.stderr
        return data.decode("utf-8", errors="replace")

    def calls(self) -> tuple[Any, ...]:
        """The system calls recorded by strace (started with `trace=`), in order."""
        from grader import trace

        if self.tracer is not None:  # all of it once the program has ended
            return tuple(self.tracer.calls(2.0 if self._exit is not None else 0.0))
        return trace.read(self.trace_path) if self.trace_path is not None else ()

    def release_output(self) -> None:
        """Start reading stdout (held since start with `hold_output=True`)."""
        self._out.start()

    def send(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if self._pty_fd is not None:
            os.write(self._pty_fd, raw)
        elif self._stdin is not None:
            try:
                self._stdin.write(raw)
                self._stdin.flush()
            except BrokenPipeError:
                pass

    def close_stdin(self) -> None:
        if self._stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._stdin.close()

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
            now = _start_time(pid)
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
        stream: str = "stdout",
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
        start = time.monotonic()
        deadline = start + within_s
        if isinstance(output, str):
            output = re.compile(re.escape(output))
        if state is not None:
            predicate = _in_state(self.pid, state, predicate)

        def happened() -> bool:
            if exit and self._exit is not None:
                return True
            if eof and self._out.eof:
                return True
            if output is not None and output.search(self.text(stream)):
                return True
            if predicate is None:
                return False
            try:
                return bool(predicate())
            except ProcessGone:  # a process looked at has gone: not yet, ask again
                return False

        still = _Stillness(self) if stuck else None
        while True:
            with self._cond:
                if happened():
                    return Waited(True, time.monotonic() - start, self._exit is not None)
                left = deadline - time.monotonic()
                if left <= 0:
                    return Waited(False, within_s, self._exit is not None)
                tick = POLL_S if predicate is not None else STILL_POLL_S if still else left
                self._cond.wait(min(left, tick))
            found = still.look() if still is not None else None  # /proc, without the lock
            if found is not None and self._exit is None:
                self.hang = found
                return Waited(False, time.monotonic() - start, False, found)

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
            if stream.fd >= 0 and stream._thread is None:
                stream.start()
            stream.join(1)
        if self._pty_fd is not None:
            with contextlib.suppress(Exception):
                self._child.close(force=True)
        else:
            for f in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
                if f is not None:
                    with contextlib.suppress(OSError):
                        f.close()


class _Stillness:
    """Successive looks at a program's processes while a check waits on it: a Hang once
    they are all asleep on each other and nothing (calls, context switches, CPU ticks,
    output) has changed for the settle time the Hang asks."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._next = 0.0
        self._key: object = None
        self._since = 0.0
        self._judged: tuple[object, blocking.Hang | None] = (None, None)

    def look(self) -> blocking.Hang | None:
        now = time.monotonic()
        run = self._run
        if now < self._next or run._exit is not None:
            return None
        self._next = now + STILL_POLL_S
        waits = blocking.sample(blocking.members(run.leader or run.pid))
        key = waits and (tuple(w.fingerprint for w in waits), run._out.total, run._err.total)
        if not key or key != self._key:
            self._key, self._since = key, now
            return None
        if now - self._since < blocking.SETTLE_S:
            return None
        assert waits is not None
        company = run.company()
        if self._judged[0] != (key, company):  # judged once while nothing moves
            # the grader's own helpers are judged but not named: a terminal's launcher,
            # strace as the program's parent
            unnamed = frozenset({run.leader} if run.leader else ()) | frozenset(
                {run.pid} if run.trace_path is not None else ()
            )
            found = blocking.hang(waits, others_may_act=company, unnamed=unnamed)
            self._judged = ((key, company), found)
        found = self._judged[1]
        return found if found is not None and now - self._since >= found.settle_s else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks, or None."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def _in_state(pid: int, state: str, other: Callable[[], object] | None) -> Callable[[], object]:
    from grader import inspection

    def check() -> object:
        if other is not None and other():
            return True
        try:
            return inspection.process(pid).state == state
        except inspection.ProcessGone:
            return False

    return check


class Program:
    """A built student program, ready to start in the check's sandbox."""

    def __init__(self, name: str, path: Path, sandbox: Sandbox, source_file: str = "") -> None:
        self.name = name
        self.path = path
        self.sandbox = sandbox
        self.source_file = source_file or f"{name}.c"  # the C file it is built from

    @property
    def source(self) -> source_mod.Source:
        """The student's C source this program is built from (empty if unreadable)."""
        try:
            text = (self.path.parent / self.source_file).read_text(errors="replace")
        except OSError:
            text = ""
        return source_mod.Source(self.source_file, text)

    def start(self, *args: str, **kwargs: Any) -> Run:
        return self.sandbox.start([f"./{self.name}", *args], executable=str(self.path),
                                  name=self.name, **kwargs)  # fmt: skip

    def run(self, *args: str, input: bytes | None = None, within_s: float | None = None,
            **kwargs: Any) -> Run:  # fmt: skip
        """Start, feed `input` (then end-of-file), and wait until the program ends."""
        run = self.start(*args, stdin="pipe" if input is not None else "null", **kwargs)
        if input is not None:
            run.send(input)
            run.close_stdin()
        run.finish(within_s if within_s is not None else self.sandbox.limits.wall_s)
        return run
