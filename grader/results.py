"""The results model: what a grade produced, as frozen data every renderer reads."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA = 1


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # the student's program is wrong
    SKIPPED = "skipped"  # could not run; the message names the prerequisite
    ERROR = "error"  # the harness or the check broke: never the student's fault


@dataclass(frozen=True)
class Evidence:
    """A table or a text shown beside a check's message: fd tables, process rows, a trace."""

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(
            title=str(d["title"]),
            columns=tuple(d.get("columns", ())),
            rows=tuple(tuple(str(c) for c in r) for r in d.get("rows", ())),
            text=str(d.get("text", "")),
        )


@dataclass(frozen=True)
class CheckResult:
    id: str  # "exercise2/test_grep_sees_end_of_file"
    title: str  # first line of the check's docstring
    outcome: Outcome
    message: str = ""  # what happened and why, in the lecture's words
    expected: str | None = None
    actual: str | None = None  # raw student output; renderers escape it
    hint: str | None = None  # what to do about it
    lecture: str | None = None  # section of the lecture, e.g. "pipe"
    evidence: tuple[Evidence, ...] = ()
    log: tuple[str, ...] = ()  # "started ./pipe as pid 5", "sent SIGINT"
    warnings: tuple[str, ...] = ()  # advice that does not fail the check
    duration_s: float = 0.0
    points: float = 0.0
    max_points: float = 1.0

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["outcome"] = self.outcome.value
        d["evidence"] = [e.to_dict() for e in self.evidence]
        d["log"] = list(self.log)
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["outcome"] = Outcome(d["outcome"])
        kw["evidence"] = tuple(Evidence.from_dict(e) for e in d.get("evidence", ()))
        kw["log"] = tuple(d.get("log", ()))
        kw["warnings"] = tuple(d.get("warnings", ()))
        return cls(**kw)


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    command: tuple[str, ...] = ()
    log: str = ""
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # "copy.c:12: error: ..." lines, the compiler's own words
    kind: str = ""  # "", "compile", "link", "missing", "make"
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": list(self.command),
            "log": self.log,
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "kind": self.kind,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BuildResult:
        return cls(
            ok=bool(d["ok"]),
            command=tuple(d.get("command", ())),
            log=str(d.get("log", "")),
            warnings=tuple(d.get("warnings", ())),
            errors=tuple(d.get("errors", ())),
            kind=str(d.get("kind", "")),
            duration_s=float(d.get("duration_s", 0.0)),
        )


@dataclass(frozen=True)
class Isolation:
    level: str  # "full" or "reduced"
    layers: tuple[str, ...] = ()  # what protects this grade
    missing: tuple[str, ...] = ()  # what could not be had, and why

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "layers": list(self.layers), "missing": list(self.missing)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Isolation:
        return cls(
            level=str(d["level"]),
            layers=tuple(d.get("layers", ())),
            missing=tuple(d.get("missing", ())),
        )


@dataclass(frozen=True)
class SubmissionReport:
    exercise: str
    title: str
    submission: str
    build: BuildResult
    checks: tuple[CheckResult, ...]
    isolation: Isolation
    missing_files: tuple[str, ...] = ()
    found_files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # submission-level messages ("found main.c; ...")
    duration_s: float = 0.0
    kept: str | None = None  # the scratch folder kept with --keep
    grader_version: str = ""  # the ipcgrade that graded, from the package's metadata
    graded_at: str = ""  # when the grade started: ISO 8601, UTC ("2025-03-01T14:02:09Z")
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        return (
            not self.missing_files
            and self.build.ok
            and bool(self.checks)
            and all(c.outcome is Outcome.PASSED for c in self.checks)
        )

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 a check failed, 3 a check broke (the harness's fault)."""
        if any(c.outcome is Outcome.ERROR for c in self.checks):
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
            "title": self.title,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "missing_files": list(self.missing_files),
            "found_files": list(self.found_files),
            "problems": list(self.problems),
            "build": self.build.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "isolation": self.isolation.to_dict(),
            "duration_s": self.duration_s,
            "kept": self.kept,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SubmissionReport:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"report schema {d.get('schema')!r} is not {SCHEMA}")
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
            # added within schema 1: a report from before has neither
            grader_version=str(d.get("grader_version", "")),
            graded_at=str(d.get("graded_at", "")),
        )
