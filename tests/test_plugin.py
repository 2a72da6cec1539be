"""The collector: pytest's reports turned into the catalogue and one CheckResult per check.

pytest runs in this process on a small checks file, with a GradeContext whose `emit`
keeps the events: seconds, not a sandboxed grade.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import catalog, protocol, sandbox
from grader.plugin import Collector, GradeContext
from grader.results import CheckResult, Location, Outcome, Ref
from grader.session import in_catalogue
from grader.worker import _pytest_args, build

CHECKS = '''
import pytest

from grader import Failed
from grader.results import Location, Ref


@pytest.fixture
def broken():
    raise RuntimeError("the fixture broke")


@pytest.mark.filterwarnings("ignore")
def test_passes():
    """it passes"""


def test_fails_with_failed():
    """a Failed is carried whole"""
    raise Failed(
        "grep never saw end-of-file: pipe (pid 180) holds fd 4",
        hint="close it", lecture="pipe", expected="eof", actual="nothing",
        kind="parent-keeps-write-end", about=[Ref(pid=180, fd=4)],
        location=Location("pipe.c", 14, 5),
    )


def test_bare_assert():
    x = 1
    assert x == 2, "one is not two"


def test_skips():
    """skips"""
    pytest.skip("needs pipe.c, which is missing")


def test_setup_breaks(broken):
    """never runs its body"""


def test_uses_the_program(program):
    """asks for the build"""
'''

TOML = """id = "exercise9"
name = "nine"
title = "Nine"
files = ["nine.c"]
[points]
test_fails_with_failed = 3
[visibility]
test_skips = "hidden"
[tags]
test_passes = ["pipes"]
"""


@pytest.fixture
def graded(tmp_path: Path) -> tuple[GradeContext, list[protocol.Event]]:
    folder = tmp_path / "exercise9"
    folder.mkdir()
    (folder / "exercise.toml").write_text(TOML)
    (folder / "checks.py").write_text(textwrap.dedent(CHECKS))
    exercise = catalog._load(folder)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    events: list[protocol.Event] = []
    # a missing file: the build phase says so without compiling anything
    caps = sandbox.detect()
    built = build(exercise, caps, scratch, missing=("nine.c",))
    assert (built.ok, built.kind) == (False, "missing")
    ctx = GradeContext(exercise=exercise, caps=caps, scratch=scratch, missing=("nine.c",),
                       build_result=built, emit=events.append)  # fmt: skip
    args = _pytest_args(exercise.checks, scratch, debug=False)
    code = pytest.main(args, plugins=[Collector(ctx)])
    assert code == pytest.ExitCode.TESTS_FAILED
    return ctx, events


def _by_name(ctx: GradeContext) -> dict[str, CheckResult]:
    return {r.name: r for r in ctx.results}


def test_the_catalogue_is_told_before_any_check_runs(
    graded: tuple[GradeContext, list[protocol.Event]],
) -> None:
    ctx, events = graded
    assert isinstance(events[0], protocol.Collected)
    assert ctx.catalogue == events[0].catalogue
    specs = {s.name: s for s in events[0].catalogue}
    assert list(specs) == ["test_passes", "test_fails_with_failed", "test_bare_assert",
                           "test_skips", "test_setup_breaks", "test_uses_the_program"]  # fmt: skip
    assert specs["test_passes"].id == "exercise9/test_passes"
    assert specs["test_passes"].title == "it passes"
    assert specs["test_bare_assert"].title == "bare assert"  # no docstring: from its name
    assert specs["test_fails_with_failed"].max_points == 3
    assert specs["test_passes"].max_points == 1
    assert specs["test_skips"].visibility == "hidden"
    assert specs["test_passes"].visibility == "visible"
    assert specs["test_passes"].tags == ("pipes",)
    assert specs["test_uses_the_program"].depends == ("build",)
    assert specs["test_passes"].depends == ()
    source = textwrap.dedent(CHECKS).splitlines()
    for spec in specs.values():
        assert spec.source is not None
        assert spec.source.file == "checks.py"
        assert source[spec.source.line - 1].startswith(f"def {spec.name}("), spec
    # then each check: running, checked, in order
    kinds = [type(e).__name__ for e in events[1:]]
    assert kinds.count("Running") == kinds.count("Checked") == 6
    assert "Built" not in kinds  # the worker built before pytest ran: not a check's doing


def test_a_pass_earns_its_points(graded: tuple[GradeContext, list[protocol.Event]]) -> None:
    r = _by_name(graded[0])["test_passes"]
    assert (r.outcome, r.points, r.max_points, r.message) == (Outcome.PASSED, 1.0, 1.0, "")


def test_a_failed_carries_kind_about_and_location(
    graded: tuple[GradeContext, list[protocol.Event]],
) -> None:
    r = _by_name(graded[0])["test_fails_with_failed"]
    assert r.outcome is Outcome.FAILED
    assert r.message == "grep never saw end-of-file: pipe (pid 180) holds fd 4"
    assert (r.hint, r.lecture, r.expected, r.actual) == ("close it", "pipe", "eof", "nothing")
    assert r.failure == "parent-keeps-write-end"
    assert r.about == (Ref(pid=180, fd=4),)
    assert r.location == Location("pipe.c", 14, 5)
    assert (r.points, r.max_points) == (0.0, 3.0)
    assert r.sandbox == ()


def test_a_bare_assert_is_a_failure_with_its_message(
    graded: tuple[GradeContext, list[protocol.Event]],
) -> None:
    r = _by_name(graded[0])["test_bare_assert"]
    assert r.outcome is Outcome.FAILED
    assert r.message == "one is not two"
    assert r.failure == ""


def test_a_skip_says_why(graded: tuple[GradeContext, list[protocol.Event]]) -> None:
    ctx = graded[0]
    r = _by_name(ctx)["test_skips"]
    assert (r.outcome, r.message) == (Outcome.SKIPPED, "needs pipe.c, which is missing")
    built = _by_name(ctx)["test_uses_the_program"]
    assert (built.outcome, built.message) == (Outcome.SKIPPED, "needs nine.c, which is missing")


def test_an_error_in_setup_is_the_graders(
    graded: tuple[GradeContext, list[protocol.Event]],
) -> None:
    r = _by_name(graded[0])["test_setup_breaks"]
    assert r.outcome is Outcome.ERROR
    assert "while setting up this check (RuntimeError: the fixture broke)" in r.message
    assert "not your fault" in r.message


def test_a_check_never_reached_is_not_run(
    graded: tuple[GradeContext, list[protocol.Event]],
) -> None:
    """pytest stopped before the last checks (as when the grade is stopped): they are in
    the report as not run, in the catalogue's order, and max points do not shrink."""
    ctx = graded[0]
    reached = tuple(ctx.results[:2])
    checks = in_catalogue(ctx.catalogue, reached, "the grade was stopped; this check did not run")
    assert [c.name for c in checks] == [s.name for s in ctx.catalogue]
    assert checks[:2] == reached
    assert all(c.outcome is Outcome.NOT_RUN for c in checks[2:])
    assert checks[2].message == "the grade was stopped; this check did not run"
    assert checks[2].title == ctx.catalogue[2].title
    default = in_catalogue(ctx.catalogue, reached)
    assert "before it reached this check" in default[3].message
