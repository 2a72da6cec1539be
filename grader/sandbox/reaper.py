"""Kill and reap what a check left: its programs' process groups, what escaped them (setsid,
a double fork), and the orphans the worker adopted as their subreaper or init.

Only the worker's own descendants are touched, but the children it had before the check
(`spare`, by pid and start time), and each child is reaped by its pid, never with
waitpid(-1): a spared child's exit status stays its owner's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from grader import pids, stops

if TYPE_CHECKING:
    from grader.process import Run


def children() -> frozenset[int]:
    """The worker's children now."""
    import psutil

    try:
        return frozenset(c.pid for c in psutil.Process().children())
    except psutil.Error:
        return frozenset()


def descendants() -> int:
    """How many processes descend from this one, zombies included (they count against
    RLIMIT_NPROC too)."""
    import psutil

    try:
        return len(psutil.Process().children(recursive=True))
    except psutil.Error:
        return 0


def owned(runs: Sequence[Run]) -> set[int]:
    """The pids the check's runs own: each program, its terminal's launcher, its tracer."""
    mine = {pid for run in runs for pid in (run.pid, run.leader) if pid}
    tracers = (run.tracer.proc for run in runs if run.tracer is not None)
    return mine | {proc.pid for proc in tracers if proc is not None}


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from one pass over /proc (psutil's `children()` makes a
    pass for each process asked: one per child here, at every check's cleanup)."""
    found: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = pids.stat_fields(int(name))
            if fields is not None and len(fields) > 1:
                found.setdefault(int(fields[1]), []).append(int(name))
    return found


def escaped(spare: frozenset[int]) -> list[Any]:
    """The worker's descendants (psutil.Process), but the children it had before the check
    (`spare`) and theirs: each child, then its descendants, nearest first."""
    import psutil

    tree = _children_by_parent()
    found = []
    for child in tree.get(os.getpid(), []):
        if child in spare:
            continue
        line = [child]
        for pid in line:  # grows as it goes: breadth first, as psutil's recursive children
            with contextlib.suppress(psutil.Error):
                found.append(psutil.Process(pid))
            line += tree.get(pid, [])
    return found


def outliving(runs: Sequence[Run], spare: frozenset[int], grace_s: float = 0.2) -> str:
    """Name the processes still running once every program of the check has ended by
    itself (a child never waited for, a daemon), after a moment's grace: "" if none, or if
    the grader ended a program itself (its children may then be cut short by design)."""
    import psutil

    if not runs or not all(run.ended_by_itself for run in runs):
        return ""
    ours = owned(runs)

    def live() -> list[psutil.Process]:
        alive = []
        for p in escaped(spare):
            with contextlib.suppress(psutil.Error):
                if p.pid not in ours and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
        return alive

    left = live()
    deadline = time.monotonic() + grace_s
    while left and time.monotonic() < deadline:  # wait for their ends, not a fixed time
        pids.wait_any_end([p.pid for p in left], deadline - time.monotonic())
        left = live()
    if not left:
        return ""
    sessions = {run.leader or run.pid for run in runs}
    named = []
    for p in left:  # those that died meanwhile drop out, from the names and the count
        with contextlib.suppress(psutil.Error, OSError):
            own = os.getsid(p.pid) not in sessions
            named.append(f"{p.name()} (pid {p.pid}{', in a session of its own' if own else ''})")
    return stops.outliving(named, [run.name for run in runs]) if named else ""


def kill_stragglers(spare: frozenset[int] = frozenset()) -> None:
    """Kill what escaped its process group (setsid, double fork): the worker's descendants,
    but the children it had before the check (`spare`) and theirs."""
    import psutil

    victims = escaped(spare)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)


def reap_orphans(spare: frozenset[int] = frozenset(), within_s: float = 2.0) -> None:
    """Kill and reap every child of the worker but `spare` (the children it had before the
    check): what the check started, and what escaped and was adopted by the worker (it is
    their init or subreaper), forked since the stragglers were killed included. Each is
    waited for until it has died: one left unreaped would go to the machine's init when the
    worker exits, and stay a zombie for as long as that init takes to reap it."""
    import psutil

    me = os.getpid()

    def mine(pid: int) -> bool:
        fields = pids.stat_fields(pid)
        return fields is not None and len(fields) > 1 and int(fields[1]) == me

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            left = [c.pid for c in psutil.Process().children() if c.pid not in spare]
        except psutil.Error:
            return
        if not left:
            return
        dying = []
        reaped_some = False
        for pid in left:
            pids.signal_if(pid, signal.SIGKILL, mine)
            try:
                reaped, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue  # not ours any more
            if reaped:
                reaped_some = True
                continue
            dying.append(pid)
        if reaped_some and not dying:
            continue  # look again at once: the dead may have left orphans to the worker
        # a grandchild may be handed to the worker meanwhile: rescan every 50 ms
        pids.wait_any_end(dying, min(deadline - time.monotonic(), 0.05))
