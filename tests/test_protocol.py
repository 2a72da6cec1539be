"""The host↔worker seam: the job and every event of the worker's stream round-trip."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from grader import protocol, sandbox
from grader.results import (
    BuildResult,
    CheckResult,
    CheckSpec,
    Diagnostic,
    Evidence,
    FdRow,
    Location,
    Outcome,
    ProcessRow,
    Ref,
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
BUILD = BuildResult(False, ("gcc -o pipe pipe.c",), "pipe.c:3:1: error: x",
                    ("pipe.c:2:5: warning: unused variable \u2018n\u2019",),
                    ("pipe.c:3:1: error: x",), "compile", 0.5,
                    (Diagnostic("pipe.c", 3, 1, "error", "x"),), reused=True)  # fmt: skip

EVENTS: list[protocol.Event] = [
    protocol.LayersMissing(("no seccomp filter",)),
    protocol.Collected((SPEC, CheckSpec("exercise2/test_y", "y"))),
    protocol.Built(BUILD),
    protocol.Running("exercise2/test_x", "grep sees end-of-file"),
    protocol.Checked(RESULT),
    protocol.Done(1),
    # streamed right after Built; last here, where the tests above count on the others' places
    protocol.Programs({"pipe": b"\x7fELF\x00\xff\n", "pipe-O2": b""}),
]
# every field of a result set, none at its default: what the stream drops, this loses
FULL = CheckResult(
    id="exercise2/test_x", title="grep sees end-of-file", outcome=Outcome.FAILED,
    message="grep never saw end-of-file:\n\tpipe (pid 180) holds fd 4 «open»",
    expected="firefox\n", actual="\x1b[31mnothing\x00\n", hint="close(fd[1]) in the parent",
    lecture="pipe", evidence=(
        Evidence("open fds", ("pid", "fd"), (("180", "4"),), "a note", "fds",
                 (ProcessRow(180, 1, "pipe", "sleeping",
                             (FdRow(4, "pipe", "pipe:[77]", "w", 77, "write"),)),),
                 {"pipe": 77, "ends": ["read", "write"]}),
    ),
    log=("started ./pipe as pid 180", "sent SIGINT"), warnings=("a child outlived it",),
    duration_s=1.25, points=0.5, max_points=2.0, failure="parent-keeps-write-end",
    about=(Ref(pid=180, fd=4, inode=77, name="SIGPIPE"),), location=Location("pipe.c", 14, 5),
    sandbox=RESULT.sandbox,
)  # fmt: skip


def _defaults_kept(value: object) -> list[str]:
    """The fields of a dataclass `value` that are at their default."""
    kept = []
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        if getattr(value, f.name) == default:
            kept.append(f.name)
    return kept


def test_the_samples_set_every_field() -> None:
    """A field added to a result, a build, a spec or a job, and not carried by the stream,
    fails a round trip below: the samples set them all."""
    process = FULL.evidence[0].processes[0]
    for sample in (FULL, BUILD, SPEC, *FULL.evidence, process, *process.fds, *FULL.about):
        assert _defaults_kept(sample) == [], sample


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips(event: protocol.Event) -> None:
    line = event.to_line()
    assert line.endswith("\n")
    assert line.count("\n") == 1  # one line per event, whatever its text holds
    assert protocol.parse(line) == event


def test_every_kind_of_event_is_sampled() -> None:
    assert {type(e) for e in EVENTS} == set(typing.get_args(protocol.Event))


def test_a_whole_result_round_trips() -> None:
    event = protocol.Checked(FULL)
    assert protocol.parse(event.to_line()) == event


def test_a_stream_reads_back_event_for_event() -> None:
    stream = [*EVENTS, protocol.Checked(FULL), protocol.Done(0)]
    assert list(protocol.events("".join(e.to_line() for e in stream))) == stream


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


@pytest.mark.parametrize("body", ['{"pipe": "not base64!"}', '["pipe"]', '{"pipe": 1}'])
def test_programs_that_do_not_decode_are_no_event(body: str) -> None:
    assert protocol.parse('{"programs": ' + body + "}") is None


def test_the_job_round_trips() -> None:
    caps = sandbox.Capabilities(userns=False, why_not="off", cgroup_fds=(5, 6))
    job = protocol.Job(caps=caps, scratch="/tmp/x/box", exercise_folder="/ex", result_fd=9,
                       missing=("pipe.c",), makefile=True, keep=("/usr",), hide=("/home",),
                       own_root=False, by_remounts=True, debug=True,
                       keep_scratch=True)  # fmt: skip
    assert protocol.Job.from_json(job.to_json()) == job


def test_a_job_with_every_field_set_round_trips() -> None:
    caps = sandbox.Capabilities(userns=True, why_not="asked", root=True, cgroup_why_not="",
                                seccomp_why_not="", student_uid=65534, grade_memory_mb=768,
                                grade_tasks=512, oom_file="/sys/fs/cgroup/g/memory.events",
                                cgroup_fds=(5, 6))  # fmt: skip
    job = protocol.Job(caps=caps, scratch="/tmp/x/box", exercise_folder="/ex", result_fd=9,
                       missing=("pipe.c", "grep.c"), makefile=True, keep=("/usr", "/opt"),
                       hide=("/home",), own_root=False, by_remounts=True, debug=True,
                       keep_scratch=True, prebuilt=dataclasses.replace(BUILD, ok=True),
                       send_programs=True)  # fmt: skip
    assert _defaults_kept(caps) == []
    assert _defaults_kept(job) == []
    back = protocol.Job.from_json(job.to_json())
    assert back == job
    assert type(back.caps.cgroup_fds) is tuple  # hashable, as a frozen Job's fields are
    assert type(back.keep) is tuple
