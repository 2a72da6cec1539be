"""One check: run the student's program once and say, in plain words, how it ended.

A submission holding a file `on-a-terminal` runs on a terminal of its own, as the signals
exercise does; one holding `wall-s` (a number) gets that many seconds of wall-clock time
instead of the exercise's."""

from __future__ import annotations

from dataclasses import replace

from grader import Failed, Grade, Program, Sandbox


def test_runs_within_its_limits(program: Program, sandbox: Sandbox, grade: Grade) -> None:
    """the program runs and ends by itself, within its limits"""
    limits = sandbox.limits
    if (grade.source / "wall-s").exists():
        limits = replace(limits, wall_s=float((grade.source / "wall-s").read_text()))
    run = program.start(pty=(grade.source / "on-a-terminal").exists(), limits=limits)
    run.wait_for(exit=True, within_s=limits.wall_s + 2)
    run.finish(1)
    # what the sandbox stopped (sandbox.stops()) the plugin puts in front of the message
    if sandbox.stops() or run.exit is None or run.exit.code != 0:
        raise Failed(f"your program {run.ended()}", actual=run.text() + run.text("stderr"))


def test_a_later_check_has_room(sandbox: Sandbox) -> None:
    """a later check of the same grade still has room for its files"""
    sandbox.path("room").write_bytes(b"\0" * (4 << 20))  # the grade's /tmp holds 64 MiB
