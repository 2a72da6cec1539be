"""One check's processes: started in a fresh folder, all killed and cleaned up after."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.catalog import Limits
from grader.process import GUARD_S, Run
from grader.results import SandboxAction
from grader.sandbox import inside, slots
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
        self._processes_before = _descendants()
        self._children_before = _start_times(_children())  # pid: start time
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
        said = [SandboxAction("stopped", _reason(r.stopped_for),
                              f"the sandbox stopped {r.name} (pid {r.pid}): it {r.stopped_for}",
                              r.pid, r.name)
                for r in self.runs if r.stopped_for]  # fmt: skip
        said += [SandboxAction("stopped", "memory", f"{r.name} (pid {r.pid}) {r.out_of_memory}",
                               r.pid, r.name)
                 for r in self.runs if r.out_of_memory and not r.stopped_for]  # fmt: skip
        said += [SandboxAction("filled", "tmpfs",
                               f"the grade's {mount} filled up: it holds {TMPFS_MB} MiB (the "
                               "grader's own files included), and writes past that fail with "
                               "No space left on device")
                 for mount in self._full]  # fmt: skip
        killed = self._oom_kills() - self._oom_before
        if killed > 0:
            said.append(SandboxAction("oom-killed", "oom",
                f"the kernel killed {killed} of its processes for want of memory: a grade "
                f"may use {self.caps.grade_memory_mb} MiB in all, /tmp and shared memory "
                "included",
            ))  # fmt: skip
        return said

    def _oom_kills(self) -> int:
        return read_oom_kills(Path(self.caps.oom_file)) if self.caps.oom_file else 0

    @property
    def traces_from_outside(self) -> bool:
        """Does strace attach to programs from outside here (the grader is root, of its
        namespace or not, and strace is installed)? Then a traced program's pid is the
        program's own, not strace's, and `start(failing_execs=...)` can make its exec fail."""
        from grader import trace as tracing

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
        from grader import trace as tracing

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
        run = Run(
            argv,
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
            **kwargs,
        )
        run.trace_path = trace_path
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
                self._counted = (now, _descendants())
            if self._counted[1] - before > limit:
                return f"ran more than {limit} processes at once"
            return ""

        return guard

    def cleanup(self) -> None:
        """Kill every process the check started, and what they started; reap them; remove
        the System V objects and shared-memory files the check made."""
        self._full = [m for m in _full_tmpfs(self.caps) if m not in self._full_before]
        try:
            outlived = _outliving(self.runs, _unchanged(self._children_before))
        except Exception as e:  # naming them is advice: the kills below must happen
            outlived = ""
            self.note(f"could not look for processes left running: {e!r}")
        if outlived:
            self.warn(outlived)
        for run in self.runs:
            run.kill_group()
        spare = _unchanged(self._children_before)  # not a number since given to another
        _kill_stragglers(spare)
        # what escaped first (it may hold the runs' output open), each run's own processes
        # then, by their Run, which reaps them and reads the last of their output
        _reap_orphans(spare | _owned(self.runs))
        for run in self.runs:
            run.close()
        _reap_orphans(spare)
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


def _reason(stopped_for: str) -> str:
    """Which limit a Run's `stopped_for` (grader/process.py's words) is about."""
    for words, reason in (("CPU", "cpu"), ("wall-clock", "wall"), ("output", "output"),
                          ("file larger", "output"), ("system calls", "output"),
                          ("processes", "processes"), ("memory", "memory")):  # fmt: skip
        if words in stopped_for:
            return reason
    return "wall"


def _outliving(runs: Sequence[Run], spare: frozenset[int], grace_s: float = 0.2) -> str:
    """Name the processes still running once every program of the check has ended by
    itself (a child never waited for, a daemon), after a moment's grace: "" if none, or if
    the grader ended a program itself (its children may then be cut short by design)."""
    import psutil

    if not runs or not all(run.ended_by_itself for run in runs):
        return ""
    ours = _owned(runs)

    def live() -> list[psutil.Process]:
        alive = []
        for p in _escaped(spare):
            with contextlib.suppress(psutil.Error):
                if p.pid not in ours and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
        return alive

    left = live()
    deadline = time.monotonic() + grace_s
    while left and time.monotonic() < deadline:  # wait for their ends, not a fixed time
        _await_an_end([p.pid for p in left], deadline - time.monotonic())
        left = live()
    if not left:
        return ""
    sessions = {run.leader or run.pid for run in runs}
    named = []
    for p in left:  # those that died meanwhile drop out, from the names and the count
        with contextlib.suppress(psutil.Error, OSError):
            own = os.getsid(p.pid) not in sessions
            named.append(f"{p.name()} (pid {p.pid}{', in a session of its own' if own else ''})")
    if not named:
        return ""
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    ended = " and ".join(sorted({run.name for run in runs}))
    if len(named) == 1:
        what = f"{named[0]} was still running after {ended} ended: the grader killed it"
    else:
        what = (f"{len(named)} processes were still running after {ended} ended "
                f"({', '.join(named[:5])}{more}): the grader killed them")  # fmt: skip
    return f"{what}. A program should wait() for every child it starts, so that none outlives it"


def _owned(runs: Sequence[Run]) -> set[int]:
    """The pids the check's runs own: each program, its terminal's launcher, its tracer."""
    owned = {pid for run in runs for pid in (run.pid, run.leader) if pid}
    return owned | {run.tracer.proc.pid for run in runs if run.tracer is not None}


def _escaped(spare: frozenset[int]) -> list[Any]:
    """The worker's descendants (psutil.Process), but the children it had before the check
    (`spare`) and theirs."""
    import psutil

    found = []
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children():
            if child.pid not in spare:
                with contextlib.suppress(psutil.Error):
                    found += [child, *child.children(recursive=True)]
    return found


def _await_an_end(pids: Sequence[int], timeout_s: float) -> None:
    """Block until one of `pids` has ended (its pidfd turns readable), at most `timeout_s`."""
    import select

    ending = select.poll()
    fds: list[int] = []
    try:
        for pid in pids:
            with contextlib.suppress(OSError):
                fds.append(os.pidfd_open(pid))
                ending.register(fds[-1], select.POLLIN)
        ending.poll(max(0.0, timeout_s) * 1000)
    finally:
        for fd in fds:
            os.close(fd)


def _kill_stragglers(spare: frozenset[int] = frozenset()) -> None:
    """Kill what escaped its process group (setsid, double fork): the worker's descendants,
    but the children it had before the check (`spare`) and theirs."""
    import psutil

    victims = _escaped(spare)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)


def _reap_orphans(spare: frozenset[int] = frozenset(), within_s: float = 2.0) -> None:
    """Kill and reap every child of the worker but `spare` (the children it had before the
    check): what the check started, and what escaped and was adopted by the worker (it is
    their init or subreaper), forked since the stragglers were killed included. Each is
    waited for until it has died: one left unreaped would go to the machine's init when the
    worker exits, and stay a zombie for as long as that init takes to reap it. Children are
    reaped by pid, never with waitpid(-1): a spared child's exit status stays its owner's."""
    import psutil

    from grader.inspection.tree import signal_if, stat_fields

    me = os.getpid()

    def mine(pid: int) -> bool:
        fields = stat_fields(pid)
        return fields is not None and len(fields) > 1 and int(fields[1]) == me

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            children = [c.pid for c in psutil.Process().children() if c.pid not in spare]
        except psutil.Error:
            return
        if not children:
            return
        dying = []
        reaped_some = False
        for pid in children:
            signal_if(pid, signal.SIGKILL, mine)
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
        _await_an_end(dying, min(deadline - time.monotonic(), 0.05))


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
    from grader.inspection.tree import stat_fields

    fields = (stat_fields(pid) for pid in slots.processes_of(uid))
    return sum(int(f[17]) for f in fields if f is not None and len(f) > 17)


def _children() -> frozenset[int]:
    import psutil

    try:
        return frozenset(c.pid for c in psutil.Process().children())
    except psutil.Error:
        return frozenset()


def _start_times(pids: frozenset[int]) -> dict[int, bytes | None]:
    from grader.inspection.tree import stat_fields

    return {pid: (fields[19] if (fields := stat_fields(pid)) else None) for pid in pids}


def _unchanged(started: dict[int, bytes | None]) -> frozenset[int]:
    """The pids whose process is still the one seen (same start time): a pid that has been
    given to another process since (a student's, say) is not spared."""
    now = _start_times(frozenset(started))
    return frozenset(pid for pid, when in started.items() if when is not None and now[pid] == when)


def _descendants() -> int:
    """How many processes descend from this one, zombies included (they count against
    RLIMIT_NPROC too)."""
    import psutil

    try:
        return len(psutil.Process().children(recursive=True))
    except psutil.Error:
        return 0
