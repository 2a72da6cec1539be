"""File descriptors: what each open fd of a process points at, read from /proc/PID/fd."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from grader.inspection.tree import ProcessGone
from grader.pids import stat_fields

_INODE_TARGET = re.compile(r"(pipe|socket):\[(\d+)\]")
_TTY = re.compile(r"/dev/(pts/\d+|tty\w*|console|ptmx)")
_O_PATH = getattr(os, "O_PATH", 0)


@dataclass(frozen=True)
class FdEntry:
    """One open file descriptor of one process."""

    pid: int
    fd: int
    kind: str  # "pipe", "fifo", "socket", "tty", "dev", "anon", "dir", "file" or "other"
    target: str  # what /proc/PID/fd/N links to: "/tmp/x/dest", "pipe:[5435]"
    flags: int  # the open() flags; -1 if unreadable
    access: str  # "r", "w", "rw"; "" if unknown
    pos: int
    inode: int | None  # pipes and sockets from the target; a FIFO from stat

    @property
    def end(self) -> str | None:
        """ "read" or "write" for a pipe or FIFO opened for one of them; None otherwise."""
        if self.kind not in ("pipe", "fifo"):
            return None
        return {"r": "read", "w": "write"}.get(self.access)

    def describe(self) -> str:
        """One phrase for a message: "fd 4 → write end of pipe 5435"."""
        if self.kind == "pipe":
            return f"fd {self.fd} → {self._end_phrase()}pipe {self.inode}"
        if self.kind == "fifo":
            return f"fd {self.fd} → {self._end_phrase()}FIFO {self.target}"
        if self.kind == "socket":
            return f"fd {self.fd} → socket {self.inode}"
        return f"fd {self.fd} → {self.target}"

    def _end_phrase(self) -> str:
        if self.access == "rw":
            return "both ends of "
        return f"{self.end} end of " if self.end else ""


def fds(pid: int) -> tuple[FdEntry, ...]:
    """The open file descriptors of a process, sorted by number.

    An fd closed while we read is left out.

    Raises:
        ProcessGone: the process is gone, or its /proc entry cannot be read.
    """
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError) as e:
        raise ProcessGone(pid) from e
    except PermissionError as e:
        if _is_zombie(pid):  # a zombie's fd folder is root's: it holds no descriptor
            return ()
        raise ProcessGone(pid, "cannot be read (permission denied)") from e
    entries = (_entry(pid, int(n)) for n in names if n.isdigit())
    return tuple(sorted((e for e in entries if e is not None), key=lambda e: e.fd))


def _is_zombie(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[:1] == [b"Z"]


def _entry(pid: int, fd: int) -> FdEntry | None:
    """None when the fd closed between listing and reading it."""
    link = f"/proc/{pid}/fd/{fd}"
    try:
        target = os.readlink(link)
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError as e:
        raise ProcessGone(pid, "cannot be read (permission denied)") from e
    info = _fdinfo(pid, fd)
    found = _kind(link, target)
    if info is None or found is None:
        return None
    flags, pos = info
    kind, inode = found
    return FdEntry(
        pid=pid,
        fd=fd,
        kind=kind,
        target=target,
        flags=flags,
        access=_access(flags),
        pos=pos,
        inode=inode,
    )


def _fdinfo(pid: int, fd: int) -> tuple[int, int] | None:
    """(flags, pos) from /proc/PID/fdinfo/N; None when the fd has closed."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError:
        return -1, 0
    fields = {k: v for k, _, v in (line.partition(":") for line in text.splitlines())}
    try:
        flags = int(fields["flags"].strip(), 8)  # the kernel prints flags in octal
    except (KeyError, ValueError):
        flags = -1
    try:
        pos = int(fields["pos"].strip())
    except (KeyError, ValueError):
        pos = 0
    return flags, pos


def _access(flags: int) -> str:
    if flags < 0 or flags & _O_PATH:  # an O_PATH fd can neither read nor write
        return ""
    return {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}.get(flags & os.O_ACCMODE, "")


def _kind(link: str, target: str) -> tuple[str, int | None] | None:
    """(kind, inode); None when the fd closed while we looked."""
    m = _INODE_TARGET.fullmatch(target)
    if m:
        return m.group(1), int(m.group(2))
    if target.startswith("anon_inode:"):
        return "anon", None
    if not target.startswith("/"):
        return "other", None  # "net:[...]", "mnt:[...]" and other kernel objects
    if _TTY.fullmatch(target):
        return "tty", None
    try:
        # stat through the link, not the path: the path may be deleted or in another mount
        # namespace, the open file is still there.
        st = os.stat(link)
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return ("dev" if target.startswith("/dev/") else "file"), None
    mode = st.st_mode
    if stat.S_ISFIFO(mode):
        return "fifo", st.st_ino
    if stat.S_ISDIR(mode):
        return "dir", None
    if stat.S_ISREG(mode):
        return "file", None  # includes /dev/shm/NAME, POSIX shared memory
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "dev", None
    return "other", None
