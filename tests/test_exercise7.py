"""exercise7's checks: a process they stopped inside semop(), then ended, is their doing."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import wait_until

from grader import sandbox
from grader.catalog import Limits

CHECKS = Path(__file__).parent.parent / "exercises" / "exercise7" / "checks.py"
# waits on a System V semaphore as a correct consumer does, and takes a failed semop()
# for an error, as sysv_semaphores_ok does
WAITER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
int main(void)
{
    int sems = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    struct sembuf take = {0, -1, 0};
    if (sems == -1) { perror("semget"); return 1; }
    while (semop(sems, &take, 1) == -1) {
        perror("semop");
        semctl(sems, 0, IPC_RMID); /* no leftover for the tests */
        exit(1);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def checks() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("exercise7_checks", CHECKS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=10), sandbox.detect())
    yield b
    b.cleanup()


@pytest.fixture
def waiter(tmp_path: Path) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    (tmp_path / "waiter.c").write_text(WAITER)
    subprocess.run(["gcc", "-o", str(tmp_path / "waiter"), str(tmp_path / "waiter.c")],
                   check=True)  # fmt: skip
    return tmp_path / "waiter"


def test_an_end_after_a_stop_in_semop_is_the_checks_doing(
    checks: ModuleType, box: sandbox.Sandbox, waiter: Path
) -> None:
    run = box.start([str(waiter)])
    wait_until(lambda: (w := checks._wait(run.pid)) and w.call in ("semop", "semtimedop"))
    run.signal(signal.SIGSTOP)
    before = wait_until(lambda: (w := checks._wait(run.pid)) and w.state == "T" and w)
    run.signal(signal.SIGCONT)
    assert run.wait_for(exit=True, within_s=10).exited  # EINTR: it took it for an error
    why = checks._disturbed(run, before)
    assert "EINTR" in why
    assert "Interrupted system call" in why
    assert f"pid {run.pid}" in why


def test_an_end_after_a_stop_elsewhere_is_the_programs(
    checks: ModuleType, box: sandbox.Sandbox
) -> None:
    run = box.start(["sleep", "30"])
    wait_until(lambda: (w := checks._wait(run.pid)) and w.state == "S")
    run.signal(signal.SIGSTOP)  # in nanosleep(), which goes on once continued
    before = wait_until(lambda: (w := checks._wait(run.pid)) and w.state == "T" and w)
    run.signal(signal.SIGCONT)
    run.signal(signal.SIGTERM)  # it ends, and not from an interrupted semop()
    assert run.wait_for(exit=True, within_s=10).exited
    assert checks._disturbed(run, before) == ""
    assert checks._disturbed(run, None) == ""  # never stopped by the check
