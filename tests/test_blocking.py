"""A hang named at once: every process asleep waiting on another, and who waits on what;
and never a hang where something may still wake the program."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sysv_ipc

from grader import sandbox
from grader.catalog import Limits
from grader.inspection import blocking
from grader.process import Run

HEADERS = """#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
"""
NAP_S = 0.15  # how long each process of a relay makes the other wait: longer than settling
NAP_NS = int(NAP_S * 1e9)
RELAY = (
    "int main(void) { int there[2], back[2]; char c = 'x'; pipe(there); pipe(back);"
    " if (fork() == 0) { close(there[1]); close(back[0]);"
    "   while (read(there[0], &c, 1) == 1) { nap(); write(back[1], &c, 1); } _exit(0); }"
    " close(there[0]); close(back[1]);"
    " for (int i = 0; i < 3; i++) { nap(); write(there[1], &c, 1); read(back[0], &c, 1); }"
    " close(there[1]); wait(0); return 0; }"
)
PROGRAMS = {
    # reads its own pipe while it holds the write end: it waits forever
    "reads_own_pipe": "int main(void) { int p[2]; char c; pipe(p); read(p[0], &c, 1); }",
    # a parent whose child waits like that, and which waits for the child
    "waits_for_stuck_child": (
        "int main(void) { int p[2]; char c; pipe(p);"
        " if (fork() == 0) { read(p[0], &c, 1); _exit(0); } wait(0); }"
    ),
    # the same, with a second child that left the session and sleeps: it may still act
    "stuck_child_and_daemon": (
        "int main(void) { int p[2]; char c; pipe(p);"
        " if (fork() == 0) { setsid(); sleep(30); _exit(0); }"
        " if (fork() == 0) { read(p[0], &c, 1); _exit(0); } wait(0); }"
    ),
    # pause() with an alarm pending: SIGALRM ends it in 4 s
    "alarm_then_pause": "int main(void) { alarm(4); pause(); }",
    # a timer the kernel does not show (setitimer) before a pause(): handled, it returns
    "itimer_then_pause": (
        "void h(int s) { (void)s; }"
        " int main(void) { struct itimerval t = {{0, 0}, {4, 0}}; signal(SIGALRM, h);"
        " setitimer(ITIMER_REAL, &t, 0); pause(); }"
    ),
    # pause() with SIGALRM blocked: nothing left can end it
    "pauses_alarm_blocked": (
        "int main(void) { sigset_t s; sigemptyset(&s); sigaddset(&s, SIGALRM);"
        " sigprocmask(SIG_BLOCK, &s, 0); pause(); }"
    ),
    # reads its stdin, a pipe the grader holds, after opening its write end itself
    "reads_graders_pipe": (
        'int main(void) { char c; open("/proc/self/fd/0", O_WRONLY); read(0, &c, 1); }'
    ),
    # a System V semaphore at 0, waited for alone
    "semop_alone": (
        "int main(void) { int id = semget(IPC_PRIVATE, 1, 0600); struct sembuf b = {0, -1, 0};"
        ' dprintf(1, "%d\\n", id); semop(id, &b, 1); }'
    ),
    # a token passed to a child and back, three times, each side sleeping NAP_S before it
    # passes it on: meanwhile the other is blocked in read() on a pipe only the sleeper fills
    "relay_with_pauses": (
        f"void nap(void) {{ struct timespec t = {{0, {NAP_NS}}}; nanosleep(&t, 0); }}" + RELAY
    ),
    # the same, each side computing for NAP_S instead (running, no system call)
    "relay_while_busy": (
        "void nap(void) { struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);"
        " do clock_gettime(CLOCK_MONOTONIC, &b);"
        " while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec"
        f" < {NAP_NS}L); }}" + RELAY
    ),
    # the main thread ends, a thread goes on (and would signal in 4 s)
    "thread_outlives_main": (
        "void *t(void *a) { (void)a; sleep(4); exit(0); }"
        " int main(void) { pthread_t x; pthread_create(&x, 0, t, 0); pthread_exit(0); }"
    ),
}


@pytest.fixture(scope="module")
def built() -> Iterator[Path]:
    """The programs above, built where student programs may run them."""
    folder = Path(tempfile.mkdtemp(prefix="ipcg-test-"))
    folder.chmod(0o755)
    for name, body in PROGRAMS.items():
        (folder / f"{name}.c").write_text(HEADERS + body + "\n")
        subprocess.run(
            ["gcc", "-pthread", "-o", str(folder / name), str(folder / f"{name}.c")], check=True
        )
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=20), sandbox.detect())
    yield b
    b.cleanup()


def _start(box: sandbox.Sandbox, built: Path, name: str, **kwargs: object) -> Run:
    return box.start([f"./{name}"], executable=str(built / name), name=name, **kwargs)


def _no_hang(run: Run, within_s: float) -> None:
    """Waited with hang detection for `within_s`: no hang, and the program still runs."""
    waited = run.wait_for(exit=True, within_s=within_s, stuck=True)
    assert waited.hang is None, waited.hang.text if waited.hang else ""
    assert run.alive
    assert run.hang is None


def test_a_process_reading_its_own_pipe_is_a_hang_named_at_once(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "reads_own_pipe")
    waited = run.wait_for(exit=True, within_s=15, stuck=True)
    assert not waited
    assert waited.hang is not None
    assert waited.waited_s < 10  # well before its deadline: the hang is the verdict
    assert run.hang is waited.hang
    (only,) = waited.hang.blocked
    assert only.pid == run.pid
    assert only.call == "read"
    assert "whose write end is still held by itself as fd 4" in waited.hang.text


def test_a_parent_waiting_for_its_stuck_child_names_both(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "waits_for_stuck_child")
    waited = run.wait_for(exit=True, within_s=15, stuck=True)
    assert waited.hang is not None
    assert {b.call for b in waited.hang.blocked} == {"read", "wait4"}
    child = next(b for b in waited.hang.blocked if b.call == "read")
    assert f"waits in wait4() for its child waits_for_stuck (pid {child.pid})" in waited.hang.text


def test_finish_gives_up_on_a_hang_and_says_so(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "waits_for_stuck_child")
    run.finish(15)
    assert run.hang is not None
    assert run.ended().startswith("did not end: waits_for_stuck (pid ")
    assert "wait4()" in run.ended()


@pytest.mark.parametrize("name", ["relay_with_pauses", "relay_while_busy"])
def test_a_slow_but_correct_program_is_no_hang(
    box: sandbox.Sandbox, built: Path, name: str
) -> None:
    """Each process waits on the other for longer than the settle time, while that one
    sleeps or computes: a working program, never called hung, that ends by itself."""
    assert NAP_S > blocking.SETTLE_S + 0.02  # else the test would prove nothing
    run = _start(box, built, name)
    waited = run.wait_for(exit=True, within_s=30, stuck=True)
    assert waited.hang is None, waited.hang.text if waited.hang else ""
    assert waited
    assert run.exit is not None
    assert run.exit.code == 0


def test_a_child_outside_the_session_may_still_act(box: sandbox.Sandbox, built: Path) -> None:
    _no_hang(_start(box, built, "stuck_child_and_daemon"), 1.5)


def test_a_pause_with_an_alarm_pending_is_no_hang(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "alarm_then_pause")
    _no_hang(run, blocking.SIGNAL_SETTLE_S + 1)
    assert run.wait_for(exit=True, within_s=15)  # the alarm came: SIGALRM ended it
    assert run.exit is not None
    assert run.exit.signal_name == "SIGALRM"


def test_a_pause_with_a_timer_set_is_no_hang(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "itimer_then_pause")
    _no_hang(run, blocking.SIGNAL_SETTLE_S + 1)
    assert run.wait_for(exit=True, within_s=15)
    assert run.exit is not None
    assert run.exit.code == 0  # the handler ran, pause() returned


def test_a_pause_that_no_alarm_can_end_is_a_hang(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "pauses_alarm_blocked")
    waited = run.wait_for(exit=True, within_s=15, stuck=True)
    assert waited.hang is not None
    assert "waits in pause() for a signal that nothing left will send" in waited.hang.text
    assert waited.hang.settle_s == blocking.SIGNAL_SETTLE_S


def test_a_pause_is_no_hang_while_another_program_may_signal(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "pauses_alarm_blocked")
    other = box.start(["sleep", "30"])
    _no_hang(run, blocking.SIGNAL_SETTLE_S + 1)
    other.kill_group()
    assert other.wait_for(exit=True, within_s=10)
    assert run.wait_for(exit=True, within_s=15, stuck=True).hang is not None


def test_a_bystander_cannot_wake_anyone(box: sandbox.Sandbox, built: Path) -> None:
    box.start(["sleep", "30"], bystander=True)
    run = _start(box, built, "pauses_alarm_blocked")
    assert run.wait_for(exit=True, within_s=15, stuck=True).hang is not None


def test_a_pipe_the_grader_holds_too_is_no_hang(box: sandbox.Sandbox, built: Path) -> None:
    """It holds its stdin's write end itself, but so does the grader, who may still write."""
    run = _start(box, built, "reads_graders_pipe", stdin="pipe")
    _no_hang(run, 1.5)
    run.send(b"x")  # the grader could, and does
    assert run.wait_for(exit=True, within_s=10)


def test_a_semaphore_nobody_posts_is_a_hang(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "semop_alone")
    try:
        waited = run.wait_for(exit=True, within_s=15, stuck=True)
        assert waited.hang is not None
        assert "() for semaphore set System V id" in waited.hang.text
        assert waited.hang.blocked[0].call in ("semop", "semtimedop")  # glibc: semtimedop
    finally:
        run.kill_group()
        assert run.wait_for(output="\n", within_s=10)
        sysv_ipc.remove_semaphore(int(run.text()))  # on the machine's own IPC namespace


def test_threads_that_outlive_the_main_thread_are_no_hang(
    box: sandbox.Sandbox, built: Path
) -> None:
    run = _start(box, built, "thread_outlives_main")
    _no_hang(run, 1.5)


def test_a_sleeping_program_is_no_hang(box: sandbox.Sandbox) -> None:
    """A timed sleep ends by itself: the wait goes to its deadline."""
    _no_hang(box.start(["sleep", "30"]), 1.0)


def test_without_stuck_a_wait_is_a_window_of_time(box: sandbox.Sandbox, built: Path) -> None:
    """A check that waits as a window (a CPU measure) gets the window, hang or not."""
    run = _start(box, built, "reads_own_pipe")
    assert run.wait_for(exit=True, within_s=15, stuck=True).hang is not None
    waited = run.wait_for(exit=True, within_s=0.8)
    assert waited.hang is None
    assert waited.waited_s >= 0.8


def test_the_wait_of_a_process_is_read_from_proc(box: sandbox.Sandbox, built: Path) -> None:
    run = _start(box, built, "reads_own_pipe")
    assert run.wait_for(exit=True, within_s=15, stuck=True).hang is not None
    wait = blocking.wait_of(run.pid)
    assert (wait.state, wait.call, wait.threads) == ("S", "read", 1)
    assert wait.args[0] == 3  # fd 3: the pipe's read end
    assert not wait.timers
