"""Shared test fixtures: no leftovers, an in-process CLI runner, event waits."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import psutil
import pytest

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], within_s: float = 10.0, every_s: float = 0.005) -> T:
    """Poll `predicate` until it returns something truthy, on a monotonic deadline."""
    deadline = time.monotonic() + within_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {predicate!r}")
        time.sleep(every_s)  # sleep: polling interval of an event wait


def _sysv_ids() -> set[str]:
    ids: set[str] = set()
    for name in ("msg", "shm", "sem"):
        try:
            with open(f"/proc/sysvipc/{name}") as f:
                next(f, None)
                ids.update(f"{name}:{line.split()[1]}" for line in f if line.strip())
        except OSError:
            pass
    return ids


@pytest.fixture(autouse=True, scope="session")
def own_build_cache() -> Iterator[None]:
    """Every grade of this test run (`grade` caches builds by default) uses a build cache
    of the run's own, never the user's, and it goes at the end."""
    folder = tempfile.mkdtemp(prefix="ipcg-cache-")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = folder
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Fail a test that leaves a child process or a System V IPC object behind."""
    me = psutil.Process(os.getpid())
    before_children = {p.pid for p in me.children(recursive=True)}
    before_ipc = _sysv_ids()
    yield

    def _settled() -> bool:
        return not (
            {p.pid for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
            - before_children
        )

    try:
        wait_until(_settled, within_s=5)
    except AssertionError:
        left = [
            f"{p.name()} (pid {p.pid})"
            for p in me.children(recursive=True)
            if p.pid not in before_children
        ]
        pytest.fail(f"processes left behind: {', '.join(left)}")
    new_ipc = _sysv_ids() - before_ipc
    assert not new_ipc, f"System V IPC objects left behind: {sorted(new_ipc)}"


_HOSTILE_ROWS = pytest.StashKey[list[tuple[str, ...]]]()
HOSTILE_COLUMNS = ("threat", "mode", "what stopped it", "what the student saw", "time", "left")


@pytest.fixture
def hostile_table(request: pytest.FixtureRequest) -> list[tuple[str, ...]]:
    """Rows of the hostile suite's table, printed at the end of the run (and written to
    $IPCGRADE_HOSTILE_TABLE when set)."""
    return request.config.stash.setdefault(_HOSTILE_ROWS, [])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    rows = sorted(config.stash.get(_HOSTILE_ROWS, []))
    if not rows:
        return
    lines = ["| " + " | ".join(HOSTILE_COLUMNS) + " |", "|" + "---|" * len(HOSTILE_COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    terminalreporter.write_sep("=", "hostile submissions")
    terminalreporter.write_line("\n".join(lines))
    if os.environ.get("IPCGRADE_HOSTILE_TABLE"):
        Path(os.environ["IPCGRADE_HOSTILE_TABLE"]).write_text("\n".join(lines) + "\n")


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A temporary folder that student programs can reach: as root, they run as another uid."""
    path = Path(tempfile.mkdtemp(prefix="ipcg-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pipe_hang() -> Any:
    """One real grade of exercise2's classic hang (the parent keeps the pipe's write end),
    shared by every format's tests: a SubmissionReport."""
    from grader import catalog, session
    from grader.submission import discover

    ex = catalog.find("exercise2")
    where = Path(__file__).parent / "submissions" / "exercise2" / "parent_keeps_write_end"
    return session.grade(ex, discover(where, ex), session.GradeOptions())


def missing_tool(why: str, under_ci: str) -> NoReturn:
    """A tool a test needs is missing: under CI (which installs it) the test fails with
    `under_ci` and `why`; elsewhere it is skipped with `why`."""
    if os.environ.get("CI"):
        pytest.fail(f"{under_ci}: {why}")
    pytest.skip(why)
