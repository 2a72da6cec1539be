"""exercise4 `msgqueue`: a System V message queue on key 1234, seen in the kernel's tables."""

from __future__ import annotations

import contextlib
import re

import pytest
import sysv_ipc

from grader import Failed, Mismatch, Program, Run, evidence, inspection, trace

KEY = 1234
TEXT = "hello vietnam"
LECTURE = "Message queue"
CALLS = ("msgget", "msgsnd", "msgrcv", "msgctl")
RECEIVED = re.compile(r"received\s*:\s*hello vietnam")
WINDOW_S = 0.2  # how long a waiting receiver is watched
BUSY_S = 0.06  # seconds running or ready to run, in that window, that mean it spins (30 %)
_TEXT_FIELD = re.compile(
    r"struct\s+\w*\s*\{[^}]*?\blong\s+\w+\s*;[^}]*?\bchar\s+(\w+)\s*\[\s*(\w+)\s*\]", re.DOTALL
)


def _run(program: Program, *args: str, within_s: float = 5) -> Run:
    """Run to the end, under strace when it is there (the calls are shown on failure)."""
    return program.run(*args, within_s=within_s, trace=CALLS)


def _queue_or_fail(programs: dict[str, Program], creator: Run) -> inspection.ipc.MessageQueue:
    q = inspection.ipc.queue(KEY)
    if q is not None:
        return q
    others = inspection.ipc.queues()
    if others:
        o = others[0]
        # which of the others share the mistake: their msgget keys, in the trace (sender
        # first: it fills the wrong queue, so that a receiver on it does not wait)
        wrong, runs = ["creator"], [creator]
        if trace.available():
            for name in ("sender", "receiver"):
                run = _run(programs[name], within_s=2)
                runs.append(run)
                if o.key in _keys(run):
                    wrong.append(name)
        decimal = (
            " key_t key = 1234 is decimal: 0x1234 is another key (4660)." if o.key == 0x1234 else ""
        )
        raise Failed(
            f"{_names(wrong)} use{'s' * (len(wrong) == 1)} key {o.key:#x} ({o.key}): a queue "
            f"with that key exists, none with the exercise's key 1234 = 0x4d2.{decimal}",
            hint="key_t key = 1234; (decimal) in creator, sender and receiver alike",
            lecture=LECTURE,
            evidence=evidence.calls_of(*runs, names=("msgget",)),
            kind="wrong-key",
        )
    raise Failed(
        f"after creator ({creator.ended()}), there is no message queue at all",
        actual=creator.text("stderr") or None,
        hint="msgget(1234, IPC_CREAT | 0666) creates it",
        lecture=LECTURE,
        evidence=evidence.calls_of(creator),
        kind="no-queue-created",
    )


def test_creator_makes_the_queue(programs: dict[str, Program]) -> None:
    """creator makes an empty queue with key 1234 (0x4d2) and mode 0666"""
    creator = _run(programs["creator"])
    q = _queue_or_fail(programs, creator)
    if q.mode != 0o666:
        raise Mismatch(
            "mode 0666 (rw-rw-rw-)",
            f"mode {q.mode:04o}",
            f"the queue {q.id} was created with mode {q.mode:04o}: the exercise asks for 0666, "
            "so that every user can send and receive. Mode bits are checked even here: "
            "your programs run without root's privileges",
            hint="msgget(key, IPC_CREAT | 0666)",
            lecture=LECTURE,
            evidence=evidence.calls_of(creator),
            kind="wrong-queue-mode",
        )
    if q.messages:
        raise Failed(
            f"creator left {q.messages} message(s) in the new queue",
            lecture=LECTURE,
            kind="creator-sends-messages",
        )
    if not creator.succeeded:
        raise Failed(
            f"the queue is right, but creator {creator.ended()}",
            actual=creator.text("stderr") or None,
            kind="creator-exit-status-nonzero",
        )


def _text_field(program: Program) -> int | None:
    """The size of the text field of the program's message struct (a number, or a macro
    #defined as one), from its source; None where it cannot be told."""
    source = program.source.text
    m = _TEXT_FIELD.search(source)
    if m is None:
        return None
    if m.group(2).isdigit():
        return int(m.group(2))
    d = re.search(rf"^\s*#\s*define\s+{re.escape(m.group(2))}\s+\(?(\d+)\)?\s*$", source,
                  re.MULTILINE)  # fmt: skip
    return int(d.group(1)) if d else None


def _struct_size(field: int) -> int:
    return (8 + field + 7) // 8 * 8  # long mtype, then the text, padded to 8


def _sizes(run: Run, call: str) -> list[int]:
    """The msgsz of each `call` ("msgsnd", "msgrcv") in the trace (the message's text, shown
    between braces, may hold commas: the size is counted from the end)."""
    tail = {"msgsnd": 2, "msgrcv": 3}[call]
    sizes = [c.args.rsplit(", ", tail)[1:2] for c in _calls(run, call)]
    return [int(size[0]) for size in sizes if size and size[0].isdigit()]


def _counts_mtype(program: Program, run: Run, call: str) -> int | None:
    """The size `run` gave `call` when it is sizeof(struct message) (the mtype counted)."""
    field = _text_field(program)
    if field is None:
        return None
    return next((n for n in _sizes(run, call) if n == _struct_size(field)), None)


def _calls(run: Run, name: str) -> list[trace.Call]:
    """The calls to `name` in the trace ([] without one, or when strace missed some)."""
    try:
        return [c for c in run.calls() if c.name == name]
    except trace.TraceIncomplete:
        return []


def _keys(run: Run) -> list[int]:
    """The keys msgget was called with, in the trace ([] without one)."""
    keys = []
    for c in _calls(run, "msgget"):
        with contextlib.suppress(ValueError):
            keys.append(int(c.args.split(",")[0], 0))
    return keys


def _names(names: list[str]) -> str:
    """ "sender", "sender and receiver", "creator, sender and receiver"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _wrong_key(name: str, run: Run) -> str:
    """A sentence naming the wrong key `run` used, or ""."""
    wrong = [k for k in _keys(run) if k != KEY]
    if not wrong:
        return ""
    return f". {name} used key {wrong[0]:#x} ({wrong[0]}), not 1234 (0x4d2)"


def _too_big(programs: dict[str, Program], receiver: Run) -> str:
    """Why a receiver that ended in error could not take the message sender left (sender
    counted mtype in its size, so it is larger than the text field: E2BIG), or ""."""
    q = inspection.ipc.queue(KEY)
    field = _text_field(programs["sender"])
    if receiver.exit is None or receiver.succeeded or q is None or not q.messages:
        return ""
    if field is None or q.bytes // q.messages != _struct_size(field):
        return ""
    return (
        f"the message sender left in the queue is {q.bytes // q.messages} bytes, "
        f"sizeof(struct message), larger than the {field}-byte text field a receiver has room "
        f"for (msgrcv fails with E2BIG; see the sender's check), and receiver {receiver.ended()}"
    )


def _remove_queue() -> bool:
    """Remove the queue of key 1234, if any; True when none is left."""
    q = inspection.ipc.queue(KEY)
    if q is not None:
        with contextlib.suppress(sysv_ipc.Error, OSError):
            sysv_ipc.remove_message_queue(q.id)
    return inspection.ipc.queue(KEY) is None


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
            f"after creator then sender, {found}, not one message (sender {sender.ended()})"
            f"{_wrong_key('sender', sender)}",
            actual=sender.text("stderr") or None,
            hint="msgsnd(id, &msg, size, 0) once",
            lecture=LECTURE,
            evidence=evidence.calls_of(sender),
            kind="no-queue" if q is None else "not-one-message-sent",
        )
    field = _text_field(programs["sender"])
    if field is not None:
        if q.bytes == _struct_size(field):
            # the lecture's mistake; its receiver most likely copies it: look (it takes the
            # message, so it does not wait)
            receiver = _run(programs["receiver"], within_s=2)
            both = _counts_mtype(programs["receiver"], receiver, "msgrcv") is not None
            raise Mismatch(
                f"{field} bytes (the text field)",
                f"{q.bytes} bytes",
                f"the queue shows {q.bytes} bytes for one message, expected {field}: "
                + (
                    f"sender and receiver give msgsnd and msgrcv sizeof(struct message) "
                    f"({q.bytes}), which counts the mtype field too"
                    if both
                    else "sender gives msgsnd sizeof(struct message), which counts the mtype "
                    "field too"
                )
                + ". The size is that of the text alone: the kernel stores mtype apart",
                hint="msgsnd(id, &msg, sizeof(msg.mtext), 0)"
                + (" and msgrcv(id, &msg, sizeof(msg.mtext), 0, 0)" if both else ""),
                lecture=LECTURE,
                evidence=evidence.calls_of(sender, receiver, names=("msgsnd", "msgrcv")),
                kind="size-counts-mtype",
            )
        if q.bytes > field:
            raise Mismatch(
                f"at most {field} bytes",
                f"{q.bytes} bytes",
                "the message is larger than the text field",
                lecture=LECTURE,
                kind="message-too-large",
            )
    data, mtype = sysv_ipc.MessageQueue(KEY).receive(block=False)
    text = data.split(b"\0", 1)[0].decode(errors="replace")
    if mtype != 1 or text != TEXT:
        raise Mismatch(
            f"type 1, text {TEXT!r}",
            f"type {mtype}, text {text!r}",
            "the message in the queue is not the one the exercise asks for",
            lecture=LECTURE,
            kind="wrong-message",
        )


def test_receiver_prints_the_message(programs: dict[str, Program]) -> None:
    """receiver prints `received : hello vietnam` and empties the queue"""
    _run(programs["creator"])
    sender = _run(programs["sender"])
    before = inspection.ipc.queue(KEY)
    if before is None or not before.messages:
        found = "there is no queue with key 1234" if before is None else "the queue is empty"
        pytest.skip(f"needs a message for receiver to receive: after creator then sender "
                    f"({sender.ended()}), {found}")  # fmt: skip
    receiver = _run(programs["receiver"])
    if not RECEIVED.search(receiver.text()):
        if too_big := _too_big(programs, receiver):
            pytest.skip(f"needs a message that fits the text field: {too_big}")
        raise Mismatch(
            "received : hello vietnam",
            receiver.text() or "(nothing)",
            f"receiver {receiver.ended()} without printing the message"
            f"{_wrong_key('receiver', receiver)}",
            lecture=LECTURE,
            evidence=evidence.calls_of(receiver),
            kind="message-not-printed",
        )
    q = inspection.ipc.queue(KEY)
    if q is not None and q.messages:
        raise Failed(
            f"after receiver, the queue still holds {q.messages} message(s): it printed the "
            "text without taking the message from the queue",
            lecture=LECTURE,
            evidence=evidence.calls_of(receiver),
            kind="message-not-taken",
        )
    room = _counts_mtype(programs["receiver"], receiver, "msgrcv")
    if room is not None:
        field = _text_field(programs["sender"])
        both = field is not None and before.messages == 1 and before.bytes == _struct_size(field)
        raise Failed(
            f"{'sender and receiver give msgsnd and msgrcv' if both else 'receiver gives msgrcv'}"
            f" sizeof(struct message) ({room} bytes), which counts the mtype field too. "
            "msgrcv's size is the room for the text alone: a message as long as that would "
            "overflow mtext"
            + (", and the queue shows one message of that size, from sender" if both else ""),
            hint="msgrcv(id, &msg, sizeof(msg.mtext), 0, 0)"
            + (" and msgsnd(id, &msg, sizeof(msg.mtext), 0)" if both else ""),
            lecture=LECTURE,
            evidence=evidence.calls_of(sender, receiver, names=("msgsnd", "msgrcv")),
            kind="size-counts-mtype",
        )
    if not receiver.succeeded:
        raise Failed(
            f"receiver printed the message but {receiver.ended()}",
            kind="receiver-exit-status-nonzero",
        )


def test_receiver_waits_without_spinning(programs: dict[str, Program]) -> None:
    """receiver started first waits asleep (no busy loop) and gets the message when it comes"""
    _run(programs["creator"])
    receiver = programs["receiver"].start()
    # at most 0.3 s to reach its wait: asleep (a spinning one never is), or gone
    receiver.wait_for(state="sleeping", exit=True, within_s=0.3)
    # running or ready to run: a spinning receiver counts the whole window even when the
    # machine is busy, a sleeping one nothing
    busy = receiver.busy(WINDOW_S, past_s=BUSY_S) if receiver.alive else None
    if busy is None:
        receiver.wait_for(exit=True, within_s=2)  # its status, if it is ending
        raise Failed(
            f"receiver, started on an empty queue, {receiver.ended()} instead of waiting for "
            "a message",
            actual=receiver.text() + receiver.text("stderr") or None,
            hint="msgrcv without IPC_NOWAIT blocks until a message arrives",
            lecture=LECTURE,
            kind="receiver-does-not-wait",
        )
    used, watched_s = busy
    if used > BUSY_S:
        raise Failed(
            f"while it waited for a message, receiver (pid {receiver.pid}) wanted a CPU for "
            f"{used:.2f} s of {watched_s:.2f} s: it spins in a loop (busy waiting) instead of "
            "sleeping in msgrcv, burning a CPU for nothing",
            hint="call msgrcv(id, &msg, size, 0, 0): without IPC_NOWAIT, the kernel puts the "
            "process to sleep until a message comes",
            lecture=LECTURE,
            kind="busy-waiting",
        )
    sender = _run(programs["sender"])
    if not receiver.wait_for(output=RECEIVED, within_s=3):
        receiver.wait_for(exit=True, within_s=0.5)  # an error ends it: let its status come
        if too_big := _too_big(programs, receiver):
            pytest.skip(f"needs a message that fits the text field: {too_big}")
        q = inspection.ipc.queue(KEY)
        if q is None or not q.last_send_pid:  # the kernel notes who sent last: nobody
            pytest.skip(f"needs a sender that sends: receiver was waiting, but sender "
                        f"{sender.ended()} without sending to queue 1234")  # fmt: skip
        raise Failed(
            "receiver was waiting, but did not print the message once it was sent",
            actual=receiver.text() or "(nothing)",
            lecture=LECTURE,
            kind="message-not-printed-after-wait",
        )


def test_missing_queue_is_an_error(programs: dict[str, Program]) -> None:
    """sender and receiver without a queue: an error message and a non-zero status"""
    created: list[tuple[str, inspection.ipc.MessageQueue]] = []
    quiet: list[str] = []
    runs: list[Run] = []
    for name in ("sender", "receiver"):
        if not _remove_queue():  # the queue the one before made: the next would find it
            break
        run = _run(programs[name], within_s=2)
        runs.append(run)
        made = inspection.ipc.queue(KEY)
        if made is not None:
            created.append((name, made))
        elif why := run.reported_failure():
            quiet.append(f"your {name} did not report it: {why}")
    problems = []
    if created:
        who = _names([name for name, _ in created])
        one = len(created) == 1
        problems.append(
            f"your {who} created {'one' if one else 'one each'} ({created[0][1].describe()}): "
            + (
                "it used IPC_CREAT, so it never notices"
                if one
                else "they used IPC_CREAT, so they never notice"
            )
            + " that creator was not run"
        )
    problems += quiet
    if problems:
        raise Failed(
            "with no queue, " + "; ".join(problems),
            hint=(
                f"in {_names([name for name, _ in created])}: msgget(1234, 0666), without "
                "IPC_CREAT, fails when the queue does not exist; then perror and exit(1)"
                if created
                else 'check msgget\'s result: if (id < 0) { perror("msgget"); exit(1); }'
            ),
            lecture=LECTURE,
            evidence=evidence.calls_of(*runs),
            kind="creates-queue-without-creator" if created else "missing-queue-not-reported",
        )
