"""exercise5 `shm`: a System V shared memory segment on key 5678, and the calls that use it."""

from __future__ import annotations

import pytest
import sysv_ipc

from grader import Failed, Mismatch, Program, Run, evidence, inspection, needs

KEY = 5678
SIZE = 4096
LECTURE = "Shared memory segment"
CALLS = ("shmget", "shmat", "shmdt", "shmctl")


def _run(program: Program, *args: str, within_s: float = 5) -> Run:
    return program.run(*args, within_s=within_s, trace=CALLS)


def _segment_or_fail(writer: Run) -> inspection.ipc.SharedSegment:
    seg = inspection.ipc.segment(KEY)
    if seg is not None:
        return seg
    others = inspection.ipc.segments()
    if others:
        o = others[0]
        raise Failed(
            f"a segment with key {o.key:#x} ({o.key}) exists; the exercise uses key 5678 (0x162e)",
            hint="key_t key = 5678; in writer and reader alike",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="wrong-key",
        )
    raise Failed(
        f"after writer ({writer.ended()}), there is no shared memory segment at all",
        actual=writer.text("stderr") or None,
        hint="shmget(5678, 4096, IPC_CREAT | 0666) creates it",
        lecture=LECTURE,
        evidence=evidence.calls_of(writer),
        kind="no-segment-created",
    )


def _text_of(seg: inspection.ipc.SharedSegment | None) -> str | None:
    """The C string at the start of the segment, or None."""
    if seg is None:
        return None
    try:
        memory = sysv_ipc.SharedMemory(KEY)
    except sysv_ipc.Error:
        return None
    try:
        return memory.read(min(seg.size, SIZE)).split(b"\0", 1)[0].decode(errors="replace")
    finally:
        memory.detach()


def test_writer_creates_the_segment(programs: dict[str, Program]) -> None:
    """writer makes a 4096-byte segment, key 5678, mode 0666, holding the text"""
    text = "hello shared memory"
    writer = _run(programs["writer"], text)
    seg = _segment_or_fail(writer)
    if seg.size != SIZE:
        raise Mismatch(
            f"{SIZE} bytes",
            f"{seg.size} bytes",
            f"the segment {seg.id} is {seg.size} bytes; the exercise asks for {SIZE}: a text "
            "longer than the segment would not fit, and writing past its end is a crash",
            hint="shmget(5678, 4096, IPC_CREAT | 0666)",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="wrong-segment-size",
        )
    if seg.mode != 0o666:
        raise Mismatch(
            "mode 0666 (rw-rw-rw-)",
            f"mode {seg.mode:04o}",
            f"the segment {seg.id} was created with mode {seg.mode:04o}; the exercise asks "
            "for 0666, so that any user's reader can attach it",
            hint="shmget(key, 4096, IPC_CREAT | 0666)",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="wrong-segment-mode",
        )
    got = _text_of(seg)
    if got != text:
        raise Mismatch(
            text,
            got if got is not None else "(no segment to read)",
            "the segment does not hold the text as a C string",
            hint="strncpy(addr, argv[1], 4095) copies it with its NUL",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="text-not-in-segment",
        )
    if not writer.succeeded:
        raise Failed(
            f"the segment is right, but writer {writer.ended()}",
            actual=writer.text("stderr") or None,
            kind="writer-exit-status-nonzero",
        )


@needs("strace")
def test_writer_detaches(programs: dict[str, Program]) -> None:
    """writer detaches (shmdt) what it attached before it exits"""
    writer = _run(programs["writer"], "detach me")
    calls = writer.calls()
    attached = [c for c in calls if c.name == "shmat" and not c.failed]
    if not attached:
        raise Failed(
            f"writer never attached the segment (shmat): it {writer.ended()}",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="never-attaches",
        )
    last = calls.index(attached[-1])
    if not any(c.name == "shmdt" and not c.failed for c in calls[last:]):
        seg = inspection.ipc.segment(KEY)
        after = f" (now {seg.attached} attached)" if seg else ""
        raise Failed(
            "writer never called shmdt(): it was still attached when it exited, and the "
            f"kernel detached it only then{after}. Detach what you attach, as soon as you "
            "are done with it",
            hint="shmdt(addr) after copying the text",
            lecture=LECTURE,
            evidence=evidence.calls_of(writer),
            kind="never-detaches",
        )


def test_reader_prints_and_removes(programs: dict[str, Program]) -> None:
    """reader prints the text on a line and removes the segment (IPC_RMID)"""
    text = "message for the reader"
    writer = _run(programs["writer"], text)
    if _text_of(inspection.ipc.segment(KEY)) != text:  # nothing for a reader to print
        pytest.skip(f"needs a writer that leaves the text in segment 5678 (writer "
                    f"{writer.ended()}; see the writer's check)")  # fmt: skip
    reader = _run(programs["reader"])
    if text not in reader.text().splitlines():
        raise Mismatch(
            text,
            reader.text() or "(nothing)",
            f"reader {reader.ended()} without printing the segment's text on a line",
            lecture=LECTURE,
            evidence=evidence.calls_of(reader),
            kind="text-not-printed",
        )
    seg = inspection.ipc.segment(KEY)
    if seg is not None:
        raise Failed(
            f"after reader, the {seg.describe()} is still there: nobody removed it with "
            "shmctl(IPC_RMID), so it stays in the kernel after every process has gone",
            hint="at the end of reader: shmctl(id, IPC_RMID, NULL)",
            lecture=LECTURE,
            evidence=evidence.calls_of(reader),
            kind="segment-not-removed",
        )
    if not reader.succeeded:
        raise Failed(
            f"reader printed the text but {reader.ended()}", kind="reader-exit-status-nonzero"
        )


def test_reader_without_segment_fails(programs: dict[str, Program]) -> None:
    """reader with no segment: an error message and a non-zero status, nothing created"""
    reader = _run(programs["reader"], within_s=2)
    seg = inspection.ipc.segment(KEY)
    created = [c for c in reader.calls() if c.name == "shmget" and "IPC_CREAT" in c.args]
    made = created[0].describe() if created and not created[0].failed else ""
    if seg is not None or made:
        raise Failed(
            f"with no segment, reader created one ({seg.describe() if seg else made}): it used "
            f"IPC_CREAT, so it {'reads' if seg else 'read'} an empty segment instead of "
            "reporting that writer never ran",
            hint="in reader: shmget(5678, 0, 0666), without IPC_CREAT; then perror and exit(1)",
            lecture=LECTURE,
            evidence=evidence.calls_of(reader),
            kind="reader-creates-segment",
        )
    if why := reader.reported_failure():
        raise Failed(
            f"with no segment, reader did not report an error: {why}"
            + ("; did its shmget() use IPC_CREAT?" if reader.succeeded else ""),
            hint='check shmget\'s result: if (id < 0) { perror("shmget"); exit(1); }',
            lecture=LECTURE,
            evidence=evidence.calls_of(reader),
            kind="missing-segment-not-reported",
        )
