"""One check's processes: started in a fresh folder, all killed and cleaned up after."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.catalog import Limits
from grader.process import Run
from grader.sandbox import inside
from grader.sandbox.detect import NOBODY, Capabilities
from grader.sandbox.student import hand_to_students, preexec, student_env


class Sandbox:
    """The processes one check starts, in a fresh working folder; all killed at the end."""

    def __init__(
        self, workdir: Path, limits: Limits, caps: Capabilities, *, home: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.limits = limits
        self.caps = caps
        self.home = home or workdir
        self.log: list[str] = []
        self.warnings: list[str] = []
        self.since = int(time.time())  # IPC objects created from now on are this check's
        self.runs: list[Run] = []
        workdir.mkdir(parents=True, exist_ok=True)
        hand_to_students(workdir, caps)

    def note(self, line: str) -> None:
        self.log.append(line)

    def warn(self, text: str) -> None:
        """Advice shown with the check's result that does not fail it."""
        self.warnings.append(text)

    def stops(self) -> list[str]:
        """What the sandbox stopped, in plain words, for the check's message."""
        return [f"the sandbox stopped {r.name} (pid {r.pid}): it {r.stopped_for}"
                for r in self.runs if r.stopped_for]  # fmt: skip

    def path(self, name: str) -> Path:
        return self.workdir / name

    def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        limits: Limits | None = None,
        umask: int = 0o022,
        trace: Sequence[str] = (),
        **kwargs: Any,
    ) -> Run:
        """Start `argv` as a student process: own session, rlimits, scrubbed environment.

        Args:
            trace: system calls to record with strace (`run.calls()` reads them).
        """
        lim = limits or self.limits
        trace_path = None
        if trace:
            from grader import trace as tracing

            traces = self.workdir.parent / f".{self.workdir.name}-traces"
            traces.mkdir(exist_ok=True)
            hand_to_students(traces, self.caps)  # strace runs as the student
            trace_path = traces / f"{len(self.runs)}.strace"
            argv = tracing.wrap(argv, kwargs.pop("executable", None), trace_path, trace)
        hand_to_students(self.workdir, self.caps)  # files the check wrote there, too
        run = Run(
            argv,
            cwd=cwd or self.workdir,
            env=student_env(self.home, env),
            preexec_fn=preexec(
                lim, self.caps, new_session=not kwargs.get("pty", False), umask=umask
            ),
            run_as=NOBODY if self.caps.root else None,
            cpu_limit_s=lim.cpu_s,
            output_cap=lim.output_kb * 1024,
            wall_s=lim.wall_s,
            **kwargs,
        )
        run.trace_path = trace_path
        self.runs.append(run)
        shown = " ".join(a if len(a) < 60 else a[:40] + "…" for a in argv[:8])
        self.note(f"started {shown} as pid {run.pid}")
        return run

    def cleanup(self) -> None:
        """Kill every process the check started, and what they started; reap them."""
        for run in self.runs:
            run.kill_group()
        _kill_stragglers()
        for run in self.runs:
            run.close()
        _reap_orphans()
        remove_ipc_objects(self.caps, since=self.since)


def _kill_stragglers() -> None:
    """Kill what escaped its process group (setsid, double fork): the worker's descendants."""
    import psutil

    me = os.getpid()
    try:
        victims = psutil.Process(me).children(recursive=True)
    except psutil.Error:
        return
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)


def _reap_orphans() -> None:
    """Collect zombies adopted by the worker (it is their init or subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_ipc_objects(caps: Capabilities, since: int | None = None) -> None:
    """Remove the System V objects the grade made.

    Inside the grade's own IPC namespace, every object is the grade's: all go. Without
    namespaces (reduced isolation, where fixed-key grades are serialized by a lock), the
    objects of the student's uid created since `since` go. Never anything else: outside a
    grade, the objects are the machine's.
    """
    import sysv_ipc

    if caps.userns and not inside.entered():
        return
    owner = NOBODY if caps.root else os.getuid()

    from grader.inspection import ipc

    objects = (
        (ipc.queues(), sysv_ipc.remove_message_queue),
        (ipc.segments(), sysv_ipc.remove_shared_memory),
        (ipc.semaphore_sets(), sysv_ipc.remove_semaphore),
    )
    for found, remove in objects:
        for obj in found:
            ours = since is not None and obj.uid == owner and obj.ctime >= since
            if caps.userns or ours:
                with contextlib.suppress(sysv_ipc.Error, OSError):
                    remove(obj.id)
