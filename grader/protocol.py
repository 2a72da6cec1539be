"""The host↔worker seam: the job the host hands the worker, and the worker's event stream.

The host writes a `Job` as JSON; the worker reads it, and streams back one event per line
of JSON, as it happens, on a file the host opened out of students' reach. A grade stopped
part way still says what it found: every complete line is kept, a line cut short is dropped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, TypeAlias

from grader.results import BuildResult, CheckResult, CheckSpec
from grader.sandbox.detect import Capabilities


@dataclass(frozen=True)
class Job:
    """What one grade's worker is told to do, by the host that started it."""

    caps: Capabilities
    scratch: str  # the box: the submission's copy, the checks' folders
    exercise_folder: str
    result_fd: int  # opened by the host, out of students' reach
    missing: tuple[str, ...] = ()  # the student's files not found
    makefile: bool = False  # build with the student's Makefile
    keep: tuple[str, ...] = ()  # folders the worker's own root shows, read-only
    hide: tuple[str, ...] = ()  # folders hidden from it
    own_root: bool = True
    by_remounts: bool = False
    debug: bool = False
    keep_scratch: bool = False
    # the build cache's hit: the programs are already in the submission's copy, and the
    # build phase hands on this result instead of running gcc
    prebuilt: BuildResult | None = None
    send_programs: bool = False  # after a fresh build that worked, stream them (Programs)

    def to_json(self) -> str:
        d = asdict(self)
        d["prebuilt"] = _build_body(self.prebuilt) if self.prebuilt is not None else None
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> Job:
        d = json.loads(text)
        caps = Capabilities(**{**d["caps"], "cgroup_fds": tuple(d["caps"]["cgroup_fds"])})
        return cls(
            caps=caps,
            scratch=str(d["scratch"]),
            exercise_folder=str(d["exercise_folder"]),
            result_fd=int(d["result_fd"]),
            missing=tuple(d["missing"]),
            makefile=bool(d["makefile"]),
            keep=tuple(d["keep"]),
            hide=tuple(d["hide"]),
            own_root=bool(d["own_root"]),
            by_remounts=bool(d["by_remounts"]),
            debug=bool(d["debug"]),
            keep_scratch=bool(d["keep_scratch"]),
            prebuilt=BuildResult.from_dict(d["prebuilt"]) if d.get("prebuilt") else None,
            send_programs=bool(d.get("send_programs", False)),
        )


@dataclass(frozen=True)
class LayersMissing:
    """The sandbox layers the worker could not set up inside its namespaces."""

    layers: tuple[str, ...]
    tag: ClassVar[str] = "missing_layers"

    def _body(self) -> Any:
        return list(self.layers)

    @classmethod
    def _from(cls, body: Any) -> LayersMissing:
        return cls(tuple(str(x) for x in body))

    def to_line(self) -> str:
        return _line(self)


@dataclass(frozen=True)
class Collected:
    """Every check pytest collected, before any ran: the grade's catalogue."""

    catalogue: tuple[CheckSpec, ...]
    tag: ClassVar[str] = "collected"

    def _body(self) -> Any:
        return [c.to_dict() for c in self.catalogue]

    @classmethod
    def _from(cls, body: Any) -> Collected:
        return cls(tuple(CheckSpec.from_dict(c) for c in body))

    def to_line(self) -> str:
        return _line(self)


@dataclass(frozen=True)
class Built:
    """The submission's build, once, when the first check asks for it (or at the end)."""

    build: BuildResult
    tag: ClassVar[str] = "build"

    def _body(self) -> Any:
        return _build_body(self.build)

    @classmethod
    def _from(cls, body: Any) -> Built:
        return cls(BuildResult.from_dict(body))

    def to_line(self) -> str:
        return _line(self)


def _build_body(build: BuildResult) -> dict[str, Any]:
    """A build as the stream carries it: the report's keys, and whether it was reused
    (which the report, schema 2, does not carry)."""
    return {**build.to_dict(), "reused": build.reused}


@dataclass(frozen=True)
class Programs:
    """The programs a fresh build made, read before any check ran, for the host's build
    cache (asked for by Job.send_programs)."""

    programs: Mapping[str, bytes]
    tag: ClassVar[str] = "programs"

    def _body(self) -> Any:
        return {n: base64.b64encode(b).decode("ascii") for n, b in self.programs.items()}

    @classmethod
    def _from(cls, body: Any) -> Programs:
        return cls({str(n): base64.b64decode(str(b), validate=True) for n, b in body.items()})

    def to_line(self) -> str:
        return _line(self)


@dataclass(frozen=True)
class Running:
    """A check started: if the grade is stopped now, this is the one that never ended."""

    id: str
    title: str
    tag: ClassVar[str] = "running"

    def _body(self) -> Any:
        return {"id": self.id, "title": self.title}

    @classmethod
    def _from(cls, body: Any) -> Running:
        return cls(str(body["id"]), str(body["title"]))

    def to_line(self) -> str:
        return _line(self)


@dataclass(frozen=True)
class Checked:
    """A check ended, with its result."""

    result: CheckResult
    tag: ClassVar[str] = "check"

    def _body(self) -> Any:
        return self.result.to_dict()

    @classmethod
    def _from(cls, body: Any) -> Checked:
        return cls(CheckResult.from_dict(body))

    def to_line(self) -> str:
        return _line(self)


@dataclass(frozen=True)
class Done:
    """The last line: pytest ended, with this exit status."""

    pytest_exit: int
    tag: ClassVar[str] = "done"

    def _body(self) -> Any:
        return {"pytest_exit": self.pytest_exit}

    @classmethod
    def _from(cls, body: Any) -> Done:
        return cls(int(body["pytest_exit"]))

    def to_line(self) -> str:
        return _line(self)


Event: TypeAlias = LayersMissing | Collected | Built | Programs | Running | Checked | Done
_KINDS: Mapping[str, Any] = {
    k.tag: k for k in (LayersMissing, Collected, Built, Programs, Running, Checked, Done)
}


def _line(event: Event) -> str:
    return json.dumps({event.tag: event._body()}) + "\n"


def parse(line: str) -> Event | None:
    """The event on one line, or None for a line cut short (or not one of ours)."""
    try:
        d = json.loads(line)
    except ValueError:
        return None
    if not isinstance(d, dict) or len(d) != 1:
        return None
    ((tag, body),) = d.items()
    kind = _KINDS.get(tag)
    if kind is None:
        return None
    try:
        event: Event = kind._from(body)
    except (KeyError, TypeError, ValueError, AttributeError):  # binascii.Error is a ValueError
        return None
    return event


def events(text: str) -> Iterable[Event]:
    """Every whole event of a stream, in order."""
    for line in text.splitlines():
        event = parse(line)
        if event is not None:
            yield event
