"""What the sandbox stopped, and why, in plain words: every sentence of it is here.

The Run layer stops a program at a limit (its wall clock, its output, its process count) and
the kernel at an rlimit (CPU, file size, memory); a check's result then names the program,
its pid and the limit, in the words below, never in a signal's name alone.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.results import SandboxAction

if TYPE_CHECKING:
    from grader.catalog import Limits


class Ending(Protocol):
    """How a process ended (a reaping.Exit)."""

    @property
    def code(self) -> int | None: ...
    @property
    def signal(self) -> int | None: ...


class Stopped(Protocol):
    """A program as the sandbox saw it end (a process.Run)."""

    name: str
    pid: int
    stopped_for: str
    out_of_memory: str


def wall_clock(wall_s: float) -> str:
    return f"ran longer than {wall_s:g} s of wall-clock time"


def too_much_output(cap_bytes: int) -> str:
    return f"wrote more than {cap_bytes // 1024} KiB of output"


def too_many_processes(limit: int) -> str:
    return f"ran more than {limit} processes at once"


def _cpu_used(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime) if usage is not None else 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def limit_met(ended: Ending, usage: Any, limits: Limits | None, trace_path: Path | None) -> str:
    """The rlimit whose signal killed the program, in plain words, or ""."""
    if limits is None:
        return ""
    cpu = limits.cpu_s
    at_hard_limit = ended.signal == signal.SIGKILL and _cpu_used(usage) >= cpu - 0.05
    if ended.signal == signal.SIGXCPU or at_hard_limit:
        return f"used more than {cpu:g} s of CPU"
    if ended.signal == signal.SIGXFSZ:
        if trace_path is not None and _size(trace_path) >= limits.file_mb << 20:
            # strace, the program's parent, writes its trace under the same limit
            return (f"made more system calls than its trace holds ({limits.file_mb} "
                    "MiB of strace output)")  # fmt: skip
        return f"wrote a file larger than its limit, {limits.file_mb} MiB (SIGXFSZ)"
    return ""


def out_of_memory(ended: Ending, usage: Any, limits: Limits | None) -> str:
    """What a program that ended badly with its memory near its limit most likely met, or "".

    Resident memory (KiB) near the address-space limit, then a failure: malloc() or mmap()
    most likely failed for want of memory. Memory reserved but never touched is not seen;
    ru_maxrss counts the children it waited for too; a SIGKILL is never RLIMIT_AS's (but
    the grader's, a cgroup's OOM kill or its own).
    """
    if (
        ended.code != 0
        and ended.signal != signal.SIGKILL
        and usage is not None
        and limits is not None
        and usage.ru_maxrss >= 0.8 * limits.memory_mb * 1024
    ):
        return (
            f"or a child it waited for used up its memory ({limits.memory_mb} MiB "
            "of address space each): from then on malloc() returns NULL and mmap() fails"
        )
    return ""


def reason(stopped_for: str) -> str:
    """Which limit a Run's `stopped_for` (the words above) is about."""
    for words, why in (("CPU", "cpu"), ("wall-clock", "wall"), ("output", "output"),
                       ("file larger", "output"), ("system calls", "output"),
                       ("processes", "processes"), ("memory", "memory")):  # fmt: skip
        if words in stopped_for:
            return why
    return "wall"


def actions(
    runs: Sequence[Stopped],
    full: Sequence[str],
    tmpfs_mb: int,
    oom_killed: int,
    grade_memory_mb: int,
) -> list[SandboxAction]:
    """What the sandbox stopped or killed during a check, each in plain words."""
    said = [SandboxAction("stopped", reason(r.stopped_for),
                          f"the sandbox stopped {r.name} (pid {r.pid}): it {r.stopped_for}",
                          r.pid, r.name)
            for r in runs if r.stopped_for]  # fmt: skip
    said += [SandboxAction("stopped", "memory", f"{r.name} (pid {r.pid}) {r.out_of_memory}",
                           r.pid, r.name)
             for r in runs if r.out_of_memory and not r.stopped_for]  # fmt: skip
    said += [SandboxAction("filled", "tmpfs",
                           f"the grade's {mount} filled up: it holds {tmpfs_mb} MiB (the "
                           "grader's own files included), and writes past that fail with "
                           "No space left on device")
             for mount in full]  # fmt: skip
    if oom_killed > 0:
        said.append(SandboxAction("oom-killed", "oom",
            f"the kernel killed {oom_killed} of its processes for want of memory: a grade "
            f"may use {grade_memory_mb} MiB in all, /tmp and shared memory included",
        ))  # fmt: skip
    return said


def outliving(named: Sequence[str], ended: Sequence[str]) -> str:
    """The warning for processes still running after every program of the check ended by
    itself: `named` as "sleep (pid 7)", `ended` the programs' names."""
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    programs = " and ".join(sorted(set(ended)))
    if len(named) == 1:
        what = f"{named[0]} was still running after {programs} ended: the grader killed it"
    else:
        what = (f"{len(named)} processes were still running after {programs} ended "
                f"({', '.join(named[:5])}{more}): the grader killed them")  # fmt: skip
    return f"{what}. A program should wait() for every child it starts, so that none outlives it"


def build_stopped(stopped_for: str) -> str:
    """The line a build's log ends with when the sandbox stopped the compiler."""
    return f"\n(the build was stopped: it {stopped_for})"
