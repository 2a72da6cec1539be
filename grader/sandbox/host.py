"""The host side: the grade's worker started in fresh namespaces, under a watchdog."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.pids import wait_exit
from grader.private import read_private
from grader.sandbox import cgroup
from grader.sandbox.cgroup import GradeGroup
from grader.sandbox.detect import (
    _PR_SET_DUMPABLE,
    _UNSHARE,
    NOBODY,
    SAFE_PATH,
    Capabilities,
    _libc,
)

_PR_GET_DUMPABLE = 3


@dataclass(frozen=True)
class WorkerExit:
    returncode: int
    timed_out: bool
    duration_s: float
    log: str  # the worker's own stdout and stderr (harness messages, never student output)


def worker_env() -> dict[str, str]:
    """The worker's whole environment: nothing of the user's (no tokens, no variables)."""
    return {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": "/nonexistent"}


def worker_argv(command: list[str], caps: Capabilities) -> list[str]:
    """The worker's `command` (the caller's: the sandbox knows nothing of what it runs),
    in fresh namespaces where there are user namespaces."""
    if caps.userns:
        unshare = shutil.which("unshare") or "unshare"
        if caps.root:  # the user namespace is made, and mapped, by run_worker()
            return [unshare, *_UNSHARE[2:], "--", *command]
        return [unshare, *_UNSHARE, "--", *command]
    return list(command)


_CLONE_NEWUSER = 0x10000000


class _UserNamespace:
    """A child that unshares its user namespace in preexec; the parent maps its uids.

    As root, the grade's user namespace maps two uids: 0 for the worker and the grade's
    student uid, the same inside and out, so that student code is that uid there and on
    the host (util-linux's --map-users needs newuidmap and an /etc/subuid entry, which
    root usually lacks).
    """

    def __init__(self, student_uid: int, before: Callable[[], None] | None) -> None:
        self.map = f"0 0 1\n{student_uid} {student_uid} 1\n"
        self.before = before
        self.ready_r, self.ready_w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self.error = ""
        self._thread = threading.Thread(target=self._map, daemon=True)
        self._thread.start()

    def preexec(self) -> None:
        if self.before is not None:
            self.before()
        _die_with_grader()
        if _libc.unshare(_CLONE_NEWUSER) != 0:
            os._exit(125)
        os.write(self.ready_w, str(os.getpid()).encode())
        if os.read(self.go_r, 1) != b"y":
            os._exit(125)

    def _map(self) -> None:
        answer = b"n"
        try:
            pid = int(os.read(self.ready_r, 32) or b"0")
            if pid:
                for name in ("uid_map", "gid_map"):
                    Path(f"/proc/{pid}/{name}").write_text(self.map)
                answer = b"y"
        except (OSError, ValueError) as e:
            self.error = str(e)
        finally:
            # the child's end is closed when the grade was interrupted before the child ran:
            # nobody is left to answer (a traceback here reached an interrupted user's screen)
            with contextlib.suppress(OSError):
                os.write(self.go_w, answer)

    def close(self) -> None:
        for fd in (self.ready_w, self.go_r):  # the child's ends: unblocks the thread
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread.join(5)
        for fd in (self.ready_r, self.go_w):
            with contextlib.suppress(OSError):
                os.close(fd)


class Worker:
    """The grade's worker, started before its job is ready: it loads its modules while the
    host prepares the scratch folder, then reads the job from its stdin (`go()`).

    Use it as a context manager: leaving it without `wait()` (the preparation failed, the
    user interrupted) kills the worker and everything it started.
    """

    def __init__(
        self,
        command: list[str],
        caps: Capabilities,
        log_path: Path,
        result_fd: int,
        group: GradeGroup | None = None,
    ) -> None:
        """Start the worker.

        Args:
            command: the worker's command line (grader.worker.command()).
            result_fd: the results file, opened by the host: a file opened for writing
                inside the new mount namespace would keep its mounts from becoming read-only
                (EBUSY).
            group: the grade's control group, joined by the worker before it starts
                anything; whatever is still in it at the end is killed (daemons without
                namespaces too).
        """
        self.start = time.monotonic()
        self._log_path = log_path
        self._group = group
        self._ended = False
        join = None
        if group is not None:
            grader_fds = group.open("grader")

            def join() -> None:
                cgroup.join(grader_fds)

        userns = None
        if caps.userns and caps.root:
            userns = _UserNamespace(caps.student_uid or NOBODY, join)

        def _plain_preexec() -> None:
            if join is not None:
                join()
            _die_with_grader()

        with open(log_path, "wb") as log:
            try:
                self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                    worker_argv(command, caps),
                    stdin=subprocess.PIPE,  # the job, written by go()
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=worker_env(),
                    close_fds=True,
                    preexec_fn=userns.preexec if userns else _plain_preexec,  # dies with us
                    # and the students' cgroup, which the worker has each student process join
                    pass_fds=(result_fd, *caps.cgroup_fds),
                )
            finally:  # the child has its copies, or never started
                if userns is not None:
                    userns.close()
                if group is not None:
                    group.close()

    def go(self, job: str) -> None:
        """Hand the worker its job (protocol.Job.to_json()); it starts at once."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died: wait() says how
            self.proc.stdin.write(job.encode())
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()

    def wait(self, timeout_s: float) -> WorkerExit:
        """Wait for the worker's end, killing the whole sandbox `timeout_s` after its start."""
        proc = self.proc
        timed_out = False
        try:
            wait_exit(proc.pid, max(0.0, self.start + timeout_s - time.monotonic()))
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            self._end()
        text = (read_private(self._log_path) or "")[-20000:]
        return WorkerExit(proc.returncode, timed_out, time.monotonic() - self.start, text)

    def _end(self) -> None:
        """Kill the worker and everything it started, once; reap it."""
        proc = self.proc
        if self._ended:
            return
        self._ended = True
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        _kill_everything(proc.pid)
        if self._group is not None:
            self._group.kill_all()
        proc.wait()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()


@contextlib.contextmanager
def out_of_reach(when: bool) -> Iterator[None]:
    """While `when` (students run as this process's own uid: not root, no namespaces), this
    process is not dumpable: its environment (a CI's tokens), memory and descriptors in
    /proc are then out of their reach, as ptrace's rules go. Dumpable again after."""
    if not when:
        yield
        return
    before = _libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    try:
        yield
    finally:
        if before == 1:
            _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)


def _die_with_grader() -> None:
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.geteuid() == 0:  # the worker is never the kernel's choice when memory runs out
        with contextlib.suppress(OSError):
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            os.write(fd, b"-1000")
            os.close(fd)


def _kill_everything(pid: int) -> None:
    """Kill the worker, its process group and every descendant it still has.

    With namespaces, killing `unshare` and its child (the namespace's init) ends every
    process inside. Without, students live in sessions of their own: collect the
    descendants first (the worker is their subreaper), then kill them all.
    """
    import psutil

    try:
        victims = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        victims = []
    for sig in (signal.SIGSTOP, signal.SIGKILL):  # stop first: no new forks while we kill
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
