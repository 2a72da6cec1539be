"""A look inside live processes: their tree, their fds and their pipes, at one moment."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from grader.inspection import blocking, ipc, memory, sockets
from grader.inspection.fds import FdEntry, fds
from grader.inspection.pipes import Pipe, PipeEnd
from grader.inspection.pipes import pipes as _join_pipes
from grader.inspection.signals import SignalMasks, signal_masks
from grader.inspection.tree import (
    ProcessGone,
    ProcessInfo,
    all_processes,
    in_session,
    process,
    runnable_s,
    still_running,
    tree,
)

__all__ = [
    "FdEntry",
    "Pipe",
    "PipeEnd",
    "ProcessGone",
    "ProcessInfo",
    "SignalMasks",
    "Snapshot",
    "all_processes",
    "blocking",
    "fds",
    "in_session",
    "ipc",
    "memory",
    "process",
    "runnable_s",
    "signal_masks",
    "snapshot",
    "sockets",
    "still_running",
    "tree",
]


@dataclass(frozen=True)
class Snapshot:
    """Processes and their fds as read at `taken_at`; nothing here changes afterwards."""

    processes: tuple[ProcessInfo, ...]
    fds: Mapping[int, tuple[FdEntry, ...]]  # pid → its fds; () when unreadable
    taken_at: float  # time.monotonic(), to order snapshots and measure between them
    _pipes: Mapping[int, Pipe] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # frozen: copy what the caller handed in, so later changes to it cannot leak in
        object.__setattr__(self, "processes", tuple(self.processes))
        object.__setattr__(self, "fds", MappingProxyType(dict(self.fds)))
        object.__setattr__(self, "_pipes", MappingProxyType(_join_pipes(self.processes, self.fds)))

    @property
    def pipes(self) -> dict[int, Pipe]:
        """Every anonymous pipe held by these processes: inode → Pipe."""
        return dict(self._pipes)

    def process(self, pid: int) -> ProcessInfo | None:
        return next((p for p in self.processes if p.pid == pid), None)

    def named(self, name: str) -> tuple[ProcessInfo, ...]:
        """The processes whose command name is `name`, e.g. "grep"."""
        return tuple(p for p in self.processes if p.name == name)

    def children(self, pid: int) -> tuple[ProcessInfo, ...]:
        """The direct children of `pid` among these processes."""
        return tuple(p for p in self.processes if p.ppid == pid and p.pid != pid)

    def fd(self, pid: int, n: int) -> FdEntry | None:
        return next((e for e in self.fds.get(pid, ()) if e.fd == n), None)

    def pipe(self, inode: int) -> Pipe | None:
        return self._pipes.get(inode)

    def pipe_into(self, name: str) -> Pipe | None:
        """The pipe read on fd 0 by the first process named `name` whose fd 0 is a pipe."""
        for proc in self.named(name):
            stdin = self.fd(proc.pid, 0)
            if stdin is not None and stdin.kind == "pipe" and stdin.inode is not None:
                return self.pipe(stdin.inode)
        return None

    def holders(self, inode: int, end: str) -> tuple[PipeEnd, ...]:
        """Who holds the `end` ("read" or "write") of pipe `inode`."""
        if end not in ("read", "write"):
            raise ValueError(f'end must be "read" or "write", not {end!r}')
        found = self.pipe(inode)
        if found is None:
            return ()
        return found.readers if end == "read" else found.writers


def snapshot(root: int | None = None, *, pids: Iterable[int] | None = None) -> Snapshot:
    """Read processes and their fds: the tree under `root`, the given `pids`, or every process.

    A process whose fds cannot be read gets (); one that exits while we look is left out.

    Raises:
        ProcessGone: `root` is gone.
        ValueError: both `root` and `pids` were given.
    """
    if root is not None and pids is not None:
        raise ValueError("give snapshot() a root or pids, not both")
    taken_at = time.monotonic()
    if root is not None:
        procs = tree(root)
    elif pids is not None:
        procs = tuple(_present(pids))
    else:
        procs = all_processes()
    return Snapshot(
        processes=procs, fds={p.pid: _fds_or_none(p.pid) for p in procs}, taken_at=taken_at
    )


def _present(pids: Iterable[int]) -> Iterable[ProcessInfo]:
    for pid in pids:
        try:
            yield process(pid)
        except ProcessGone:
            continue


def _fds_or_none(pid: int) -> tuple[FdEntry, ...]:
    try:
        return fds(pid)
    except ProcessGone:
        return ()
