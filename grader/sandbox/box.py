"""A check's sandbox and the programs it starts there: a fresh folder, student processes
started under the grade's limits, all killed and cleaned up after."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader import pids, source, stops
from grader import trace as tracing
from grader.catalog import Limits
from grader.launch import Launch
from grader.process import Run
from grader.reaping import GUARD_S
from grader.results import SandboxAction
from grader.sandbox import inside, reaper, slots
from grader.sandbox.cgroup import read_oom_kills
from grader.sandbox.detect import TMPFS_MB, Capabilities
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
        self.runs: list[Run] = []
        self.uid = caps.student_uid if caps.student_uid is not None else os.getuid()
        # students run as the user (not root, no namespaces): the user's objects are not
        # the check's; only what is new is removed after it
        as_the_user = not caps.userns and caps.student_uid is None
        self._ipc_before = _sysv_ids() if as_the_user else frozenset()
        self._processes_before = reaper.descendants()
        self._children_before = pids.start_times(reaper.children())  # pid: start time
        self._counted = (0.0, 0)  # (when, how many): the guard's last count
        # RLIMIT_NPROC counts threads: those of the uid's other processes, and, where
        # students share the worker's uid (not root), the worker's own, one more per run
        shared = caps.student_uid is None
        self._tasks_before = _tasks_of(self.uid) + (_WORKER_HEADROOM if shared else 0)
        self._oom_before = self._oom_kills()
        self._full: list[str] = []  # the grade's own tmpfs mounts it filled (at cleanup)
        self._full_before = _full_tmpfs(caps)
        workdir.mkdir(parents=True, exist_ok=True)
        hand_to_students(workdir, caps)

    def note(self, line: str) -> None:
        self.log.append(line)

    def warn(self, text: str) -> None:
        """Advice shown with the check's result that does not fail it."""
        self.warnings.append(text)

    def stops(self) -> list[SandboxAction]:
        """What the sandbox stopped or killed, each in plain words, for the check's result."""
        killed = self._oom_kills() - self._oom_before
        return stops.actions(self.runs, self._full, TMPFS_MB, killed, self.caps.grade_memory_mb)

    def _oom_kills(self) -> int:
        return read_oom_kills(Path(self.caps.oom_file)) if self.caps.oom_file else 0

    @property
    def traces_from_outside(self) -> bool:
        """Does strace attach to programs from outside here (the grader is root, of its
        namespace or not, and strace is installed)? Then a traced program's pid is the
        program's own, not strace's, and `start(failing_execs=...)` can make its exec fail."""
        return os.geteuid() == 0 and tracing.available() is not None

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
        failing_execs: Sequence[str] = (),
        **kwargs: Any,
    ) -> Run:
        """Start `argv` as a student process: own session, rlimits, scrubbed environment.

        Args:
            trace: system calls to record with strace (`run.calls()` reads them); where
                strace is not installed, the program runs untraced (a check that cannot
                judge without the calls says so with `@needs("strace")`).
            failing_execs: paths (as a program spells them: "/bin/cat", "/usr/bin/cat")
                whose exec fails with ENOENT, by strace from outside; only where
                `traces_from_outside`, and without `trace` (else ValueError). `run.calls()`
                then shows those execs, and only them.
        """
        if trace and not failing_execs and tracing.available() is None:
            trace = ()  # without strace it runs untraced: `run.calls()` is empty
        if failing_execs and (not self.traces_from_outside or kwargs.get("pty")):
            raise ValueError("failing_execs needs strace attached from outside, as root")
        if failing_execs and trace:  # strace's -P would keep only the calls naming them
            raise ValueError("failing_execs cannot be combined with trace")
        if failing_execs:
            trace = (*trace, "execve")
        import shlex

        lim = limits or self.limits
        # the log shows the command as the student would type it, not the wrapping below
        typed = " ".join(shlex.quote(a if len(a) < 60 else a[:40] + "…") for a in argv[:8])
        typed += " …" if len(argv) > 8 else ""
        trace_path = None
        # root (of the grade's user namespace, or of the machine) traces its students from
        # outside: the tracer and its trace are out of their reach
        from_outside = bool(trace) and os.geteuid() == 0 and not kwargs.get("pty", False)
        if from_outside:
            argv = tracing.stopped_before_exec(argv, kwargs.pop("executable", None))
        elif trace:  # strace as the program's parent, running as the student
            traces = self.workdir.parent / f".{self.workdir.name}-traces"
            traces.mkdir(exist_ok=True)
            hand_to_students(traces, self.caps)
            trace_path = traces / f"{len(self.runs)}.strace"
            argv = tracing.wrap(argv, kwargs.pop("executable", None), trace_path, trace)
        hand_to_students(self.workdir, self.caps)  # files the check wrote there, too
        run = Run(Launch(
            tuple(argv),
            cwd=cwd or self.workdir,
            env=student_env(self.home, env),
            preexec_fn=preexec(
                lim,
                self.caps,
                # one more than allowed may exist: the guard then names the cause
                nproc=self._tasks_before + lim.processes + 1,
                new_session=not kwargs.get("pty", False),
                umask=umask,
                seccomp=not trace or from_outside,  # ptrace allowed for strace as parent
            ),
            run_as=self.caps.student_uid,
            limits=lim,
            output_cap=lim.output_kb * 1024,
            wall_s=lim.wall_s,
            guard=self._process_guard(lim.processes),
            preexec_fds=self.caps.cgroup_fds,
            trace_path=trace_path,
            **kwargs,
        ))  # fmt: skip
        run.company = lambda: any(
            other is not run and other.alive and not other.bystander for other in self.runs
        )
        self.runs.append(run)  # cleanup kills it, whatever happens next
        if from_outside:
            run.tracer = tracing.Tracer(run.pid, trace, failing_execs=failing_execs)
        self.note(f"started {typed} as pid {run.pid}")
        return run

    def _process_guard(self, limit: int) -> Callable[[], str]:
        """More processes at once than `limit`: a fork bomb, named.

        Counted among the worker's descendants (it is the subreaper of what escapes with
        setsid), not by uid: without namespaces the uid may be the user's, with the user's
        own processes. One count serves every run of the check for GUARD_S.
        """
        before = self._processes_before

        def guard() -> str:
            now = time.monotonic()
            if now - self._counted[0] >= GUARD_S:
                self._counted = (now, reaper.descendants())
            if self._counted[1] - before > limit:
                return stops.too_many_processes(limit)
            return ""

        return guard

    def cleanup(self) -> None:
        """Kill every process the check started, and what they started; reap them; remove
        the System V objects and shared-memory files the check made."""
        self._full = [m for m in _full_tmpfs(self.caps) if m not in self._full_before]
        try:
            outlived = reaper.outliving(self.runs, pids.unchanged(self._children_before))
        except Exception as e:  # naming them is advice: the kills below must happen
            outlived = ""
            self.note(f"could not look for processes left running: {e!r}")
        if outlived:
            self.warn(outlived)
        for run in self.runs:
            run.kill_group()
        spare = pids.unchanged(self._children_before)  # not a number since given to another
        reaper.kill_stragglers(spare)
        # what escaped first (it may hold the runs' output open), each run's own processes
        # then, by their Run, which reaps them and reads the last of their output
        reaper.reap_orphans(spare | reaper.owned(self.runs))
        for run in self.runs:
            run.close()
        reaper.reap_orphans(spare)
        if self.caps.userns:  # the grade's own IPC namespace and /dev/shm: all of it
            remove_ipc_objects(self.caps)
            slots.remove_shared_files(self.uid, ("/dev/shm",))
        elif self.caps.student_uid is not None:  # a uid of the grade's own
            slots.remove_sysv_objects(self.uid)
            slots.remove_shared_files(self.uid, ("/dev/shm",))
        else:  # the user's uid: only what is new (their files in /dev/shm stay: a warning)
            slots.remove_sysv_objects(self.uid, keep=self._ipc_before)
        if "/tmp" in self._full:  # left full, it would fail every later check of the grade
            self._free_tmp()

    def _free_tmp(self) -> None:
        """Remove what the check's programs wrote into the grade's own /tmp: its folder, and
        their files at the top of /tmp (but the grade's scratch folder)."""
        with contextlib.suppress(OSError):
            if os.stat(self.workdir).st_dev == os.stat("/tmp").st_dev:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.note(f"removed {self.workdir}: the grade's /tmp was full")
        slots.remove_shared_files(self.uid, ("/tmp",), keep=(str(inside.INSIDE_SCRATCH),))


def _full_tmpfs(caps: Capabilities) -> list[str]:
    """Which of the grade's own size-capped /tmp and /dev/shm are full (full isolation)."""
    if not (caps.userns and inside.entered()):
        return []  # the machine's own: not the grade's to judge
    full = []
    for mount in ("/tmp", "/dev/shm"):
        with contextlib.suppress(OSError):
            st = os.statvfs(mount)
            if st.f_bavail * st.f_frsize < 256 * 1024:
                full.append(mount)
    return full


def remove_ipc_objects(caps: Capabilities) -> None:
    """Remove every System V object of the grade's own IPC namespace (inside it only:
    outside a grade, the objects are the machine's)."""
    if caps.userns and inside.entered():
        slots.remove_sysv_objects(None)


def _sysv_ids() -> frozenset[str]:
    from grader.inspection import ipc

    return frozenset(
        [f"msg:{q.id}" for q in ipc.queues()]
        + [f"shm:{m.id}" for m in ipc.segments()]
        + [f"sem:{s.id}" for s in ipc.semaphore_sets()]
    )


_WORKER_HEADROOM = 256  # threads the worker may add while a check runs (3 per program)


def _tasks_of(uid: int) -> int:
    """How many tasks (threads) the processes of `uid` have: what RLIMIT_NPROC counts."""
    fields = (pids.stat_fields(pid) for pid in slots.processes_of(uid))
    return sum(int(f[17]) for f in fields if f is not None and len(f) > 17)


class Program:
    """A built student program, ready to start in the check's sandbox."""

    def __init__(self, name: str, path: Path, sandbox: Sandbox, source_file: str = "") -> None:
        self.name = name
        self.path = path
        self.sandbox = sandbox
        self.source_file = source_file or f"{name}.c"  # the C file it is built from

    @property
    def source(self) -> source.Source:
        """The student's C source this program is built from (empty if unreadable)."""
        try:
            text = (self.path.parent / self.source_file).read_text(errors="replace")
        except OSError:
            text = ""
        return source.Source(self.source_file, text)

    def start(self, *args: str, **kwargs: Any) -> Run:
        return self.sandbox.start([f"./{self.name}", *args], executable=str(self.path),
                                  name=self.name, **kwargs)  # fmt: skip

    def run(self, *args: str, input: bytes | None = None, within_s: float | None = None,
            **kwargs: Any) -> Run:  # fmt: skip
        """Start, feed `input` (then end-of-file), and wait until the program ends."""
        run = self.start(*args, stdin="pipe" if input is not None else "null", **kwargs)
        if input is not None:
            run.send(input)
            run.close_stdin()
        run.finish(within_s if within_s is not None else self.sandbox.limits.wall_s)
        return run
