"""Tests for grader.evidence, from hand-built inspection values: no process is needed."""

from __future__ import annotations

import json
import os
import signal

from grader import evidence
from grader.inspection import FdEntry, ProcessInfo, SignalMasks, Snapshot
from grader.inspection.blocking import Wait
from grader.inspection.ipc import MessageQueue, SemaphoreSet, SharedSegment
from grader.inspection.memory import Mapping
from grader.results import EVIDENCE_KINDS, Evidence, FdRow, ProcessRow
from grader.trace import Call, TraceIncomplete


def _proc(pid: int, name: str, ppid: int = 1, state: str = "sleeping") -> ProcessInfo:
    return ProcessInfo(pid=pid, ppid=ppid, name=name, exe="", argv=(), state=state, pgid=pid,
                       sid=pid, uid=0, cpu_s=0.25, started=0.0)  # fmt: skip


def _fd(pid: int, fd: int, target: str, access: str, inode: int | None = None) -> FdEntry:
    kind = "pipe" if target.startswith("pipe:") else "dev"
    flags = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}[access]
    return FdEntry(pid, fd, kind, target, flags, access, 0, inode)


# the README's picture: the parent still holds the write end of the pipe grep reads
PARENT, PS, GREP = 180, 182, 183
SNAP = Snapshot(
    processes=(
        _proc(PARENT, "pipe"),
        _proc(PS, "ps", PARENT, "zombie"),
        _proc(GREP, "grep", PARENT),
    ),
    fds={
        PARENT: (_fd(PARENT, 0, "/dev/null", "r"), _fd(PARENT, 4, "pipe:[50106]", "w", 50106)),
        PS: (),
        GREP: (_fd(GREP, 0, "pipe:[50106]", "r", 50106), _fd(GREP, 1, "/dev/null", "w")),
    },
    taken_at=0.0,
)


def _round_trips(ev: Evidence) -> None:
    assert ev.kind in EVIDENCE_KINDS
    again = Evidence.from_dict(json.loads(json.dumps(ev.to_dict())))
    assert again == ev


def test_processes_keeps_the_table_and_each_fd_as_data() -> None:
    ev = evidence.processes(SNAP)

    assert ev.kind == "processes"
    assert ev.columns == ("pid", "ppid", "program", "state", "descriptors")
    assert ev.rows[0] == ("180", "1", "pipe", "sleeping",
                          "fd 0 → /dev/null; fd 4 → write end of pipe 50106")  # fmt: skip
    assert ev.rows[1] == ("182", "180", "ps", "zombie", "")
    parent, ps, grep = ev.processes
    assert (parent.pid, parent.ppid, parent.name, parent.state) == (PARENT, 1, "pipe", "sleeping")
    assert parent.fds[1] == FdRow(4, "pipe", "pipe:[50106]", "w", 50106, "write")
    assert parent.fds[0].inode is None
    assert parent.fds[0].end is None
    assert ps == ProcessRow(PS, PARENT, "ps", "zombie", ())
    assert grep.fds[0].end == "read"
    assert grep.fds[0].inode == 50106
    _round_trips(ev)


def test_fds_is_one_process_table() -> None:
    ev = evidence.fds(SNAP, GREP)

    assert ev.kind == "fds"
    assert ev.title == "file descriptors of grep (pid 183)"
    assert ev.rows == (("0", "pipe", "pipe:[50106]", "r"), ("1", "dev", "/dev/null", "w"))
    assert [p.pid for p in ev.processes] == [GREP]
    assert evidence.fds(SNAP, 12).title == "file descriptors of pid 12"
    assert evidence.fds(SNAP, 12).processes == ()
    _round_trips(ev)


def test_pipes_names_the_holders_of_each_end() -> None:
    ev = evidence.pipes(SNAP)

    assert ev.kind == "pipes"
    assert ev.rows == (("50106", "pipe (pid 180) as fd 4", "grep (pid 183) as fd 0"),)
    assert len(ev.processes) == 3
    _round_trips(ev)


def test_calls_keep_each_call_as_data_and_cut_a_long_trace() -> None:
    found = [Call(7, "pipe", "[3, 4]", "0"), Call(8, "dup2", "4, 1", "1")]
    found += [Call(8, "write", f"1, {i}", "1") for i in range(100)]

    ev = evidence.calls(found)

    assert ev.kind == "calls"
    assert ev.rows[:2] == (("7", "pipe([3, 4]) = 0"), ("8", "dup2(4, 1) = 1"))
    assert len(ev.rows) == evidence.MAX_CALLS
    assert ev.data["calls"][1] == {"pid": 8, "name": "dup2", "args": "4, 1", "result": "1"}
    assert len(ev.data["calls"]) == evidence.MAX_CALLS
    assert ev.data["total"] == 102
    _round_trips(ev)


class _Run:
    def __init__(self, calls: tuple[Call, ...] | None) -> None:
        self._calls = calls

    def calls(self) -> tuple[Call, ...]:
        if self._calls is None:
            raise TraceIncomplete("strace ended first")
        return self._calls


def test_calls_of_keeps_the_asked_names_and_skips_an_incomplete_trace() -> None:
    one = _Run((Call(1, "wait4", "-1", "5"), Call(1, "write", "1", "3")))

    (ev,) = evidence.calls_of(one, _Run(None), names=("wait4",))

    assert [c["name"] for c in ev.data["calls"]] == ["wait4"]
    assert evidence.calls_of(_Run(None)) == []
    assert evidence.calls_of(_Run(())) == []


def test_signals_say_each_disposition() -> None:
    masks = SignalMasks(pid=9, caught=frozenset({"SIGINT", "SIGTSTP"}),
                        blocked=frozenset({"SIGTSTP"}), ignored=frozenset({"SIGTERM"}),
                        pending=frozenset())  # fmt: skip

    ev = evidence.signals(masks, ("SIGINT", "SIGTERM", "SIGTSTP", "SIGALRM"))

    assert ev.kind == "signals"
    assert ev.title == "signal dispositions of pid 9"
    assert ev.rows == (("SIGINT", "caught"), ("SIGTERM", "ignored"), ("SIGTSTP", "blocked"),
                       ("SIGALRM", "default"))  # fmt: skip
    assert ev.data["dispositions"]["SIGTERM"] == "ignored"
    assert ev.data["caught"] == ["SIGINT", "SIGTSTP"]
    _round_trips(ev)


def test_waiting_says_where_a_process_is() -> None:
    w = Wait(pid=5, name="signals", ppid=1, state="S", call="pause", args=(), wchan="do_pause",
             moved=(), blocked_signals=1 << (signal.SIGTSTP - 1), caught_signals=0,
             ignored_signals=0, timers=False, threads=1)  # fmt: skip

    ev = evidence.waiting(w)

    assert ev.title == "where pid 5 is"
    assert dict(ev.rows) == {"state": "S (sleeping)", "system call": "pause",
                             "kernel function (wchan)": "do_pause",
                             "blocked signals": "SIGTSTP"}  # fmt: skip
    assert ev.data["blocked"] == ["SIGTSTP"]
    _round_trips(ev)


def test_ipc_lists_every_object() -> None:
    q = MessageQueue(key=1234, id=3, mode=0o666, bytes=13, messages=1, last_send_pid=0,
                     last_receive_pid=0, uid=0, ctime=0)  # fmt: skip
    seg = SharedSegment(key=5678, id=4, mode=0o600, size=4096, creator_pid=0, last_pid=0,
                        attached=2, uid=0, ctime=0)  # fmt: skip
    sem = SemaphoreSet(key=1, id=5, mode=0o644, count=2, uid=0, ctime=0)

    ev = evidence.ipc([q], [seg], [sem])

    assert ev.kind == "ipc"
    assert ev.rows[0] == ("queue", "0x4d2", "3", "0666", "1 message(s), 13 bytes")
    assert ev.rows[1][0] == "shared memory"
    assert ev.rows[1][4] == "4096 bytes, 2 attached"
    assert [o["type"] for o in ev.data["objects"]] == ["queue", "shared memory", "semaphores"]
    assert ev.data["objects"][1]["mode"] == 0o600
    _round_trips(ev)


def test_maps_say_which_memory_each_process_shares() -> None:
    ring = Mapping(0x1000, 0x2000, "rw-s", "/dev/zero (deleted)", "00:01", 77)
    own = Mapping(0x3000, 0x4000, "rw-s", "/dev/zero (deleted)", "00:01", 78)

    ev = evidence.maps({10: [ring, own], 11: [ring]}, {10: "producer (pid 10)"})

    assert ev.kind == "maps"
    assert [(r[0], r[2]) for r in ev.rows] == [
        ("producer (pid 10)", "both"),
        ("producer (pid 10)", "only this one"),
        ("pid 11", "both"),
    ]
    assert ev.rows[1][1].endswith("inode 78")
    assert ev.data["maps"][0]["mapped_by"] == [10, 11]
    assert ev.data["maps"][1]["mapped_by"] == [10]
    _round_trips(ev)


def test_process_list_table_and_text() -> None:
    ev = evidence.process_list([_proc(3, "prodcons")], "processes of prodcons")
    assert ev.rows == (("3", "1", "prodcons", "sleeping", "0.25 s"),)
    assert ev.processes == (ProcessRow(3, 1, "prodcons", "sleeping"),)
    t = evidence.table("sizes", ("what", "bytes"), [("mtext", 13)])
    assert (t.kind, t.rows) == ("table", (("mtext", "13"),))
    x = evidence.text("trace", "read(0, ...)")
    assert (x.kind, x.text, x.rows) == ("text", "read(0, ...)", ())
    for each in (ev, t, x):
        _round_trips(each)
