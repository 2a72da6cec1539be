"""TCP sockets as the kernel lists them (/proc/net/tcp), joined to the processes that hold them."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from grader.inspection.fds import fds
from grader.inspection.tree import ProcessGone

_STATES = {
    "01": "established", "02": "syn-sent", "03": "syn-recv", "04": "fin-wait-1",
    "05": "fin-wait-2", "06": "time-wait", "07": "close", "08": "close-wait",
    "09": "last-ack", "0A": "listen", "0B": "closing",
}  # fmt: skip


@dataclass(frozen=True)
class TcpSocket:
    local: tuple[str, int]
    remote: tuple[str, int]
    state: str  # "listen", "established", "time-wait", ...
    inode: int

    def describe(self) -> str:
        return f"{self.local[0]}:{self.local[1]} ({self.state})"


def _address(text: str) -> tuple[str, int]:
    host, port = text.split(":")
    ip = socket.inet_ntoa(struct.pack("<I", int(host, 16)))
    return ip, int(port, 16)


def tcp() -> tuple[TcpSocket, ...]:
    """Every IPv4 TCP socket of this network namespace."""
    try:
        with open("/proc/net/tcp") as f:
            next(f, None)
            rows = [line.split() for line in f if line.strip()]
    except OSError:
        return ()
    return tuple(
        TcpSocket(_address(r[1]), _address(r[2]), _STATES.get(r[3], r[3]), int(r[9])) for r in rows
    )


def listening(pid: int | None = None) -> tuple[TcpSocket, ...]:
    """The listening sockets, only those `pid` holds when it is given."""
    found = tuple(s for s in tcp() if s.state == "listen")
    if pid is None:
        return found
    try:
        held = {f.inode for f in fds(pid) if f.kind == "socket"}
    except ProcessGone:
        return ()
    return tuple(s for s in found if s.inode in held)
