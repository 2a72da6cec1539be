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
        out.append(Mapping(start, end, fields[1], fields[5] if len(fields) > 5 else ""))
    return tuple(out)


def shared_writable(pid: int) -> tuple[Mapping, ...]:
    """The writable shared mappings: where a process can share memory with another."""
    return tuple(m for m in maps(pid) if m.shared and m.writable)
