"""One check: run the student's program once and say, in plain words, how it ended.

A submission holding a file `on-a-terminal` runs on a terminal of its own, as the signals
exercise does."""

from __future__ import annotations

from grader import Failed, Program
from grader.plugin import GradeContext
from grader.sandbox import Sandbox


def test_runs_within_its_limits(program: Program, sandbox: Sandbox, grade: GradeContext) -> None:
    """the program runs and ends by itself, within its limits"""
    run = program.start(pty=(grade.source / "on-a-terminal").exists())
    run.wait_for(exit=True, within_s=5)
    run.finish(1)
    # what the sandbox stopped (sandbox.stops()) the plugin puts in front of the message
    if sandbox.stops() or run.exit is None or run.exit.code != 0:
        raise Failed(f"your program {run.ended()}", actual=run.text() + run.text("stderr"))
