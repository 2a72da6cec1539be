"""The worker's phases, outside a sandboxed grade: the build (first, before pytest), and
pytest's arguments (none of the folders around the checks configure it)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from grader import catalog, protocol, sandbox, worker
from grader.catalog import Exercise
from grader.worker import UNUSED_PLUGINS, _pytest_args, build

pytest_plugins = ["pytester"]

TOML = """id = "exercise9"
name = "nine"
title = "Nine"
files = ["nine.c", "ten.c"]
"""
HELLO = """\
#include <stdio.h>

int main(void)
{
    puts("hello from %s");
    return 0;
}
"""
BROKEN = """\
#include <stdio.h>

int main(void)
{
    puts("no semicolon")
    return 0;
}
"""
BROKEN_LINE = 5  # where gcc finds the missing ';' (before `return`, or at the end of puts)


def _exercise(folder: Path, checks: str = "def test_nothing():\n    pass\n") -> Exercise:
    folder.mkdir()
    (folder / "exercise.toml").write_text(TOML)
    (folder / "checks.py").write_text(textwrap.dedent(checks))
    return catalog._load(folder)


def _scratch(tmp_path: Path, files: dict[str, str]) -> Path:
    """A grade's scratch folder, its submission holding `files`, as the worker finds it."""
    scratch = tmp_path / "scratch"
    (scratch / "submission").mkdir(parents=True)
    for name, text in files.items():
        (scratch / "submission" / name).write_text(text)
    sandbox.hand_to_students(scratch, sandbox.detect())  # gcc runs as the student
    return scratch


# -- the build phase -------------------------------------------------------------------


def test_missing_files_are_told_without_compiling(tmp_path: Path) -> None:
    exercise = _exercise(tmp_path / "exercise9")
    scratch = _scratch(tmp_path, {"nine.c": HELLO % "nine"})  # ten.c is missing
    result = build(exercise, sandbox.detect(), scratch, missing=("ten.c",))
    assert (result.ok, result.kind) == (False, "missing")
    assert result.errors == ("ten.c is missing",)
    assert result.command == ()  # nothing was run: not even the file that is there
    assert not (scratch / "submission" / "nine").exists()
    assert not (scratch / "build-log").exists()


def test_correct_files_build(tmp_path: Path) -> None:
    exercise = _exercise(tmp_path / "exercise9")
    scratch = _scratch(tmp_path, {"nine.c": HELLO % "nine", "ten.c": HELLO % "ten"})
    result = build(exercise, sandbox.detect(), scratch)
    assert result.ok, result.log
    assert (result.kind, result.errors, result.diagnostics) == ("", (), ())
    assert len(result.command) == 2
    assert all(c.startswith("gcc ") for c in result.command)
    for name in ("nine", "ten"):  # each built from its own file
        binary = scratch / "submission" / name
        assert os.access(binary, os.X_OK)
        ran = subprocess.run([binary], capture_output=True, text=True, timeout=10, check=True)
        assert ran.stdout == f"hello from {name}\n"


def test_a_compile_error_names_its_file_and_line(tmp_path: Path) -> None:
    exercise = _exercise(tmp_path / "exercise9")
    scratch = _scratch(tmp_path, {"nine.c": HELLO % "nine", "ten.c": BROKEN})
    result = build(exercise, sandbox.detect(), scratch)
    assert (result.ok, result.kind) == (False, "compile")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors, result.log
    assert errors[0].file == "ten.c"
    assert errors[0].line in (BROKEN_LINE, BROKEN_LINE + 1)
    assert "expected" in errors[0].text
    assert result.errors[0].startswith(f"ten.c:{errors[0].line}:")
    assert not (scratch / "submission" / "ten").exists()


def test_a_build_that_raises_is_handed_on_with_what_broke_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the build raised (gcc or make missing) is kept for each check to report,
    never a lost report."""
    exercise = _exercise(tmp_path / "exercise9")
    scratch = _scratch(tmp_path, {"nine.c": HELLO % "nine", "ten.c": HELLO % "ten"})

    def broken(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("make")

    monkeypatch.setattr(worker, "start_build", broken)
    job = protocol.Job(caps=sandbox.detect(), scratch=str(scratch),
                       exercise_folder=str(exercise.folder), result_fd=-1)  # fmt: skip
    built, broke = worker._built(exercise, job.caps, scratch, job)
    assert (built.ok, built.kind) == (False, "missing")
    assert isinstance(broke, FileNotFoundError)
    assert str(broke) == "make"


# -- pytest's arguments ----------------------------------------------------------------

CHECKS = """
    from grader import Failed

    def test_passes():
        pass

    def test_fails():
        raise Failed("the traceback says " + "where")
"""


@pytest.fixture
def around(pytester: pytest.Pytester, tmp_path: Path) -> tuple[Exercise, Path]:
    """An exercise among files that would configure pytest, were they read: a pytest.ini
    and a conftest.py in the folder above it (and the current one), one in the scratch."""
    hostile = "raise RuntimeError('a conftest around the checks was loaded')\n"
    pytester.makeini("[pytest]\naddopts = --no-such-option\n")
    pytester.makeconftest(hostile)
    exercise = _exercise(pytester.path / "exercise9", CHECKS)
    scratch = _scratch(tmp_path, {"conftest.py": hostile})
    (scratch / "conftest.py").write_text(hostile)
    (scratch / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    return exercise, scratch


def test_pytest_reads_no_configuration_around_the_checks(
    pytester: pytest.Pytester, around: tuple[Exercise, Path]
) -> None:
    exercise, scratch = around
    ran = pytester.inline_run(*_pytest_args(exercise.checks, scratch, debug=False))
    ran.assertoutcome(passed=1, failed=1)
    assert ran.ret == pytest.ExitCode.TESTS_FAILED
    for folder in (pytester.path, scratch, exercise.folder):  # no cache written anywhere
        assert not (folder / ".pytest_cache").exists(), folder


def test_debug_shows_the_tracebacks(
    pytester: pytest.Pytester, around: tuple[Exercise, Path]
) -> None:
    exercise, scratch = around
    quiet = pytester.runpytest_inprocess(*_pytest_args(exercise.checks, scratch, debug=False))
    loud = pytester.runpytest_inprocess(*_pytest_args(exercise.checks, scratch, debug=True))
    assert quiet.ret == loud.ret == pytest.ExitCode.TESTS_FAILED
    source = 'raise Failed("the traceback says " + "where")'  # a traceback's line
    assert source not in quiet.stdout.str()
    assert source in loud.stdout.str()


USED = """
    import warnings

    import pytest

    def test_asks_for_the_fixtures_a_check_may_use(monkeypatch, capsys, recwarn):
        monkeypatch.setenv("X", "1")
        print("out")
        assert capsys.readouterr().out == "out\\n"
        warnings.warn("told", UserWarning)
        assert len(recwarn) == 1

    @pytest.mark.filterwarnings("ignore")
    def test_a_bare_assert_is_rewritten():
        x = 1
        assert x == 2
"""


def test_pytest_loads_only_the_plugins_a_grade_uses(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """The builtin plugins a grade never uses are not registered (each costs the grade's
    start-up, and `unraisableexception` two garbage collections at its end); the fixtures
    a check may ask for, and assertion rewriting, stay."""
    exercise = _exercise(pytester.path / "exercise9", USED)
    scratch = _scratch(tmp_path, {})
    ran = pytester.inline_run(*_pytest_args(exercise.checks, scratch, debug=False))
    reports = {r.nodeid.rsplit("::", 1)[-1]: r for r in ran.getreports("pytest_runtest_logreport")
               if r.when == "call"}  # fmt: skip
    assert reports["test_asks_for_the_fixtures_a_check_may_use"].passed
    rewritten = reports["test_a_bare_assert_is_rewritten"]
    assert rewritten.failed
    assert "assert 1 == 2" in rewritten.longreprtext  # the rewritten assert's own words
    plugins = ran.getcall("pytest_sessionfinish").session.config.pluginmanager
    for name in UNUSED_PLUGINS:  # builtin plugins go by their short names
        assert plugins.is_blocked(name), name
        assert plugins.get_plugin(name) is None, name
    for name in ("python", "fixtures", "assertion", "skipping", "warnings", "capture",
                 "monkeypatch", "recwarn", "terminal"):  # fmt: skip
        assert plugins.get_plugin(name) is not None, name
