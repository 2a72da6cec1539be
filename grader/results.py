"""The results model of one check and one build: what each produced, as frozen data
every renderer reads (grader.report holds a submission's and a class's reports)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

VISIBILITIES = ("visible", "hidden", "after_due_date")  # as Gradescope names them
EVIDENCE_KINDS = ("processes", "fds", "pipes", "calls", "signals", "ipc", "maps", "table", "text")


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # the student's program is wrong
    SKIPPED = "skipped"  # could not run; the message names the prerequisite
    ERROR = "error"  # the harness or the check broke: never the student's fault
    NOT_RUN = "not_run"  # the grade stopped before it; the message says why


@dataclass(frozen=True)
class Location:
    """A place in a file: the student's source ("pipe.c", line 14) or a check's."""

    file: str  # relative to the submission's folder, or to the exercise's for checks.py
    line: int
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Location:
        col = d.get("column")
        return cls(str(d["file"]), int(d["line"]), int(col) if col is not None else None)


def _location(d: Mapping[str, Any] | None) -> Location | None:
    return Location.from_dict(d) if d else None


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic of the compiler, parsed once: "pipe.c:12:5: error: ..."."""

    file: str
    line: int
    column: int | None
    severity: str  # "error", "fatal error", "warning", "note"
    text: str  # the compiler's own words, after the severity

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def __str__(self) -> str:
        col = f"{self.column}:" if self.column is not None else ""
        return f"{self.file}:{self.line}:{col} {self.severity}: {self.text}"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Diagnostic:
        col = d.get("column")
        return cls(str(d["file"]), int(d["line"]), int(col) if col is not None else None,
                   str(d["severity"]), str(d["text"]))  # fmt: skip


@dataclass(frozen=True)
class CheckSpec:
    """One check as the catalogue knows it after collection, before anything runs."""

    id: str  # "exercise2/test_grep_sees_end_of_file"
    title: str
    max_points: float = 1.0
    visibility: str = "visible"  # one of VISIBILITIES
    depends: tuple[str, ...] = ()  # what it needs first: "build", another check's name
    tags: tuple[str, ...] = ()  # "pipes", "signals": what it is about
    source: Location | None = None  # where it is written, in the exercise's checks.py

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "max_points": self.max_points,
            "visibility": self.visibility,
            "depends": list(self.depends),
            "tags": list(self.tags),
            "source": self.source.to_dict() if self.source else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckSpec:
        return cls(
            id=str(d["id"]),
            title=str(d["title"]),
            max_points=float(d.get("max_points", 1.0)),
            visibility=str(d.get("visibility", "visible")),
            depends=tuple(d.get("depends", ())),
            tags=tuple(d.get("tags", ())),
            source=_location(d.get("source")),
        )


@dataclass(frozen=True)
class Ref:
    """What a message is about, for a renderer to highlight: "pid 180 fd 4", "pipe 5435"."""

    pid: int | None = None
    fd: int | None = None
    inode: int | None = None  # a pipe's or a socket's
    name: str | None = None  # a signal ("SIGTSTP"), a System V key, a mapping's path

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Ref:
        return cls(d.get("pid"), d.get("fd"), d.get("inode"), d.get("name"))


@dataclass(frozen=True)
class FdRow:
    """One open fd of one process, as evidence holds it."""

    fd: int
    kind: str  # as inspection.FdEntry.kind: "pipe", "fifo", "socket", "tty", "file", ...
    target: str  # "pipe:[5435]", "/dev/null"
    access: str = ""  # "r", "w", "rw", "" unknown
    inode: int | None = None
    end: str | None = None  # "read" or "write" for a pipe or FIFO end

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FdRow:
        return cls(int(d["fd"]), str(d["kind"]), str(d["target"]), str(d.get("access", "")),
                   d.get("inode"), d.get("end"))  # fmt: skip


@dataclass(frozen=True)
class ProcessRow:
    """One process, as evidence holds it: what a process tree and its pipes are drawn from."""

    pid: int
    ppid: int
    name: str
    state: str  # "sleeping", "zombie", "stopped", ...
    fds: tuple[FdRow, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "ppid": self.ppid, "name": self.name, "state": self.state,
                "fds": [f.to_dict() for f in self.fds]}  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProcessRow:
        return cls(int(d["pid"]), int(d["ppid"]), str(d["name"]), str(d["state"]),
                   tuple(FdRow.from_dict(f) for f in d.get("fds", ())))  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """What a check saw, shown beside its message: a table every renderer can show, and
    the data it came from (`processes` for the kinds processes, fds and pipes; `data`,
    plain JSON, for the others) for a renderer that draws."""

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    text: str = ""
    kind: str = "table"  # one of EVIDENCE_KINDS
    processes: tuple[ProcessRow, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "text": self.text,
            "processes": [p.to_dict() for p in self.processes],
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(
            title=str(d["title"]),
            columns=tuple(d.get("columns", ())),
            rows=tuple(tuple(str(c) for c in r) for r in d.get("rows", ())),
            text=str(d.get("text", "")),
            kind=str(d.get("kind", "table")),
            processes=tuple(ProcessRow.from_dict(p) for p in d.get("processes", ())),
            data=dict(d.get("data", {})),
        )


@dataclass(frozen=True)
class SandboxAction:
    """What the sandbox did to a program during a check, apart from the check's message."""

    action: str  # "stopped", "killed", "filled", "oom-killed"
    reason: str  # "cpu", "memory", "output", "wall", "processes", "tmpfs", "daemon", "oom"
    text: str  # in plain words: "the sandbox stopped pipe (pid 20): it used more than 5 s of CPU"
    pid: int | None = None
    program: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SandboxAction:
        return cls(str(d["action"]), str(d["reason"]), str(d["text"]), d.get("pid"),
                   d.get("program"))  # fmt: skip


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
    # the mistake, stable across students ("parent-keeps-write-end"): never a pid or inode
    failure: str = ""
    about: tuple[Ref, ...] = ()  # what the message is about
    location: Location | None = None  # where in the student's source the mistake is
    sandbox: tuple[SandboxAction, ...] = ()  # what the sandbox stopped or killed

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["outcome"] = self.outcome.value
        d["evidence"] = [e.to_dict() for e in self.evidence]
        d["log"] = list(self.log)
        d["warnings"] = list(self.warnings)
        d["about"] = [r.to_dict() for r in self.about]
        d["location"] = self.location.to_dict() if self.location else None
        d["sandbox"] = [a.to_dict() for a in self.sandbox]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["outcome"] = Outcome(d["outcome"])
        kw["evidence"] = tuple(Evidence.from_dict(e) for e in d.get("evidence", ()))
        kw["log"] = tuple(d.get("log", ()))
        kw["warnings"] = tuple(d.get("warnings", ()))
        kw["about"] = tuple(Ref.from_dict(r) for r in d.get("about", ()))
        kw["location"] = _location(d.get("location"))
        kw["sandbox"] = tuple(SandboxAction.from_dict(a) for a in d.get("sandbox", ()))
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
    diagnostics: tuple[Diagnostic, ...] = ()  # the compiler's, parsed: file, line, column
    # the programs came from the build cache (the same sources, built before): shown by
    # the terminal, carried by the worker's stream, not in the report (schema 2 unchanged)
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": list(self.command),
            "log": self.log,
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "kind": self.kind,
            "duration_s": self.duration_s,
            "diagnostics": [x.to_dict() for x in self.diagnostics],
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
            diagnostics=tuple(Diagnostic.from_dict(x) for x in d.get("diagnostics", ())),
            reused=bool(d.get("reused", False)),
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
