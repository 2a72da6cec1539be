"""What a sleeping process waits for, and whether anything left can wake it: a hang, named.

Read from /proc/PID/syscall (the call a process is blocked in, with its arguments),
/proc/PID/stat, /proc/PID/status (signal masks, context switches) and /proc/PID/timers.
A program is stuck when every one of its processes is asleep in a call that only another
of them could end (a read of an anonymous pipe whose every write end they hold, a wait for
one of their own children, a signal or a System V message none of them will send), and
none has moved since. Whenever in doubt (a timer that may fire, a pipe end held by anyone
else, the grader included, a thread, a call not known here), it is no hang.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader import syscalls
from grader.inspection.fds import FdEntry, fds
from grader.inspection.tree import ProcessGone
from grader.pids import stat_fields

_FD_READS = {"read", "readv", "pread64", "preadv", "preadv2"}
_FD_WRITES = {"write", "writev", "pwrite64", "pwritev", "pwritev2"}
_CHILD_WAITS = {"wait4", "waitid"}
_SIGNAL_WAITS = {"pause", "rt_sigsuspend"}
_IPC_WAITS = {"msgrcv", "msgsnd", "semop", "semtimedop"}
_FUTEX_WAITS = {0, 9}  # FUTEX_WAIT, FUTEX_WAIT_BITSET (op & 0x7f)
_P_PID = 1  # waitid's idtype for one pid; P_PIDFD (3) and the others: not decoded
_SIGALRM = 14
# nothing moved for this long: the processes are blocked, not between calls. Two looks this
# far apart with no context switch, CPU tick or output in any process between them mean that
# none of them ran meanwhile: a fixed point, which the structure (every wait one that only
# another of them could end) then makes permanent. Longer only guards the sampling itself.
SETTLE_S = 0.1
SIGNAL_SETTLE_S = 2.0  # a wait for a signal: a longer look, since signals come from anyone


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
    ignored_signals: int  # SigIgn
    timers: bool  # it has POSIX timers (timer_create), which may fire
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


def _syscall_name(number: int) -> str:
    return syscalls.name(number)


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def members(root: int) -> tuple[int, ...]:
    """`root` and its descendants (those that left its session with setsid too), from
    /proc/PID/task/TID/children; without that file, `root`'s session."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        tasks = _tasks(pid)
        if tasks is None:
            return session_pids(root)
        for tid in tasks:
            children = _read(f"/proc/{pid}/task/{tid}/children")
            if children is None and os.path.exists(f"/proc/{pid}/task/{tid}"):
                return session_pids(root)  # no CONFIG_PROC_CHILDREN: the session, then
            todo += [int(c) for c in (children or "").split()]
    return tuple(sorted(set(found)))


def _tasks(pid: int) -> list[str] | None:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []  # gone: no children to look for
    except OSError:
        return None


@dataclass(frozen=True)
class Seen:
    """A process as its /proc/PID/stat shows it: enough for a look every few milliseconds."""

    pid: int
    name: str  # the command name (at most 15 characters, as the kernel keeps it)
    state: str  # one letter: "S" asleep, "R", "D", "T" stopped, "t" traced, "Z" zombie


def session(sid: int) -> tuple[Seen, ...]:
    """The processes of session `sid`, orphans included, from /proc/PID/stat alone: one
    read per process, where inspection.in_session reads each one's command line (a decoy's
    may be 128 KB), executable and ids."""
    found = []
    key = str(sid).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone while we looked
        close = stat.rfind(b")")
        fields = stat[close + 2 :].split()
        if close > 0 and len(fields) > 3 and fields[3] == key:
            name = stat[stat.find(b"(") + 1 : close].decode(errors="replace")
            found.append(Seen(int(entry), name, fields[0].decode()))
    return tuple(sorted(found, key=lambda s: s.pid))


def session_pids(sid: int) -> tuple[int, ...]:
    """The pids of session `sid`, from /proc/PID/stat alone."""
    return tuple(s.pid for s in session(sid))


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
    if raw and raw[0].isdigit():  # "running", or "-1 sp pc" outside a call: none
        call = _syscall_name(int(raw[0]))
        args = tuple(int(a, 16) for a in raw[1:7])
    moved = (
        int(info.get("voluntary_ctxt_switches", "0")),
        int(info.get("nonvoluntary_ctxt_switches", "0")),
        int(fields[11]),  # utime
        int(fields[12]),  # stime
    )

    def mask(key: str) -> int:
        return int(info.get(key, "0").strip() or "0", 16)

    return Wait(
        pid=pid,
        name=info.get("Name", "?").strip(),
        ppid=int(fields[1]),
        state=fields[0].decode(),
        call=call,
        args=args,
        wchan=(_read(f"/proc/{pid}/wchan") or "").strip(),
        moved=moved,
        blocked_signals=mask("SigBlk"),
        caught_signals=mask("SigCgt"),
        ignored_signals=mask("SigIgn"),
        timers=bool((_read(f"/proc/{pid}/timers") or "").strip()),
        threads=int(info.get("Threads", "1")),
    )


def sample(pids: Iterable[int]) -> tuple[Wait, ...] | None:
    """Each process's wait; None when one has gone while we looked (something moved)."""
    try:
        return tuple(wait_of(pid) for pid in pids)
    except ProcessGone:
        return None


def hang(
    waits: Sequence[Wait], *, others_may_act: bool, unnamed: frozenset[int] = frozenset()
) -> Hang | None:
    """A Hang if no process of `waits` can end its wait without help from outside the set.

    Args:
        others_may_act: a process outside the set (another program of the check) is alive
            and may send a signal or a message: signal and IPC waits are then no hang.
        unnamed: the grader's own helpers among `waits` (a terminal's launcher, strace as
            the program's parent): judged, but left out of the words.

    Returns None (not provably stuck) whenever in doubt.
    """
    if any(w.state == "Z" and w.threads > 1 for w in waits):
        return None  # its main thread has ended, its other threads may not have
    alive = [w for w in waits if w.state != "Z"]
    if not alive or any(w.state != "S" or w.threads != 1 or not w.call for w in alive):
        return None
    try:
        tables = {w.pid: fds(w.pid) for w in alive}
    except ProcessGone:
        return None
    pipes = {
        e.inode for w in alive if w.call in _FD_READS | _FD_WRITES
        for e in tables[w.pid] if e.fd == w.args[0] and e.kind == "pipe" and e.inode
    }  # fmt: skip
    if pipes and _held_elsewhere(pipes, {w.pid for w in alive}):
        return None  # the grader, or a process not of this program, may read or write it
    names = {w.pid: w.name for w in alive}
    blocked = []
    settle = SETTLE_S
    for w in alive:
        says = _why(w, alive, tables, names, others_may_act)
        if says is None:
            return None
        if w.call in _SIGNAL_WAITS:
            settle = SIGNAL_SETTLE_S
        if w.pid not in unnamed:
            blocked.append(Blocked(w.pid, w.name, w.call, says))
    return Hang(tuple(blocked), settle) if blocked else None


def _held_elsewhere(inodes: set[int], pids: set[int]) -> bool:
    """Does a process outside `pids` (any we can read: the grader too) hold one of these
    pipes? Read once, when a hang is about to be said."""
    wanted = {f"pipe:[{i}]" for i in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in pids:
            continue
        try:
            links = os.listdir(f"/proc/{entry}/fd")
        except OSError:  # gone, or another user's: it cannot have been given our pipe
            continue
        for fd in links:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    return False


def _why(
    w: Wait,
    alive: Sequence[Wait],
    tables: dict[int, tuple[FdEntry, ...]],
    names: dict[int, str],
    others_may_act: bool,
) -> str | None:
    """What `w` waits for, in words; None if something outside the set may end it."""
    me = f"{w.name} (pid {w.pid})"
    if w.call in _FD_READS or w.call in _FD_WRITES:
        return _why_pipe(w, me, tables, names)
    if w.call in _CHILD_WAITS:
        if w.call == "wait4":  # wait4(pid, ...): -1, 0 or below -1: any child (of a group)
            target = w.args[0] if 0 < w.args[0] <= 0x7FFFFFFF else -1
        elif w.args[0] == _P_PID:  # waitid(P_PID, pid, ...)
            target = w.args[1]
        elif w.args[0] in (0, 2):  # P_ALL, P_PGID: any child (a group's are ours too)
            target = -1
        else:
            return None  # P_PIDFD: which child is not decoded here
        waited = [v for v in alive if v.ppid == w.pid and target in (-1, v.pid)]
        if not waited:
            return None  # the child it waits for is not among them (or none): not ours
        who = ", ".join(f"{v.name} (pid {v.pid})" for v in waited)
        return f"{me} waits in {w.call}() for its child {who}"
    if others_may_act:
        return None
    if w.call in _SIGNAL_WAITS:
        alarm = 1 << (_SIGALRM - 1)
        if w.timers or not (w.blocked_signals | w.ignored_signals) & alarm:
            return None  # an alarm() or a timer may be pending: the kernel does not show it
        return f"{me} waits in {w.call}() for a signal that nothing left will send" + _inside(w)
    if w.call in _IPC_WAITS:
        if w.call == "semtimedop" and w.args[3] != 0:
            return None  # with a timeout: it ends by itself
        verb = {"msgrcv": "a message on", "msgsnd": "room in"}.get(w.call, "semaphore set")
        return (
            f"{me} waits in {w.call}() for {verb} System V id {w.args[0]}, which no process "
            "left will change"
        )
    if w.call == "futex" and w.args[1] & 0x7F in _FUTEX_WAITS and w.args[3] == 0:
        return f"{me} waits on a futex (sem_wait(), a mutex) that no process left will post"
    return None  # a timed sleep, a socket, a call not known here: it may end by itself


def _why_pipe(
    w: Wait, me: str, tables: dict[int, tuple[FdEntry, ...]], names: dict[int, str]
) -> str | None:
    fd = next((e for e in tables[w.pid] if e.fd == w.args[0]), None)
    if fd is None or fd.kind != "pipe" or fd.inode is None or fd.access not in ("r", "w"):
        return None  # a FIFO (anyone may open it), a socket, a terminal, a file
    reading = w.call in _FD_READS
    other = "w" if reading else "r"
    holders = [
        (pid, e) for pid, table in tables.items() for e in table
        if e.kind == "pipe" and e.inode == fd.inode and other in e.access
    ]  # fmt: skip
    what = f"fd {fd.fd}, the {fd.end} end of pipe {fd.inode}"
    if reading:
        if not holders:
            return None  # no writer left: end-of-file comes
        held = ", ".join(
            f"{'itself' if pid == w.pid else f'{names[pid]} (pid {pid})'} as fd {e.fd}"
            for pid, e in holders
        )
        return (
            f"{me} waits in {w.call}() on {what}, whose write end is still held by {held}: "
            "end-of-file comes only when every write end is closed"
        )
    readers = sorted({f"{names[pid]} (pid {pid})" for pid, _ in holders if pid != w.pid})
    if not holders:
        return None  # no reader left: the write fails (EPIPE) instead
    who = ", ".join(readers) if readers else "only it reads it, and it"
    return f"{me} waits in {w.call}() on {what}, which is full: {who} never reads it"


def _inside(w: Wait) -> str:
    """ ", with SIGTSTP blocked, as while its handler runs: …" when a caught signal is
    blocked (the kernel blocks a signal while its handler runs)."""
    inside = [n for n in range(1, 65) if (w.blocked_signals & w.caught_signals) >> (n - 1) & 1]
    if not inside:
        return ""
    names = ", ".join(_signal_name(n) for n in inside)
    return f", with {names} blocked, as while its handler runs: a handler that waits never returns"


def _signal_name(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"
