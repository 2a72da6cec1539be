"""The reports: one submission's grade and one class's, and the JSON schema they are
written in (`"schema": 2`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.results import BuildResult, CheckResult, CheckSpec, Isolation, Outcome

SCHEMA = 2


class SchemaError(ValueError):
    """A report written by another version of the results model (a schema 1 file)."""


@dataclass(frozen=True)
class Digests:
    """What makes a result reusable: a digest of the submission's files and of the checks."""

    submission: str = ""  # "sha256:..." of the files graded (names and bytes)
    checks: str = ""  # "sha256:..." of the exercise's folder (checks.py, exercise.toml) and grader

    def to_dict(self) -> dict[str, Any]:
        return {"submission": self.submission, "checks": self.checks}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Digests:
        return cls(str(d.get("submission", "")), str(d.get("checks", "")))


@dataclass(frozen=True)
class SourceFile:
    """A file of the submission, for a report to show beside the compiler's diagnostics."""

    file: str  # "pipe.c"
    text: str  # cut at 256 KiB

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "text": self.text}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceFile:
        return cls(str(d["file"]), str(d["text"]))


STATUSES = ("graded", "missing files", "does not compile", "grader error")


@dataclass(frozen=True)
class SubmissionReport:
    exercise: str  # the id: "exercise2"
    title: str  # the exercise's title, plain text: "ps -ef | grep firefox with pipe, ..."
    submission: str
    build: BuildResult
    checks: tuple[CheckResult, ...]  # one per check of the catalogue, in its order
    isolation: Isolation
    missing_files: tuple[str, ...] = ()
    found_files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # submission-level messages ("found main.c; ...")
    duration_s: float = 0.0
    kept: str | None = None  # the scratch folder kept with --keep
    grader_version: str = ""  # the ipcgrade that graded, from the package's metadata
    graded_at: str = ""  # when the grade started: ISO 8601, UTC ("2025-03-01T14:02:09Z")
    name: str = ""  # the exercise's short name: "pipe"
    student: str = ""  # the student's id in a batch ("alice"); "" for a single grade
    catalogue: tuple[CheckSpec, ...] = ()  # every check of the exercise, run or not
    digests: Digests = field(default_factory=Digests)
    error: str = ""  # the grade itself failed (the grader's fault): why
    sources: tuple[SourceFile, ...] = ()  # the student's files found
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        """Every check of the catalogue's points: never how far the grade got."""
        if self.catalogue:
            return sum(c.max_points for c in self.catalogue)
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        return (
            not self.missing_files
            and not self.error
            and self.build.ok
            and bool(self.checks)
            and all(c.outcome is Outcome.PASSED for c in self.checks)
        )

    @property
    def status(self) -> str:
        """One of STATUSES: what a grade sheet says of this submission."""
        if self.error or any(c.outcome is Outcome.ERROR for c in self.checks):
            return "grader error"
        if self.missing_files:
            return "missing files"
        if not self.build.ok:
            return "does not compile"
        return "graded"

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 a check failed, 3 a check broke (the harness's fault)."""
        if self.error or any(c.outcome is Outcome.ERROR for c in self.checks):
            return 3
        return 0 if self.passed else 1

    def counts(self) -> dict[str, int]:
        out = {o.value: 0 for o in Outcome}
        for c in self.checks:
            out[c.outcome.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "grader_version": self.grader_version,
            "graded_at": self.graded_at,
            "exercise": self.exercise,
            "name": self.name,
            "title": self.title,
            "student": self.student,
            "submission": self.submission,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "error": self.error,
            "digests": self.digests.to_dict(),
            "missing_files": list(self.missing_files),
            "found_files": list(self.found_files),
            "problems": list(self.problems),
            "build": self.build.to_dict(),
            "catalogue": [c.to_dict() for c in self.catalogue],
            "checks": [c.to_dict() for c in self.checks],
            "isolation": self.isolation.to_dict(),
            "sources": [f.to_dict() for f in self.sources],
            "duration_s": self.duration_s,
            "kept": self.kept,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SubmissionReport:
        check_schema(d)
        return cls(
            exercise=str(d["exercise"]),
            title=str(d.get("title", "")),
            submission=str(d["submission"]),
            build=BuildResult.from_dict(d["build"]),
            checks=tuple(CheckResult.from_dict(c) for c in d["checks"]),
            isolation=Isolation.from_dict(d["isolation"]),
            missing_files=tuple(d.get("missing_files", ())),
            found_files=tuple(d.get("found_files", ())),
            problems=tuple(d.get("problems", ())),
            duration_s=float(d.get("duration_s", 0.0)),
            kept=d.get("kept"),
            grader_version=str(d.get("grader_version", "")),
            graded_at=str(d.get("graded_at", "")),
            name=str(d.get("name", "")),
            student=str(d.get("student", "")),
            catalogue=tuple(CheckSpec.from_dict(c) for c in d.get("catalogue", ())),
            digests=Digests.from_dict(d.get("digests", {})),
            error=str(d.get("error", "")),
            sources=tuple(SourceFile.from_dict(f) for f in d.get("sources", ())),
        )


def check_schema(d: Mapping[str, Any]) -> None:
    """Raise SchemaError, saying what to do, unless `d` is a report of this schema."""
    got = d.get("schema") if isinstance(d, Mapping) else None
    if got == SCHEMA:
        return
    if got == 1:
        raise SchemaError(
            "this report has schema 1, written by an ipcgrade before 0.2; schema 1 is gone "
            f"(this ipcgrade reads schema {SCHEMA} only): grade the submission again"
        )
    raise SchemaError(f"this is not an ipcgrade report of schema {SCHEMA} (its schema: {got!r})")


@dataclass(frozen=True)
class ClassReport:
    """One exercise graded for a class: its catalogue and every student's report."""

    exercise: str
    name: str
    title: str
    catalogue: tuple[CheckSpec, ...]
    reports: tuple[SubmissionReport, ...]  # one per student, by student id
    layout: str = ""  # how the class folder was laid out: "folders", "moodle", "canvas", ...
    graded_at: str = ""
    grader_version: str = ""

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.catalogue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "grader_version": self.grader_version,
            "graded_at": self.graded_at,
            "exercise": self.exercise,
            "name": self.name,
            "title": self.title,
            "layout": self.layout,
            "max_score": self.max_score,
            "catalogue": [c.to_dict() for c in self.catalogue],
            "reports": [r.to_dict() for r in self.reports],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassReport:
        check_schema(d)
        return cls(
            exercise=str(d["exercise"]),
            name=str(d.get("name", "")),
            title=str(d.get("title", "")),
            catalogue=tuple(CheckSpec.from_dict(c) for c in d.get("catalogue", ())),
            reports=tuple(SubmissionReport.from_dict(r) for r in d.get("reports", ())),
            layout=str(d.get("layout", "")),
            graded_at=str(d.get("graded_at", "")),
            grader_version=str(d.get("grader_version", "")),
        )
