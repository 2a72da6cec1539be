"""Student programs as processes: waiting on events with deadlines, signals, a terminal."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import inspection, sandbox
from grader.catalog import Limits
from grader.reaping import Exit


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=10), sandbox.detect())
    yield b
    b.cleanup()


def test_wait_for_a_line_of_output(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "echo ready; exec sleep 30"])
    waited = run.wait_for(output="ready", within_s=10)
    assert waited.ok
    assert not waited.exited
    assert run.alive


def test_wait_for_gives_up_at_its_deadline(box: sandbox.Sandbox) -> None:
    run = box.start(["sleep", "30"])
    waited = run.wait_for(output="never", within_s=0.2)
    assert not waited
    assert waited.waited_s == pytest.approx(0.2)


def test_wait_for_exit_and_the_status(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "exit 3"])
    assert run.wait_for(exit=True, within_s=10).exited
    assert run.exit == Exit(3)
    assert run.exit.describe() == "exited with status 3"


def test_a_signal_is_named(box: sandbox.Sandbox) -> None:
    run = box.start(["sleep", "30"])
    run.signal(signal.SIGINT)
    assert run.wait_for(exit=True, within_s=10)
    assert run.exit is not None
    assert run.exit.describe() == "killed by SIGINT"


def test_wait_for_a_process_state(box: sandbox.Sandbox) -> None:
    run = box.start(["sleep", "30"])
    assert not run.wait_for(state="stopped", within_s=0.1)
    run.signal(signal.SIGSTOP)
    assert run.wait_for(state="stopped", within_s=10)


def test_wait_for_an_fd_to_appear(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "read x; exec 7>marker; echo opened; exec sleep 30"],
                    stdin="pipe")  # fmt: skip
    assert not run.wait_for(predicate=lambda: inspection.snapshot(run.pid).fd(run.pid, 7),
                            within_s=0.1)  # fmt: skip
    run.send("go\n")
    assert run.wait_for(predicate=lambda: inspection.snapshot(run.pid).fd(run.pid, 7),
                        within_s=10)  # fmt: skip


def test_held_output_blocks_the_writer_until_released(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "head -c 200000 /dev/zero; echo done >&2"], hold_output=True)
    assert not run.wait_for(exit=True, within_s=0.3)  # stuck on a full pipe
    run.release_output()
    assert run.wait_for(exit=True, within_s=10)
    run.finish(10)
    assert len(run.stdout) == 200000


def test_a_program_on_a_pseudo_terminal(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "tty; read line; echo got $line"], pty=True)
    assert run.wait_for(output="/dev/pts/", within_s=10)
    run.send("hello\n")
    assert run.wait_for(output="got hello", within_s=10)
    assert run.wait_for(exit=True, within_s=10)


def test_a_program_that_ends_at_once_on_a_terminal_is_not_waited_for(
    box: sandbox.Sandbox,
) -> None:
    """It may exit before the launcher's child is seen: its end is still its own."""
    for _ in range(5):  # the race was lost about half the time
        run = box.start(["true"], pty=True, limits=Limits(wall_s=4))
        assert run.wait_for(exit=True, within_s=10)
        assert not run.timed_out, run.stopped_for
        assert run.exit is not None
        assert run.exit.code == 0
