"""A hang named at once: every process asleep waiting on another, and who waits on what."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import sandbox
from grader.catalog import Limits
from grader.inspection import blocking
from grader.process import Run

PROGRAMS = {
    # reads its own pipe while it holds the write end: it waits forever
    "reads_own_pipe": "int main(void) { int p[2]; char c; pipe(p); read(p[0], &c, 1); }",
    # a parent whose child waits like that, and which waits for the child
    "waits_for_stuck_child": (
        "int main(void) { int p[2]; char c; pipe(p);"
        " if (fork() == 0) { read(p[0], &c, 1); _exit(0); } wait(0); }"
    ),
    "pauses": "int main(void) { pause(); }",
}
HEADERS = "#include <unistd.h>\n#include <sys/wait.h>\n"


@pytest.fixture(scope="module")
def built() -> Iterator[Path]:
    """The programs above, built where student programs may run them."""
    folder = Path(tempfile.mkdtemp(prefix="ipcg-test-"))
    folder.chmod(0o755)
    for name, body in PROGRAMS.items():
        (folder / f"{name}.c").write_text(HEADERS + body + "\n")
        subprocess.run(["gcc", "-o", str(folder / name), str(folder / f"{name}.c")], check=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=20), sandbox.detect())
    yield b
    b.cleanup()


def _start(box: sandbox.Sandbox, built: Path, name: str) -> Run:
    return box.start([f"./{name}"], executable=str(built / name), name=name)


def test_a_process_reading_its_own_pipe_is_a_hang_named_at_once(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "reads_own_pipe")
    waited = run.wait_for(exit=True, within_s=15)
    assert not waited
    assert waited.hang is not None
    assert waited.waited_s < 10  # well before its deadline: the hang is the verdict
    assert run.hang is waited.hang
    (only,) = waited.hang.blocked
    assert only.pid == run.pid
    assert only.call == "read"
    assert "whose write end is still held by itself" in waited.hang.text


def test_a_parent_waiting_for_its_stuck_child_names_both(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "waits_for_stuck_child")
    waited = run.wait_for(exit=True, within_s=15)
    assert waited.hang is not None
    calls = {b.call for b in waited.hang.blocked}
    assert calls == {"read", "wait4"}
    child = next(b for b in waited.hang.blocked if b.call == "read")
    assert f"waits in wait4() for its child waits_for_stuck (pid {child.pid})" in waited.hang.text


def test_a_sleeping_program_is_no_hang(box: sandbox.Sandbox) -> None:
    """A timed sleep ends by itself: the wait goes to its deadline."""
    run = box.start(["sleep", "30"])
    waited = run.wait_for(exit=True, within_s=1.0)
    assert not waited
    assert waited.hang is None
    assert waited.waited_s == pytest.approx(1.0)


def test_a_reader_of_the_graders_pipe_is_no_hang(box: sandbox.Sandbox) -> None:
    """Blocked on stdin that the grader holds open: the grader's to feed, not a hang."""
    run = box.start(["cat"], stdin="pipe")
    waited = run.wait_for(exit=True, within_s=1.0)
    assert waited.hang is None
    run.close_stdin()
    assert run.wait_for(exit=True, within_s=10)


def test_a_pause_is_a_hang_only_when_no_other_program_can_signal(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "pauses")
    other = box.start(["sleep", "30"])
    waited = run.wait_for(exit=True, within_s=blocking.SIGNAL_SETTLE_S + 1)
    assert waited.hang is None, "sleep (another program) is alive and may send a signal"
    other.kill_group()
    assert other.wait_for(exit=True, within_s=10)
    waited = run.wait_for(exit=True, within_s=15)
    assert waited.hang is not None
    assert "waits in pause() for a signal" in waited.hang.text
    assert waited.hang.settle_s == blocking.SIGNAL_SETTLE_S


def test_a_bystander_cannot_wake_anyone(box: sandbox.Sandbox, built: Path) -> None:
    box.start(["sleep", "30"], bystander=True)
    run = _start(box, built, "pauses")
    assert run.wait_for(exit=True, within_s=15).hang is not None


def test_waiting_for_a_predicate_alone_never_gives_up_early(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "reads_own_pipe")
    waited = run.wait_for(predicate=lambda: False, within_s=0.8)
    assert waited.hang is None
    assert waited.waited_s == pytest.approx(0.8)


def test_the_wait_of_a_process_is_read_from_proc(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "reads_own_pipe")
    assert run.wait_for(exit=True, within_s=15).hang is not None
    wait = blocking.wait_of(run.pid)
    assert (wait.state, wait.call, wait.threads) == ("S", "read", 1)
    assert wait.args[0] == 3  # fd 3: the pipe's read end
