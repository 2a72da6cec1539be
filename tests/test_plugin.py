"""The collector: pytest's reports turned into the catalogue and one CheckResult per check.

pytest runs in this process (pytester's inline run) on a small checks file per case, with
a GradeContext whose `emit` keeps the events: seconds, not a sandboxed grade.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import catalog, protocol, sandbox
from grader.plugin import Collector, GradeContext
from grader.results import CheckResult, Evidence, Location, Outcome, Ref
from grader.worker import _pytest_args, build

pytest_plugins = ["pytester"]

TOML = """id = "exercise9"
name = "nine"
title = "Nine"
files = ["nine.c"]
"""
NOT_YOUR_FAULT = "this is not your fault: tell your instructor"


@dataclass
class Graded:
    """One in-process run of a checks file: what the collector kept, and told."""

    ctx: GradeContext
    events: list[protocol.Event]
    code: int

    def result(self, name: str) -> CheckResult:
        (found,) = [r for r in self.ctx.results if r.name == name]
        return found

    @property
    def only(self) -> CheckResult:
        (found,) = self.ctx.results
        return found


def run_checks(
    pytester: pytest.Pytester,
    scratch: Path,
    checks: str,
    *,
    toml: str = TOML,
    files: Mapping[str, str] | None = None,
    missing: tuple[str, ...] = ("nine.c",),
    broke: BaseException | None = None,
) -> Graded:
    """Run `checks` (a checks.py) with the collector, as the worker does: the submission's
    `files` built first (none compiled while `missing` is not empty), then pytest."""
    folder = pytester.path / "exercise9"
    folder.mkdir()
    (folder / "exercise.toml").write_text(toml)
    (folder / "checks.py").write_text(textwrap.dedent(checks))
    exercise = catalog._load(folder)
    caps = sandbox.detect()
    submission = scratch / "submission"
    submission.mkdir()
    for name, text in (files or {}).items():
        (submission / name).write_text(textwrap.dedent(text))
    sandbox.hand_to_students(scratch, caps)  # gcc and the programs run as the student
    built = build(exercise, caps, scratch, missing=missing)
    events: list[protocol.Event] = []
    ctx = GradeContext(exercise=exercise, caps=caps, scratch=scratch, missing=missing,
                       build_result=built, build_error=broke, emit=events.append)  # fmt: skip
    args = _pytest_args(exercise.checks, scratch, debug=False)
    recorded = pytester.inline_run(*args, plugins=[Collector(ctx)])
    return Graded(ctx, events, int(recorded.ret))


# -- the catalogue ------------------------------------------------------------------

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

CATALOGUE_TOML = (
    TOML
    + """[points]
test_fails_with_failed = 3
[visibility]
test_skips = "hidden"
[tags]
test_passes = ["pipes"]
"""
)


def test_the_catalogue_is_told_before_any_check_runs(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, CHECKS, toml=CATALOGUE_TOML)
    ctx, events = graded.ctx, graded.events
    assert graded.code == pytest.ExitCode.TESTS_FAILED
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
    assert kinds == ["Running", "Checked"] * 6
    ran = [e.id for e in events[1:] if isinstance(e, protocol.Running)]
    assert ran == [s.id for s in ctx.catalogue]
    told = [e.result for e in events[1:] if isinstance(e, protocol.Checked)]
    assert told == ctx.results
    assert "Built" not in kinds  # the worker built before pytest ran: not a check's doing
    # the points a result carries are the exercise's
    assert graded.result("test_fails_with_failed").max_points == 3


# -- each outcome, a checks file of its own -----------------------------------------


def test_a_pass_earns_its_points(pytester: pytest.Pytester, tmp_path: Path) -> None:
    toml = TOML + "[points]\ntest_passes = 2.5\n"
    graded = run_checks(pytester, tmp_path, '''
        def test_passes():
            """it passes"""
    ''', toml=toml)  # fmt: skip
    r = graded.only
    assert graded.code == pytest.ExitCode.OK
    assert (r.outcome, r.points, r.max_points, r.message) == (Outcome.PASSED, 2.5, 2.5, "")
    assert (r.id, r.title) == ("exercise9/test_passes", "it passes")
    assert r.sandbox == ()
    assert r.duration_s >= 0


def test_a_skip_says_why_in_its_own_words(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        import pytest

        def test_skips():
            pytest.skip("needs pipe.c, which is missing")
    """)  # fmt: skip
    r = graded.only
    assert (r.outcome, r.message) == (Outcome.SKIPPED, "needs pipe.c, which is missing")
    assert r.points == 0


def test_the_program_skips_when_files_are_missing(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        def test_uses_the_program(program):
            raise AssertionError("never: the build failed")
    """)  # fmt: skip
    r = graded.only
    assert (r.outcome, r.message) == (Outcome.SKIPPED, "needs nine.c, which is missing")


FAILED_CHECKS = """
    from grader import Evidence, Failed, Location, Ref

    def test_fails_with_failed():
        \"\"\"a Failed is carried whole\"\"\"
        raise Failed(
            "grep never saw end-of-file: pipe (pid 180) holds fd 4",
            hint="close it", lecture="pipe", expected="eof", actual="nothing",
            evidence=[Evidence("open fds", ("pid", "fd"), (("180", "4"),))],
            kind="parent-keeps-write-end", about=[Ref(pid=180, fd=4)],
            location=Location("pipe.c", 14, 5),
        )
"""


def test_a_failed_is_carried_whole(pytester: pytest.Pytester, tmp_path: Path) -> None:
    toml = TOML + "[points]\ntest_fails_with_failed = 3\n"
    graded = run_checks(pytester, tmp_path, FAILED_CHECKS, toml=toml)
    r = graded.only
    assert graded.code == pytest.ExitCode.TESTS_FAILED
    assert r.outcome is Outcome.FAILED
    assert r.title == "a Failed is carried whole"
    assert r.message == "grep never saw end-of-file: pipe (pid 180) holds fd 4"
    assert (r.hint, r.lecture, r.expected, r.actual) == ("close it", "pipe", "eof", "nothing")
    assert r.evidence == (Evidence("open fds", ("pid", "fd"), (("180", "4"),)),)
    assert r.failure == "parent-keeps-write-end"
    assert r.about == (Ref(pid=180, fd=4),)
    assert r.location == Location("pipe.c", 14, 5)
    assert (r.points, r.max_points) == (0.0, 3.0)
    assert r.sandbox == ()


def test_a_mismatch_is_expected_against_actual(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        from grader import Mismatch

        def test_output():
            raise Mismatch("hello\\n", "helo\\n", kind="wrong-output")

        def test_output_said():
            raise Mismatch("3", "4", "the count is off by one", hint="count from zero")
    """)  # fmt: skip
    plain, said = graded.result("test_output"), graded.result("test_output_said")
    assert plain.outcome is Outcome.FAILED
    assert (plain.expected, plain.actual) == ("hello\n", "helo\n")
    assert plain.message == "the result differs from what was expected"
    assert plain.failure == "wrong-output"
    assert said.outcome is Outcome.FAILED
    assert (said.expected, said.actual) == ("3", "4")
    assert (said.message, said.hint) == ("the count is off by one", "count from zero")


def test_a_bare_assert_is_a_failure_with_its_message(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        def test_bare_assert():
            x = 1
            assert x == 2, "one is not two"
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.FAILED
    assert r.message == "one is not two"  # not pytest's rewrite: "assert 1 == 2"
    assert r.failure == ""


def test_a_bare_assert_without_a_message_shows_no_rewrite(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """ENGINE BUG (see the report): a message-less assert shows pytest's rewrite."""
    graded = run_checks(pytester, tmp_path, """
        def test_bare_assert():
            x = 1
            assert x == 2
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.FAILED
    assert r.message == "the check's assertion failed"


def test_a_bare_assert_keeps_a_message_of_several_lines(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """ENGINE BUG (see the report): pytest's rewrite indents the lines after the first."""
    graded = run_checks(pytester, tmp_path, """
        def test_bare_assert():
            x = 1
            assert x == 2, "one is not two:\\nnor three"
    """)  # fmt: skip
    assert graded.only.message == "one is not two:\nnor three"


def test_an_exception_in_the_check_is_the_graders(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        def test_breaks():
            {}["no such key"]
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.ERROR
    assert "while running this check (KeyError: 'no such key')" in r.message
    assert r.message.endswith(NOT_YOUR_FAULT)
    assert r.points == 0


def test_an_error_in_setup_is_the_graders(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("the fixture broke")

        def test_setup_breaks(broken):
            raise AssertionError("never runs its body")
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.ERROR
    assert "while setting up this check (RuntimeError: the fixture broke)" in r.message
    assert "not your fault" in r.message
    assert "never runs its body" not in r.message


def test_an_error_in_teardown_is_the_graders(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        import pytest

        @pytest.fixture
        def breaks_after():
            yield
            raise RuntimeError("the cleanup broke")

        def test_passes_then_breaks(breaks_after):
            pass
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.ERROR  # never a pass: the grader did not end cleanly
    assert "while cleaning up after this check (RuntimeError: the cleanup broke)" in r.message
    assert r.message.endswith(NOT_YOUR_FAULT)
    assert r.points == 0


def test_an_error_in_teardown_after_a_skip_names_the_error(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """ENGINE BUG (see the report): the message names the skip, not the teardown's error."""
    graded = run_checks(pytester, tmp_path, """
        import pytest

        @pytest.fixture
        def breaks_after():
            yield
            raise RuntimeError("the cleanup broke")

        def test_skips_then_breaks(breaks_after):
            pytest.skip("not here")
    """)  # fmt: skip
    r = graded.only
    assert r.outcome is Outcome.ERROR
    assert "while cleaning up after this check (RuntimeError: the cleanup broke)" in r.message


def test_a_failure_then_a_broken_teardown_stays_the_students(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        import pytest
        from grader import Failed

        @pytest.fixture
        def breaks_after():
            yield
            raise RuntimeError("the cleanup broke")

        def test_fails_then_breaks(breaks_after):
            raise Failed("the pipe stayed open", kind="parent-keeps-write-end")
    """)  # fmt: skip
    r = graded.only
    assert (r.outcome, r.message, r.failure) == (
        Outcome.FAILED, "the pipe stayed open", "parent-keeps-write-end")  # fmt: skip


# -- what the sandbox stopped ---------------------------------------------------------

STOPPED = """
    from dataclasses import replace

    import pytest
    from grader import Failed

    def _stopped(sandbox):
        run = sandbox.start(["sleep", "30"], limits=replace(sandbox.limits, wall_s=0.2))
        assert run.wait_for(exit=True, within_s=20), "the watchdog never stopped sleep"
        assert run.timed_out

    def test_fails_after_a_stop(sandbox):
        _stopped(sandbox)
        raise Failed("sleep did not end by itself")

    def test_passes_after_a_stop(sandbox):
        _stopped(sandbox)

    def test_skips_after_a_stop(sandbox):
        _stopped(sandbox)
        pytest.skip("not judged here")

    def test_fails_without_a_stop(sandbox):
        run = sandbox.start(["true"])
        assert run.wait_for(exit=True, within_s=20)
        raise Failed("true did nothing")
"""


def _started_pid(result: CheckResult, name: str) -> int:
    """The pid the sandbox's log says `name` was started as."""
    started = re.compile(rf"started {name}\b.* as pid (\d+)")
    (pid,) = [int(m[1]) for line in result.log if (m := started.fullmatch(line))]
    return pid


def test_a_failure_says_what_the_sandbox_stopped(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, STOPPED)
    r = graded.result("test_fails_after_a_stop")
    assert r.outcome is Outcome.FAILED
    assert r.message == "sleep did not end by itself"
    pid = _started_pid(r, "sleep")
    (stop,) = r.sandbox
    assert (stop.action, stop.reason, stop.pid, stop.program) == ("stopped", "wall", pid, "sleep")
    assert f"sleep (pid {pid})" in stop.text
    assert "longer than 0.2 s of wall-clock time" in stop.text
    # the same event, told: the stream carries it too
    told = [e.result for e in graded.events if isinstance(e, protocol.Checked)]
    assert r in told
    # a check whose programs all ended by themselves has nothing stopped to tell
    calm = graded.result("test_fails_without_a_stop")
    assert (calm.outcome, calm.sandbox) == (Outcome.FAILED, ())
    assert _started_pid(calm, "true") > 0


def test_a_pass_or_a_skip_never_carries_a_stop(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, STOPPED)
    passed = graded.result("test_passes_after_a_stop")
    skipped = graded.result("test_skips_after_a_stop")
    assert (passed.outcome, passed.sandbox) == (Outcome.PASSED, ())
    assert (skipped.outcome, skipped.message, skipped.sandbox) == (
        Outcome.SKIPPED, "not judged here", ())  # fmt: skip
    for r in (passed, skipped):  # a stop there was: it is not told
        assert _started_pid(r, "sleep") > 0


# -- fixtures and what a check needs ----------------------------------------------------


def test_needs_a_missing_tool_skips_naming_it(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        from grader import Failed, needs

        @needs("no-such-tool")
        def test_needs_it():
            raise Failed("the body ran")

        @needs("sh")
        def test_needs_sh():
            raise Failed("the body ran")
    """)  # fmt: skip
    skipped = graded.result("test_needs_it")
    assert skipped.outcome is Outcome.SKIPPED
    assert skipped.message.startswith(
        "needs no-such-tool: it is not installed here (apt install no-such-tool)"
    )
    assert "apt install no-such-tool" in skipped.message
    ran = graded.result("test_needs_sh")
    assert (ran.outcome, ran.message) == (Outcome.FAILED, "the body ran")
    # both were told as running, then checked: a skip by needs is a check's result too
    running = [e.id for e in graded.events if isinstance(e, protocol.Running)]
    assert running == ["exercise9/test_needs_it", "exercise9/test_needs_sh"]


def test_grade_and_build_are_the_workers(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        from grader import Failed

        def test_sees_them(grade, build):
            if build is not grade.build_result:
                raise Failed("the build fixture is not the worker's build")
            if (grade.exercise.id, build.ok, build.kind) != ("exercise9", False, "missing"):
                raise Failed(f"{grade.exercise.id} {build}")
            if grade.source != grade.scratch / "submission":
                raise Failed(f"{grade.source}")
    """)  # fmt: skip
    r = graded.only
    assert (r.outcome, r.message) == (Outcome.PASSED, "")


HELLO = """
    #include <stdio.h>

    int main(void)
    {
        puts("hello from nine");
        return 0;
    }
"""


def test_the_program_runs_what_was_built(pytester: pytest.Pytester, tmp_path: Path) -> None:
    graded = run_checks(pytester, tmp_path, """
        from grader import Mismatch

        def test_runs(program, programs):
            if list(programs) != ["nine"] or programs["nine"].path != program.path:
                raise Mismatch("nine", str(list(programs)))
            run = program.run(within_s=20)
            if run.text() != "hello from nine\\n":
                raise Mismatch("hello from nine\\n", run.text())
    """, files={"nine.c": HELLO}, missing=())  # fmt: skip
    assert graded.ctx.build_result is not None
    assert graded.ctx.build_result.ok
    r = graded.only
    assert (r.outcome, r.message, r.actual) == (Outcome.PASSED, "", None)


def test_the_program_skips_when_it_does_not_compile(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        def test_runs(program):
            raise AssertionError("never: it did not compile")
    """, files={"nine.c": "int main(void) { return 0 }\n"}, missing=())  # fmt: skip
    assert graded.ctx.build_result is not None
    assert graded.ctx.build_result.kind == "compile"
    r = graded.only
    assert (r.outcome, r.message) == (Outcome.SKIPPED, "needs nine.c to compile")


def test_a_build_that_broke_is_the_graders_error_in_each_check_that_needs_it(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """gcc or make missing: the build raised in the worker; no report is lost, each check
    that needs a program says the grader broke, and one that needs none still runs."""
    graded = run_checks(pytester, tmp_path, """
        def test_needs_the_program(program):
            \"\"\"runs the program\"\"\"

        def test_needs_nothing():
            \"\"\"needs no build\"\"\"
    """, broke=FileNotFoundError("make"))  # fmt: skip
    needing = graded.result("test_needs_the_program")
    assert needing.outcome is Outcome.ERROR
    assert "setting up" in needing.message
    assert "FileNotFoundError: make" in needing.message
    assert graded.result("test_needs_nothing").outcome is Outcome.PASSED


def test_a_module_scoped_fixture_may_ask_for_the_build_and_the_grade(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    graded = run_checks(pytester, tmp_path, """
        import pytest

        @pytest.fixture(scope="module")
        def both(build, grade):
            return build, grade

        def test_sees_them(both):
            \"\"\"sees both\"\"\"
            build, grade = both
            assert build.kind == "missing" and grade.exercise.id == "exercise9"
    """)  # fmt: skip
    assert graded.only.outcome is Outcome.PASSED, graded.only.message
