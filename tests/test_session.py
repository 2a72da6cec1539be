"""The host's side of a grade's stream: read back (whole or cut short), then put in the
catalogue's order, a check never reached there as not run.

The stream is a real one: the events a checks file's in-process run emitted (pytester),
framed as the worker frames them. No sandboxed grade runs here: where the session grades,
its worker is a stand-in that writes that stream and ends as told.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_plugin import Graded, run_checks

from grader import protocol, sandbox, session
from grader.errors import ExerciseError, SandboxError
from grader.report import SubmissionReport
from grader.results import CheckResult, Outcome
from grader.sandbox import host
from grader.session import in_catalogue, read_results
from grader.submission import discover

pytest_plugins = ["pytester"]

CHECKS = """
    import pytest
    from grader import Failed

    def test_first():
        \"\"\"the first passes\"\"\"

    def test_second():
        \"\"\"the second fails\"\"\"
        raise Failed("the pipe stayed open", kind="parent-keeps-write-end")

    def test_third():
        \"\"\"the third skips\"\"\"
        pytest.skip("not here")

    def test_fourth():
        \"\"\"the fourth passes\"\"\"
"""
TOML = """id = "exercise9"
name = "nine"
title = "Nine"
files = ["nine.c"]
[points]
test_second = 2
test_third = 3
"""
STOPPED = "the grade was stopped; this check did not run"


@pytest.fixture
def graded(pytester: pytest.Pytester, tmp_path: Path) -> Graded:
    return run_checks(pytester, tmp_path, CHECKS, toml=TOML)


def _stream(graded: Graded) -> list[str]:
    """The worker's lines for this run, in its order: layers, build, pytest's, done."""
    assert graded.ctx.build_result is not None
    events = [
        protocol.LayersMissing(("no seccomp filter",)),
        protocol.Built(graded.ctx.build_result),
        *graded.events,
        protocol.Done(graded.code),
    ]
    return [e.to_line() for e in events]


def _cut(lines: list[str], before: int) -> str:
    """The stream of a worker killed while writing line `before` (its first half written)."""
    last = lines[before]
    return "".join(lines[:before]) + last[: len(last) // 2]


def test_a_whole_stream_reads_back_as_the_run_told_it(graded: Graded) -> None:
    got = read_results("".join(_stream(graded)))
    assert graded.ctx.catalogue  # the run was a real one
    assert got.catalogue == graded.ctx.catalogue
    assert got.checks == tuple(graded.ctx.results)
    assert [c.outcome for c in got.checks] == [
        Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED, Outcome.PASSED]  # fmt: skip
    assert got.build == graded.ctx.build_result
    assert got.missing_layers == ("no seccomp filter",)
    assert got.done == protocol.Done(int(pytest.ExitCode.TESTS_FAILED))
    assert got.running is None
    # in the catalogue's order already: nothing to add
    assert in_catalogue(got.catalogue, got.checks) == got.checks


def test_a_killed_workers_stream_keeps_what_it_found(graded: Graded) -> None:
    lines = _stream(graded)
    # killed while telling the second check's result: its Running is whole, its Checked cut
    (second,) = [i for i, line in enumerate(lines) if line.startswith('{"check"')][1:2]
    assert protocol.parse(lines[second - 1]) == protocol.Running(
        "exercise9/test_second", "the second fails")  # fmt: skip
    got = read_results(_cut(lines, second))
    assert got.done is None
    assert got.checks == tuple(graded.ctx.results[:1])
    assert got.running == protocol.Running("exercise9/test_second", "the second fails")
    assert got.catalogue == graded.ctx.catalogue
    assert got.build == graded.ctx.build_result


def test_a_stream_cut_between_checks_has_none_running(graded: Graded) -> None:
    lines = _stream(graded)
    (third,) = [i for i, line in enumerate(lines) if line.startswith('{"running"')][2:3]
    got = read_results(_cut(lines, third))  # the third check's start, cut short
    assert got.running is None
    assert got.checks == tuple(graded.ctx.results[:2])
    assert got.done is None


def test_checks_never_reached_are_not_run_in_catalogue_order(graded: Graded) -> None:
    """pytest stopped after the first checks (as when the grade is stopped): the rest are
    in the report as not run, in the catalogue's order, with their titles."""
    catalogue = graded.ctx.catalogue
    reached = tuple(graded.ctx.results[:2])
    checks = in_catalogue(catalogue, reached, STOPPED)
    assert [c.id for c in checks] == [s.id for s in catalogue]
    assert checks[:2] == reached
    assert [c.outcome for c in checks[2:]] == [Outcome.NOT_RUN, Outcome.NOT_RUN]
    assert [c.title for c in checks[2:]] == ["the third skips", "the fourth passes"]
    assert all(c.message == STOPPED for c in checks[2:])
    assert all(c.points == 0 for c in checks[2:])
    default = in_catalogue(catalogue, reached)
    assert "before it reached this check" in default[3].message
    assert "this check did not run" in default[3].message


def test_a_result_out_of_order_takes_its_place_in_the_catalogue(graded: Graded) -> None:
    catalogue = graded.ctx.catalogue
    first, second, _, fourth = graded.ctx.results
    # the session's own result for the check that never ended, told after the others
    stopped = CheckResult(id=second.id, title=second.title, outcome=Outcome.ERROR,
                          message="the grade was stopped while this check ran")  # fmt: skip
    checks = in_catalogue(catalogue, (first, fourth, stopped), STOPPED)
    assert [c.id for c in checks] == [s.id for s in catalogue]
    assert [c.outcome for c in checks] == [
        Outcome.PASSED, Outcome.ERROR, Outcome.NOT_RUN, Outcome.PASSED]  # fmt: skip
    assert checks[1] is stopped


def test_a_result_the_catalogue_lacks_is_never_lost(graded: Graded) -> None:
    stray = CheckResult(id="exercise9/test_elsewhere", title="elsewhere", outcome=Outcome.PASSED)
    results = (*graded.ctx.results, stray)
    checks = in_catalogue(graded.ctx.catalogue, results)
    assert checks == results  # every check of the catalogue, then the stray
    assert in_catalogue((), (stray,)) == (stray,)  # no catalogue told: the results as they are


def test_a_check_not_run_keeps_its_points(graded: Graded) -> None:
    """ENGINE BUG (see the report): a check never reached is worth 1 point, whatever the
    catalogue says (here 3): its result's max_points is the default."""
    spec = graded.ctx.catalogue[2]
    assert spec.max_points == 3
    checks = in_catalogue(graded.ctx.catalogue, tuple(graded.ctx.results[:2]), STOPPED)
    assert checks[2].outcome is Outcome.NOT_RUN
    assert checks[2].max_points == spec.max_points


# -- the session's grade, its worker a stand-in ------------------------------------------


def _grade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded, stream: str,
    *, timed_out: bool, returncode: int = -9,
) -> SubmissionReport:  # fmt: skip
    """session._grade of a submission, its worker writing `stream`, then ending as told."""
    exercise = graded.ctx.exercise
    where = tmp_path / "alice"
    where.mkdir()
    (where / "nine.c").write_text("int main(void) { return 0; }\n")

    class Worker:  # host.Worker's stand-in: its job checked, its results written
        def __init__(self, command: list[str], caps: sandbox.Capabilities, log_path: Path,
                     result_fd: int, group: object = None) -> None:  # fmt: skip
            self.result_fd = result_fd

        def __enter__(self) -> Worker:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def go(self, job: str) -> None:
            assert protocol.Job.from_json(job).result_fd == self.result_fd
            os.write(self.result_fd, stream.encode())

        def wait(self, timeout_s: float) -> host.WorkerExit:
            return host.WorkerExit(returncode, timed_out, 0.1, "")

    monkeypatch.setattr(session.host, "Worker", Worker)
    submission = discover(where, exercise)
    return session._grade(exercise, submission, session.GradeOptions(), sandbox.detect(), None)


def test_a_grade_stopped_part_way_keeps_what_it_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded
) -> None:
    lines = _stream(graded)
    (second,) = [i for i, line in enumerate(lines) if line.startswith('{"check"')][1:2]
    report = _grade(monkeypatch, tmp_path, graded, _cut(lines, second), timed_out=True)
    catalogue = graded.ctx.catalogue
    assert report.catalogue == catalogue
    assert report.build == graded.ctx.build_result
    assert [c.id for c in report.checks] == [s.id for s in catalogue]
    first, stopped, *never = report.checks
    assert first == graded.ctx.results[0]
    # the check that never ended is the grader's failure, not the student's
    assert (stopped.outcome, stopped.title) == (Outcome.ERROR, "the second fails")
    assert "stopped after 120 s while this check ran" in stopped.message
    assert "not your fault" in stopped.message
    assert [c.outcome for c in never] == [Outcome.NOT_RUN, Outcome.NOT_RUN]
    assert all("while test_second ran; this check did not run" in c.message for c in never)
    assert report.max_score == sum(s.max_points for s in catalogue) == 7
    assert "no seccomp filter" in report.isolation.missing


def test_a_whole_grade_is_the_workers_stream(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded
) -> None:
    report = _grade(monkeypatch, tmp_path, graded, "".join(_stream(graded)), timed_out=False,
                    returncode=0)  # fmt: skip
    assert report.checks == tuple(graded.ctx.results)
    assert report.catalogue == graded.ctx.catalogue
    assert report.score == 2  # the two passes, a point each


@pytest.mark.parametrize(
    ("timed_out", "returncode", "why"),
    [(True, -9, "it ran longer than 120 s"),
     (False, 1, "it exited with status 1 without results")],
)  # fmt: skip
def test_a_worker_that_ends_before_building_is_the_graders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded,
    timed_out: bool, returncode: int, why: str,
) -> None:  # fmt: skip
    lines = _stream(graded)[:1]  # its layers told, then nothing: no build, no check running
    with pytest.raises(SandboxError, match=f"the grade's worker failed: {why}"):
        _grade(monkeypatch, tmp_path, graded, "".join(lines), timed_out=timed_out,
               returncode=returncode)  # fmt: skip


def test_a_worker_that_ends_early_mid_check_is_the_graders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded
) -> None:
    """Not stopped by the watchdog: a worker that died mid-check has no results to trust."""
    lines = _stream(graded)
    (second,) = [i for i, line in enumerate(lines) if line.startswith('{"check"')][1:2]
    with pytest.raises(SandboxError, match="exited with status -9 without results"):
        _grade(monkeypatch, tmp_path, graded, _cut(lines, second), timed_out=False)


def test_a_grade_where_no_check_ran_is_the_exercises(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded
) -> None:
    assert graded.ctx.build_result is not None
    events = [protocol.Built(graded.ctx.build_result), protocol.Collected(()),
              protocol.Done(int(pytest.ExitCode.NO_TESTS_COLLECTED))]  # fmt: skip
    with pytest.raises(ExerciseError, match="no check of exercise9 ran"):
        _grade(monkeypatch, tmp_path, graded, "".join(e.to_line() for e in events),
               timed_out=False, returncode=0)  # fmt: skip


def test_the_check_stopped_keeps_its_points(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graded: Graded
) -> None:
    """ENGINE BUG (see the report): the check the grade was stopped in, and those never
    reached, are worth 1 point each in the report's results, whatever the catalogue says."""
    lines = _stream(graded)
    (second,) = [i for i, line in enumerate(lines) if line.startswith('{"check"')][1:2]
    report = _grade(monkeypatch, tmp_path, graded, _cut(lines, second), timed_out=True)
    assert [c.max_points for c in report.checks] == [s.max_points for s in report.catalogue]


def test_the_grader_version_is_the_installed_one() -> None:
    """session.version() reads the package's own (no importlib.metadata at each grade):
    it must be what pip installed, pyproject's version."""
    import importlib.metadata

    assert session.version() == importlib.metadata.version("ipcgrade")
