"""A process's memory map (/proc/PID/maps): shared and private, file-backed and anonymous."""

from __future__ import annotations

from dataclasses import dataclass

from grader.inspection.tree import ProcessGone


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    perms: str  # "rw-s": read, write, execute, then s(hared) or p(rivate)
    path: str  # the file, "" for anonymous, "[heap]", "/dev/zero (deleted)", "/SYSV..."
    device: str = ""  # the file's device, "major:minor"; "00:00" for private anonymous
    inode: int = 0  # the file's; each shared anonymous mapping has a shmem inode of its own

    @property
    def identity(self) -> tuple[str, int]:
        """The memory behind it: two processes' mappings with the same identity are the
        same memory (one file, one System V segment, one shared anonymous page)."""
        return (self.device, self.inode)

    @property
    def shared(self) -> bool:
        return self.perms.endswith("s")

    @property
    def writable(self) -> bool:
        return "w" in self.perms

    @property
    def size(self) -> int:
        return self.end - self.start

    def describe(self) -> str:
        kind = "shared" if self.shared else "private"
        what = self.path or "anonymous"
        return f"{self.start:x}-{self.end:x} {self.perms} ({kind}, {what})"


def maps(pid: int) -> tuple[Mapping, ...]:
    try:
        with open(f"/proc/{pid}/maps") as f:
            lines = f.read().splitlines()
    except (FileNotFoundError, ProcessLookupError) as e:
        raise ProcessGone(pid) from e
    except PermissionError as e:
        raise ProcessGone(pid, "cannot be read (permission denied)") from e
    out = []
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) < 5:
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        path = fields[5] if len(fields) > 5 else ""
        out.append(Mapping(start, end, fields[1], path, fields[3], int(fields[4])))
    return tuple(out)


def contents(pid: int, mapping: Mapping, limit: int = 1 << 16) -> bytes:
    """The first `limit` bytes of `mapping` as `pid` sees them now (from /proc/PID/mem).

    Raises:
        ProcessGone: it has exited, or its memory cannot be read.
    """
    try:
        with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
            f.seek(mapping.start)
            return f.read(min(limit, mapping.size))
    except (FileNotFoundError, ProcessLookupError) as e:
        raise ProcessGone(pid) from e
    except OSError as e:  # EACCES, EPERM; EIO once its memory is gone (a zombie)
        raise ProcessGone(pid, f"has memory that cannot be read ({e.strerror or e})") from e


def shared_writable(pid: int) -> tuple[Mapping, ...]:
    """The writable shared mappings: where a process can share memory with another."""
    return tuple(m for m in maps(pid) if m.shared and m.writable)
