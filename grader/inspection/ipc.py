"""System V IPC objects as the kernel lists them (/proc/sysvipc): queues, segments, sets.

Read inside the grade's own IPC namespace, these are the grade's objects only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageQueue:
    key: int
    id: int
    mode: int  # permission bits, e.g. 0o666
    bytes: int  # bytes of all messages in the queue (cbytes)
    messages: int  # number of messages (qnum)
    last_send_pid: int
    last_receive_pid: int
    uid: int
    ctime: int

    def describe(self) -> str:
        return (
            f"queue {self.id} with key {self.key} ({self.key:#x}), mode {self.mode:04o}, "
            f"{self.messages} message(s), {self.bytes} bytes"
        )


@dataclass(frozen=True)
class SharedSegment:
    key: int
    id: int
    mode: int
    size: int
    creator_pid: int
    last_pid: int
    attached: int  # nattch: processes attached now
    uid: int
    ctime: int

    def describe(self) -> str:
        return (
            f"segment {self.id} with key {self.key} ({self.key:#x}), mode {self.mode:04o}, "
            f"{self.size} bytes, {self.attached} attached"
        )


@dataclass(frozen=True)
class SemaphoreSet:
    key: int
    id: int
    mode: int
    count: int
    uid: int
    ctime: int


def _rows(kind: str) -> list[dict[str, int]]:
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            header = f.readline().split()
            return [
                {
                    name: int(value, 8 if name == "perms" else 10)  # perms is printed in octal
                    for name, value in zip(header, line.split(), strict=False)
                }
                for line in f
                if line.strip()
            ]
    except OSError:
        return []


def queues() -> tuple[MessageQueue, ...]:
    return tuple(
        MessageQueue(
            r["key"],
            r["msqid"],
            r["perms"] & 0o777,
            r["cbytes"],
            r["qnum"],
            r["lspid"],
            r["lrpid"],
            r["uid"],
            r["ctime"],
        )
        for r in _rows("msg")
    )


def segments() -> tuple[SharedSegment, ...]:
    return tuple(
        SharedSegment(
            r["key"],
            r["shmid"],
            r["perms"] & 0o777,
            r["size"],
            r["cpid"],
            r["lpid"],
            r["nattch"],
            r["uid"],
            r["ctime"],
        )
        for r in _rows("shm")
    )


def semaphore_sets() -> tuple[SemaphoreSet, ...]:
    return tuple(
        SemaphoreSet(r["key"], r["semid"], r["perms"] & 0o777, r["nsems"], r["uid"], r["ctime"])
        for r in _rows("sem")
    )


def queue(key: int) -> MessageQueue | None:
    return next((q for q in queues() if q.key == key), None)


def segment(key: int) -> SharedSegment | None:
    return next((s for s in segments() if s.key == key), None)
