"""At most N grade processes at once, each under a deadline; waited on by pidfd, not polled.

A grade runs as `grade EXERCISE SUBMISSION --format json --out FILE` in a process of its own,
never as a thread calling session.grade: a grade unwinds its sandbox on KeyboardInterrupt,
which Python delivers to the main thread only; session.grade toggles the process-wide
dumpable flag (sandbox.out_of_reach), whose save-and-restore interleaves wrongly across
threads; subprocess's preexec_fn (the worker's PR_SET_PDEATHSIG) is unsafe once threads
run; and a grade that crashes its interpreter takes only itself down. The cost, about 0.25 s
of Python start-up per grade of 1.5 s or more, is measured by bench/bench_batch.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from grader.private import read_private

K = TypeVar("K")
GRACE_S = 10.0  # what a grade stopped with SIGTERM has to remove its sandbox
_SAID = 2000  # what is kept of a grade's last words on stderr
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); from grader.cli import main; main(sys.argv[2:])"
)
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None)  # loaded here: the child between fork and exec loads nothing


@dataclass(frozen=True)
class Task(Generic[K]):
    """One grade to run: `key` is the caller's, handed back with its outcome."""

    key: K
    exercise: str
    submission: Path
    deadline_s: float  # past it, the grade's process is stopped (SIGTERM, then SIGKILL)


@dataclass(frozen=True)
class Done(Generic[K]):
    """How one grade's process ended."""

    key: K
    returncode: int  # negative: killed by that signal
    report: str | None  # the JSON report it wrote, if any
    said: str  # the end of what it wrote on stderr
    overtime: bool  # stopped by the pool, past its deadline
    seconds: float


@dataclass(eq=False)
class _Running(Generic[K]):
    task: Task[K]
    proc: subprocess.Popen[bytes]
    result: Path
    errors: Path
    started: float
    pidfd: int | None
    stopping: float | None = None  # when it was sent SIGTERM, past its deadline


def argv(exercise: str, submission: Path, out: Path) -> list[str]:
    """The grade's command: this interpreter, isolated (-I: no current folder on the path,
    no user site), importing this very grader."""
    package = str(Path(__file__).resolve().parents[2])  # holds grader/
    return [sys.executable, "-I", "-c", _BOOT, package, exercise, str(submission),
            "--format", "json", "--out", str(out), "--no-cache"]  # fmt: skip


class Pool(Generic[K]):
    """Runs tasks `jobs` at a time; `on_start(key, running keys)` and `on_done(Done)` are
    called from the caller's thread, in order. A slot freed by a grade that ended is given
    the next task before that grade's on_done runs (the caller's slow part: reading and
    writing its report), so no core idles meanwhile. Work given to later() (rendering a
    report's pages) runs one piece at a time while the grades run, each slot freed being
    refilled between pieces, never held idle behind them. A KeyboardInterrupt propagates
    out of run() with the grades still running: call stop(), then flush(), then close()."""

    def __init__(
        self,
        jobs: int,
        on_start: Callable[[K, tuple[K, ...]], None],
        on_done: Callable[[Done[K]], None],
    ) -> None:
        self.pending: deque[Task[K]] = deque()
        self.source: Iterator[Task[K]] = iter(())
        self.jobs = jobs
        self.on_start = on_start
        self.on_done = on_done
        self.running: list[_Running[K]] = []
        self.deferred: deque[Callable[[], None]] = deque()
        self.selector = selectors.DefaultSelector()
        # named as a grade's scratch folder is: swept by the next grade if we are killed
        self.scratch = Path(tempfile.mkdtemp(prefix=f"ipcgrade-{os.getpid()}-batch-"))
        self._n = 0

    def add(self, task: Task[K]) -> None:
        self.pending.append(task)

    def run(self, tasks: Iterable[Task[K]] = ()) -> None:
        """Run the tasks added, then `tasks`, each taken only when a slot is free (a
        generator's work between tasks is done while the grades run)."""
        self.source = iter(tasks)
        self._fill()
        while self.running or self.deferred:
            ended = self._wait(block=not self.deferred) if self.running else []
            try:
                self._fill()  # the next grades start before the ended ones' reports are handled
            finally:  # a control-C while they start: the ended ones are still kept
                for done in ended:
                    self.on_done(done)
            # no slot to refill: one piece of the later work; or, behind grades that end
            # faster than it is done, one anyway: what waits (whole reports) stays bounded
            if self.deferred and (not ended or len(self.deferred) > self.jobs):
                self._later_one()

    def later(self, work: Callable[[], None]) -> None:
        """Run `work` while the grades run, when no slot waits to be refilled (or, at the
        latest, before run() returns)."""
        self.deferred.append(work)

    def flush(self) -> None:
        """Run the later work still waiting (after a control-C: what was done is kept)."""
        while self.deferred:
            self._later_one()

    def _later_one(self) -> None:
        self.deferred[0]()
        self.deferred.popleft()  # only once done: cut short, flush() runs it again

    def _fill(self) -> None:
        while len(self.running) < self.jobs:
            task = self.pending.popleft() if self.pending else next(self.source, None)
            if task is None:
                return
            self._start(task)

    def running_keys(self) -> tuple[K, ...]:
        return tuple(r.task.key for r in self.running)

    def _start(self, task: Task[K]) -> None:
        self._n += 1
        result = self.scratch / f"{self._n}.json"
        errors = self.scratch / f"{self._n}.err"
        with open(errors, "wb") as err:
            proc = subprocess.Popen(
                argv(task.exercise, task.submission, result),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # control-C reaches the batch, which stops each grade
                preexec_fn=_die_with_batch,
            )
        pidfd = None
        with contextlib.suppress(AttributeError, OSError):  # no pidfd: kernel < 5.3
            pidfd = os.pidfd_open(proc.pid)
        running = _Running(task, proc, result, errors, time.monotonic(), pidfd)
        if pidfd is not None:
            self.selector.register(pidfd, selectors.EVENT_READ, running)
        self.running.append(running)
        self.on_start(task.key, self.running_keys())

    def _wait(self, block: bool = True) -> list[Done[K]]:
        """Until a grade ends or the next deadline passes (without `block`, not at all: a
        look): how the grades that ended did."""
        deadlines = [
            r.stopping + GRACE_S if r.stopping is not None else r.started + r.task.deadline_s
            for r in self.running
        ]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if block else 0.0
        if any(r.pidfd is None for r in self.running):
            timeout = min(timeout, 0.1)  # one has no pidfd to wait on: look again soon
        if self.selector.get_map():
            ready = {key.data for key, _ in self.selector.select(timeout)}
        else:
            ready = set()
            time.sleep(timeout)  # sleep: the fallback of a blocking wait, without pidfds
        now = time.monotonic()
        ended = []
        for r in list(self.running):
            if r in ready or r.proc.poll() is not None:
                ended.append(self._end(r))
            elif r.stopping is not None and now >= r.stopping + GRACE_S:
                _signal_group(r.proc, signal.SIGKILL)
            elif r.stopping is None and now >= r.started + r.task.deadline_s:
                r.stopping = now
                _signal_group(r.proc, signal.SIGTERM)
        return ended

    def _end(self, r: _Running[K]) -> Done[K]:
        returncode = r.proc.wait()
        self._forget(r)
        said = (read_private(r.errors) or "").strip()
        done = Done(
            key=r.task.key,
            returncode=returncode,
            report=read_private(r.result),
            said=said.removeprefix("grade: ")[-_SAID:],
            overtime=r.stopping is not None,
            seconds=round(time.monotonic() - r.started, 3),
        )
        for path in (r.result, r.errors):
            with contextlib.suppress(OSError):
                path.unlink()
        return done

    def _forget(self, r: _Running[K]) -> None:
        if r.pidfd is not None:
            self.selector.unregister(r.pidfd)
            os.close(r.pidfd)
        self.running.remove(r)

    def stop(self) -> None:
        """Stop every running grade: SIGTERM, which unwinds it (its sandbox and scratch
        folder removed), then SIGKILL for one still there after GRACE_S."""
        for r in self.running:
            _signal_group(r.proc, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for r in list(self.running):
            try:
                r.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(r.proc, signal.SIGKILL)  # its worker dies with it (PDEATHSIG)
                r.proc.wait()
            self._forget(r)

    def close(self) -> None:
        self.selector.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _die_with_batch() -> None:
    """In the grade's process: SIGTERM, a clean unwind, if the batch dies first."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, sig)
