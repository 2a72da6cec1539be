"""A program on a terminal as a shell runs it: its own foreground process group."""

from __future__ import annotations

import time

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
