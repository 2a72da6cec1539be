"""TAP version 14 (or 13) with a YAML diagnostic block per failure.

The block is PyYAML's safe_dump, so student text is a YAML scalar and cannot end the block
or forge a test point. Its style is kept to what Perl's TAP::Parser (`prove`) reads, a
subset of YAML: a multi-line string is a literal block (`|`) when that subset can hold it
(one final newline, no blank line), else one double-quoted line; lines are never folded.
`prove` rejects "TAP version 14" as a parse error: version 13 writes the same content.
"""

from __future__ import annotations

from typing import Any

import yaml

from grader.render.cases import Case, cases, hidden, line, num
from grader.report import SubmissionReport
from grader.results import Outcome


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, s: str) -> yaml.ScalarNode:
    if "\n" not in s:
        return dumper.represent_scalar("tag:yaml.org,2002:str", s)
    body = s[:-1].split("\n") if s.endswith("\n") else None
    if body and not s[0].isspace() and all(ln.strip() for ln in body):
        # PyYAML itself falls back to a quoted style where a block cannot hold `s`
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style='"')


_Dumper.add_representer(str, _str)


def _title(text: str) -> str:
    """A test point's description: "#" escaped as TAP 14 says, and "\\" before it."""
    return line(text, 300).replace("\\", "\\\\").replace("#", "\\#")


def _block(text: str) -> str:
    """Text for a YAML literal block: one final newline, no blank line."""
    lines = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
    return "\n".join(lines) + "\n" if lines else ""


def _diagnostic(case: Case) -> dict[str, Any]:
    d: dict[str, Any] = {
        "message": case.message,
        "severity": "fail" if case.outcome is Outcome.FAILED else "error",
    }
    if case.actual is not None:
        d["found"] = case.actual
    if case.expected is not None:
        d["wanted"] = case.expected
    if case.location:
        at: dict[str, Any] = {"file": line(case.location.file, 300), "line": case.location.line}
        if case.location.column is not None:
            at["column"] = case.location.column
        d["at"] = at
    if case.failure:
        d["failure"] = case.failure
    rest = case.details.split("\n")
    if rest and " ".join(rest[0].split()) == case.message:
        rest = rest[1:]  # the message itself, said above
    details = _block("\n".join(rest))
    if details:
        d["details"] = details
    if case.evidence:
        d["evidence"] = _block(case.evidence)
    if case.max_points is not None:
        d["points"] = _number(case.points or 0.0)
        d["max_points"] = _number(case.max_points)
    return d


def _number(x: float) -> float | int:
    return int(x) if x == int(x) else x


def _point(n: int, case: Case) -> list[str]:
    title = _title(f"{case.name}: {case.title}")
    if case.outcome is Outcome.PASSED:
        return [f"ok {n} - {title}"]
    if case.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN):
        return [f"ok {n} - {title} # SKIP {_title(case.message)}"]
    dumped = yaml.dump(_diagnostic(case), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                       width=float("inf"), default_flow_style=False)  # fmt: skip
    return [f"not ok {n} - {title}", "  ---", *("  " + ln for ln in dumped.splitlines()), "  ..."]


def render(report: SubmissionReport, *, version: int = 14, instructor: bool = False) -> str:
    """The report as TAP `version` (14, or 13); `instructor` shows the hidden checks."""
    shown = cases(report, instructor=instructor)
    head = f"{report.exercise} `{report.name}`: {report.title}" if report.name else report.title
    out = [f"TAP version {13 if version == 13 else 14}", f"1..{len(shown)}",
           f"# ipcgrade · {line(head, 300)}"]  # fmt: skip
    if report.student:
        out.append(f"# student: {line(report.student, 200)}")
    for n, case in enumerate(shown, 1):
        out += _point(n, case)
    n_hidden, hidden_points = (0, 0.0) if instructor else hidden(report)
    if n_hidden:
        out.append(f"# {n_hidden} hidden checks, worth {num(hidden_points)} points, are not "
                   "shown: your instructor's report has them")  # fmt: skip
    scored = [c for c in shown if c.max_points is not None]
    points = num(sum(c.points or 0.0 for c in scored))
    out.append(f"# score {points}/{num(sum(c.max_points or 0.0 for c in scored))}, "
               f"status: {report.status}")  # fmt: skip
    return "\n".join(out) + "\n"
