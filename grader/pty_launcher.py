"""Start a program on a terminal of its own (a pty), as a shell runs it: the foreground
process group of that terminal, under a small launcher that leads the session."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLL_S = 0.005

# Runs a program on a terminal the way a shell does: the program in its own process group,
# the terminal's foreground group, with this launcher (the session leader) as its parent in
# another group. Its group is then not orphaned, so control-Z really stops a program that
# has no SIGTSTP handler (the kernel discards terminal stop signals to orphaned groups).
LAUNCHER = r"""
import os, signal, sys, warnings  # all imports now: as nobody, the stdlib may be unreadable
uid, exe, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpid())
    for s in (signal.SIGTTOU, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(s, signal.SIG_DFL)
    if uid != "-":
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
    try:
        os.execvp(exe, argv)
    finally:
        os._exit(127)
for call in (lambda: os.setpgid(pid, pid), lambda: os.tcsetpgrp(0, pid)):
    try:
        call()
    except OSError:
        pass
while True:
    _, status = os.waitpid(pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        break
if os.WIFSIGNALED(status):
    if os.WTERMSIG(status) not in (signal.SIGKILL, signal.SIGSTOP):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
"""


def child_of(leader: int, argv0: str, within_s: float = 5.0) -> int:
    """The launcher's child once it has exec'd the program (the launcher if it never does)."""
    import psutil

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            launcher = psutil.Process(leader)
            children = launcher.children()
            for child in children:
                if child.cmdline()[:1] == [argv0]:
                    return int(child.pid)
            if not children and launcher.status() == psutil.STATUS_ZOMBIE:
                return leader  # the program came and went before it was seen
        except (psutil.Error, IndexError):
            return leader
        time.sleep(POLL_S)  # sleep: a fork then exec, a few milliseconds
    return leader


@dataclass(frozen=True)
class OnTerminal:
    """A program started on a terminal: the launcher (the session leader), the program
    itself, the terminal's master side, and pexpect's handle (to close it)."""

    leader: int
    pid: int
    fd: int
    child: Any


def start(
    argv: Sequence[str],
    *,
    executable: str | None,
    cwd: Path,
    env: Mapping[str, str],
    preexec_fn: Callable[[], None],
    run_as: int | None,
    preexec_fds: Sequence[int],
) -> OnTerminal:
    """Start `argv` on a fresh 24x80 terminal, under the launcher, as uid `run_as`."""
    import pexpect
    import ptyprocess  # type: ignore[import-untyped]

    keep = tuple(preexec_fds)

    class _Spawn(pexpect.spawn):  # type: ignore[misc]
        def _spawnpty(self, args: list[str], **kwargs: Any) -> Any:
            # the descriptors preexec_fn writes to (a cgroup's procs file) stay open
            return ptyprocess.PtyProcess.spawn(args, pass_fds=keep, **kwargs)

    program = executable or argv[0]
    uid = "-" if run_as is None else str(run_as)
    child = _Spawn(
        sys.executable,
        ["-I", "-S", "-c", LAUNCHER, uid, program, *argv],
        cwd=str(cwd),
        env=dict(env),
        preexec_fn=preexec_fn,
        dimensions=(24, 80),
        echo=False,
    )
    leader = int(child.pid)
    return OnTerminal(leader, child_of(leader, argv[0]), int(child.child_fd), child)
