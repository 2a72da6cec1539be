"""A control group per grade, as root: memory (shared memory and tmpfs included) and a
process count that hold for every process of the grade, root or not, setsid or not.

cgroup v1 (a hierarchy per controller, as on this project's machine) and v2 (one unified
hierarchy, where the grader's own cgroup must delegate the memory and pids controllers)
are both read from /proc/self/mountinfo and /proc/self/cgroup. Where neither is usable the
grade goes on without, and the report says so.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from grader.pids import signal_if

_CONTROLLERS = ("memory", "pids")
_counter = itertools.count()


@dataclass(frozen=True)
class Hierarchies:
    """Where this grader may make its cgroups: a folder per controller (v1) or one (v2)."""

    version: int
    parents: dict[str, Path]  # controller -> the grader's own cgroup folder in it


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fstype, super options) of every cgroup file system."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            dash = fields.index("-")
            fstype, options = fields[dash + 1], set(fields[dash + 3].split(","))
            if fstype in ("cgroup", "cgroup2"):
                found.append((fields[4], fstype, options))
    return found


def _own_paths() -> dict[str, str]:
    """The grader's own cgroup in each hierarchy: {"memory": "/a/b", "": "/" (v2)}."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            for name in names.split(",") if names else [""]:
                own[name] = path
    return own


def find() -> tuple[Hierarchies | None, str]:
    """The hierarchies to use, or None and why not (as root only)."""
    if os.geteuid() != 0:
        return None, "not root: no control group of its own for the grade"
    own = _own_paths()
    mounts = _mounts()
    v1 = {
        c: Path(point) / own.get(c, "/").lstrip("/")
        for point, fstype, options in mounts
        if fstype == "cgroup"
        for c in _CONTROLLERS
        if c in options
    }
    if set(v1) == set(_CONTROLLERS) and all(os.access(p, os.W_OK) for p in v1.values()):
        return Hierarchies(1, v1), ""
    for point, fstype, _ in mounts:
        if fstype != "cgroup2":
            continue
        mine = Path(point) / own.get("", "/").lstrip("/")
        try:
            delegated = set((mine / "cgroup.subtree_control").read_text().split())
        except OSError:
            continue
        if set(_CONTROLLERS) <= delegated:
            return Hierarchies(2, dict.fromkeys(_CONTROLLERS, mine)), ""
        return None, (
            f"cgroup v2: the grader's cgroup {mine} does not delegate the memory and pids "
            "controllers (run it in a cgroup whose cgroup.subtree_control has +memory +pids)"
        )
    return None, "no memory and pids cgroup controllers are mounted"


class GradeGroup:
    """The cgroups of one grade, made, joined, emptied and removed by the host.

    `ipcgrade-<pid>-<n>/` caps the tasks of the whole grade; under it, `grader/` holds
    the worker and `students/` every student process, with the memory limit: when the
    students' memory runs out, the kernel kills a student process, never the worker.
    The worker joins `grader/` before it starts anything; each student process joins
    `students/` between fork and exec, through a descriptor the host opened.
    """

    def __init__(self, where: Hierarchies, memory_mb: int, tasks: int) -> None:
        self.where = where
        self.memory_mb = memory_mb
        self.tasks = tasks
        name = f"ipcgrade-{os.getpid()}-{next(_counter)}"
        self.tops = list(dict.fromkeys(parent / name for parent in where.parents.values()))
        made: list[Path] = []
        try:
            for top in self.tops:
                for folder in (top, top / "grader", top / "students"):
                    folder.mkdir()
                    made.append(folder)
                if where.version == 2:
                    (top / "cgroup.subtree_control").write_text("+memory +pids")
            memory = self.folder("memory", "students")
            limit = str(memory_mb * 2**20)
            if where.version == 1:
                (memory / "memory.limit_in_bytes").write_text(limit)
                with contextlib.suppress(OSError):  # only with swap accounting
                    (memory / "memory.memsw.limit_in_bytes").write_text(limit)
            else:
                (memory / "memory.max").write_text(limit)
                with contextlib.suppress(OSError):
                    (memory / "memory.swap.max").write_text("0")
            (self.folder("pids") / "pids.max").write_text(str(tasks))
        except OSError:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        self._fds: list[int] = []

    @classmethod
    def existing(cls, where: Hierarchies, name: str) -> GradeGroup:
        """The cgroups `name` made earlier (by a grader now dead), to be removed."""
        group = cls.__new__(cls)
        group.where, group.memory_mb, group.tasks, group._fds = where, 0, 0, []
        group.tops = list(dict.fromkeys(parent / name for parent in where.parents.values()))
        return group

    def folder(self, controller: str, sub: str = "") -> Path:
        top = self.where.parents[controller] / self.tops[0].name
        return top / sub if sub else top

    @property
    def oom_file(self) -> Path:
        """Where the kernel counts the student processes it killed for want of memory."""
        name = "memory.oom_control" if self.where.version == 1 else "memory.events"
        return self.folder("memory", "students") / name

    def open(self, sub: str) -> list[int]:
        """Descriptors on `sub`'s cgroup.procs in every hierarchy, for a child to join."""
        fds = [os.open(top / sub / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for top in self.tops]
        self._fds += fds
        return fds

    def close(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    def pids(self) -> set[int]:
        found: set[int] = set()
        for top in self.tops:
            for sub in ("", "grader", "students"):
                with contextlib.suppress(OSError, ValueError):
                    found.update(int(p) for p in (top / sub / "cgroup.procs").read_text().split())
        return found

    def kill_all(self, within_s: float = 5.0) -> None:
        """SIGKILL every process in the grade's cgroups until none is left (daemons too)."""
        deadline = time.monotonic() + within_s
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                signal_if(pid, signal.SIGKILL, self.holds)
            time.sleep(0.002)  # sleep: killed processes leave the cgroup when reaped

    def holds(self, pid: int) -> bool:
        """Whether process `pid` is in one of the grade's cgroups (/proc/PID/cgroup)."""
        name = self.tops[0].name
        try:
            text = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            return False
        return any(name in line.rsplit(":", 1)[-1].split("/") for line in text.splitlines())

    def remove(self, within_s: float = 5.0) -> None:
        self.close()
        self.kill_all(within_s)
        deadline = time.monotonic() + within_s
        for top in self.tops:
            for folder in (top / "grader", top / "students", top):
                while True:
                    try:
                        folder.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        if e.errno != errno.EBUSY or time.monotonic() > deadline:
                            break
                        time.sleep(0.002)  # sleep: the last task is being released


def remove_stale(where: Hierarchies) -> None:
    """Kill and remove the cgroups of graders that died without cleaning up (SIGKILL)."""
    for parent in dict.fromkeys(where.parents.values()):
        try:
            names = [e.name for e in os.scandir(parent) if e.is_dir()]
        except OSError:
            continue
        for name in names:
            match = re.fullmatch(r"ipcgrade-(\d+)-\d+", name)
            if match and not os.path.exists(f"/proc/{match[1]}"):
                GradeGroup.existing(where, name).remove()


def join(fds: list[int] | tuple[int, ...]) -> None:
    """In a child after fork: move this very process into the cgroups (write "0")."""
    for fd in fds:
        os.write(fd, b"0")


def read_oom_kills(path: Path) -> int:
    """The `oom_kill N` line of memory.oom_control (v1) or memory.events (v2); 0 if none."""
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0
