"""The pytest plugin: the fixtures checks ask for, and the collector of their results."""

from __future__ import annotations

import inspect
import linecache
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import pytest

# inspection (psutil, /proc readers) is for the checks: the worker imports this module
# while the first gcc runs, which the import then overlaps (grader.process defers it)
from grader import inspection, protocol, requirements  # noqa: F401
from grader.catalog import Exercise, check_title
from grader.outcomes import Failed
from grader.results import BuildResult, CheckResult, CheckSpec, Location, Outcome
from grader.sandbox import Capabilities, Program, Sandbox

_LOG_KEY = pytest.StashKey[Sandbox]()


@dataclass
class GradeContext:
    """What the worker knows about the grade it runs: shared by every fixture."""

    exercise: Exercise
    caps: Capabilities
    scratch: Path  # as seen from inside
    missing: tuple[str, ...] = ()
    makefile: bool = False
    build_result: BuildResult | None = None
    build_error: BaseException | None = None  # the build broke (the grader's fault)
    results: list[CheckResult] = field(default_factory=list)
    catalogue: tuple[CheckSpec, ...] = ()
    # told each step as it happens (the worker streams it to the host): a grade stopped
    # part way still shows what it found
    emit: Callable[[protocol.Event], None] = lambda event: None

    @property
    def source(self) -> Path:
        return self.scratch / "submission"


def _def_line(function: Callable[..., object]) -> int | None:
    """The line of a check's `def` (its code's first line is its first decorator's).

    Read from the lines linecache holds, not with `inspect.getsourcelines`, which
    tokenizes each check's whole body (about 2 ms a check)."""
    code: CodeType | None = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return None
    lines = linecache.getlines(code.co_filename)
    start = code.co_firstlineno
    if not 0 < start <= len(lines):
        return None
    for n, text in enumerate(lines[start - 1 :]):
        if text.lstrip().startswith(("def ", "async def ")):
            return start + n
    return start


def _session_fixtures(ctx: GradeContext) -> ModuleType:
    """The fixtures shared by the whole grade: `grade` and `build`."""

    @pytest.fixture(scope="session", name="grade")
    def grade() -> GradeContext:
        """What the worker knows of the grade: the exercise, the submission's folder."""
        return ctx

    @pytest.fixture(scope="session", name="build")
    def build() -> BuildResult:
        """The submission as the worker built it before any check ran; a failure makes
        every program skip."""
        if ctx.build_error is not None:  # the grader's own failure: each check says so
            raise ctx.build_error
        assert ctx.build_result is not None, "the worker builds before the checks"
        return ctx.build_result

    holder = ModuleType("ipcgrade_session_fixtures")  # pytest reads a module's own names
    holder.grade = grade  # type: ignore[attr-defined]
    holder.build = build  # type: ignore[attr-defined]
    return holder


class Collector:
    """Fixtures for checks, and one CheckResult per check from pytest's reports."""

    def __init__(self, ctx: GradeContext) -> None:
        self.ctx = ctx
        self._phases: dict[str, list[pytest.TestReport]] = {}
        self._excinfo: dict[str, dict[str, BaseException]] = {}
        self._item_docs: dict[str, tuple[str, str, pytest.Item]] = {}

    # -- fixtures -------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        # session-scoped fixtures as plain functions (pytest 9.2 deprecates them as
        # instance methods): a check author's module-scoped fixture may still ask for them
        config.pluginmanager.register(_session_fixtures(self.ctx), "ipcgrade-session")

    @pytest.fixture
    def sandbox(self, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
        """A fresh working folder; every process started in it is killed at the end."""
        name = re.sub(r"[^\w.-]", "_", request.node.name)
        box = Sandbox(self.ctx.scratch / "checks" / name, self.ctx.exercise.limits, self.ctx.caps)
        request.node.stash[_LOG_KEY] = box
        try:
            yield box
        finally:
            box.cleanup()

    @pytest.fixture
    def programs(self, build: BuildResult, sandbox: Sandbox) -> dict[str, Program]:
        """Every program of the exercise, by name; skips with the reason if the build failed."""
        ex = self.ctx.exercise
        if not build.ok:
            files = ", ".join(ex.programs) or ", ".join(ex.files)
            if build.kind == "missing":
                pytest.skip(f"needs {', '.join(self.ctx.missing)}, which is missing")
            verb = {"link": "link", "make": "build with your Makefile"}.get(build.kind, "compile")
            pytest.skip(f"needs {files} to {verb}")
        return {
            name: Program(name, self.ctx.source / name, sandbox, source_file=c_file)
            for c_file, name, _ in ex.builds
            if (self.ctx.source / name).is_file()  # a variant that could not be built
        }

    @pytest.fixture
    def program(self, programs: dict[str, Program]) -> Program:
        """The exercise's one program (for exercises with several, use `programs`)."""
        return next(iter(programs.values()))

    # -- collecting -----------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The catalogue, told before any check runs."""
        self.ctx.catalogue = tuple(self._spec(item) for item in session.items)
        self.ctx.emit(protocol.Collected(self.ctx.catalogue))

    def _spec(self, item: pytest.Item) -> CheckSpec:
        ex = self.ctx.exercise
        function = getattr(item, "function", None)
        line = _def_line(function) if function is not None else None
        closure = getattr(item, "fixturenames", ())
        return CheckSpec(
            id=f"{ex.id}/{item.name}",
            title=check_title(function.__doc__ if function is not None else None, item.name),
            max_points=float(ex.points.get(item.name, 1.0)),
            visibility=ex.visibility.get(item.name, "visible"),
            depends=("build",) if "build" in closure else (),
            tags=tuple(ex.tags.get(item.name, ())),
            source=Location("checks.py", line) if line is not None else None,
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None:
            self._excinfo.setdefault(item.nodeid, {}).setdefault(call.when, call.excinfo.value)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._phases.setdefault(report.nodeid, []).append(report)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        function = getattr(item, "function", None)
        title = check_title(function.__doc__ if function is not None else None, item.name)
        self.ctx.emit(protocol.Running(f"{self.ctx.exercise.id}/{item.name}", title))
        why = requirements.skip_reason(function)
        if why:
            pytest.skip(why)

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        function = getattr(item, "function", None)
        doc = function.__doc__ if function is not None else None
        self._item_docs[item.nodeid] = (item.name, check_title(doc, item.name), item)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        name, title, item = self._item_docs.pop(nodeid, (location[2], location[2], None))
        phases = self._phases.pop(nodeid, [])
        excs = self._excinfo.pop(nodeid, {})
        box = item.stash.get(_LOG_KEY, None) if item is not None else None
        log = tuple(box.log) if box is not None else ()
        warnings = tuple(box.warnings) if box is not None else ()
        duration = sum(r.duration for r in phases)
        ex = self.ctx.exercise
        base = {
            "id": f"{ex.id}/{name}",
            "title": title,
            "log": log,
            "warnings": warnings,
            "duration_s": round(duration, 4),
            "max_points": float(ex.points.get(name, 1.0)),
        }
        result = self._judge(phases, excs, base)
        stops = tuple(box.stops()) if box is not None else ()
        if stops and result.outcome is Outcome.FAILED:
            result = replace(result, sandbox=stops)
        self.ctx.results.append(result)
        self.ctx.emit(protocol.Checked(result))

    def _judge(
        self, phases: list[pytest.TestReport], excs: dict[str, BaseException], base: dict[str, Any]
    ) -> CheckResult:
        failed = [r for r in phases if r.failed]
        skipped = [r for r in phases if r.skipped]
        if not failed and skipped:
            longrepr = skipped[0].longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            return CheckResult(outcome=Outcome.SKIPPED,
                               message=reason.removeprefix("Skipped: "), **base)  # fmt: skip
        if not failed:
            return CheckResult(outcome=Outcome.PASSED, points=base["max_points"], **base)
        report = failed[0]
        exc = excs.get(report.when)
        if isinstance(exc, Failed) and report.when == "call":
            return CheckResult(
                outcome=Outcome.FAILED,
                message=exc.message,
                hint=exc.hint,
                lecture=exc.lecture,
                expected=exc.expected,
                actual=exc.actual,
                evidence=exc.evidence,
                failure=exc.kind,
                about=exc.about,
                location=exc.location,
                **base,
            )
        if isinstance(exc, AssertionError) and report.when == "call":
            said = ("\n" + str(exc)).split("\nassert ", 1)[0].replace("\n  ", "\n")
            text = said.strip() or "the check's assertion failed"
            return CheckResult(outcome=Outcome.FAILED, message=text, **base)
        where = {"setup": "setting up", "teardown": "cleaning up after"}.get(report.when, "running")
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else report.longreprtext[-400:]
        return CheckResult(
            outcome=Outcome.ERROR,
            message=f"the grader broke while {where} this check ({detail}); "
            "this is not your fault: tell your instructor",
            log=(*base.pop("log"), *report.longreprtext.splitlines()[-30:]),
            **base,
        )
