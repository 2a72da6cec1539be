"""Evidence for a failed check, built from the inspection's frozen data.

Inspection returns data (a Snapshot, SignalMasks, Calls, Mappings); this module is the one
place that turns it into results.Evidence: the table every renderer can show and, beside
it, the data it came from (ProcessRow and FdRow for processes, fds and pipes; plain JSON in
`data` for the other kinds) for a renderer that draws. A check passes what it found here
and never flattens it to strings itself.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from grader.inspection import FdEntry, ProcessInfo, SignalMasks, Snapshot
from grader.inspection.blocking import Wait
from grader.inspection.ipc import MessageQueue, SemaphoreSet, SharedSegment
from grader.inspection.memory import Mapping as MemoryMapping
from grader.results import Evidence, FdRow, ProcessRow
from grader.trace import Call, TraceIncomplete

__all__ = [
    "MAX_CALLS",
    "calls",
    "calls_of",
    "fds",
    "ipc",
    "maps",
    "pipes",
    "process_list",
    "processes",
    "signals",
    "table",
    "text",
    "waiting",
]

MAX_CALLS = 40  # calls shown (and kept in data): a trace can hold thousands


def _fd_row(e: FdEntry) -> FdRow:
    return FdRow(fd=e.fd, kind=e.kind, target=e.target, access=e.access, inode=e.inode,
                 end=e.end)  # fmt: skip


def _process_row(p: ProcessInfo, entries: Iterable[FdEntry] = ()) -> ProcessRow:
    return ProcessRow(pid=p.pid, ppid=p.ppid, name=p.name, state=p.state,
                      fds=tuple(_fd_row(e) for e in entries))  # fmt: skip


def _rows_of(snapshot: Snapshot) -> tuple[ProcessRow, ...]:
    return tuple(_process_row(p, snapshot.fds.get(p.pid, ())) for p in snapshot.processes)


def processes(snapshot: Snapshot, title: str = "processes") -> Evidence:
    """The process table, with each process's descriptors in one cell, and every fd as
    data: pid, parent, state, and each fd's pipe inode and end."""
    rows = tuple(
        (str(p.pid), str(p.ppid), p.name, p.state,
         "; ".join(e.describe() for e in snapshot.fds.get(p.pid, ())))
        for p in snapshot.processes
    )  # fmt: skip
    return Evidence(
        title=title,
        columns=("pid", "ppid", "program", "state", "descriptors"),
        rows=rows,
        kind="processes",
        processes=_rows_of(snapshot),
    )


def process_list(procs: Sequence[ProcessInfo], title: str = "processes") -> Evidence:
    """Processes without their descriptors, with the CPU time each has used."""
    rows = tuple((str(p.pid), str(p.ppid), p.name, p.state, f"{p.cpu_s:.2f} s") for p in procs)
    return Evidence(
        title=title,
        columns=("pid", "ppid", "program", "state", "CPU"),
        rows=rows,
        kind="processes",
        processes=tuple(_process_row(p) for p in procs),
        data={"cpu_s": {str(p.pid): p.cpu_s for p in procs}},
    )


def fds(snapshot: Snapshot, pid: int) -> Evidence:
    """The fd table of one process."""
    proc = snapshot.process(pid)
    who = proc.label if proc is not None else f"pid {pid}"
    entries = snapshot.fds.get(pid, ())
    rows = tuple((str(e.fd), e.kind, e.target, e.access or "?") for e in entries)
    return Evidence(
        title=f"file descriptors of {who}",
        columns=("fd", "kind", "target", "access"),
        rows=rows,
        kind="fds",
        processes=(_process_row(proc, entries),) if proc is not None else (),
        data={"pid": pid},
    )


def pipes(snapshot: Snapshot, title: str = "pipes") -> Evidence:
    """Each anonymous pipe, who holds its write ends and who its read ends."""

    def ends(found: Iterable[Any]) -> str:
        return ", ".join(e.label for e in found) or "nobody"

    rows = tuple(
        (str(inode), ends(p.writers), ends(p.readers))
        for inode, p in sorted(snapshot.pipes.items())
    )
    return Evidence(
        title=title,
        columns=("pipe", "write ends", "read ends"),
        rows=rows,
        kind="pipes",
        processes=_rows_of(snapshot),
    )


def calls(found: Sequence[Call], title: str = "system calls your program made") -> Evidence:
    """The system calls a trace saw, in order (the first MAX_CALLS)."""
    shown = found[:MAX_CALLS]
    return Evidence(
        title=title,
        columns=("pid", "call"),
        rows=tuple((str(c.pid), c.describe()) for c in shown),
        kind="calls",
        data={
            "calls": [
                {"pid": c.pid, "name": c.name, "args": c.args, "result": c.result} for c in shown
            ],
            "total": len(found),
        },
    )


class _Traced(Protocol):
    def calls(self) -> tuple[Call, ...]: ...


def calls_of(*runs: _Traced, names: Sequence[str] = ()) -> list[Evidence]:
    """The calls the `runs` made (only `names` if given), as evidence; [] without a trace."""
    found: list[Call] = []
    for run in runs:
        try:
            found += [c for c in run.calls() if not names or c.name in names]
        except TraceIncomplete:  # evidence for another failure: not the trace's own
            continue
    return [calls(found)] if found else []


def signals(masks: SignalMasks, names: Sequence[str], title: str | None = None) -> Evidence:
    """How the process would take each signal of `names`: caught, ignored, blocked, default."""
    dispositions = {name: masks.disposition(name) for name in names}
    return Evidence(
        title=title or f"signal dispositions of pid {masks.pid}",
        columns=("signal", "disposition"),
        rows=tuple(dispositions.items()),
        kind="signals",
        data={
            "pid": masks.pid,
            "dispositions": dispositions,
            "caught": sorted(masks.caught),
            "blocked": sorted(masks.blocked),
            "ignored": sorted(masks.ignored),
            "pending": sorted(masks.pending),
        },
    )


_STATES = {"S": "S (sleeping)", "R": "R (running)", "D": "D (disk sleep)", "T": "T (stopped)"}


def _mask_names(mask: int) -> list[str]:
    return [s.name for s in sorted(_signal.Signals) if mask >> (s - 1) & 1]


def waiting(w: Wait, title: str | None = None) -> Evidence:
    """Where one process is: its state, the call it sleeps in, its kernel function, the
    signals it blocks."""
    blocked = _mask_names(w.blocked_signals)
    rows = (
        ("state", _STATES.get(w.state, w.state)),
        ("system call", w.call or "(none)"),
        ("kernel function (wchan)", w.wchan or "(unknown)"),
        ("blocked signals", ", ".join(blocked) or "(none)"),
    )
    return Evidence(
        title=title or f"where pid {w.pid} is",
        columns=("", "now"),
        rows=rows,
        kind="signals",
        data={"pid": w.pid, "state": w.state, "call": w.call, "wchan": w.wchan, "blocked": blocked},
    )


def ipc(
    queues: Iterable[MessageQueue] = (),
    segments: Iterable[SharedSegment] = (),
    sets: Iterable[SemaphoreSet] = (),
    title: str = "System V IPC objects",
) -> Evidence:
    """System V objects: each queue, shared memory segment and semaphore set."""
    rows: list[tuple[str, ...]] = []
    data: list[dict[str, Any]] = []
    for q in queues:
        rows.append(("queue", f"{q.key:#x}", str(q.id), f"{q.mode:04o}",
                     f"{q.messages} message(s), {q.bytes} bytes"))  # fmt: skip
        data.append({"type": "queue", "key": q.key, "id": q.id, "mode": q.mode,
                     "messages": q.messages, "bytes": q.bytes})  # fmt: skip
    for s in segments:
        rows.append(("shared memory", f"{s.key:#x}", str(s.id), f"{s.mode:04o}",
                     f"{s.size} bytes, {s.attached} attached"))  # fmt: skip
        data.append({"type": "shared memory", "key": s.key, "id": s.id, "mode": s.mode,
                     "size": s.size, "attached": s.attached})  # fmt: skip
    for m in sets:
        rows.append(("semaphores", f"{m.key:#x}", str(m.id), f"{m.mode:04o}",
                     f"{m.count} semaphore(s)"))  # fmt: skip
        data.append({"type": "semaphores", "key": m.key, "id": m.id, "mode": m.mode,
                     "count": m.count})  # fmt: skip
    return Evidence(
        title=title,
        columns=("object", "key", "id", "mode", "holds"),
        rows=tuple(rows),
        kind="ipc",
        data={"objects": data},
    )


def maps(
    held: Mapping[int, Iterable[MemoryMapping]],
    names: Mapping[int, str],
    title: str = "shared writable mappings",
) -> Evidence:
    """The mappings of several processes (pid → its mappings), and which of them map the
    same memory (same identity: one file, segment or shared anonymous page)."""
    by_pid = {pid: list(ms) for pid, ms in held.items()}
    sharers: dict[tuple[str, int], list[int]] = {}
    for pid, ms in by_pid.items():
        for m in ms:
            sharers.setdefault(m.identity, []).append(pid)

    def mapped_by(m: MemoryMapping) -> str:
        n = len(set(sharers[m.identity]))
        if n == 1:
            return "only this one"
        if n == len(by_pid):
            return "both" if n == 2 else "all"
        return f"{n} of them"

    rows = tuple(
        (names.get(pid, f"pid {pid}"), f"{m.describe()}, inode {m.inode}", mapped_by(m))
        for pid, ms in by_pid.items()
        for m in ms
    )
    data = [
        {"pid": pid, "start": m.start, "end": m.end, "perms": m.perms, "path": m.path,
         "device": m.device, "inode": m.inode, "mapped_by": sorted(set(sharers[m.identity]))}
        for pid, ms in by_pid.items()
        for m in ms
    ]  # fmt: skip
    return Evidence(
        title=title,
        columns=("process", "mapping", "mapped by"),
        rows=rows,
        kind="maps",
        data={"maps": data},
    )


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    data: Mapping[str, Any] | None = None,
) -> Evidence:
    """Any other table: its cells become strings."""
    return Evidence(
        title=title,
        columns=tuple(columns),
        rows=tuple(tuple(str(c) for c in r) for r in rows),
        kind="table",
        data=dict(data or {}),
    )


def text(title: str, body: str) -> Evidence:
    """A text: a trace, a file's bytes."""
    return Evidence(title=title, text=body, kind="text")
