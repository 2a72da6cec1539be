"""The system calls a student program made, seen with strace: which, with what, in order.

strace (Debian's package) is the tracer: maintained, it follows forks and decodes the IPC
calls' arguments. Where it is missing, `available()` says so and checks that need a trace
are skipped with that reason, never passed.

Where the worker may trace its students (root, or root of the grade's user namespace), the
tracer is not theirs: the program stops itself before its exec, strace attaches to it from
outside as the worker (`Tracer`), and writes to a file in memory that no path leads to. A
student program cannot write into its own trace; one that kills its tracer (where it shares
the tracer's uid) or resumes before strace attaches gets TraceIncomplete, which fails the
check. Elsewhere (students are the user) strace starts the program as its parent (`wrap`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grader import requirements

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>.+)$")
_UNFINISHED = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\s+<unfinished \.\.\.>$")
_RESUMED = re.compile(
    r"^(?P<pid>\d+)\s+<\.\.\. (?P<name>\w+) resumed>(?P<args>.*)\)\s+=\s+(?P<result>.+)$"
)
MISSING = requirements.reason(["strace"], "to see the system calls your program makes")


@dataclass(frozen=True)
class Call:
    pid: int
    name: str
    args: str
    result: str

    @property
    def failed(self) -> bool:
        return self.result.startswith("-1")

    def describe(self) -> str:
        return f"{self.name}({self.args}) = {self.result}"


def available() -> str | None:
    """The path of strace, or None."""
    return shutil.which("strace")


def wrap(argv: Sequence[str], executable: str | None, out: Path, calls: Sequence[str]) -> list[str]:
    """The command line that runs `argv` under strace, writing the trace to `out`."""
    strace = available()
    if strace is None:
        raise FileNotFoundError(MISSING)
    program = executable or argv[0]
    return [strace, "-f", "-qq", "-o", str(out), "-e", "trace=" + ",".join(calls), "--",
            program, *argv[1:]]  # fmt: skip


def read(path: Path) -> tuple[Call, ...]:
    """The calls in a trace file, in order; an unfinished call is joined with its end."""
    try:
        return parse(path.read_text(errors="replace"))
    except OSError:
        return ()


def parse(text: str) -> tuple[Call, ...]:
    """The calls in strace's output, in order; an unfinished call is joined with its end."""
    calls: list[Call] = []
    pending: dict[tuple[int, str], str] = {}
    for line in text.splitlines():
        if m := _CALL.match(line):
            calls.append(Call(int(m["pid"]), m["name"], m["args"], m["result"].strip()))
        elif m := _UNFINISHED.match(line):
            pending[(int(m["pid"]), m["name"])] = m["args"]
        elif m := _RESUMED.match(line):
            head = pending.pop((int(m["pid"]), m["name"]), "")
            calls.append(Call(int(m["pid"]), m["name"], head + m["args"], m["result"].strip()))
    return tuple(calls)


# Runs first as the student's program: stops itself, and once resumed (under strace) execs it.
_STOP_THEN_EXEC = ("/bin/sh", "-c", 'kill -STOP $$ && exec "$@"', "sh")


def stopped_before_exec(argv: Sequence[str], executable: str | None) -> list[str]:
    """The command line that runs `argv`, stopped before its exec until `Tracer` attaches."""
    return [*_STOP_THEN_EXEC, executable or argv[0], *argv[1:]]


class TraceError(RuntimeError):
    """strace could not attach to a student program."""


class TraceIncomplete(AssertionError):
    """strace did not see the program from its exec to its end: its calls cannot be judged.

    An AssertionError: the check fails with this message (a program that resumed itself
    before strace attached, or killed its tracer, which students can where they share its
    uid)."""


_ENDED = re.compile(r"^(?P<pid>\d+)\s+\+\+\+ (exited with|killed by) ")


class Tracer:
    """strace attached from outside to a program started with `stopped_before_exec`.

    The trace is complete only if strace saw the program's exec first and its end last:
    `calls()` says so, or raises TraceIncomplete.
    """

    def __init__(
        self,
        pid: int,
        calls: Sequence[str],
        within_s: float = 10.0,
        failing_execs: Sequence[str] = (),
    ) -> None:
        """Attach to `pid`; an exec of one of `failing_execs` (paths as the program spells
        them) fails with ENOENT, injected by strace, whatever exec call the program used."""
        strace = available()
        if strace is None:
            raise FileNotFoundError(MISSING)
        self.pid = pid
        self._asked = frozenset(calls)
        self._ended = False  # strace has been waited for, once
        # in memory (not the grade's /tmp, which students may fill), no path leads to them;
        # strace may write at most MAX_TRACE bytes there (RLIMIT_FSIZE); closed by close()
        self._files: list[IO[bytes]] = []
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self._out = self._memory_file("ipcgrade-trace")
            self._err = self._memory_file("ipcgrade-strace-errors")
            self._attach(strace, calls, within_s, tuple(failing_execs))
        except BaseException:
            self.close()
            raise

    def _attach(
        self, strace: str, calls: Sequence[str], within_s: float, failing: tuple[str, ...]
    ) -> None:
        pid, fd = self.pid, self._out.fileno()
        # -P keeps only the calls naming these paths: the failing execs, and the end lines
        inject = ["-e", "inject=execve:error=ENOENT", *(a for p in failing for a in ("-P", p))]
        if not _within(within_s, lambda: _state(pid) in ("T", "")) or _state(pid) != "T":
            raise TraceError(f"pid {pid} did not stop before its exec")
        # -q, not -qq: strace notes each process's end ("+++ exited with 0 +++")
        self.proc = proc = subprocess.Popen(
            [strace, "-f", "-q", "-o", f"/proc/self/fd/{fd}",
             "-e", "trace=" + ",".join({*calls, "execve"}), *(inject if failing else ()),
             "-p", str(pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._err,
            pass_fds=(fd,), preexec_fn=_cap_trace,
        )  # fmt: skip

        # once seized, the stopped program is in a tracing stop ("t") with strace as its
        # tracer: from then on strace decides when it runs, and sees its exec after SIGCONT
        def seized() -> bool:
            return proc.poll() is not None or (_state(pid) == "t" and _tracer(pid) == proc.pid)

        if not _within(within_s, seized):
            raise TraceError(f"strace did not attach to pid {pid} within {within_s:g} s")
        if proc.poll() is not None:
            self._err.seek(0)
            said = self._err.read(2000).decode(errors="replace").strip()
            raise TraceError(f"strace could not attach to pid {pid}: {said}")
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            raise TraceError(f"pid {pid} ended before it could be traced") from None

    def calls(self, within_s: float = 0.0) -> tuple[Call, ...]:
        """The calls so far; after waiting (once) up to `within_s` for strace to end (it
        ends when the last traced process has, having written everything), all of them.

        Raises TraceIncomplete where strace did not see the program's exec, or has ended
        without seeing the program's end.
        """
        assert self.proc is not None
        if within_s > 0 and not self._ended:
            self._ended = True
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(within_s)
        strace_ended = self.proc.poll() is not None  # before reading: all it wrote is there
        if self.proc.returncode == -signal.SIGXFSZ:
            raise TraceIncomplete(
                f"your program made more system calls than the grader records (more than "
                f"{MAX_TRACE // 2**20} MiB of trace): they cannot be judged"
            )
        self._out.seek(0)
        text = self._out.read().decode(errors="replace")
        found = parse(text)
        mine = [c for c in found if c.pid == self.pid]
        if mine and mine[0].name != "execve":
            raise TraceIncomplete(
                f"strace did not see your program (pid {self.pid}) from its start: something "
                "resumed it before its tracer attached, so its system calls cannot be judged"
            )
        ended = any(int(m["pid"]) == self.pid for m in map(_ENDED.match, text.splitlines()) if m)
        if strace_ended and not ended:
            raise TraceIncomplete(
                f"strace, which records your program's system calls, ended before your "
                f"program (pid {self.pid}) did (status {self.proc.returncode}): its system "
                "calls cannot be judged"
            )
        return tuple(c for c in found if c.name != "execve" or "execve" in self._asked)

    def _memory_file(self, name: str) -> IO[bytes]:
        f = os.fdopen(os.memfd_create(name), "w+b")
        self._files.append(f)
        return f

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        for f in self._files:
            f.close()


MAX_TRACE = 64 * 2**20  # bytes of strace output per traced program


def _cap_trace() -> None:
    """In strace, before its exec: a write past MAX_TRACE kills it (SIGXFSZ)."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_TRACE, MAX_TRACE))


def _tracer(pid: int) -> int:
    """The pid of the process's tracer (0: none), from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _state(pid: int) -> str:
    """The process's state letter ("T" stopped, "t" stopped by its tracer), "" once gone."""
    from grader.pids import stat_fields

    fields = stat_fields(pid)
    return fields[0].decode() if fields else ""


def _within(within_s: float, happened: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + within_s
    while not happened():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)  # sleep: polling interval of an event wait (a state change)
    return True
