"""The check log names the student's command as they would type it, never the wrapping."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import sandbox
from grader.catalog import Limits

TYPED = "started ./filemap file.txt 'hello world' as pid"
INTERNALS = ("/bin/sh", "kill -STOP", 'exec "$@"', "strace", "/bin/echo")


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=5, cpu_s=2), sandbox.detect())
    yield b
    b.cleanup()


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param((), id="untraced"),
        pytest.param(
            ("write",),
            id="traced",
            marks=pytest.mark.skipif(shutil.which("strace") is None,
                                     reason="strace is not installed"),
        ),
    ],
)  # fmt: skip
def test_the_log_shows_the_command_as_typed(box: sandbox.Sandbox, trace: tuple[str, ...]) -> None:
    # as a check's program.start("file.txt", "hello world") starts it
    run = box.start(["./filemap", "file.txt", "hello world"], executable="/bin/echo",
                    name="filemap", trace=trace)  # fmt: skip
    run.finish(10)
    assert run.text() == "file.txt hello world\n"  # the command did run, wrapped or not
    [started] = [line for line in box.log if line.startswith("started ")]
    assert started == f"{TYPED} {run.pid}"
    for internal in INTERNALS:
        assert not any(internal in line for line in box.log), (internal, box.log)
