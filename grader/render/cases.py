"""What the CI formats (JUnit, TAP) show of a report: one case per check, plus the build,
the files and the grade itself, in plain text a student's CI log can show.

Hidden checks (visibility "hidden" or "after_due_date") are counted, never shown, as on the
student's HTML page: their name, title, message and outcome stay in the instructor's report.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from grader.render import platform
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, CheckSpec, Evidence, Location, Outcome

MAX_ROWS = 40
# beyond what inert() escapes: characters a CI log or an XML/YAML consumer chokes on
_ODD = re.compile("[\u2028\u2029\ufeff\ufffe\uffff]")


def shown(text: str, limit: int = 2000) -> str:
    """Student text made visible and harmless: control characters as \\x00, long text cut."""
    return _ODD.sub(lambda m: f"\\u{ord(m.group()):04x}", inert(str(text), limit))


def line(text: str, limit: int = 500) -> str:
    """Student text on one line."""
    return " ".join(shown(text, limit).split())


@dataclass(frozen=True)
class Case:
    name: str  # "test_grep_sees_end_of_file", "build", "files", "grade"
    title: str  # one line, shown
    outcome: Outcome
    message: str = ""  # one line, shown: what happened
    details: str = ""  # shown: message, hint, lecture, warnings, the diff
    expected: str | None = None  # shown
    actual: str | None = None
    evidence: str = ""  # plain text tables, and the check's log
    location: Location | None = None  # in the student's source
    points: float | None = None
    max_points: float | None = None
    failure: str = ""  # the mistake's slug
    duration_s: float = 0.0


def table(ev: Evidence) -> str:
    """One piece of evidence as a plain text table, no trailing spaces, no blank line."""
    lines = platform.grid(ev, max_rows=MAX_ROWS, cell=line, widths=(60, 160))
    if ev.text:
        lines += ["  " + ln.rstrip() for ln in shown(ev.text, 3000).splitlines() if ln.strip()]
    return "\n".join(lines)


def diff(expected: str, actual: str) -> str:
    """Expected against actual, a unified diff of the shown text."""
    old, new = shown(expected, 20000).splitlines(), shown(actual, 20000).splitlines()
    return "\n".join(difflib.unified_diff(old, new, "expected", "actual", lineterm=""))


def _check(spec: CheckSpec, c: CheckResult) -> Case:
    said = "; ".join(a.text for a in c.sandbox)
    message = f"{said}. {c.message}" if said and c.message else said or c.message
    parts = [shown(message, 4000)] if message else []
    if c.hint:
        parts.append("what to do: " + shown(c.hint, 2000))
    if c.lecture:
        parts.append(f"lecture: see the section “{line(c.lecture, 100)}”")
    parts += ["warning: " + shown(w, 1000) for w in c.warnings]
    if c.expected is not None and c.actual is not None:
        parts.append(diff(c.expected, c.actual))
    evidence = [table(e) for e in c.evidence]
    if c.log:
        evidence.append("log:\n" + "\n".join("  " + line(x, 300) for x in c.log[:50]))
    return Case(
        name=line(spec.name, 200), title=line(c.title or spec.title, 300), outcome=c.outcome,
        message=line(message or c.outcome.value.replace("_", " "), 1000),
        details="\n".join(parts),
        expected=shown(c.expected, 20000) if c.expected is not None else None,
        actual=shown(c.actual, 20000) if c.actual is not None else None,
        evidence="\n".join(evidence), location=c.location, points=c.points,
        max_points=c.max_points, failure=line(c.failure, 100), duration_s=c.duration_s,
    )  # fmt: skip


def _build(report: SubmissionReport) -> Case:
    b = report.build
    if report.missing_files:
        return Case("build", "the program compiles", Outcome.SKIPPED,
                    "not attempted: files are missing")  # fmt: skip
    if b.ok:
        warnings = "\n".join(shown(w, 500) for w in b.warnings[:20])
        return Case("build", "the program compiles", Outcome.PASSED, details=warnings,
                    duration_s=b.duration_s)  # fmt: skip
    what = {"link": "linking failed", "make": "your Makefile failed"}.get(
        b.kind, "it does not compile"
    )
    errors = [d for d in b.diagnostics if "error" in d.severity]
    lines = [shown(str(d), 500) for d in b.diagnostics[:30]] or [
        shown(e, 500) for e in b.errors[:30]
    ]
    if not lines and b.log:
        lines = [shown(b.log, 4000)]
    first = errors[0] if errors else (b.diagnostics[0] if b.diagnostics else None)
    message = what + (f": {line(str(first), 400)}" if first else "")
    return Case("build", "the program compiles", Outcome.FAILED, message, "\n".join(lines),
                location=first.location if first else None, failure="build-" + (b.kind or "failed"),
                duration_s=b.duration_s)  # fmt: skip


def cases(report: SubmissionReport, *, instructor: bool = False) -> list[Case]:
    """The report as cases: files (when missing), the build, the grade's own failure, then
    every check a student may see (every check with `instructor`)."""
    out: list[Case] = []
    if report.missing_files:
        missing = ", ".join(line(f, 200) for f in report.missing_files)
        problems = "\n".join(shown(p, 1000) for p in report.problems)
        out.append(Case("files", "the submission has every file the exercise asks for",
                        Outcome.FAILED, f"missing {missing}: nothing was built or run", problems,
                        failure="missing-files"))  # fmt: skip
    out.append(_build(report))
    if report.error:
        out.append(Case("grade", "the grade ran to its end", Outcome.ERROR,
                        line(report.error, 1000), shown(report.error, 4000),
                        failure="grader-error"))  # fmt: skip
    for spec, c in platform.checks(report):
        if instructor or not platform.hidden(spec):
            out.append(_check(spec, c))
    return out


def hidden(report: SubmissionReport) -> tuple[int, float]:
    """How many checks a student does not see, and their points."""
    specs = [s for s, _ in platform.checks(report) if platform.hidden(s)]
    return len(specs), sum(s.max_points for s in specs)


def num(x: float) -> str:
    return f"{x:g}"
