"""What a sleeping process waits for, and whether anything left can wake it: a hang, named.

Read from /proc/PID/syscall (the call a process is blocked in, with its arguments),
/proc/PID/wchan, /proc/PID/stat and the context-switch counts of /proc/PID/status. A set
of processes is stuck when every one is asleep in a call that only another process of the
set could end (a read of a pipe whose every write end they hold, a wait for one of their
children, a signal or a message none of them will send), and none has moved since.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader.inspection.fds import FdEntry, fds
from grader.inspection.tree import ProcessGone, stat_fields

# calls that end only when another process acts (or a signal comes), by what they wait on
_FD_READS = {"read", "readv", "pread64", "preadv", "preadv2"}
_FD_WRITES = {"write", "writev", "pwrite64", "pwritev", "pwritev2"}
_CHILD_WAITS = {"wait4", "waitid"}
_SIGNAL_WAITS = {"pause", "rt_sigsuspend", "rt_sigtimedwait"}
_IPC_WAITS = {"msgrcv", "msgsnd", "semop"}
_TIMED = {"nanosleep", "clock_nanosleep", "restart_syscall", "alarm", "sched_yield"}
# a pause() may end with an alarm() the kernel does not show: a longer look before a verdict
SIGNAL_SETTLE_S = 2.0
SETTLE_S = 0.3


@dataclass(frozen=True)
class Wait:
    """One process as it sleeps: the call it is blocked in, and its activity counters."""

    pid: int
    name: str
    ppid: int
    state: str  # the one-letter state of /proc/PID/stat: "S", "R", "D", "T", "Z"
    call: str  # "read", "wait4", "pause", ...; "" when it is not in a call or unreadable
    args: tuple[int, ...]
    wchan: str  # the kernel function it sleeps in: "pipe_read", "do_wait", ...
    moved: tuple[int, ...]  # context switches and CPU ticks: any change is progress
    blocked_signals: int  # SigBlk, a bit per signal (bit 0 is signal 1)
    caught_signals: int  # SigCgt
    threads: int

    @property
    def fingerprint(self) -> tuple[object, ...]:
        return (self.pid, self.state, self.call, self.args, self.moved)


@dataclass(frozen=True)
class Blocked:
    """What one stuck process waits for, in words."""

    pid: int
    name: str
    call: str
    says: str  # "grep (pid 7) waits in read() on fd 0, the read end of pipe 5435, …"


@dataclass(frozen=True)
class Hang:
    """Every process of a program asleep, and none able to wake another."""

    blocked: tuple[Blocked, ...]
    settle_s: float  # how long nothing moved before this was said

    @property
    def text(self) -> str:
        """Who blocks on what, for a message: "grep (pid 7) waits in read() …; …"."""
        return "; ".join(b.says for b in self.blocked)


@functools.cache
def _syscall_name(number: int) -> str:
    from grader.sandbox import seccomp

    binding, _ = seccomp._binding()
    if binding is None:
        return ""
    try:
        name = binding.resolve_syscall(binding.Arch.NATIVE, number)
    except Exception:  # an unknown number: the library raises or returns junk
        return ""
    return name.decode() if isinstance(name, bytes) else str(name or "")


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def session_pids(sid: int) -> tuple[int, ...]:
    """The pids of session `sid`, from /proc/PID/stat alone (cheap enough to poll)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and len(fields) > 3 and fields[3] == str(sid).encode():
                found.append(int(entry))
    return tuple(sorted(found))


def wait_of(pid: int) -> Wait:
    """What `pid` is doing now.

    Raises:
        ProcessGone: it has exited.
    """
    fields = stat_fields(pid)
    status = _read(f"/proc/{pid}/status")
    if fields is None or status is None:
        raise ProcessGone(pid)
    info = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    call = ""
    args: tuple[int, ...] = ()
    raw = (_read(f"/proc/{pid}/syscall") or "").split()
    if raw and raw[0].lstrip("-").isdigit() and int(raw[0]) >= 0:
        call = _syscall_name(int(raw[0]))
        args = tuple(int(a, 16) for a in raw[1:7])
    moved = (
        int(info.get("voluntary_ctxt_switches", "0")),
        int(info.get("nonvoluntary_ctxt_switches", "0")),
        int(fields[11]),  # utime
        int(fields[12]),  # stime
    )
    return Wait(
        pid=pid,
        name=info.get("Name", "?").strip(),
        ppid=int(fields[1]),
        state=fields[0].decode(),
        call=call,
        args=args,
        wchan=(_read(f"/proc/{pid}/wchan") or "").strip(),
        moved=moved,
        blocked_signals=int(info.get("SigBlk", "0").strip() or "0", 16),
        caught_signals=int(info.get("SigCgt", "0").strip() or "0", 16),
        threads=int(info.get("Threads", "1")),
    )


def sample(pids: Iterable[int]) -> tuple[Wait, ...] | None:
    """Each process's wait; None when one has gone while we looked (something moved)."""
    try:
        return tuple(wait_of(pid) for pid in pids)
    except ProcessGone:
        return None


def hang(
    waits: Sequence[Wait], *, others_may_act: bool, grader_pipes: frozenset[int] = frozenset()
) -> Hang | None:
    """A Hang if no process of `waits` can end its wait without help from outside the set.

    Args:
        others_may_act: some process outside the set (another program of the check) is
            alive and may send a signal or a message: signal and IPC waits are then not a
            hang, only waits on pipes and children.
        grader_pipes: the grader's own ends of the programs' pipes (their stdout, stderr):
            a process blocked on one waits for the grader, not on its own.

    Returns None (not provably stuck) whenever in doubt: a process running or in a timed
    sleep, a call not known here, a pipe end held outside the set, several threads.
    """
    alive = [w for w in waits if w.state != "Z"]
    if not alive or any(w.state != "S" or w.threads != 1 or not w.call for w in alive):
        return None
    pids = {w.pid for w in alive}
    tables: dict[int, tuple[FdEntry, ...]] = {}
    for w in alive:
        try:
            tables[w.pid] = fds(w.pid)
        except ProcessGone:
            return None
    names = {w.pid: w.name for w in alive}
    blocked = []
    settle = SETTLE_S
    for w in alive:
        says = _why(w, alive, tables, names, pids, others_may_act, grader_pipes)
        if says is None:
            return None
        if w.call in _SIGNAL_WAITS:
            settle = SIGNAL_SETTLE_S
        blocked.append(Blocked(w.pid, w.name, w.call, says))
    return Hang(tuple(blocked), settle)


def _why(
    w: Wait,
    alive: Sequence[Wait],
    tables: dict[int, tuple[FdEntry, ...]],
    names: dict[int, str],
    pids: set[int],
    others_may_act: bool,
    grader_pipes: frozenset[int],
) -> str | None:
    """What `w` waits for, in words; None if something outside the set may end it."""
    me = f"{w.name} (pid {w.pid})"
    if w.call in _FD_READS or w.call in _FD_WRITES:
        fd = next((e for e in tables[w.pid] if e.fd == w.args[0]), None)
        if fd is None or fd.kind not in ("pipe", "fifo") or fd.inode is None:
            return None  # a socket, a terminal, a file: its other side is not ours to see
        if fd.inode in grader_pipes:
            return None  # blocked on the grader's end of its output: the grader's doing
        other = "write" if w.call in _FD_READS else "read"
        holders = [
            (pid, e) for pid, t in tables.items() for e in t
            if e.inode == fd.inode and e.kind == fd.kind and other[0] in e.access
        ]  # fmt: skip
        what = f"fd {fd.fd}, the {fd.end or 'both ends'} end of {fd.kind} {fd.inode}"
        if w.call in _FD_READS:
            if not holders:
                return None  # no writer in the set: end-of-file would come, or an outsider
            held = ", ".join(
                f"{'itself' if pid == w.pid else f'{names[pid]} (pid {pid})'} as fd {e.fd}"
                for pid, e in holders
            )
            return (
                f"{me} waits in {w.call}() on {what}, whose write end is still held by {held}: "
                "end-of-file comes only when every write end is closed"
            )
        readers = [f"{names[pid]} (pid {pid})" for pid, _ in holders if pid != w.pid]
        if not readers:
            return None
        who = ", ".join(readers)
        return f"{me} waits in {w.call}() on {what}, which is full: {who} never reads it"
    if w.call in _CHILD_WAITS:
        if w.call == "wait4":  # wait4(pid, ...): -1 or 0 or below: any child (of a group)
            target = w.args[0] if 0 < w.args[0] <= 0x7FFFFFFF else -1
        else:  # waitid(idtype, id, ...): P_PID is 1
            target = w.args[1] if w.args[0] == 1 else -1
        waited = [v for v in alive if v.ppid == w.pid and target in (-1, v.pid)]
        if not waited:
            return None  # the child it waits for is outside the set (or none): not ours
        who = ", ".join(f"{v.name} (pid {v.pid})" for v in waited)
        return f"{me} waits in {w.call}() for its child {who}"
    if others_may_act:
        return None
    if w.call in _SIGNAL_WAITS:
        if w.call == "rt_sigtimedwait" and w.args[2] != 0:
            return None  # with a timeout: it ends by itself
        inside = [n for n in range(1, 65) if (w.blocked_signals & w.caught_signals) >> (n - 1) & 1]
        why = ""
        if inside:
            names_ = ", ".join(_signal_name(n) for n in inside)
            why = (
                f", with {names_} blocked, as while its handler runs: a handler that waits "
                "never returns"
            )
        return f"{me} waits in {w.call}() for a signal that nothing left will send{why}"
    if w.call in _IPC_WAITS:
        verb = {"msgrcv": "a message on", "msgsnd": "room in", "semop": "semaphore set"}
        return (
            f"{me} waits in {w.call}() for {verb[w.call]} System V id {w.args[0]}, which "
            "no process left will change"
        )
    if w.call == "futex" and w.args[3] == 0:  # no timeout: a semaphore, a mutex
        return f"{me} waits on a futex (sem_wait(), a mutex) that no process left will post"
    return None


def _signal_name(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"
