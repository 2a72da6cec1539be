"""exercise4 `msgqueue`: a System V message queue on key 1234, seen in the kernel's tables."""

from __future__ import annotations

import re

import sysv_ipc

from grader import Failed, Mismatch, Program, Run, inspection, trace
from grader.inspection import ProcessGone
from grader.inspection.ipc import MessageQueue

KEY = 1234
TEXT = "hello vietnam"
LECTURE = "Message queue"
CALLS = ("msgget", "msgsnd", "msgrcv", "msgctl")
RECEIVED = re.compile(r"received\s*:\s*hello vietnam")
_TEXT_FIELD = re.compile(
    r"struct\s+\w*\s*\{[^}]*?\blong\s+\w+\s*;[^}]*?\bchar\s+(\w+)\s*\[\s*(\d+)\s*\]", re.DOTALL
)


def _run(program: Program, *args: str, within_s: float = 5) -> Run:
    """Run to the end, under strace when it is there (the calls are shown on failure)."""
    return program.run(*args, within_s=within_s, trace=CALLS if trace.available() else ())


def _queue_or_fail(creator: Run) -> MessageQueue:
    q = inspection.ipc.queue(KEY)
    if q is not None:
        return q
    others = inspection.ipc.queues()
    if others:
        o = others[0]
        raise Failed(
            f"a queue with key {o.key:#x} ({o.key}) exists; the exercise uses key 1234 = "
            f"0x4d2. key_t key = 1234 is decimal: 0x1234 is another key ({0x1234})",
            hint="key_t key = 1234; in creator, sender and receiver alike",
            lecture=LECTURE,
            evidence=trace.calls_of(creator),
        )
    ended = creator.exit.describe() if creator.exit else "did not end"
    raise Failed(
        f"after creator ({ended}), there is no message queue at all",
        actual=creator.text("stderr") or None,
        hint="msgget(1234, IPC_CREAT | 0666) creates it",
        lecture=LECTURE,
        evidence=trace.calls_of(creator),
    )


def test_creator_makes_the_queue(programs: dict[str, Program]) -> None:
    """creator makes an empty queue with key 1234 (0x4d2) and mode 0666"""
    creator = _run(programs["creator"])
    q = _queue_or_fail(creator)
    if q.mode != 0o666:
        raise Mismatch(
            "mode 0666 (rw-rw-rw-)",
            f"mode {q.mode:04o}",
            f"the queue {q.id} was created with mode {q.mode:04o}: the exercise asks for 0666, "
            "so that every user can send and receive. Mode bits are checked even here: "
            "your programs run without root's privileges",
            hint="msgget(key, IPC_CREAT | 0666)",
            lecture=LECTURE,
            evidence=trace.calls_of(creator),
        )
    if q.messages:
        raise Failed(f"creator left {q.messages} message(s) in the new queue", lecture=LECTURE)
    if creator.exit is None or creator.exit.code != 0:
        raise Failed(
            f"the queue is right, but creator {creator.ended()}",
            actual=creator.text("stderr") or None,
        )


def _text_field(source: str) -> int | None:
    m = _TEXT_FIELD.search(source)
    return int(m.group(2)) if m else None


def test_sender_sends_one_message(programs: dict[str, Program]) -> None:
    """sender puts one message of type 1, `hello vietnam`, whose size is the text field's"""
    _run(programs["creator"])
    sender = _run(programs["sender"])
    q = inspection.ipc.queue(KEY)
    if q is None or q.messages != 1:
        found = (
            "there is no queue with key 1234"
            if q is None
            else (f"the queue holds {q.messages} messages")
        )
        raise Failed(
            f"after creator then sender, {found}, not one message (sender {sender.ended()})",
            actual=sender.text("stderr") or None,
            hint="msgsnd(id, &msg, size, 0) once",
            lecture=LECTURE,
            evidence=trace.calls_of(sender),
        )
    field = _text_field(programs["sender"].path.with_suffix(".c").read_text(errors="replace"))
    if field is not None:
        struct_size = (8 + field + 7) // 8 * 8  # long mtype, then the text, padded to 8
        if q.bytes == struct_size and q.bytes != field:
            raise Mismatch(
                f"{field} bytes (the text field)",
                f"{q.bytes} bytes",
                f"the queue shows {q.bytes} bytes for one message, expected {field}: "
                "msgsnd's size is sizeof(struct message), which counts the mtype field too. "
                "The size is that of the text alone: the kernel stores mtype apart",
                hint="msgsnd(id, &msg, sizeof(msg.mtext), 0)",
                lecture=LECTURE,
                evidence=trace.calls_of(sender),
            )
        if q.bytes > field:
            raise Mismatch(
                f"at most {field} bytes",
                f"{q.bytes} bytes",
                "the message is larger than the text field",
                lecture=LECTURE,
            )
    data, mtype = sysv_ipc.MessageQueue(KEY).receive(block=False)
    text = data.split(b"\0", 1)[0].decode(errors="replace")
    if mtype != 1 or text != TEXT:
        raise Mismatch(
            f"type 1, text {TEXT!r}",
            f"type {mtype}, text {text!r}",
            "the message in the queue is not the one the exercise asks for",
            lecture=LECTURE,
        )


def test_receiver_prints_the_message(programs: dict[str, Program]) -> None:
    """receiver prints `received : hello vietnam` and empties the queue"""
    _run(programs["creator"])
    _run(programs["sender"])
    receiver = _run(programs["receiver"])
    if not RECEIVED.search(receiver.text()):
        raise Mismatch(
            "received : hello vietnam",
            receiver.text() or "(nothing)",
            f"receiver {receiver.ended()} without printing the message",
            lecture=LECTURE,
            evidence=trace.calls_of(receiver),
        )
    q = inspection.ipc.queue(KEY)
    if q is not None and q.messages:
        raise Failed(
            f"after receiver, the queue still holds {q.messages} message(s)",
            lecture=LECTURE,
            evidence=trace.calls_of(receiver),
        )
    if receiver.exit is None or receiver.exit.code != 0:
        raise Failed(f"receiver printed the message but {receiver.ended()}")


def test_receiver_waits_without_spinning(programs: dict[str, Program]) -> None:
    """receiver started first waits asleep (no busy loop) and gets the message when it comes"""
    _run(programs["creator"])
    receiver = programs["receiver"].start()
    if receiver.wait_for(exit=True, within_s=0.3):
        raise Failed(
            f"receiver, started on an empty queue, {receiver.ended()} "
            "instead of waiting for a message",
            actual=receiver.text() + receiver.text("stderr") or None,
            hint="msgrcv without IPC_NOWAIT blocks until a message arrives",
            lecture=LECTURE,
        )
    try:
        before = inspection.process(receiver.pid).cpu_s
        receiver.wait_for(exit=True, within_s=0.5)  # the window over which CPU time is measured
        used = inspection.process(receiver.pid).cpu_s - before
    except ProcessGone:
        receiver.wait_for(exit=True, within_s=2)
        raise Failed(
            f"receiver, started on an empty queue, {receiver.ended()} instead of waiting for "
            "a message",
            actual=receiver.text() + receiver.text("stderr") or None,
            hint="msgrcv without IPC_NOWAIT blocks until a message arrives",
            lecture=LECTURE,
        ) from None
    if used > 0.1:
        raise Failed(
            f"while it waited for a message, receiver (pid {receiver.pid}) used {used:.2f} s "
            "of CPU in 0.5 s: it spins in a loop (busy waiting) instead of sleeping in msgrcv, "
            "burning a CPU for nothing",
            hint="call msgrcv(id, &msg, size, 0, 0): without IPC_NOWAIT, the kernel puts the "
            "process to sleep until a message comes",
            lecture=LECTURE,
        )
    _run(programs["sender"])
    if not receiver.wait_for(output=RECEIVED, within_s=3):
        raise Failed(
            "receiver was waiting, but did not print the message once it was sent",
            actual=receiver.text() or "(nothing)",
            lecture=LECTURE,
        )


def test_missing_queue_is_an_error(programs: dict[str, Program]) -> None:
    """sender and receiver without a queue: an error message and a non-zero status"""
    for name in ("sender", "receiver"):
        run = _run(programs[name], within_s=2)
        created = inspection.ipc.queue(KEY)
        if created is not None:
            raise Failed(
                f"with no queue, your {name} created one ({created.describe()}): it used "
                "IPC_CREAT, so it never notices that creator was not run",
                hint=f"in {name}: msgget(1234, 0666), without IPC_CREAT, fails when the "
                "queue does not exist; then perror and exit(1)",
                lecture=LECTURE,
                evidence=trace.calls_of(run),
            )
        if run.exit is None or run.exit.code == 0 or not run.stderr.strip():
            ended = run.exit.describe() if run.exit else "did not end"
            raise Failed(
                f"with no queue, your {name} {ended}"
                + ("" if run.stderr.strip() else " and printed no error message"),
                hint='check msgget\'s result: if (id < 0) { perror("msgget"); exit(1); }',
                lecture=LECTURE,
                evidence=trace.calls_of(run),
            )
