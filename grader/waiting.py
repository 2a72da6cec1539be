"""Waiting on a started program's events with a deadline, and seeing a hang meanwhile:
every process asleep on another of its own, and nothing moving."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # imported where used: grader.process is on the way to the first gcc
    from grader.inspection import blocking

POLL_S = 0.005  # how often process state is looked at while waiting on it
# how often a waited-for program is looked at for a hang (a few /proc reads per process):
# a hang is said within this of its settle time
STILL_POLL_S = 0.02


@dataclass(frozen=True)
class Waited:
    """The answer of `Run.wait_for`: did the event happen before the deadline?"""

    ok: bool
    waited_s: float
    exited: bool
    hang: blocking.Hang | None = None  # it cannot happen: every process waits on another

    def __bool__(self) -> bool:
        return self.ok


class Watched(Protocol):
    """A started program as a wait sees it (a process.Run)."""

    pid: int
    leader: int  # a terminal's launcher, or 0
    trace_path: Path | None  # strace as its parent
    hang: blocking.Hang | None  # set to the hang a wait gave up on

    @property
    def alive(self) -> bool: ...
    @property
    def output_seen(self) -> tuple[int, int]: ...
    def company(self) -> bool: ...


class Stillness:
    """Successive looks at a program's processes while a check waits on it: a Hang once
    they are all asleep on each other and nothing (calls, context switches, CPU ticks,
    output) has changed for the settle time the Hang asks."""

    def __init__(self, run: Watched) -> None:
        self._run = run
        self._next = 0.0
        self._key: object = None
        self._since = 0.0
        self._judged: tuple[object, blocking.Hang | None] = (None, None)

    def look(self) -> blocking.Hang | None:
        from grader.inspection import blocking

        now = time.monotonic()
        run = self._run
        if now < self._next or not run.alive:
            return None
        self._next = now + STILL_POLL_S
        waits = blocking.sample(blocking.members(run.leader or run.pid))
        key = waits and (tuple(w.fingerprint for w in waits), run.output_seen)
        if not key or key != self._key:
            self._key, self._since = key, now
            return None
        if now - self._since < blocking.SETTLE_S:
            return None
        assert waits is not None
        company = run.company()
        if self._judged[0] != (key, company):  # judged once while nothing moves
            # the grader's own helpers are judged but not named: a terminal's launcher,
            # strace as the program's parent
            unnamed = frozenset({run.leader} if run.leader else ()) | frozenset(
                {run.pid} if run.trace_path is not None else ()
            )
            found = blocking.hang(waits, others_may_act=company, unnamed=unnamed)
            self._judged = ((key, company), found)
        found = self._judged[1]
        return found if found is not None and now - self._since >= found.settle_s else None


def until(
    run: Watched,
    cond: threading.Condition,
    happened: Callable[[], bool],
    within_s: float,
    *,
    stuck: bool,
    polled: bool,
) -> Waited:
    """Wait until `happened()` (asked at each of `run`'s events, under `cond`, and every
    POLL_S when `polled`), at most `within_s`; with `stuck`, give up at once on a hang."""
    start = time.monotonic()
    deadline = start + within_s
    still = Stillness(run) if stuck else None
    while True:
        with cond:
            if happened():
                return Waited(True, time.monotonic() - start, not run.alive)
            left = deadline - time.monotonic()
            if left <= 0:
                return Waited(False, within_s, not run.alive)
            tick = POLL_S if polled else STILL_POLL_S if still else left
            cond.wait(min(left, tick))
        found = still.look() if still is not None else None  # /proc, without the lock
        if found is not None and run.alive:
            run.hang = found
            return Waited(False, time.monotonic() - start, False, found)


def holds(predicate: Callable[[], object]) -> bool:
    """`predicate()`, where a process it looks at having gone means "not yet"."""
    from grader import inspection

    try:
        return bool(predicate())
    except inspection.ProcessGone:
        return False


def in_state(pid: int, state: str, other: Callable[[], object] | None) -> Callable[[], object]:
    """A predicate: `other` holds, or process `pid` is in `state` ("stopped", ...)."""

    from grader import inspection

    def check() -> object:
        if other is not None and other():
            return True
        try:
            return inspection.process(pid).state == state
        except inspection.ProcessGone:
            return False

    return check
