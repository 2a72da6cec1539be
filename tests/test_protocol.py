"""The host↔worker seam: the job and every event of the worker's stream round-trip."""

from __future__ import annotations

import pytest

from grader import protocol, sandbox
from grader.results import (
    BuildResult,
    CheckResult,
    CheckSpec,
    Diagnostic,
    Location,
    Outcome,
    SandboxAction,
)
from grader.session import read_results

SPEC = CheckSpec("exercise2/test_x", "grep sees end-of-file", 2.0, "hidden", ("build",),
                 ("pipes",), Location("checks.py", 14))  # fmt: skip
RESULT = CheckResult(
    id="exercise2/test_x", title="grep sees end-of-file", outcome=Outcome.FAILED,
    message="grep never saw end-of-file", failure="parent-keeps-write-end",
    sandbox=(SandboxAction("stopped", "wall", "the sandbox stopped pipe (pid 7): it ran "
                           "longer than 5 s of wall-clock time", 7, "pipe"),),
)  # fmt: skip
BUILD = BuildResult(False, ("gcc -o pipe pipe.c",), "pipe.c:3:1: error: x", (),
                    ("pipe.c:3:1: error: x",), "compile", 0.5,
                    (Diagnostic("pipe.c", 3, 1, "error", "x"),))  # fmt: skip

EVENTS: list[protocol.Event] = [
    protocol.LayersMissing(("no seccomp filter",)),
    protocol.Collected((SPEC, CheckSpec("exercise2/test_y", "y"))),
    protocol.Built(BUILD),
    protocol.Running("exercise2/test_x", "grep sees end-of-file"),
    protocol.Checked(RESULT),
    protocol.Done(1),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips(event: protocol.Event) -> None:
    line = event.to_line()
    assert line.endswith("\n")
    assert line.count("\n") == 1  # one line per event, whatever its text holds
    assert protocol.parse(line) == event


def test_a_line_cut_short_is_dropped() -> None:
    text = "".join(e.to_line() for e in EVENTS[:5])
    cut = text + EVENTS[5].to_line()[:7]
    assert list(protocol.events(cut)) == EVENTS[:5]
    got = read_results(cut)
    assert got.done is None
    assert got.checks == (RESULT,)
    assert got.running is None  # the check that started has ended
    assert got.catalogue == (SPEC, CheckSpec("exercise2/test_y", "y"))
    assert got.build == BUILD
    assert got.missing_layers == ("no seccomp filter",)


def test_a_stopped_stream_keeps_the_running_check() -> None:
    got = read_results("".join(e.to_line() for e in EVENTS[:4]))
    assert got.running == protocol.Running("exercise2/test_x", "grep sees end-of-file")
    assert got.checks == ()


@pytest.mark.parametrize("line", ['{"nope": 1}', "[1, 2]", '{"done": {}}', "", "{"])
def test_a_line_not_ours_is_no_event(line: str) -> None:
    assert protocol.parse(line) is None


def test_the_job_round_trips() -> None:
    caps = sandbox.Capabilities(userns=False, why_not="off", cgroup_fds=(5, 6))
    job = protocol.Job(caps=caps, scratch="/tmp/x/box", exercise_folder="/ex", result_fd=9,
                       missing=("pipe.c",), makefile=True, keep=("/usr",), hide=("/home",),
                       own_root=False, by_remounts=True, debug=True,
                       keep_scratch=True)  # fmt: skip
    assert protocol.Job.from_json(job.to_json()) == job
