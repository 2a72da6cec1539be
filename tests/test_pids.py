"""Pids without races: a number given to another process is never taken for the one seen."""

from __future__ import annotations

import signal
import subprocess

from grader.pids import signal_if, start_times, unchanged


def test_a_pid_is_signalled_only_while_it_is_still_ours() -> None:
    """The cgroup's and the slot's sweeps kill pids they read a moment before: the pid is
    pinned (pidfd) and checked again, so a number given meanwhile to another process is not
    signalled."""
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert not signal_if(child.pid, signal.SIGKILL, lambda pid: False)  # no longer ours
        assert not child.poll()  # still running
        assert signal_if(child.pid, signal.SIGKILL, lambda pid: pid == child.pid)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()


def test_a_spared_pid_given_to_another_process_is_not_spared() -> None:
    """The worker's children from before a check are spared by pid and start time: the
    same number, once given to another process (a student's daemon), is not spared."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        seen = start_times([child.pid])
        assert unchanged(seen) == {child.pid}
        assert unchanged({child.pid: 1}) == frozenset()  # another process, same number
    finally:
        child.kill()
        child.wait()
    assert unchanged(seen) == frozenset()  # gone
