"""The system calls a student program made, seen with strace: which, with what, in order.

strace (Debian's package) is the tracer: maintained, it follows forks and decodes the IPC
calls' arguments. Where it is missing, `available()` says so and checks that need a trace
are skipped with that reason, never passed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.results import Evidence

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>.+)$")
_UNFINISHED = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\s+<unfinished \.\.\.>$")
_RESUMED = re.compile(
    r"^(?P<pid>\d+)\s+<\.\.\. (?P<name>\w+) resumed>(?P<args>.*)\)\s+=\s+(?P<result>.+)$"
)
MISSING = "needs strace to see the system calls your program makes (apt install strace)"


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
    calls: list[Call] = []
    pending: dict[tuple[int, str], str] = {}
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ()
    for line in lines:
        if m := _CALL.match(line):
            calls.append(Call(int(m["pid"]), m["name"], m["args"], m["result"].strip()))
        elif m := _UNFINISHED.match(line):
            pending[(int(m["pid"]), m["name"])] = m["args"]
        elif m := _RESUMED.match(line):
            head = pending.pop((int(m["pid"]), m["name"]), "")
            calls.append(Call(int(m["pid"]), m["name"], head + m["args"], m["result"].strip()))
    return tuple(calls)


def calls_of(*runs: Any, names: Sequence[str] = ()) -> list[Evidence]:
    """The calls the `runs` made (only `names` if given), as evidence; [] without a trace."""
    calls = [c for r in runs for c in r.calls() if not names or c.name in names]
    return [evidence(calls)] if calls else []


def evidence(calls: Sequence[Call], title: str = "system calls your program made") -> Evidence:
    rows = tuple((str(c.pid), c.describe()) for c in calls[:40])
    return Evidence(title=title, columns=("pid", "call"), rows=rows)
