"""Who holds which end of each pipe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from grader.inspection.fds import FdEntry
from grader.inspection.tree import ProcessInfo


@dataclass(frozen=True)
class PipeEnd:
    """One fd of one process on one end of a pipe."""

    pid: int
    name: str
    fd: int
    end: str  # "read" or "write"

    @property
    def label(self) -> str:
        """How a message names this end: "grep (pid 7) as fd 4"."""
        return f"{self.name} (pid {self.pid}) as fd {self.fd}"


@dataclass(frozen=True)
class Pipe:
    """An anonymous pipe and every fd that refers to it, in process then fd order."""

    inode: int
    readers: tuple[PipeEnd, ...]
    writers: tuple[PipeEnd, ...]


def pipes(
    processes: Iterable[ProcessInfo], fdtable: Mapping[int, tuple[FdEntry, ...]]
) -> dict[int, Pipe]:
    """Join the fds of `processes` by pipe inode: inode → Pipe.

    Only anonymous pipes (kind "pipe"); a named FIFO is a file and is left out. An fd open
    for reading and writing counts as both a reader and a writer. An fd whose access could
    not be read still makes its pipe appear, on neither end.
    """
    readers: dict[int, list[PipeEnd]] = {}
    writers: dict[int, list[PipeEnd]] = {}
    for proc in processes:
        for entry in fdtable.get(proc.pid, ()):
            if entry.kind != "pipe" or entry.inode is None:
                continue
            readers.setdefault(entry.inode, [])
            writers.setdefault(entry.inode, [])
            if "r" in entry.access:
                readers[entry.inode].append(PipeEnd(proc.pid, proc.name, entry.fd, "read"))
            if "w" in entry.access:
                writers[entry.inode].append(PipeEnd(proc.pid, proc.name, entry.fd, "write"))
    return {inode: Pipe(inode, tuple(readers[inode]), tuple(writers[inode])) for inode in readers}
